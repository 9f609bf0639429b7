// The Alerts tab, the status bar's count, the title mark, the tray notifications and Settings →
// Alerts: the model under QAbstractItemModelTester against a hand-driven AlertEngine, the real
// MainWindow offscreen against the real simulator, end to end with a subscription it rejects.
#include "alertnotifier.h"
#include "alertsmodel.h"
#include "alertsview.h"
#include "livetableview.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "profile.h"
#include "settingsdialog.h"
#include "simulator.h"
#include "tableproxy.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTimer>
#include <QToolButton>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

Alert makeAlert(quint64 seq, AlertKind kind, const QString &subject, AlertSeverity severity,
                const QString &ruleId = {})
{
    Alert a;
    a.seq = seq;
    a.kind = kind;
    a.ruleId = ruleId;
    if (a.ruleId.isEmpty())
        for (const AlertRule &r : defaultAlertRules())
            if (r.kind == kind)
                a.ruleId = r.id;
    a.severity = severity;
    a.subject = subject;
    a.value = 42;
    a.threshold = 30;
    a.text = u"alert %1"_s.arg(seq);
    a.firedAt = QDateTime::currentDateTime().addSecs(static_cast<qint64>(seq) - 100);
    return a;
}

Alert resolvedCopy(Alert a)
{
    a.resolvedAt = a.firedAt.addSecs(5);
    return a;
}

void saveShot(QWidget *w, const QString &name)
{
    const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOTS");
    if (!dir.isEmpty())
        w->grab().save(dir + u'/' + name + u".png"_s);
}

/// A user's double-click: press and release, then the double-click.
void doubleClick(QTableView *table, const QModelIndex &index)
{
    const QPoint at = table->visualRect(index).center();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, at);
}

/// Runs @p open (which opens a modal SettingsDialog) and calls @p edit on the dialog once it shows.
template<typename Open, typename Edit> void withSettingsDialog(Open open, Edit edit)
{
    QTimer poll;
    bool done = false;
    QObject::connect(&poll, &QTimer::timeout, &poll, [&] {
        for (QWidget *w : QApplication::topLevelWidgets()) {
            auto *d = qobject_cast<SettingsDialog *>(w);
            if (!d || !d->isVisible() || done)
                continue;
            done = true;
            poll.stop();
            edit(d);
        }
    });
    poll.start(10);
    open();
    QVERIFY(done);
}

} // namespace

class tst_AlertsView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void modelPutsFiringFirstThenHistory();
    void modelBoundsItsHistory();
    void wordsNameSubjectsAndUnits();
    void firedAlertShowsInTheTabAndTheStatusBar();
    void emptyStateListsTheRulesAndOpensSettings();
    void doubleClickSelectsTheChannelOrConnection();
    void settingsEditChangesTheEnginesRule();
    void notificationsOncePerAlertAndOff();
    void rejectedSubscriptionRaisesAnAlertEndToEnd();

private:
    std::unique_ptr<Sim::FeedSimulator> m_sim;
    std::unique_ptr<PoolController> m_controller;
    std::unique_ptr<MainWindow> m_window;
};

void tst_AlertsView::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"FeedScopeAlertsViewTest"_s);
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    QSettings().clear();
}

void tst_AlertsView::init()
{
    const QByteArrayView name(QTest::currentTestFunction());
    if (name.startsWith("model") || name.startsWith("words") || name.startsWith("notifications"))
        return; // no window needed
    m_sim = std::make_unique<Sim::FeedSimulator>();
    QVERIFY(m_sim->start());
    EngineConfig cfg;
    cfg.pool.url = m_sim->url();
    cfg.pool.maxSubscriptionsPerConnection = 3;
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    m_controller = std::make_unique<PoolController>(cfg);
    QVERIFY(m_controller->start(nullptr));
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->show();
    QList<Hl::Subscription> subs;
    for (int i = 0; i < 6; ++i)
        subs.append(sub(R"({"type":"bbo","coin":"C)" + QByteArray::number(i) + "\"}"));
    m_controller->subscribe(subs);
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 6; }));
}

void tst_AlertsView::cleanup()
{
    m_window.reset();
    if (m_controller)
        m_controller->shutdown(1s);
    m_controller.reset();
    m_sim.reset();
    QSettings().clear();
}

void tst_AlertsView::modelPutsFiringFirstThenHistory()
{
    AlertEngine engine;
    engine.setRules(defaultAlertRules());
    AlertsModel model(&engine);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy firing(&model, &AlertsModel::firingChanged);
    const QString eth = u"{\"coin\":\"ETH\",\"type\":\"l2Book\"}"_s;
    const Alert a = makeAlert(1, AlertKind::SubscriptionStale, eth, AlertSeverity::Warning);
    const Alert b = makeAlert(2, AlertKind::ConnectionDown, u"connection 3"_s, AlertSeverity::Critical);
    const Alert c = makeAlert(3, AlertKind::LatencyP99, eth, AlertSeverity::Warning);
    Q_EMIT engine.fired(a);
    Q_EMIT engine.fired(b);
    Q_EMIT engine.fired(c);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.firingCount(), 3);
    QCOMPARE(model.criticalCount(), 1);
    QCOMPARE(firing.size(), 3);
    QCOMPARE(firing.last().at(0).toInt(), 3);
    QCOMPARE(firing.last().at(1).toInt(), 1);
    // Newest first; firing rows carry their severity.
    QCOMPARE(model.alertAt(0)->seq, 3u);
    QCOMPARE(model.alertAt(2)->seq, 1u);
    QCOMPARE(model.index(1, 0).data(RowSeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(model.index(0, 0).data(RowSeverityRole).value<Severity>(), Severity::Warning);
    QVERIFY(model.index(0, AlertsModel::State).data().toString().startsWith(u"firing"_s));
    // The oldest resolves: to the top of the history, below every firing one, neutral.
    Q_EMIT engine.resolved(resolvedCopy(a));
    QCOMPARE(model.firingCount(), 2);
    QCOMPARE(model.alertAt(2)->seq, 1u);
    QVERIFY(!model.index(2, 0).data(AlertFiringRole).toBool());
    QCOMPARE(model.index(2, 0).data(RowSeverityRole).value<Severity>(), Severity::Neutral);
    QVERIFY(model.index(2, AlertsModel::State).data().toString().startsWith(u"resolved"_s));
    QCOMPARE(model.index(2, AlertsModel::Duration).data().toString(), Format::duration(5000));
    // The newest resolves: moved below the other firing one, above the older history.
    Q_EMIT engine.resolved(resolvedCopy(c));
    QCOMPARE(model.firingCount(), 1);
    QCOMPARE(model.alertAt(0)->seq, 2u);
    QCOMPARE(model.alertAt(1)->seq, 3u);
    QCOMPARE(model.alertAt(2)->seq, 1u);
    // A firing value changes in place.
    Alert b2 = b;
    b2.value = 99;
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    Q_EMIT engine.updated(b2);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(model.index(0, AlertsModel::Value).data(RawValueRole).toDouble(), 99.0);
    // Seconds for a connection down, with the rule's limit.
    QVERIFY2(model.index(0, AlertsModel::Value)
                 .data()
                 .toString()
                 .startsWith(u"down for "_s + Format::duration(99000)),
             qPrintable(model.index(0, AlertsModel::Value).data().toString()));
    // Updates and resolutions of alerts it does not know change nothing.
    Q_EMIT engine.updated(makeAlert(77, AlertKind::Drops, u"x"_s, AlertSeverity::Warning));
    QCOMPARE(model.rowCount(), 3);
    Q_EMIT engine.resolved(resolvedCopy(b));
    QCOMPARE(model.firingCount(), 0);
    QCOMPARE(model.criticalCount(), 0);
    QCOMPARE(model.alertAt(0)->seq, 2u);
}

void tst_AlertsView::modelBoundsItsHistory()
{
    AlertEngine engine;
    AlertsModel model(&engine);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setHistoryCapacity(2);
    for (quint64 i = 1; i <= 5; ++i) {
        const Alert a = makeAlert(i, AlertKind::Drops, u"recorder"_s, AlertSeverity::Warning);
        Q_EMIT engine.fired(a);
        Q_EMIT engine.resolved(resolvedCopy(a));
    }
    Q_EMIT engine.fired(makeAlert(6, AlertKind::Drops, u"recorder"_s, AlertSeverity::Warning));
    QCOMPARE(model.rowCount(), 3); // one firing, the two newest resolved
    QCOMPARE(model.alertAt(0)->seq, 6u);
    QCOMPARE(model.alertAt(1)->seq, 5u);
    QCOMPARE(model.alertAt(2)->seq, 4u);
    model.setHistoryCapacity(0);
    QCOMPARE(model.rowCount(), 1);
}

void tst_AlertsView::wordsNameSubjectsAndUnits()
{
    QCOMPARE(AlertWords::subject(u"{\"coin\":\"ETH\",\"type\":\"l2Book\"}"_s), u"l2Book ETH"_s);
    QCOMPARE(AlertWords::subject(u"connection 3"_s), u"connection #3"_s);
    QCOMPARE(AlertWords::subject(u"recorder"_s), u"recorder"_s);
    AlertRule latency;
    latency.kind = AlertKind::LatencyP99;
    Alert a = makeAlert(1, AlertKind::LatencyP99, {}, AlertSeverity::Warning);
    a.value = 340;
    a.threshold = 250;
    QCOMPARE(AlertWords::value(a, &latency), u"p99 340 ms (limit 250 ms)"_s);
    AlertRule storm;
    storm.kind = AlertKind::ReconnectStorm;
    storm.windowMinutes = 10;
    Alert r = makeAlert(2, AlertKind::ReconnectStorm, u"pool"_s, AlertSeverity::Warning);
    r.value = 12;
    r.threshold = 5;
    QCOMPARE(AlertWords::value(r, &storm), u"12 reconnects in 10 min (more than 5)"_s);
    r.threshold = 0;
    QCOMPARE(AlertWords::value(r, &storm), u"12 reconnects in 10 min (any)"_s);
    for (int k = 0; k < AlertKindCount; ++k) {
        const auto kind = static_cast<AlertKind>(k);
        QVERIFY(!AlertWords::kindName(kind).isEmpty());
        QCOMPARE(AlertWords::thresholdUnit(kind).isEmpty(), !AlertWords::usesThreshold(kind));
    }
}

void tst_AlertsView::firedAlertShowsInTheTabAndTheStatusBar()
{
    AlertEngine &engine = m_controller->engine().alerts();
    QAbstractItemModelTester tester(m_window->alertsModel(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QToolButton *button = m_window->alertsButton();
    QVERIFY(button && !button->isVisible());
    QVERIFY(!m_window->windowTitle().contains(u"alert"_s));
    const QString channel = QString::fromUtf8(sub(R"({"type":"bbo","coin":"C1"})").canonical());
    const Alert warn = makeAlert(1001, AlertKind::SubscriptionStale, channel, AlertSeverity::Warning);
    Q_EMIT engine.fired(warn);
    QTableView *table = m_window->alertsView()->table();
    QVERIFY(!m_window->alertsView()->emptyStateShown());
    QCOMPARE(table->model()->rowCount(), 1);
    QCOMPARE(table->model()->index(0, AlertsModel::Subject).data().toString(), u"bbo C1"_s);
    QVERIFY(button->isVisible());
    QCOMPARE(button->text(), u"⚠ 1 alert firing"_s);
    const QColor amber = button->palette().color(QPalette::Button);
    QVERIFY2(m_window->windowTitle().endsWith(u" · 1 alert firing"_s), qPrintable(m_window->windowTitle()));
    const int tab = m_window->tabs()->indexOf(m_window->alertsView());
    QCOMPARE(m_window->tabs()->tabText(tab), u"&Alerts (1)"_s);

    // A critical one comes first (whatever the sort) and turns the button red.
    const Alert crit = makeAlert(1002, AlertKind::ConnectionDown, u"connection 1"_s, AlertSeverity::Critical);
    Q_EMIT engine.fired(crit);
    QCOMPARE(table->model()->rowCount(), 2);
    for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        table->sortByColumn(AlertsModel::Time, order);
        QCOMPARE(table->model()->index(0, 0).data(KeyRole).toULongLong(), 1002u);
    }
    table->sortByColumn(AlertsModel::Time, Qt::DescendingOrder);
    QCOMPARE(button->text(), u"⚠ 2 alerts firing"_s);
    const QColor red = button->palette().color(QPalette::Button);
    QVERIFY(red != amber);
    QVERIFY(red.red() > red.green());
    QVERIFY(button->toolTip().contains(u"alert 1002"_s));
    // The title keeps its mark however often the window retitles itself.
    QVERIFY(waitUntil([this] { return m_window->windowTitle().endsWith(u" · 2 alerts firing"_s); }));
    QCOMPARE(m_window->windowTitle().count(u"alerts firing"_s), 1);
    saveShot(m_window.get(), u"alerts-firing"_s);

    // A click on the count shows the tab.
    m_window->tabs()->setCurrentIndex(0);
    QTest::mouseClick(button, Qt::LeftButton);
    QCOMPARE(m_window->tabs()->currentWidget(), m_window->alertsView());
    saveShot(m_window.get(), u"alerts-tab"_s);

    // Resolving moves it to the history and updates the count; back to amber.
    Q_EMIT engine.resolved(resolvedCopy(crit));
    QCOMPARE(button->text(), u"⚠ 1 alert firing"_s);
    QCOMPARE(button->palette().color(QPalette::Button), amber);
    QCOMPARE(table->model()->index(0, 0).data(KeyRole).toULongLong(), 1001u);
    QCOMPARE(table->model()->index(1, 0).data(KeyRole).toULongLong(), 1002u);
    QVERIFY(table->model()->index(1, AlertsModel::State).data().toString().startsWith(u"resolved"_s));
    Q_EMIT engine.resolved(resolvedCopy(warn));
    QVERIFY(!button->isVisible());
    QVERIFY(waitUntil([this] { return !m_window->windowTitle().contains(u"alert"_s); }));
    QCOMPARE(m_window->tabs()->tabText(tab), u"&Alerts"_s);
    QCOMPARE(table->model()->rowCount(), 2); // the history stays
    // The filter box narrows it, like the other tabs.
    m_window->alertsView()->filter()->setText(u"connection"_s);
    QCOMPARE(table->model()->rowCount(), 1);
    QVERIFY(m_window->alertsView()->countText().contains(u"1 of 2 alerts"_s));
}

void tst_AlertsView::emptyStateListsTheRulesAndOpensSettings()
{
    AlertsView *view = m_window->alertsView();
    m_window->showAlerts();
    QVERIFY(view->emptyStateShown());
    const QString text = view->emptyStateText();
    QVERIFY2(text.startsWith(u"No alerts. Rules:"_s), qPrintable(text));
    const QList<AlertRule> rules = m_controller->engine().alerts().rules();
    for (const AlertRule &r : rules)
        if (r.enabled)
            QVERIFY2(text.contains(r.describe()), qPrintable(r.describe()));
    saveShot(m_window.get(), u"alerts-empty"_s);
    auto *button = view->findChild<QPushButton *>(u"alertsEmptySettings"_s);
    QVERIFY(button && button->isVisible());
    int page = -1;
    withSettingsDialog([button] { QTest::mouseClick(button, Qt::LeftButton); },
                       [&](SettingsDialog *d) {
                           page = d->pages()->currentIndex();
                           d->reject();
                       });
    QCOMPARE(page, int(SettingsDialog::AlertsPage));
}

void tst_AlertsView::doubleClickSelectsTheChannelOrConnection()
{
    AlertEngine &engine = m_controller->engine().alerts();
    const QByteArray channel = sub(R"({"type":"bbo","coin":"C4"})").canonical();
    Q_EMIT engine.fired(
        makeAlert(2001, AlertKind::SubscriptionStale, QString::fromUtf8(channel), AlertSeverity::Warning));
    Q_EMIT engine.fired(
        makeAlert(2002, AlertKind::ConnectionDown, u"connection 2"_s, AlertSeverity::Warning));
    m_window->showAlerts();
    QTableView *table = m_window->alertsView()->table();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(table->isVisible() && table->viewport()->height() > 0);
    auto rowOf = [table](quint64 seq) {
        for (int r = 0; r < table->model()->rowCount(); ++r)
            if (table->model()->index(r, 0).data(KeyRole).toULongLong() == seq)
                return r;
        return -1;
    };
    // A filter in Channels that hides it is cleared.
    auto *filter = m_window->findChild<QLineEdit *>(u"channelFilter"_s);
    filter->setText(u"C1"_s);
    const QModelIndex cell = table->model()->index(rowOf(2001), AlertsModel::Subject);
    QSignalSpy activated(m_window->alertsView(), &AlertsView::subscriptionActivated);
    doubleClick(table, cell);
    QCOMPARE(activated.size(), 1);
    QCOMPARE(filter->text(), QString());
    QCOMPARE(m_window->subscriptionsView()->currentIndex().data(KeyRole).toByteArray(), channel);
    QCOMPARE(m_window->selectedSubscriptions().size(), 1);
    QCOMPARE(m_window->selectedSubscriptions().constFirst().canonical(), channel);
    const QModelIndex conn = table->model()->index(rowOf(2002), AlertsModel::Subject);
    doubleClick(table, conn);
    QCOMPARE(m_window->selectedConnections(), QList<int>{2});
    // Gone: said so, nothing selected wrongly.
    QVERIFY(!m_window->selectChannel(sub(R"({"type":"bbo","coin":"GONE"})").canonical()));
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"not subscribed"_s));
}

void tst_AlertsView::settingsEditChangesTheEnginesRule()
{
    AlertEngine &engine = m_controller->engine().alerts();
    const QList<AlertRule> before = engine.rules();
    QString latencyId;
    double threshold = -1;
    for (const AlertRule &r : before)
        if (r.kind == AlertKind::LatencyP99)
            latencyId = r.id, threshold = r.threshold;
    QVERIFY(!latencyId.isEmpty());
    const double wanted = threshold + 123;
    QString shownRule;
    withSettingsDialog([this] { m_window->openAlertSettings(); },
                       [&](SettingsDialog *d) {
                           QCOMPARE(d->pages()->currentIndex(), int(SettingsDialog::AlertsPage));
                           auto *spin = d->findChild<QDoubleSpinBox *>(u"threshold:"_s + latencyId);
                           QVERIFY(spin);
                           QCOMPARE(spin->value(), threshold);
                           spin->setFocus();
                           spin->selectAll();
                           QTest::keyClicks(spin, QString::number(wanted));
                           QTest::keyClick(spin, Qt::Key_Tab);
                           // The rule in words follows the edit.
                           QTableWidget *t = d->alertRulesTable();
                           for (int row = 0; row < t->rowCount(); ++row)
                               if (t->cellWidget(row, 2) == spin)
                                   shownRule = t->item(row, t->columnCount() - 1)->text();
                           saveShot(d, u"settings-alerts"_s);
                           d->accept();
                       });
    bool found = false;
    for (const AlertRule &r : engine.rules()) {
        if (r.id != latencyId)
            continue;
        found = true;
        QCOMPARE(r.threshold, wanted);
        QVERIFY2(shownRule == r.describe(), qPrintable(shownRule + u" / "_s + r.describe()));
    }
    QVERIFY(found);
    QCOMPARE(engine.rules().size(), before.size());
    // ... and saved with the other settings, the profile's section "alerts" the next start reads.
    QString why;
    const auto saved = savedProfile(&why);
    QVERIFY2(saved, qPrintable(why));
    bool savedRule = false;
    for (const AlertRule &r : saved->engine.alertRules)
        savedRule = savedRule || (r.id == latencyId && r.threshold == wanted);
    QVERIFY(savedRule);
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"alert rules"_s));
    // The empty state lists the rule as edited.
    for (const AlertRule &r : engine.rules())
        if (r.id == latencyId)
            QVERIFY2(m_window->alertsView()->emptyStateText().contains(r.describe()),
                     qPrintable(m_window->alertsView()->emptyStateText()));

    // Turning a rule off in Settings turns it off in the engine.
    withSettingsDialog([this] { m_window->openAlertSettings(); },
                       [&](SettingsDialog *d) {
                           QTableWidget *t = d->alertRulesTable();
                           t->item(0, 0)->setCheckState(Qt::Unchecked);
                           d->accept();
                       });
    QVERIFY(!engine.rules().constFirst().enabled);
}

void tst_AlertsView::notificationsOncePerAlertAndOff()
{
    // Offscreen there is never a tray: nothing shows unless a sink stands in for it.
    QVERIFY(!AlertNotifier::trayAvailable());
    AlertEngine engine;
    AlertNotifier notifier(&engine);
    QVERIFY(notifier.isEnabled());
    QVERIFY(!notifier.isActive());
    QStringList shown;
    notifier.setSink([&](const QString &title, const QString &body, AlertSeverity) {
        shown.append(title + u" | "_s + body);
    });
    QVERIFY(notifier.isActive());
    const Alert a = makeAlert(1, AlertKind::ConnectionDown, u"connection 1"_s, AlertSeverity::Critical);
    Q_EMIT engine.fired(a);
    Q_EMIT engine.fired(a); // the same alert again: not news
    QTRY_COMPARE(shown.size(), 1);
    QVERIFY2(shown.constFirst().contains(u"critical"_s) && shown.constFirst().contains(u"alert 1"_s),
             qPrintable(shown.constFirst()));
    // Several at once: one notification that counts them.
    for (quint64 i = 2; i <= 6; ++i)
        Q_EMIT engine.fired(makeAlert(i, AlertKind::SubscriptionStale, u"x"_s, AlertSeverity::Warning));
    QTRY_COMPARE(shown.size(), 2);
    QVERIFY2(shown.at(1).contains(u"5 alerts fired"_s) && shown.at(1).contains(u"2 more"_s),
             qPrintable(shown.at(1)));
    QCOMPARE(notifier.shownCount(), 2);
    // Off: nothing, and turning it on again does not replay what fired meanwhile.
    notifier.setEnabled(false);
    Q_EMIT engine.fired(makeAlert(7, AlertKind::Drops, u"recorder"_s, AlertSeverity::Warning));
    notifier.setEnabled(true);
    Q_EMIT engine.fired(makeAlert(7, AlertKind::Drops, u"recorder"_s, AlertSeverity::Warning));
    QTest::qWait(0);
    QCoreApplication::processEvents();
    QCOMPARE(shown.size(), 2);
    // The choice is saved with the settings.
    AlertNotifier::saveEnabled(false);
    QVERIFY(!AlertNotifier::enabledInSettings());
    AlertNotifier second(&engine);
    QVERIFY(!second.isEnabled());
}

void tst_AlertsView::rejectedSubscriptionRaisesAnAlertEndToEnd()
{
    const Hl::Subscription bad = sub(R"({"type":"trades","coin":"NOPE"})");
    Sim::Fault f = Sim::Fault::make(Sim::FaultKind::Reject);
    f.subscription = bad;
    QVERIFY(m_sim->apply(f));
    m_controller->subscribe({bad});
    QTableView *table = m_window->alertsView()->table();
    QVERIFY(waitUntil([table] { return table->model()->rowCount() > 0; }));
    const QModelIndex first = table->model()->index(0, 0);
    QCOMPARE(first.data(AlertSubscriptionRole).toByteArray(), bad.canonical());
    QVERIFY(first.data(AlertFiringRole).toBool());
    QCOMPARE(table->model()->index(0, AlertsModel::Rule).data().toString(),
             AlertWords::kindName(AlertKind::SubscriptionRejected));
    QCOMPARE(table->model()->index(0, AlertsModel::Subject).data().toString(), u"trades NOPE"_s);
    QVERIFY(m_window->alertsButton()->isVisible());
    QVERIFY(m_window->alertsButton()->text().contains(u"firing"_s));
    // The server's words in the value; how long it fires grows.
    QVERIFY2(
        table->model()->index(0, AlertsModel::Value).data().toString().contains(u"Invalid subscription"_s),
        qPrintable(table->model()->index(0, AlertsModel::Value).data().toString()));
    m_window->showAlerts();
    saveShot(m_window.get(), u"alerts-rejected"_s);
    m_window->resize(1024, 700);
    QCoreApplication::processEvents();
    saveShot(m_window.get(), u"alerts-1024x700"_s);
    QVERIFY(m_window->alertsButton()->isVisible());
}

QTEST_MAIN(tst_AlertsView)
#include "tst_alertsview.moc"

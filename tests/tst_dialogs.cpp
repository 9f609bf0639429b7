// The Settings and Add subscriptions dialogs, driven by the keyboard offscreen: demo-only values
// stay out of the saved settings, groups, tooltips, warnings beyond the venue's limits, human
// labels, tab order, errors only once the user typed, rejected characters, import errors in full
// and numbered from 1, grouped and explained types, a size that does not change with the type.
#include "addsubscriptiondialog.h"
#include "alertnotifier.h"
#include "alerts.h"
#include "demoserver.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "profile.h"
#include "rowselection.h"
#include "settingsdialog.h"
#include "simulator.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

namespace {

/// Replaces a spin box's value as a user does: select all, type.
void typeInto(QAbstractSpinBox *s, const QString &text)
{
    s->setFocus();
    s->selectAll();
    QTest::keyClicks(s, text);
}

/// The label text of @p field in its form, without the mnemonic.
QString labelOf(QWidget *field)
{
    for (QWidget *w = field; w; w = w->parentWidget()) {
        if (auto *form =
                qobject_cast<QFormLayout *>(w->parentWidget() ? w->parentWidget()->layout() : nullptr)) {
            if (auto *l = qobject_cast<QLabel *>(form->labelForField(w)))
                return l->text().remove(u'&');
        }
    }
    return {};
}

void saveShot(QWidget *w, const QString &name)
{
    const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOTS");
    if (!dir.isEmpty())
        w->grab().save(dir + u'/' + name + u".png"_s);
}

const QStringList SettingsFields{u"maxConnections"_s,
                                 u"maxSubscriptionsPerConnection"_s,
                                 u"ioThreads"_s,
                                 u"pingIntervalMs"_s,
                                 u"pongTimeoutMs"_s,
                                 u"staleTimeoutMs"_s,
                                 u"silenceFactor"_s,
                                 u"silenceMinimumMs"_s,
                                 u"probeTimeoutMs"_s,
                                 u"dataStaleFactor"_s,
                                 u"backoffInitialMs"_s,
                                 u"backoffMaxMs"_s,
                                 u"outgoingPerMinute"_s,
                                 u"newConnectionsPerMinute"_s,
                                 u"policy"_s,
                                 u"queueCapacity"_s,
                                 u"threads"_s,
                                 u"refreshMs"_s};

} // namespace

class tst_Dialogs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void demoValuesStayOutOfSavedSettings();
    void demoRunSavesTheUsersValuesThroughTheMainWindow();
    void settingsGroupedWithTooltipsAndRestartMarks();
    void warningsBeyondTheVenuesLimits_data();
    void warningsBeyondTheVenuesLimits();
    void settingsTabOrderFollowsTheColumns();
    void livenessSettings();
    void settingsErrorsNameTheFields();
    void alertRulesEditResetAndSave();
    void alertRulesRefusedWithTheRuleNamed();

    void typesGroupedAndExplained();
    void humanLabelsWithProtocolNamesInTooltips();
    void tabGoesThroughEveryFieldInOrder_data();
    void tabGoesThroughEveryFieldInOrder();
    void errorsOnlyAfterTheUserTypedOrTried();
    void rejectedCharactersSaySo();
    void importErrorsInFullNumberedFromOne();
    void sizeStaysTheSameWhateverTheType();
    void roundingStepOnlyWithFiveFigures();
    void fieldsCarryOverToTheNextType();
    void newRowsAreSelectedAndScrolledTo();
};

void tst_Dialogs::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"FeedScopeDialogsTest"_s);
    QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    QSettings().clear();
}

void tst_Dialogs::cleanup()
{
    clearRunOnlyValues();
    QSettings().clear();
}

void tst_Dialogs::demoValuesStayOutOfSavedSettings()
{
    // As app/gui.cpp starts the demo: the demo spreads its channels (12 per connection) and says
    // that this is the run's own value.
    DemoServer demo(Sim::SimulatorConfig{});
    PoolConfig cfg; // the user's settings: the defaults here
    const PoolConfig user = cfg;
    QString error;
    QVERIFY2(demo.startDemo({}, &cfg, &error), qPrintable(error));
    QCOMPARE(cfg.maxSubscriptionsPerConnection, 12);
    Profile userProfile, runProfile;
    userProfile.engine.pool = user;
    runProfile.engine.pool = cfg;
    setRunOnlyValues(userProfile, runProfile);
    QCOMPARE(runOnlyValues().size(), 1);

    // The main window opens Settings on what runs (the URL blank for the demo).
    Profile running;
    running.engine.pool = cfg;
    SettingsDialog dialog(running);
    auto *perConnection = dialog.findChild<QSpinBox *>(u"maxSubscriptionsPerConnection"_s);
    QCOMPARE(perConnection->value(), PoolConfig{}.maxSubscriptionsPerConnection); // the user's, not 12
    QVERIFY2(dialog.runOnlyNote().contains(u"“Subscriptions per connection” is 12"_s),
             qPrintable(dialog.runOnlyNote()));
    saveShot(&dialog, u"settings-demo"_s);
    // The user changes the ping interval only, and saves.
    typeInto(dialog.findChild<QSpinBox *>(u"pingIntervalMs"_s), u"20000"_s);
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    auto saved = savedProfile(&error);
    QVERIFY(saved);
    QCOMPARE(saved->engine.pool.maxSubscriptionsPerConnection, PoolConfig{}.maxSubscriptionsPerConnection);
    QCOMPARE(saved->engine.pool.pingInterval.count(), 20000);
    QVERIFY(saved->url.isEmpty());

    // A value the user types is theirs, even the demo's.
    SettingsDialog again(running);
    typeInto(again.findChild<QSpinBox *>(u"maxSubscriptionsPerConnection"_s), u"12"_s);
    again.accept();
    saved = savedProfile(&error);
    QCOMPARE(saved->engine.pool.maxSubscriptionsPerConnection, 12);

    // Without run-only values (a real endpoint), what is shown is what is saved.
    clearRunOnlyValues();
    Profile real;
    real.url = QUrl(u"wss://api.hyperliquid.xyz/ws"_s);
    real.engine.pool.maxSubscriptionsPerConnection = 40;
    SettingsDialog plain(real);
    QVERIFY(plain.runOnlyNote().isEmpty());
    QCOMPARE(plain.findChild<QSpinBox *>(u"maxSubscriptionsPerConnection"_s)->value(), 40);
}

void tst_Dialogs::demoRunSavesTheUsersValuesThroughTheMainWindow()
{
    // The whole path: the demo as app/gui.cpp starts it, the main window's Settings action, Save.
    DemoServer demo(Sim::SimulatorConfig{});
    EngineConfig cfg;
    QString error;
    QVERIFY2(demo.startDemo({}, &cfg.pool, &error), qPrintable(error));
    Profile userProfile, runProfile;
    runProfile.engine.pool = cfg.pool;
    setRunOnlyValues(userProfile, runProfile);
    PoolController controller(cfg);
    QVERIFY(controller.start(&error));
    {
        MainWindow window(&controller);
        window.setDemoMode(true);
        window.show();
        QAction *settings = nullptr;
        for (QAction *a : window.findChildren<QAction *>())
            if (a->menuRole() == QAction::PreferencesRole)
                settings = a;
        QVERIFY(settings);
        QString note;
        int perConnection = -1;
        QTimer poll;
        connect(&poll, &QTimer::timeout, &window, [&] {
            for (QWidget *w : QApplication::topLevelWidgets()) {
                auto *d = qobject_cast<SettingsDialog *>(w);
                if (!d || !d->isVisible())
                    continue;
                poll.stop();
                note = d->runOnlyNote();
                perConnection = d->findChild<QSpinBox *>(u"maxSubscriptionsPerConnection"_s)->value();
                d->accept();
            }
        });
        poll.start(10);
        settings->trigger(); // runs the dialog until the poll saves it
        QCOMPARE(perConnection, PoolConfig{}.maxSubscriptionsPerConnection);
        QVERIFY2(note.contains(u"is 12"_s), qPrintable(note));
        const auto saved = savedProfile(&error);
        QVERIFY(saved);
        QCOMPARE(saved->engine.pool.maxSubscriptionsPerConnection,
                 PoolConfig{}.maxSubscriptionsPerConnection);
        QVERIFY(saved->url.isEmpty()); // nor the demo's endpoint
    }
    controller.shutdown(std::chrono::seconds(1));
}

void tst_Dialogs::settingsGroupedWithTooltipsAndRestartMarks()
{
    Profile p;
    SettingsDialog dialog(p);
    dialog.resize(dialog.sizeHint());
    saveShot(&dialog, u"settings"_s);
    QStringList titles;
    for (QGroupBox *g : dialog.findChildren<QGroupBox *>())
        titles.append(g->title());
    QCOMPARE(titles, QStringList({u"Connections (next start)"_s, u"Liveness (next start)"_s,
                                  u"Reconnect backoff (next start)"_s, u"Per-IP budget (next start)"_s,
                                  u"Dispatcher (next start)"_s, u"Display (applies at once)"_s}));
    for (const QString &name : SettingsFields) {
        QWidget *w = dialog.findChild<QWidget *>(name);
        QVERIFY2(w, qPrintable(name));
        // In a group, whose title says when it applies.
        QGroupBox *g = nullptr;
        for (QWidget *up = w->parentWidget(); up && !g; up = up->parentWidget())
            g = qobject_cast<QGroupBox *>(up);
        QVERIFY2(g, qPrintable(name));
        // A tooltip with the range (and unit), saying when it applies and naming the profile key.
        const QString tip = w->toolTip();
        QVERIFY2(tip.contains(u"Profile: "_s) && tip.contains(name), qPrintable(name + u": "_s + tip));
        QVERIFY2(tip.contains(u"next starts"_s) || tip.contains(u"at once"_s), qPrintable(tip));
        if (name.endsWith(u"Ms"_s))
            QVERIFY2(tip.contains(u"milliseconds"_s), qPrintable(tip));
        QVERIFY2(!labelOf(w).isEmpty() && (name == name.toLower() || !labelOf(w).contains(name)),
                 qPrintable(name));
    }
    // The venue's limits are in the tooltips of the fields they bound.
    QVERIFY(dialog.findChild<QWidget *>(u"maxConnections"_s)->toolTip().contains(u"allows 10 per IP"_s));
    QVERIFY(dialog.findChild<QWidget *>(u"maxSubscriptionsPerConnection"_s)->toolTip().contains(u"1,000"_s));
    QVERIFY(dialog.findChild<QWidget *>(u"outgoingPerMinute"_s)->toolTip().contains(u"2,000 a minute"_s));
    QVERIFY(dialog.findChild<QWidget *>(u"newConnectionsPerMinute"_s)->toolTip().contains(u"allows 30"_s));
    QVERIFY(!dialog.findChild<QLineEdit *>(u"url"_s)->toolTip().isEmpty());
}

void tst_Dialogs::warningsBeyondTheVenuesLimits_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("warnedField");
    QTest::addColumn<QString>("warning");
    QTest::addRow("11 connections") << u"maxConnections"_s << u"11"_s << u"maxConnections"_s
                                    << u"Hyperliquid allows 10"_s;
    QTest::addRow("10 connections") << u"maxConnections"_s << u"10"_s << u"maxConnections"_s << QString();
    QTest::addRow("1001 per connection") << u"maxSubscriptionsPerConnection"_s << u"1001"_s
                                         << u"maxSubscriptionsPerConnection"_s << u"allows 1,000 in all"_s;
    QTest::addRow("pool over 1000") << u"maxSubscriptionsPerConnection"_s << u"150"_s
                                    << u"maxSubscriptionsPerConnection"_s
                                    << u"1,500 in the pool; Hyperliquid allows 1,000"_s;
    QTest::addRow("pool at 1000") << u"maxSubscriptionsPerConnection"_s << u"100"_s
                                  << u"maxSubscriptionsPerConnection"_s << QString();
    QTest::addRow("more connections fill the pool")
        << u"maxConnections"_s << u"11"_s << u"maxSubscriptionsPerConnection"_s << u"1,100 in the pool"_s;
    QTest::addRow("2001 messages") << u"outgoingPerMinute"_s << u"2001"_s << u"outgoingPerMinute"_s
                                   << u"Hyperliquid allows 2,000"_s;
    QTest::addRow("2000 messages") << u"outgoingPerMinute"_s << u"2000"_s << u"outgoingPerMinute"_s
                                   << QString();
    QTest::addRow("31 new connections") << u"newConnectionsPerMinute"_s << u"31"_s
                                        << u"newConnectionsPerMinute"_s << u"Hyperliquid allows 30"_s;
    QTest::addRow("ping every 60 s") << u"pingIntervalMs"_s << u"60000"_s << u"pingIntervalMs"_s
                                     << u"closes quiet links after 60 s"_s;
}

void tst_Dialogs::warningsBeyondTheVenuesLimits()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, warnedField);
    QFETCH(QString, warning);
    SettingsDialog dialog(Profile{});
    for (const QString &name : SettingsFields)
        QVERIFY2(dialog.warning(name).isEmpty(), qPrintable(name)); // the defaults are within the limits
    typeInto(dialog.findChild<QAbstractSpinBox *>(field), value);
    const QString shown = dialog.warning(warnedField);
    if (warning.isEmpty()) {
        QVERIFY2(shown.isEmpty(), qPrintable(shown));
    } else {
        QVERIFY2(shown.contains(warning), qPrintable(shown));
        auto *label = dialog.findChild<QLabel *>(warnedField + u"Warning"_s);
        QVERIFY(label && !label->isHidden());
        QVERIFY(!label->toolTip().isEmpty()); // the whole sentence
        if (qstrcmp(QTest::currentDataTag(), "11 connections") == 0)
            saveShot(&dialog, u"settings-warning"_s);
    }
    // Saving beyond the limits is allowed (a private deployment may have others).
    QString error;
    QVERIFY2(dialog.profile(&error), qPrintable(error));
}

void tst_Dialogs::settingsTabOrderFollowsTheColumns()
{
    SettingsDialog dialog(Profile{});
    dialog.show();
    QVERIFY(QTest::qWaitForWindowActive(&dialog));
    QWidget *url = dialog.findChild<QLineEdit *>(u"url"_s);
    url->setFocus();
    QTRY_COMPARE(QApplication::focusWidget(), url);
    // The endpoint, the left column top to bottom, then the right one.
    QStringList visited;
    for (int i = 0; i < SettingsFields.size(); ++i) {
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        visited.append(QApplication::focusWidget()->objectName());
    }
    QCOMPARE(visited, SettingsFields);
}

void tst_Dialogs::livenessSettings()
{
    Profile p;
    p.engine.pool.silenceFactor = 3;
    p.engine.pool.silenceMinimum = std::chrono::milliseconds(1500);
    p.engine.pool.probeTimeout = std::chrono::milliseconds(2500);
    SettingsDialog dialog(p);
    auto *factor = dialog.findChild<QDoubleSpinBox *>(u"silenceFactor"_s);
    auto *minimum = dialog.findChild<QSpinBox *>(u"silenceMinimumMs"_s);
    auto *probe = dialog.findChild<QSpinBox *>(u"probeTimeoutMs"_s);
    QCOMPARE(factor->value(), 3.0);
    QCOMPARE(minimum->value(), 1500);
    QCOMPARE(probe->value(), 2500);
    typeInto(probe, u"4000"_s);
    typeInto(minimum, u"800"_s);
    QString error;
    auto back = dialog.profile(&error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->engine.pool.probeTimeout.count(), 4000);
    QCOMPARE(back->engine.pool.silenceMinimum.count(), 800);
    QCOMPARE(back->engine.pool.silenceFactor, 3.0);
    // 0 is "off"; below 1 is refused with the field's name.
    factor->setValue(0);
    QCOMPARE(factor->text(), u"off"_s);
    QVERIFY(dialog.profile(&error));
    factor->setValue(0.5);
    QVERIFY(!dialog.profile(&error));
    QVERIFY2(error.contains(u"“Probe when quiet for”"_s), qPrintable(error));
}

void tst_Dialogs::settingsErrorsNameTheFields()
{
    SettingsDialog dialog(Profile{});
    typeInto(dialog.findChild<QSpinBox *>(u"backoffInitialMs"_s), u"500"_s);
    typeInto(dialog.findChild<QSpinBox *>(u"backoffMaxMs"_s), u"100"_s);
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Rejected)); // not closed
    const QString error = dialog.statusText();
    QVERIFY2(error.contains(u"“Retries wait at most” must not be below “First retry within”"_s),
             qPrintable(error));
    QVERIFY(!error.contains(u"pool."_s));
    QString why;
    QVERIFY(!savedProfile(&why)); // nothing saved
    // The endpoint is the dialog's first line edit; a bad one is refused with the reason.
    SettingsDialog other(Profile{});
    other.findChild<QLineEdit *>()->setText(u"http://nope"_s);
    QVERIFY(!other.profile(&why));
    QVERIFY2(why.contains(u"\"url\" must be a ws:// or wss:// URL"_s), qPrintable(why));
}

void tst_Dialogs::alertRulesEditResetAndSave()
{
    SettingsDialog dialog(Profile{});
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QCOMPARE(dialog.pages()->tabText(SettingsDialog::AlertsPage), u"A&lerts"_s);
    dialog.showAlertsPage();
    QCOMPARE(dialog.pages()->currentIndex(), int(SettingsDialog::AlertsPage));
    QTableWidget *table = dialog.alertRulesTable();
    const QList<AlertRule> defaults = defaultAlertRules();
    QCOMPARE(table->rowCount(), defaults.size());
    saveShot(&dialog, u"settings-alerts-dialog"_s);
    // Every rule in words, its units beside the values; the unused fields say so.
    for (int row = 0; row < table->rowCount(); ++row) {
        const AlertRule &r = defaults.at(row);
        QCOMPARE(table->item(row, table->columnCount() - 1)->text(), r.describe());
        if (auto *limit = dialog.findChild<QDoubleSpinBox *>(u"threshold:"_s + r.id)) {
            QVERIFY2(!limit->suffix().trimmed().isEmpty(), qPrintable(r.id));
            QVERIFY2(!limit->toolTip().isEmpty(), qPrintable(r.id));
        } else {
            QCOMPARE(table->item(row, 2)->text(), u"—"_s);
            QCOMPARE(table->item(row, 2)->toolTip(), u"Not used by this rule"_s);
        }
        if (auto *f = dialog.findChild<QSpinBox *>(u"for:"_s + r.id)) {
            QCOMPARE(f->suffix(), u" s"_s);
            QVERIFY(f->toolTip().contains(u"seconds"_s));
        }
    }
    // Edit: the latency limit, a rule off, a severity.
    auto *latency = dialog.findChild<QDoubleSpinBox *>(u"threshold:latency-p99"_s);
    QVERIFY(latency);
    QCOMPARE(latency->suffix(), u" ms"_s);
    typeInto(latency, u"750"_s);
    int latencyRow = -1;
    for (int row = 0; row < table->rowCount(); ++row)
        if (defaults.at(row).id == u"latency-p99"_s)
            latencyRow = row;
    QVERIFY(table->item(latencyRow, table->columnCount() - 1)->text().contains(u"above 750 ms"_s));
    table->item(0, 0)->setCheckState(Qt::Unchecked);
    QVERIFY(table->item(0, table->columnCount() - 1)->text().startsWith(u"(off)"_s));
    auto *severity = dialog.findChild<QComboBox *>(u"severity:drops"_s);
    QVERIFY(severity);
    severity->setCurrentIndex(severity->findText(u"Critical"_s));
    QString error;
    auto rules = dialog.alertRules(&error);
    QVERIFY2(rules, qPrintable(error));
    QCOMPARE(rules->size(), defaults.size());
    for (const AlertRule &r : *rules) {
        if (r.id == u"latency-p99"_s)
            QCOMPARE(r.threshold, 750.0);
        if (r.id == u"drops"_s)
            QCOMPARE(r.severity, AlertSeverity::Critical);
    }
    QVERIFY(!rules->constFirst().enabled);
    // Reset: the defaults again, not saved yet.
    dialog.findChild<QPushButton *>(u"resetAlerts"_s)->click();
    QVERIFY(dialog.statusText().contains(u"not saved yet"_s));
    rules = dialog.alertRules(&error);
    QVERIFY(rules);
    for (int i = 0; i < defaults.size(); ++i)
        QCOMPARE(rules->at(i).toJson(), defaults.at(i).toJson());
    // Save keeps the rules and the notifications switch.
    typeInto(dialog.findChild<QDoubleSpinBox *>(u"threshold:latency-p99"_s), u"900"_s);
    auto *notify = dialog.findChild<QCheckBox *>(u"alertNotifications"_s);
    QVERIFY(notify && notify->isChecked());
    notify->setChecked(false);
    QString why;
    QVERIFY(!savedProfile(&why)); // nothing saved yet
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    // Saved as the profile's section "alerts", which the next start's engine reads.
    const auto saved = savedProfile(&why);
    QVERIFY2(saved, qPrintable(why));
    QCOMPARE(saved->alerts.rules.size(), defaults.size());
    bool found = false;
    for (const AlertRule &r : saved->alerts.rules)
        if (r.id == u"latency-p99"_s)
            found = r.threshold == 900.0;
    QVERIFY(found);
    for (const AlertRule &r : saved->engine.alertRules)
        if (r.id == u"latency-p99"_s)
            QCOMPARE(r.threshold, 900.0);
    QVERIFY(!AlertNotifier::enabledInSettings());
    // An exported profile carries them, and importing one shows them.
    QTemporaryDir dir;
    const QString file = dir.filePath(u"p.json"_s);
    QVERIFY2(dialog.exportProfile(file, &why), qPrintable(why));
    SettingsDialog other(Profile{});
    QVERIFY2(other.importProfile(file, &why), qPrintable(why));
    auto *imported = other.findChild<QDoubleSpinBox *>(u"threshold:latency-p99"_s);
    QVERIFY(imported);
    QCOMPARE(imported->value(), 900.0);
}

void tst_Dialogs::alertRulesRefusedWithTheRuleNamed()
{
    SettingsDialog dialog(Profile{});
    QList<AlertRule> rules = defaultAlertRules();
    rules.append(rules.constFirst()); // the same id twice
    dialog.setAlertRules(rules);
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Rejected)); // not closed
    QCOMPARE(dialog.pages()->currentIndex(), int(SettingsDialog::AlertsPage));
    QVERIFY2(dialog.statusText().contains(u"Alert rule “Channel data late”"_s) &&
                 dialog.statusText().contains(u"used twice"_s),
             qPrintable(dialog.statusText()));
    QString why;
    QVERIFY(!savedProfile(&why)); // nothing saved
}

void tst_Dialogs::typesGroupedAndExplained()
{
    AddSubscriptionDialog dialog;
    auto *combo = dialog.findChild<QComboBox *>(u"type"_s);
    QAbstractItemModel *m = combo->model();
    QStringList headers;
    QHash<QString, int> seen;
    for (int row = 0; row < m->rowCount(); ++row) {
        const QModelIndex i = m->index(row, 0);
        const QString type = i.data(Qt::UserRole).toString();
        if (type.isEmpty()) {
            QVERIFY(!(m->flags(i) & Qt::ItemIsSelectable)); // a heading
            QVERIFY(!(m->flags(i) & Qt::ItemIsEnabled));
            headers.append(i.data().toString());
            continue;
        }
        QVERIFY2(!headers.isEmpty(), "every type sits under a heading");
        ++seen[type];
        QVERIFY(!i.data().toString().trimmed().isEmpty());
        QVERIFY2(i.data(Qt::ToolTipRole).toString().contains(type), qPrintable(type)); // protocol name
    }
    QCOMPARE(headers, QStringList({u"Market data: one coin"_s, u"Market data: all coins"_s,
                                   u"User data: by address"_s, u"No longer served"_s}));
    QCOMPARE(seen.size(), Hl::catalogue().size());
    for (const Hl::TypeSpec &t : Hl::catalogue()) {
        const QString type = QString::fromLatin1(t.type);
        QCOMPARE(seen.value(type), 1);
        const auto info = AddSubscriptionDialog::typeInfo(t);
        QVERIFY2(info.description != u"No description."_s && info.description.endsWith(u'.'),
                 qPrintable(type));
        // Market-data types for one coin take a coin; user types an address.
        const bool takesUser = std::any_of(t.params.cbegin(), t.params.cend(), [](const Hl::ParamSpec &p) {
            return p.kind == Hl::ParamKind::User;
        });
        if (!t.legacy)
            QCOMPARE(info.group == u"User data: by address"_s, takesUser);
        dialog.setType(type);
        QCOMPARE(dialog.type(), type);
        QCOMPARE(dialog.findChild<QLabel *>(u"description"_s)->text(), info.description);
    }
    if (qEnvironmentVariableIsSet("FEEDSCOPE_SHOTS")) {
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        combo->showPopup();
        QVERIFY(QTest::qWaitForWindowExposed(combo->view()->window()));
        saveShot(combo->view()->window(), u"add-types"_s);
        combo->hidePopup();
    }
    // The keyboard skips the headings: from the last type of a group down to the next group's first.
    dialog.setType(u"activeAssetCtx"_s); // the last of "one coin"
    combo->setFocus();
    QTest::keyClick(combo, Qt::Key_Down);
    QCOMPARE(dialog.type(), u"allMids"_s);
}

void tst_Dialogs::humanLabelsWithProtocolNamesInTooltips()
{
    AddSubscriptionDialog dialog;
    for (const Hl::TypeSpec &t : Hl::catalogue()) {
        dialog.setType(QString::fromLatin1(t.type));
        for (const Hl::ParamSpec &p : t.params) {
            const QString name = QString::fromLatin1(p.name);
            QWidget *w = dialog.paramField(name);
            QVERIFY2(w, qPrintable(name));
            QString label = labelOf(w);
            if (auto *b = qobject_cast<QCheckBox *>(w))
                label = b->text().remove(u'&');
            QVERIFY2(!label.isEmpty(), qPrintable(name));
            // "Significant figures", not "nSigFigs"; "Builder dex" is the human word.
            QVERIFY2(label != name && (name == name.toLower() || !label.contains(name)), qPrintable(label));
            QVERIFY2(w->toolTip().contains(u"Protocol parameter: "_s + name), qPrintable(w->toolTip()));
        }
    }
    dialog.setType(u"l2Book"_s);
    QCOMPARE(labelOf(dialog.paramField(u"nSigFigs"_s)), u"Significant figures (optional)"_s);
    QCOMPARE(qobject_cast<QCheckBox *>(dialog.paramField(u"fast"_s))->text().remove(u'&'),
             u"Fast: 5 levels every 0.5 s"_s);
    dialog.setType(u"userFills"_s);
    QCOMPARE(qobject_cast<QCheckBox *>(dialog.paramField(u"aggregateByTime"_s))->text().remove(u'&'),
             u"Combine partial fills of an order"_s);
    dialog.setType(u"candle"_s);
    auto *interval = qobject_cast<QComboBox *>(dialog.paramField(u"interval"_s));
    QCOMPARE(interval->itemText(0), u"1 minute"_s);
    QCOMPARE(interval->itemData(0).toString(), u"1m"_s);
    QCOMPARE(interval->itemText(interval->count() - 1), u"1 month"_s);
}

void tst_Dialogs::tabGoesThroughEveryFieldInOrder_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QStringList>("fields"); // the focusable ones, top to bottom
    QTest::addRow("trades") << u"trades"_s << QStringList{u"coin"_s};
    QTest::addRow("l2Book") << u"l2Book"_s << QStringList{u"coin"_s, u"nSigFigs"_s, u"fast"_s}; // no step yet
    QTest::addRow("candle") << u"candle"_s << QStringList{u"coin"_s, u"interval"_s};
    QTest::addRow("activeAssetData") << u"activeAssetData"_s << QStringList{u"user"_s, u"coin"_s};
    QTest::addRow("userFills") << u"userFills"_s << QStringList{u"user"_s, u"aggregateByTime"_s};
    QTest::addRow("openOrders") << u"openOrders"_s << QStringList{u"user"_s, u"dex"_s};
    QTest::addRow("allDexsAssetCtxs") << u"allDexsAssetCtxs"_s << QStringList{};
}

void tst_Dialogs::tabGoesThroughEveryFieldInOrder()
{
    QFETCH(QString, type);
    QFETCH(QStringList, fields);
    AddSubscriptionDialog dialog;
    dialog.setType(type);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowActive(&dialog));
    auto *combo = dialog.findChild<QComboBox *>(u"type"_s);
    combo->setFocus();
    QTRY_COMPARE(QApplication::focusWidget(), combo);
    // Expected: the type, the fields top to bottom, the buttons left to right.
    QList<QWidget *> expected{combo};
    for (const QString &f : fields)
        expected.append(dialog.paramField(f));
    QList<QPushButton *> buttons = dialog.findChild<QDialogButtonBox *>()->findChildren<QPushButton *>();
    std::sort(buttons.begin(), buttons.end(), [&dialog](QPushButton *a, QPushButton *b) {
        return a->mapTo(&dialog, QPoint()).x() < b->mapTo(&dialog, QPoint()).x();
    });
    for (QPushButton *b : buttons)
        expected.append(b);
    QList<QWidget *> visited{QApplication::focusWidget()};
    for (int i = 1; i < expected.size() + 1; ++i) {
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        visited.append(QApplication::focusWidget());
    }
    expected.append(combo); // and round again
    auto names = [](const QList<QWidget *> &l) {
        QStringList out;
        for (QWidget *w : l)
            out.append(!w ? u"null"_s
                          : (w->objectName().isEmpty()
                                 ? qobject_cast<QPushButton *>(w)
                                       ? static_cast<QPushButton *>(w)->text()
                                       : QString::fromLatin1(w->metaObject()->className())
                                 : w->objectName()));
        return out;
    };
    QCOMPARE(names(visited), names(expected));
    // The focus chain says the same from the type to the last button.
    QWidget *w = combo;
    for (qsizetype i = 1; i < expected.size() - 1; ++i) {
        do
            w = w->nextInFocusChain();
        while (!w->isVisible() || !w->isEnabled() || !(w->focusPolicy() & Qt::TabFocus));
        QCOMPARE(w, expected.at(i));
    }
    // Shift+Tab goes back the same way.
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Backtab);
    QCOMPARE(QApplication::focusWidget(), expected.at(expected.size() - 2));
}

void tst_Dialogs::errorsOnlyAfterTheUserTypedOrTried()
{
    {
        AddSubscriptionDialog dialog;
        dialog.setType(u"userFills"_s);
        // Nothing typed: a hint, not an error.
        QVERIFY(!dialog.messageIsError());
        QVERIFY2(dialog.message().contains(u"Enter the user address"_s), qPrintable(dialog.message()));
        saveShot(&dialog, u"add-fresh"_s);
        auto *user = qobject_cast<QLineEdit *>(dialog.paramField(u"user"_s));
        QTest::keyClicks(user, u"0x12"_s);
        QVERIFY(dialog.messageIsError());
        QVERIFY2(dialog.message().contains(u"40 hexadecimal digits after 0x; 2 so far"_s),
                 qPrintable(dialog.message()));
        QTest::keyClicks(user, QString(38, u'a'));
        QVERIFY(!dialog.messageIsError());
        QVERIFY2(dialog.message().contains(u"\"user\":\"0x12aaaa"_s),
                 qPrintable(dialog.message())); // the preview
    }
    {
        // Trying to subscribe with nothing typed: the error, and the field to fix has the focus.
        AddSubscriptionDialog dialog;
        dialog.show();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        dialog.setType(u"candle"_s);
        QVERIFY(!dialog.messageIsError());
        QPushButton *subscribe = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        QVERIFY(subscribe->isEnabled());
        QTest::mouseClick(subscribe, Qt::LeftButton);
        QVERIFY(dialog.isVisible()); // not accepted
        QVERIFY(dialog.messageIsError());
        QVERIFY2(dialog.message().contains(u"at least one coin"_s), qPrintable(dialog.message()));
        QTRY_COMPARE(QApplication::focusWidget(), dialog.paramField(u"coin"_s));
        saveShot(&dialog, u"add-tried"_s);
        QTest::keyClicks(QApplication::focusWidget(), u"BTC, ETH"_s);
        QVERIFY(!dialog.messageIsError());
        QVERIFY(dialog.message().startsWith(u"Subscribe to 2 channels:"_s));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
        QCOMPARE(dialog.result().size(), 2);
        QVERIFY(!dialog.isVisible());
    }
}

void tst_Dialogs::rejectedCharactersSaySo()
{
    AddSubscriptionDialog dialog;
    dialog.setType(u"userFills"_s);
    auto *user = qobject_cast<QLineEdit *>(dialog.paramField(u"user"_s));
    QTest::keyClicks(user, u"0x1g"_s);
    QCOMPARE(user->text(), u"0x1"_s);
    QVERIFY(dialog.messageIsError());
    QVERIFY2(dialog.message().contains(u"Not taken: “g”"_s), qPrintable(dialog.message()));
    saveShot(&dialog, u"add-rejected"_s);
    // The next good key clears the note.
    QTest::keyClicks(user, u"2"_s);
    QVERIFY(!dialog.message().contains(u"Not taken"_s));
    // Uppercase X is taken as x; a 41st digit is refused and said so.
    user->clear();
    QTest::keyClicks(user, u"0X"_s + QString(41, u'B'));
    QCOMPARE(user->text(), u"0x"_s + QString(40, u'B'));
    QVERIFY2(dialog.message().contains(u"after the 40th"_s), qPrintable(dialog.message()));
    QString error;
    const auto subs = dialog.subscriptions(&error);
    QVERIFY2(subs, qPrintable(error));
    QCOMPARE(subs->constFirst().user(), u"0x"_s + QString(40, u'b'));
}

void tst_Dialogs::importErrorsInFullNumberedFromOne()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"subs.json"_s);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"([{"type":"candle","coin":"ZZZ","interval":"7m"},
                {"type":"trades","coin":"ZZZ"},
                {"type":"userFills","user":"0x12"},
                "trades"])");
    f.close();
    AddSubscriptionDialog dialog;
    dialog.resize(dialog.sizeHint());
    const QSize before = dialog.size();
    QString error;
    QVERIFY(!dialog.importFile(path, &error));
    QVERIFY2(error.contains(u"3 of 4 entries cannot be used; nothing was added"_s), qPrintable(error));
    QVERIFY2(error.contains(u"Entry 1 {\"coin\":\"ZZZ\",\"interval\":\"7m\",\"type\":\"candle\"}"_s),
             qPrintable(error));
    QVERIFY(error.contains(u"\"interval\" must be one of"_s));
    QVERIFY(error.contains(u"Entry 3 "_s) && error.contains(u"Entry 4 : not an object"_s));
    QVERIFY(!error.contains(u"Entry 0"_s) && !error.contains(u"Entry 2"_s));
    QVERIFY(dialog.messageIsError());
    QCOMPARE(dialog.message(), error); // in full
    auto *area = dialog.findChild<QScrollArea *>(u"messageArea"_s);
    QVERIFY(area && area->isAncestorOf(dialog.findChild<QLabel *>(u"message"_s)));
    QVERIFY(dialog.findChild<QLabel *>(u"message"_s)->wordWrap());
    QCOMPARE(dialog.size(), before);
    QVERIFY(dialog.result().isEmpty());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    saveShot(&dialog, u"add-import-errors"_s);
    dialog.hide();

    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write("[\n  {\"type\":\"trades\",\"coin\":\"A\"}\n  {\"type\":\"trades\"}\n]");
    f.close();
    QVERIFY(!dialog.importFile(path, &error));
    QVERIFY2(error.contains(u"Not valid JSON at line 3, column "_s), qPrintable(error));

    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(R"([{"type":"trades","coin":"A"},{"type":"candle","coin":"A","interval":"1h"}])");
    f.close();
    QVERIFY2(dialog.importFile(path, &error), qPrintable(error));
    QCOMPARE(dialog.result().size(), 2);
    QCOMPARE(dialog.result().constLast().canonical(),
             QByteArray(R"({"coin":"A","interval":"1h","type":"candle"})"));
}

void tst_Dialogs::sizeStaysTheSameWhateverTheType()
{
    AddSubscriptionDialog dialog;
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    const QSize size = dialog.size();
    const QSize hint = dialog.sizeHint();
    for (const Hl::TypeSpec &t : Hl::catalogue()) {
        dialog.setType(QString::fromLatin1(t.type));
        QApplication::processEvents();
        QCOMPARE(dialog.sizeHint(), hint);
        QCOMPARE(dialog.size(), size);
        if (QString::fromLatin1(t.type) == u"l2Book"_s)
            saveShot(&dialog, u"add-l2Book"_s);
        if (QString::fromLatin1(t.type) == u"userNonFundingLedgerUpdates"_s)
            saveShot(&dialog, u"add-ledger"_s);
    }
}

void tst_Dialogs::roundingStepOnlyWithFiveFigures()
{
    AddSubscriptionDialog dialog;
    dialog.setType(u"l2Book"_s);
    dialog.setParam(u"coin"_s, u"BTC"_s);
    QWidget *step = dialog.paramField(u"mantissa"_s);
    QVERIFY(!step->isEnabled());
    dialog.setParam(u"nSigFigs"_s, u"5"_s);
    QVERIFY(step->isEnabled());
    dialog.setParam(u"mantissa"_s, u"2"_s);
    QString error;
    auto subs = dialog.subscriptions(&error);
    QVERIFY2(subs, qPrintable(error));
    QCOMPARE(subs->constFirst().canonical(),
             QByteArray(R"({"coin":"BTC","mantissa":2,"nSigFigs":5,"type":"l2Book"})"));
    dialog.setParam(u"nSigFigs"_s, u"3"_s); // the step goes with it
    QVERIFY(!step->isEnabled());
    subs = dialog.subscriptions(&error);
    QVERIFY2(subs, qPrintable(error));
    QCOMPARE(subs->constFirst().canonical(), QByteArray(R"({"coin":"BTC","nSigFigs":3,"type":"l2Book"})"));
}

void tst_Dialogs::fieldsCarryOverToTheNextType()
{
    AddSubscriptionDialog dialog;
    dialog.setType(u"trades"_s);
    QTest::keyClicks(dialog.paramField(u"coin"_s), u"ETH"_s);
    dialog.setType(u"bbo"_s);
    QCOMPARE(qobject_cast<QLineEdit *>(dialog.paramField(u"coin"_s))->text(), u"ETH"_s);
    QString error;
    const auto subs = dialog.subscriptions(&error);
    QVERIFY2(subs, qPrintable(error));
    QCOMPARE(subs->constFirst().canonical(), QByteArray(R"({"coin":"ETH","type":"bbo"})"));
}

void tst_Dialogs::newRowsAreSelectedAndScrolledTo()
{
    // What the main window can do with result(): the rows arrive with the model's next update.
    constexpr int KeyRole = Qt::UserRole + 1;
    QStandardItemModel model;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.sort(0);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto add = [&model](const QString &text) {
        auto *item = new QStandardItem(text);
        item->setData(text.toUtf8(), KeyRole);
        model.appendRow({item, new QStandardItem(u"x"_s)});
    };
    for (int i = 0; i < 200; ++i)
        add(u"a%1"_s.arg(i, 3, 10, QChar(u'0')));
    QTableView view;
    view.setModel(&proxy);
    view.resize(300, 200);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QSet<QByteArray> keys{"m-new", "z-new"};
    QPointer<PendingRowSelection> pending = PendingRowSelection::start(&view, keys, KeyRole);
    QSignalSpy done(pending.data(), &PendingRowSelection::done);
    QApplication::processEvents(); // the first look: nothing there yet
    QVERIFY(pending);
    QCOMPARE(pending->found(), 0);
    add(u"z-new"_s);
    QCOMPARE(pending->found(), 1);
    add(u"m-new"_s);
    QCOMPARE(done.size(), 1);
    QCOMPARE(done.constFirst().at(0).toInt(), 2);
    const QModelIndexList selected = view.selectionModel()->selectedRows();
    QCOMPARE(selected.size(), 2);
    QCOMPARE(view.currentIndex().data(KeyRole).toByteArray(), QByteArray("m-new"));    // the first, sorted
    QVERIFY(view.viewport()->rect().intersects(view.visualRect(view.currentIndex()))); // scrolled to
    QTRY_VERIFY(!pending);                                                             // done: gone
    // Keys that never come: it gives up after the updates it was given.
    pending = PendingRowSelection::start(&view, {"never"}, KeyRole, 2);
    QApplication::processEvents();
    add(u"b"_s);
    QTRY_VERIFY(!pending);
}

QTEST_MAIN(tst_Dialogs)
#include "tst_dialogs.moc"

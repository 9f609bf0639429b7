// The main window as a real (offscreen) window over a real pool and simulator.
#include "addsubscriptiondialog.h"
#include "freezeproxy.h"
#include "livetableview.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "serieschart.h"
#include "settingsdialog.h"
#include "severitydelegate.h"
#include "simulator.h"
#include "tableproxy.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QContextMenuEvent>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_MainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void viewsAttachedToModels();
    void reconnectSelectedReconnectsExactlyThatOne();
    void reconnectAll();
    void disconnectAndConnectThePool();
    void recordRawFramesOnAndOff();
    void filterAndSortOnRawValues();
    void windowStateRoundTrip();
    void everyViewAttached();
    void statisticsSnapshotsKeepTheirBound();
    void chartsFollowAndRestWhileHidden();
    void addAndRemoveThroughTheDialogPath();
    void inspectorShowsTheLastMessages();
    void exportWritesValidFiles();
    void settingsRoundTrip();
    void proxyMatchesWordsAndPutsProblemsFirst();
    void freezeProxyHoldsAndCatchesUp();
    void pauseUpdatesFreezesTheTables();
    void rowsHoldStillUnderThePointer();
    void problemsComeFirstAndOneClickSelectsThem();
    void shortcutsWorkFromTheFilterBox();
    void filterCountsAndShowsEveryFilter();
    void columnsFitTheirContentsOnce();
    void connectionsDownTurnTheStatusBarRed();
    void headerMenuHidesColumns();
    void smallWindowStaysUsable_data();
    void smallWindowStaysUsable();

private:
    int selectConnection(int poolId);

    std::unique_ptr<Sim::FeedSimulator> m_sim;
    std::unique_ptr<PoolController> m_controller;
    std::unique_ptr<MainWindow> m_window;
};

void tst_MainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
}

void tst_MainWindow::init()
{
    m_sim = std::make_unique<Sim::FeedSimulator>();
    QVERIFY(m_sim->start());
    EngineConfig cfg;
    cfg.pool.url = m_sim->url();
    cfg.pool.maxSubscriptionsPerConnection = 3;
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.pool.manualStagger = 20ms;
    cfg.publishInterval = 50ms;
    cfg.recordingSwitchable = true; // as the GUI starts it
    if (QTest::currentTestFunction() == QByteArrayView("statisticsSnapshotsKeepTheirBound"))
        cfg.sessionStatsRing = 3;
    m_controller = std::make_unique<PoolController>(cfg);
    QVERIFY(m_controller->start(nullptr));
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->setDemoMode(true);
    m_window->show();
    QList<Hl::Subscription> subs;
    for (int i = 0; i < 9; ++i)
        subs.append(sub(R"({"type":"bbo","coin":"C)" + QByteArray::number(i) + "\"}"));
    m_controller->subscribe(subs);
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 9; }));
}

void tst_MainWindow::cleanup()
{
    m_window.reset();
    m_controller->shutdown(1s);
    m_controller.reset();
    m_sim.reset();
}

int tst_MainWindow::selectConnection(int poolId)
{
    QTableView *v = m_window->connectionsView();
    for (int row = 0; row < v->model()->rowCount(); ++row) {
        if (v->model()->index(row, 0).data(KeyRole).toInt() == poolId) {
            v->selectRow(row);
            return row;
        }
    }
    return -1;
}

void tst_MainWindow::viewsAttachedToModels()
{
    QCOMPARE(m_window->connectionsView()->model()->rowCount(), 3);
    QCOMPARE(m_window->subscriptionsView()->model()->rowCount(), 9);
    QCOMPARE(m_window->connectionsView()->model()->columnCount(),
             static_cast<int>(ConnectionsModel::ColumnCount));
    QCOMPARE(m_window->subscriptionsView()
                 ->model()
                 ->headerData(SubscriptionsModel::LastAge, Qt::Horizontal)
                 .toString(),
             u"Last message"_s);
    QCOMPARE(m_window->reconnectsView()->model()->rowCount(), 0);
    QVERIFY(!m_window->reconnectSelectedAction()->isEnabled()); // nothing selected yet
    QVERIFY(m_window->reconnectAllAction()->isEnabled());
}

void tst_MainWindow::reconnectSelectedReconnectsExactlyThatOne()
{
    QSignalSpy connected(m_sim.get(), &Sim::FeedSimulator::clientConnected);
    QVERIFY(selectConnection(2) >= 0);
    QVERIFY(m_window->reconnectSelectedAction()->isEnabled());
    m_window->reconnectSelectedAction()->trigger();
    QVERIFY(waitUntil([this] {
        const PoolSnapshot &s = m_controller->lastSnapshot();
        return s.reconnects.size() == 1 && s.reconnects[0].durationMs >= 0 &&
               summarize(s).subscriptionsActive == 9;
    }));
    QCOMPARE(connected.size(), 1); // one new socket on the server, for that connection only
    const ReconnectRecord r = m_controller->lastSnapshot().reconnects.constFirst();
    QCOMPARE(r.connection, 2);
    QVERIFY(r.manual);
    QCOMPARE(r.restored, 3);
    // The timeline shows it, marked manual.
    QVERIFY(waitUntil([this] { return m_window->reconnectsView()->model()->rowCount() == 1; }));
    const QAbstractItemModel *timeline = m_window->reconnectsView()->model();
    QCOMPARE(timeline->index(0, ReconnectsModel::Manual).data().toString(), u"manual"_s);
    QCOMPARE(timeline->index(0, ReconnectsModel::Restored).data().toString(), u"3/3"_s);
}

void tst_MainWindow::reconnectAll()
{
    QSignalSpy connected(m_sim.get(), &Sim::FeedSimulator::clientConnected);
    m_window->reconnectAllAction()->trigger();
    QVERIFY(waitUntil([this] {
        const PoolSnapshot &s = m_controller->lastSnapshot();
        return s.reconnects.size() == 3 &&
               std::all_of(s.reconnects.cbegin(), s.reconnects.cend(),
                           [](const auto &r) { return r.durationMs >= 0; }) &&
               summarize(s).subscriptionsActive == 9;
    }));
    QCOMPARE(connected.size(), 3);
    QCOMPARE(m_sim->subscriptionCount(), 9);
}

void tst_MainWindow::disconnectAndConnectThePool()
{
    QAction *connectedAct = m_window->poolConnectedAction();
    QVERIFY(connectedAct->isCheckable());
    QVERIFY(connectedAct->isChecked());
    connectedAct->trigger(); // disconnect
    QVERIFY(!connectedAct->isChecked());
    QVERIFY(waitUntil([this] {
        const PoolSnapshot &s = m_controller->lastSnapshot();
        return s.paused && summarize(s).connectionsUp == 0 && m_sim->connections().isEmpty();
    }));
    // Subscriptions kept, shown as waiting; reconnecting is not offered; the status bar says so.
    QCOMPARE(m_window->subscriptionsView()->model()->rowCount(), 9);
    QCOMPARE(m_controller->summary().subscriptionsActive, 0);
    QVERIFY(!m_window->reconnectAllAction()->isEnabled());
    QVERIFY(waitUntil([this] { return m_window->summaryText().startsWith(u"POOL DISCONNECTED"_s); }));
    // What the user asked for is not a problem: no red rows, no red button.
    QVERIFY(waitUntil([this] {
        const QAbstractItemModel *conns = m_window->connectionsView()->model();
        for (int r = 0; r < conns->rowCount(); ++r)
            if (conns->index(r, 0).data(RowSeverityRole).value<Severity>() == Severity::Bad ||
                conns->index(r, ConnectionsModel::State).data().toString() != u"disconnected by you"_s)
                return false;
        return conns->rowCount() > 0;
    }));
    QVERIFY(!m_window->problemsButton()->isVisible());

    connectedAct->trigger(); // connect
    QVERIFY(connectedAct->isChecked());
    QVERIFY(waitUntil([this] {
        const PoolSnapshot &s = m_controller->lastSnapshot();
        return !s.paused && summarize(s).subscriptionsActive == 9 && s.reconnects.size() == 3 &&
               std::all_of(s.reconnects.cbegin(), s.reconnects.cend(),
                           [](const auto &r) { return r.durationMs >= 0; });
    }));
    QCOMPARE(m_sim->subscriptionCount(), 9);
    QVERIFY(m_window->reconnectAllAction()->isEnabled());
    QVERIFY(!m_window->summaryText().contains(u"DISCONNECTED"_s));
    // The timeline shows three manual outages, cause Paused, all restored; the log both actions.
    const QAbstractItemModel *timeline = m_window->reconnectsView()->model();
    QVERIFY(waitUntil([timeline] { return timeline->rowCount() == 3; }));
    for (int row = 0; row < 3; ++row) {
        QCOMPARE(timeline->index(row, ReconnectsModel::Manual).data().toString(), u"manual"_s);
        QCOMPARE(timeline->index(row, ReconnectsModel::Cause).data().toString(), u"paused by you"_s);
        QCOMPARE(timeline->index(row, ReconnectsModel::Cause).data(RawValueRole).toString(), u"paused"_s);
        QCOMPARE(timeline->index(row, ReconnectsModel::Restored).data().toString(), u"3/3"_s);
    }
    QStringList actions;
    for (const SessionEvent &e : m_controller->engine().sessionLog().events())
        if (e.type == u"manual"_s)
            actions.append(e.data[u"action"_s].toString());
    QCOMPARE(actions, (QStringList{u"pool disconnected"_s, u"pool connected"_s}));
}

void tst_MainWindow::recordRawFramesOnAndOff()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"frames.jsonl"_s);
    QAction *record = m_window->recordAction();
    QVERIFY(!record->isChecked());
    QVERIFY(m_window->startRecording(path)); // what the action does after its file dialog
    QVERIFY(record->isChecked());
    QVERIFY(waitUntil([this] { return m_controller->engine().dispatcherStats().at(2).received >= 5; }));
    // The dispatcher table shows the recorder working, then off.
    record->trigger(); // unchecks: stop
    QVERIFY(waitUntil([this] { return m_controller->engine().recording() == Engine::Recording::Off; }));
    QVERIFY(!record->isChecked());
    const qint64 taken = m_controller->engine().dispatcherStats().at(2).received;
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), taken);
    const QAbstractItemModel *disp = m_window->dispatcherView()->model();
    QVERIFY(waitUntil([disp] {
        for (int row = 0; row < disp->rowCount(); ++row)
            if (disp->index(row, DispatcherModel::Name).data().toString() == u"recorder"_s)
                return disp->index(row, DispatcherModel::Kind).data().toString() == u"worker (off)"_s;
        return false;
    }));
}

void tst_MainWindow::filterAndSortOnRawValues()
{
    QTableView *v = m_window->subscriptionsView();
    v->sortByColumn(SubscriptionsModel::Total, Qt::DescendingOrder);
    QVERIFY(waitUntil([v] {
        // Sorted on numbers, not on text ("10" after "9").
        qint64 prev = std::numeric_limits<qint64>::max();
        for (int r = 0; r < v->model()->rowCount(); ++r) {
            const qint64 n = v->model()->index(r, SubscriptionsModel::Total).data(RawValueRole).toLongLong();
            if (n > prev)
                return false;
            prev = n;
        }
        return v->model()->index(0, SubscriptionsModel::Total).data(RawValueRole).toLongLong() >= 10;
    }));
    auto *filter = m_window->findChild<QLineEdit *>(u"channelFilter"_s);
    QVERIFY(filter);
    filter->setText(u"C7"_s);
    QCOMPARE(v->model()->rowCount(), 1);
    filter->clear();
    QCOMPARE(v->model()->rowCount(), 9);
}

void tst_MainWindow::windowStateRoundTrip()
{
    m_window->resize(1333, 911);
    m_window->tabs()->setCurrentIndex(2);
    m_window->subscriptionsView()->horizontalHeader()->resizeSection(SubscriptionsModel::Params, 321);
    m_window->close(); // saves geometry, state, columns, splitters and the tab
    MainWindow again(m_controller.get());
    QCOMPARE(again.size(), QSize(1333, 911));
    QCOMPARE(again.tabs()->currentIndex(), 2);
    QCOMPARE(again.subscriptionsView()->horizontalHeader()->sectionSize(SubscriptionsModel::Params), 321);
}

void tst_MainWindow::statisticsSnapshotsKeepTheirBound()
{
    // One snapshot a second; the view and the session log keep the newest three of them, apart
    // from the other events, and show them only when asked.
    SessionEventsModel *events = m_controller->sessionEvents();
    auto statsRows = [events] {
        QList<qint64> seqs;
        for (int row = 0; row < events->rowCount(); ++row)
            if (events->eventAt(row)->type == StatsEventType)
                seqs.append(events->eventAt(row)->seq);
        return seqs;
    };
    QSignalSpy appended(&m_controller->engine().sessionLog(), &SessionLog::appended);
    auto snapshotsSince = [&appended] {
        return std::count_if(appended.cbegin(), appended.cend(), [](const QList<QVariant> &args) {
            return args.at(0).value<SessionEvent>().type == StatsEventType;
        });
    };
    QVERIFY(waitUntil([&] { return snapshotsSince() >= 5 && statsRows().size() == 3; }, 15000));
    const std::deque<SessionEvent> &ring = m_controller->engine().sessionLog().statsRing();
    QCOMPARE(ring.size(), 3u);
    QVERIFY(waitUntil([&] { return statsRows() == QList<qint64>{ring[0].seq, ring[1].seq, ring[2].seq}; }));
    // The subscription events of the start are all still there.
    int subscriptionRows = 0;
    for (int row = 0; row < events->rowCount(); ++row)
        subscriptionRows += events->eventAt(row)->type == u"subscription"_s;
    QVERIFY(subscriptionRows >= 9);
    // Hidden by default; ticked, the view shows them.
    QAbstractItemModel *view = m_window->eventsView()->model();
    auto shownSnapshots = [view] {
        int n = 0;
        for (int row = 0; row < view->rowCount(); ++row)
            n += view->index(row, SessionEventsModel::Type).data().toString() == StatsEventType;
        return n;
    };
    QCOMPARE(shownSnapshots(), 0);
    auto *showStats = m_window->findChild<QCheckBox *>(u"showStats"_s);
    QVERIFY(showStats);
    showStats->setChecked(true);
    QVERIFY(waitUntil([&] { return shownSnapshots() == 3; }));
}

void tst_MainWindow::everyViewAttached()
{
    // Dispatcher consumers, session events, budget gauges and charts all have their models.
    QVERIFY(waitUntil([this] { return m_window->dispatcherView()->model()->rowCount() == 3; }));
    QCOMPARE(m_window->dispatcherView()->model()->index(0, DispatcherModel::Name).data().toString(),
             u"statistics"_s);
    QCOMPARE(m_window->dispatcherView()->model()->index(1, DispatcherModel::Name).data().toString(),
             u"inspector"_s);
    QCOMPARE(m_window->dispatcherView()->model()->index(2, DispatcherModel::Kind).data().toString(),
             u"worker (off)"_s); // the recorder, until File → Record raw frames
    QVERIFY(waitUntil([this] { return m_window->eventsView()->model()->rowCount() >= 9 + 3; }));
    // Subscriptions against the limit in force: 10 connections x 3 each here, not the venue's 1000.
    QCOMPARE(m_window->budgetGauge(0)->value(), 9);
    QCOMPARE(m_window->budgetGauge(0)->maximum(), 30);
    QVERIFY(m_window->budgetGauge(0)->toolTip().contains(u"the venue allows 1000"_s));
    QCOMPARE(m_window->budgetGauge(1)->maximum(), 10); // distinct users: the venue's
    QVERIFY(m_window->budgetGauge(1)->toolTip().contains(u"the venue's limit"_s));
    QVERIFY(m_window->budgetGauge(2)->value() >= 9); // at least the subscribes went out
    QCOMPARE(m_window->charts().size(), 6);
    QVERIFY(m_window->summaryText().contains(u"Connections 3/3 up"_s));
    QVERIFY(m_window->summaryText().contains(u"Subscriptions 9/9 active"_s));
    // The events view filters.
    auto *filter = m_window->findChild<QLineEdit *>(u"eventsFilter"_s);
    QVERIFY(filter);
    filter->setText(u"C4"_s);
    QVERIFY(m_window->eventsView()->model()->rowCount() >= 1);
    for (int r = 0; r < m_window->eventsView()->model()->rowCount(); ++r)
        QVERIFY(m_window->eventsView()
                    ->model()
                    ->index(r, SessionEventsModel::Summary)
                    .data()
                    .toString()
                    .contains(u"C4"_s));
}

void tst_MainWindow::chartsFollowAndRestWhileHidden()
{
    m_window->tabs()->setCurrentIndex(1); // Throughput / RTT
    SeriesChart *throughput = m_window->charts().at(0);
    QVERIFY(waitUntil([&] { return throughput->lineCount() == 3; }, 5000)); // one line per connection
    // Hidden: no redraw at all, however many samples arrive.
    m_window->tabs()->setCurrentIndex(2);
    QVERIFY(!throughput->isVisible());
    const qint64 before = throughput->refreshes();
    QSignalSpy samples(m_controller.get(), &PoolController::seriesUpdated);
    QVERIFY(samples.wait(3000));
    QVERIFY(samples.wait(3000));
    QCOMPARE(throughput->refreshes(), before);
    // Shown again: caught up at once.
    m_window->tabs()->setCurrentIndex(1);
    QVERIFY(throughput->refreshes() > before);
}

void tst_MainWindow::addAndRemoveThroughTheDialogPath()
{
    AddSubscriptionDialog dialog(m_window.get());
    dialog.setType(u"userFills"_s);
    dialog.setParam(u"user"_s, u"0x12"_s);
    QString error;
    QVERIFY(!dialog.subscriptions(&error));
    QVERIFY2(error.contains(u"user"_s), qPrintable(error));
    dialog.setType(u"l2Book"_s);
    dialog.setParam(u"coin"_s, u"AAA, BBB"_s); // a coin list: one subscription each
    dialog.setParam(u"nSigFigs"_s, u"5"_s);
    dialog.accept();
    QCOMPARE(dialog.result().size(), 2);
    QCOMPARE(dialog.result().constFirst().canonical(),
             QByteArray(R"({"coin":"AAA","nSigFigs":5,"type":"l2Book"})"));
    m_window->findChild<QLineEdit *>(u"channelFilter"_s)->setText(u"type:bbo"_s); // would hide them
    m_window->addSubscriptions(dialog.result());
    QVERIFY(waitUntil([this] {
        return m_sim->subscriptionCount() == 11 && m_controller->summary().subscriptionsActive == 11;
    }));
    // The new rows are selected (the filter that would hide them was cleared), the first current.
    {
        QTableView *view = m_window->subscriptionsView();
        QVERIFY(m_window->findChild<QLineEdit *>(u"channelFilter"_s)->text().isEmpty());
        QVERIFY(waitUntil([view] { return view->selectionModel()->selectedRows().size() == 2; }));
        QSet<QByteArray> selected;
        for (const QModelIndex &i : view->selectionModel()->selectedRows())
            selected.insert(i.data(KeyRole).toByteArray());
        QCOMPARE(selected,
                 (QSet<QByteArray>{dialog.result().at(0).canonical(), dialog.result().at(1).canonical()}));
        QVERIFY(selected.contains(view->currentIndex().data(KeyRole).toByteArray()));
    }
    // The "user" consumer shows in the table.
    m_window->findChild<QLineEdit *>(u"channelFilter"_s)->setText(u"AAA"_s);
    QTableView *v = m_window->subscriptionsView();
    QCOMPARE(v->model()->rowCount(), 1);
    QCOMPARE(v->model()->index(0, SubscriptionsModel::Consumers).data().toString(), u"user"_s);
    // Unsubscribe the selection.
    v->selectRow(0);
    QVERIFY(m_window->unsubscribeAction()->isEnabled());
    m_window->unsubscribeAction()->trigger();
    QVERIFY(waitUntil([this] {
        return m_sim->subscriptionCount() == 10 && m_controller->summary().subscriptionsTotal == 10;
    }));
    // A subscriptions file through the dialog's import.
    QTemporaryDir dir;
    QFile f(dir.filePath(u"subs.json"_s));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"([{"type":"trades","coin":"ZZZ"},{"type":"candle","coin":"ZZZ","interval":"1m"}])");
    f.close();
    AddSubscriptionDialog importing(m_window.get());
    QVERIFY(importing.importFile(f.fileName(), &error));
    QCOMPARE(importing.result().size(), 2);
    QFile bad(dir.filePath(u"bad.json"_s));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write(R"([{"type":"candle","coin":"ZZZ","interval":"7m"}])");
    bad.close();
    QVERIFY(!importing.importFile(bad.fileName(), &error));
    QVERIFY2(error.contains(u"interval"_s), qPrintable(error));
}

void tst_MainWindow::inspectorShowsTheLastMessages()
{
    QTableView *v = m_window->subscriptionsView();
    v->setCurrentIndex(v->model()->index(0, 0));
    QVERIFY(waitUntil([this] { return m_window->inspectorList()->count() > 0; }));
    QVERIFY(m_window->inspectorText()->toPlainText().contains(u"\"channel\": \"bbo\""_s)); // pretty-printed
    QVERIFY(m_window->inspectorList()->count() <= 200);
}

void tst_MainWindow::exportWritesValidFiles()
{
    QTemporaryDir dir;
    QVERIFY(waitUntil([this] { return m_window->eventsView()->model()->rowCount() >= 12; }));
    QSignalSpy done(m_window.get(), &MainWindow::exportFinished);
    const QString jsonl = dir.filePath(u"s.jsonl"_s);
    m_window->exportSession(jsonl, ExportFormat::Jsonl);
    QVERIFY(done.wait(10000));
    QVERIFY(done.constLast().at(0).value<ExportResult>().ok);
    QString error;
    const auto back = importSessionJsonl(jsonl, &error);
    QVERIFY2(back, qPrintable(error));
    QVERIFY(back->size() >= 12);
    // Shown again in the events view.
    QVERIFY(m_window->importSession(jsonl, &error));
    QCOMPARE(m_window->eventsView()->model()->rowCount(), back->size());

    const QString har = dir.filePath(u"s.har"_s);
    QVERIFY(waitUntil([this] {
        return !m_controller->engine()
                    .inspector()
                    .messages(sub(R"({"type":"bbo","coin":"C0"})").canonical())
                    .isEmpty();
    }));
    m_window->exportSession(har, ExportFormat::Har);
    QVERIFY(done.wait(10000));
    QVERIFY(done.constLast().at(0).value<ExportResult>().ok);
    QFile f(har);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject log = QJsonDocument::fromJson(f.readAll()).object()[u"log"_s].toObject();
    QCOMPARE(log[u"version"_s].toString(), u"1.2"_s);
    const QJsonArray entries = log[u"entries"_s].toArray();
    QVERIFY(!entries.isEmpty());
    QVERIFY(!entries[0][u"_webSocketMessages"_s].toArray().isEmpty()); // the inspector's frames

    // A location that cannot be written: a clear failure, nothing left behind.
    const QString nowhere = dir.filePath(u"missing-dir/s.csv"_s);
    m_window->exportSession(nowhere, ExportFormat::Csv);
    QVERIFY(done.wait(10000));
    const ExportResult r = done.constLast().at(0).value<ExportResult>();
    QVERIFY(!r.ok);
    QVERIFY(!r.error.isEmpty());
    QVERIFY(!QFile::exists(nowhere));
}

void tst_MainWindow::settingsRoundTrip()
{
    Profile p;
    p.engine.pool.maxConnections = 6;
    SettingsDialog dialog(p, m_window.get());
    dialog.findChild<QLineEdit *>()->setText(u"wss://example.invalid/ws"_s);
    QString error;
    auto shown = dialog.profile(&error);
    QVERIFY2(shown, qPrintable(error));
    QCOMPARE(shown->engine.pool.maxConnections, 6);
    dialog.accept(); // saves
    const auto saved = savedProfile(&error);
    QVERIFY(saved);
    QCOMPARE(saved->url, QUrl(u"wss://example.invalid/ws"_s));
    QCOMPARE(saved->engine.pool.maxConnections, 6);
    // Export, import elsewhere: the same settings.
    QTemporaryDir dir;
    const QString file = dir.filePath(u"p.json"_s);
    QVERIFY2(dialog.exportProfile(file, &error), qPrintable(error));
    SettingsDialog other(Profile{}, m_window.get());
    QVERIFY(other.importProfile(file, &error));
    QCOMPARE(other.profile(&error)->engine.pool.maxConnections, 6);
    // A bad URL is refused with the reason, nothing saved.
    other.findChild<QLineEdit *>()->setText(u"http://nope"_s);
    QVERIFY(!other.profile(&error));
    QVERIFY(error.contains(u"url"_s));
    QSettings().remove(u"Settings/v1/profile"_s);
}

namespace {
SubscriptionStatus channel(const QByteArray &json, int connection, SubState state = SubState::Active)
{
    SubscriptionStatus s;
    s.subscription = sub(json);
    s.connection = connection;
    s.state = state;
    return s;
}

QList<QByteArray> keysOf(const QAbstractItemModel *m)
{
    QList<QByteArray> keys;
    for (int r = 0; r < m->rowCount(); ++r)
        keys.append(m->index(r, 0).data(KeyRole).toByteArray());
    return keys;
}

/// Saves a picture of the window where FEEDSCOPE_SHOT_DIR says (for looking at layouts).
void shoot(QWidget *w, const QString &name)
{
    const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOT_DIR");
    if (!dir.isEmpty())
        w->grab().save(dir + u'/' + name + u".png"_s);
}
} // namespace

void tst_MainWindow::proxyMatchesWordsAndPutsProblemsFirst()
{
    SubscriptionsModel model;
    TableProxy proxy;
    proxy.setSourceModel(&model);
    proxy.addFilterKey(u"conn"_s, SubscriptionsModel::Connection);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.sort(SubscriptionsModel::Type, Qt::AscendingOrder);
    PoolSnapshot s;
    s.subscriptions = {
        channel(R"({"type":"bbo","coin":"SOL"})", 1), channel(R"({"type":"l2Book","coin":"SOL"})", 2),
        channel(R"({"type":"bbo","coin":"BTC"})", 3),
        channel(R"({"type":"trades","coin":"ETH"})", 3, SubState::Rejected),
        channel(R"({"type":"userFills","user":"0x0d1a2b3c4d5e6f708192a3b4c5d6e7f801234567"})", 2)};
    model.applySnapshot(s);
    QCOMPARE(proxy.rowCount(), 5);
    QCOMPARE(proxy.index(0, SubscriptionsModel::Type).data().toString(), u"bbo"_s);
    // Problems first, in either order; then the sort column.
    proxy.setProblemsFirst(true);
    QCOMPARE(proxy.index(1, SubscriptionsModel::Type).data().toString(), u"bbo"_s);
    QCOMPARE(proxy.index(0, SubscriptionsModel::Type).data().toString(), u"trades"_s);
    proxy.sort(SubscriptionsModel::Type, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, SubscriptionsModel::Type).data().toString(), u"trades"_s);
    QCOMPARE(proxy.index(1, SubscriptionsModel::Type).data().toString(), u"userFills"_s);
    proxy.setProblemsFirst(false);
    QCOMPARE(proxy.index(0, SubscriptionsModel::Type).data().toString(), u"userFills"_s);

    auto matches = [&proxy](const QString &text) {
        proxy.setFilterWords(text);
        QStringList rows;
        for (int r = 0; r < proxy.rowCount(); ++r)
            rows.append(proxy.index(r, SubscriptionsModel::Type).data().toString() + u' ' +
                        proxy.index(r, SubscriptionsModel::Params).data().toString());
        rows.sort();
        return rows;
    };
    QCOMPARE(matches(u"bbo SOL"_s), QStringList{u"bbo SOL"_s});
    QCOMPARE(matches(u"sol   BBO"_s), QStringList{u"bbo SOL"_s}); // any order, any case
    QCOMPARE(matches(u"SOL"_s), (QStringList{u"bbo SOL"_s, u"l2Book SOL"_s}));
    QCOMPARE(matches(u"conn:3"_s), (QStringList{u"bbo BTC"_s, u"trades ETH"_s}));
    QCOMPARE(matches(u"conn:3 rejected"_s), QStringList{u"trades ETH"_s}); // the state's words
    QCOMPARE(matches(u"conn:33"_s), QStringList());
    QVERIFY(proxy.isFiltering());
    // The full user address matches, though the cell shows it shortened.
    QCOMPARE(matches(u"0x0d1a2b3c4d5e6f708192a3b4c5d6e7f801234567"_s).size(), 1);
    QCOMPARE(matches(u"nothing-like-this"_s), QStringList());
    QCOMPARE(matches(QString()).size(), 5);
    QVERIFY(!proxy.isFiltering());
    // Header tooltips: the model's, or the header's text.
    QVERIFY(proxy.headerData(SubscriptionsModel::Params, Qt::Horizontal, Qt::ToolTipRole)
                .toString()
                .contains(u"Coin"_s));

    // Held: data changes do not move rows; released, sorted at once.
    proxy.sort(SubscriptionsModel::Total, Qt::DescendingOrder);
    const QList<QByteArray> before = keysOf(&proxy);
    proxy.setHeld(true);
    for (int i = 0; i < s.subscriptions.size(); ++i)
        s.subscriptions[i].messages = 100 * (i + 1); // the last row would come first
    model.applySnapshot(s);
    QCOMPARE(keysOf(&proxy), before);
    proxy.setHeld(false);
    QCOMPARE(proxy.index(0, SubscriptionsModel::Total).data(RawValueRole).toLongLong(), 500);
}

void tst_MainWindow::freezeProxyHoldsAndCatchesUp()
{
    SubscriptionsModel model;
    FreezeProxy freezer(&model);
    QAbstractItemModelTester tester(&freezer, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.subscriptions = {channel(R"({"type":"bbo","coin":"A"})", 1),
                       channel(R"({"type":"bbo","coin":"B"})", 1)};
    model.applySnapshot(s);
    QCOMPARE(freezer.rowCount(), 2);
    freezer.setFrozen(true);
    s.subscriptions[0].messages = 42;
    model.applySnapshot(s);
    QCOMPARE(freezer.index(0, SubscriptionsModel::Total).data().toString(), u"0"_s); // as it was
    QCOMPARE(model.index(0, SubscriptionsModel::Total).data().toString(), u"42"_s);
    QSignalSpy resets(&freezer, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&freezer, &QAbstractItemModel::dataChanged);
    freezer.setFrozen(false); // the same rows: one dataChanged, no reset
    QCOMPARE(resets.size(), 0);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(freezer.index(0, SubscriptionsModel::Total).data().toString(), u"42"_s);
    // Rows added and removed while frozen: one reset when thawed.
    freezer.setFrozen(true);
    s.subscriptions.removeFirst();
    s.subscriptions.append(channel(R"({"type":"bbo","coin":"C"})", 2));
    s.subscriptions.append(channel(R"({"type":"bbo","coin":"D"})", 2));
    model.applySnapshot(s);
    QCOMPARE(freezer.rowCount(), 2);
    QCOMPARE(freezer.index(0, SubscriptionsModel::Params).data().toString(), u"A"_s);
    QCOMPARE(freezer.index(0, 0).data(KeyRole).toByteArray(),
             sub(R"({"type":"bbo","coin":"A"})").canonical());
    freezer.setFrozen(false);
    QCOMPARE(resets.size(), 1);
    QCOMPARE(freezer.rowCount(), 3);
    QCOMPARE(freezer.index(0, SubscriptionsModel::Params).data().toString(), u"B"_s);
    // Live again: the source's changes pass.
    s.subscriptions.removeLast();
    model.applySnapshot(s);
    QCOMPARE(freezer.rowCount(), 2);
}

void tst_MainWindow::pauseUpdatesFreezesTheTables()
{
    QTableView *v = m_window->subscriptionsView();
    auto shownTotal = [v] {
        qint64 n = 0;
        for (int r = 0; r < v->model()->rowCount(); ++r)
            n += v->model()->index(r, SubscriptionsModel::Total).data(RawValueRole).toLongLong();
        return n;
    };
    auto modelTotal = [this] {
        qint64 n = 0;
        for (const SubscriptionStatus &s : m_controller->lastSnapshot().subscriptions)
            n += s.messages;
        return n;
    };
    QVERIFY(waitUntil([&] { return shownTotal() > 0; }));
    v->selectRow(3);
    const QByteArray selected = v->model()->index(3, 0).data(KeyRole).toByteArray();
    auto *paused = m_window->findChild<QLabel *>(u"pausedLabel"_s);
    QVERIFY(paused && !paused->isVisible());
    m_window->pauseUpdatesAction()->trigger();
    QVERIFY(m_window->pauseUpdatesAction()->isChecked());
    QVERIFY(paused->isVisible());
    QCOMPARE(m_window->windowTitle(), u"FeedScope (display paused)"_s);
    const qint64 frozen = shownTotal();
    QVERIFY(waitUntil([&] { return modelTotal() > frozen + 20; })); // the engine keeps running
    QCOMPARE(shownTotal(), frozen);
    // The session events are frozen too: a new event is recorded, not shown until resumed.
    QTableView *events = m_window->eventsView();
    const int eventsShown = events->model()->rowCount();
    const int eventsKept = m_controller->sessionEvents()->rowCount();
    m_controller->engine().noteManual(u"marker"_s, {});
    QVERIFY(waitUntil([&] { return m_controller->sessionEvents()->rowCount() > eventsKept; }));
    QCOMPARE(events->model()->rowCount(), eventsShown);
    // What the selection acts on is the real subscription, though the rows are frozen.
    QCOMPARE(m_window->selectedSubscriptions().size(), 1);
    QCOMPARE(m_window->selectedSubscriptions().constFirst().canonical(), selected);
    m_window->pauseUpdatesAction()->trigger();
    QVERIFY(!paused->isVisible());
    QCOMPARE(m_window->windowTitle(), u"FeedScope"_s);
    QVERIFY(waitUntil([&] { return shownTotal() > frozen; }));
    QCOMPARE(m_window->selectedSubscriptions().constFirst().canonical(), selected); // still selected
    QVERIFY(waitUntil([&] { return events->model()->rowCount() > eventsShown; }));
    // The events filter takes words in any order, like the channels' filter.
    auto *eventsFilter = m_window->findChild<QLineEdit *>(u"eventsFilter"_s);
    eventsFilter->setText(u"marker you"_s);
    QCOMPARE(events->model()->rowCount(), 1);
    eventsFilter->setText(u"you marker"_s);
    QCOMPARE(events->model()->rowCount(), 1);
    QVERIFY(m_window->findChild<QLabel *>(u"eventsCount"_s)->text().startsWith(u"1 of "_s));
    eventsFilter->clear();
}

void tst_MainWindow::rowsHoldStillUnderThePointer()
{
    auto *v = qobject_cast<LiveTableView *>(m_window->subscriptionsView());
    QVERIFY(v);
    TableProxy *proxy = m_window->channelsProxy();
    v->sortByColumn(SubscriptionsModel::MsgsPerSec, Qt::DescendingOrder); // a live column
    QEvent enter(QEvent::Enter);
    QApplication::sendEvent(v->viewport(), &enter);
    QVERIFY(proxy->isHeld());
    QVERIFY(!proxy->dynamicSortFilter());
    const QList<QByteArray> order = keysOf(v->model());
    QSignalSpy updates(m_controller.get(), &PoolController::updated);
    QVERIFY(waitUntil([&] { return updates.size() >= 10; })); // a second of live updates
    QCOMPARE(keysOf(v->model()), order);
    QEvent leave(QEvent::Leave);
    QApplication::sendEvent(v->viewport(), &leave);
    QVERIFY(!proxy->isHeld());
    QVERIFY(proxy->dynamicSortFilter());
    // While a context menu is open the rows keep still too (its actions act on the row clicked).
    bool heldDuringMenu = false;
    QTimer::singleShot(0, this, [&] {
        heldDuringMenu = proxy->isHeld();
        if (QWidget *menu = QApplication::activePopupWidget())
            menu->close();
    });
    const QPoint at = v->visualRect(v->model()->index(0, 0)).center();
    QContextMenuEvent menuEvent(QContextMenuEvent::Mouse, at, v->viewport()->mapToGlobal(at));
    QApplication::sendEvent(v->viewport(), &menuEvent);
    QVERIFY(heldDuringMenu);
    QVERIFY(!proxy->isHeld());
    // Hidden while pointed at (no Leave comes then): released too.
    QApplication::sendEvent(v->viewport(), &enter);
    QVERIFY(proxy->isHeld());
    v->hide();
    QVERIFY(!proxy->isHeld());
    v->show();
    // Sorted again at once.
    double prev = std::numeric_limits<double>::max();
    for (int r = 0; r < v->model()->rowCount(); ++r) {
        const double x = v->model()->index(r, SubscriptionsModel::MsgsPerSec).data(RawValueRole).toDouble();
        QVERIFY(x <= prev);
        prev = x;
    }
}

void tst_MainWindow::problemsComeFirstAndOneClickSelectsThem()
{
    QVERIFY(!m_window->problemsButton()->isVisible());
    QCOMPARE(m_window->windowTitle(), u"FeedScope"_s);
    const Hl::Subscription bad = sub(R"({"type":"trades","coin":"NOPE"})");
    Sim::Fault f = Sim::Fault::make(Sim::FaultKind::Reject);
    f.subscription = bad;
    QVERIFY(m_sim->apply(f));
    m_controller->subscribe({bad});
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsProblem == 1; }));
    QVERIFY(waitUntil([this] { return m_window->problemsButton()->isVisible(); }));
    QCOMPARE(m_window->problemsButton()->text(), u"⚠ 1 channel with problems"_s);
    QVERIFY2(m_window->windowTitle().startsWith(u"⚠ FeedScope — 1 channel with problems"_s),
             qPrintable(m_window->windowTitle()));
    QTableView *v = m_window->subscriptionsView();
    // First whatever the sort ("trades" after "bbo"), red with an icon.
    for (Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
        v->sortByColumn(SubscriptionsModel::Type, order);
        QVERIFY(waitUntil(
            [&] { return v->model()->index(0, 0).data(KeyRole).toByteArray() == bad.canonical(); }));
    }
    QCOMPARE(v->model()->index(0, SubscriptionsModel::State).data().toString(), u"rejected by the server"_s);
    auto *delegate = qobject_cast<SeverityDelegate *>(v->itemDelegate());
    QVERIFY(delegate);
    QStyleOptionViewItem base;
    base.initFrom(v);
    const QStyleOptionViewItem o = delegate->styleOptionFor(v->model()->index(0, 0), base);
    QCOMPARE(o.backgroundBrush.color(), SeverityDelegate::rowTint(int(Severity::Bad), base.palette));
    QVERIFY(o.features & QStyleOptionViewItem::HasDecoration);
    QVERIFY(!delegate->styleOptionFor(v->model()->index(1, 0), base)
                 .features.testFlag(QStyleOptionViewItem::HasDecoration));
    // Problems first off: back in its sorted place.
    m_window->problemsFirstAction()->setChecked(false);
    v->sortByColumn(SubscriptionsModel::Type, Qt::AscendingOrder);
    QCOMPARE(v->model()->index(v->model()->rowCount() - 1, 0).data(KeyRole).toByteArray(), bad.canonical());
    // A filter hides it; one click on the status bar's summary shows and selects it.
    m_window->findChild<QLineEdit *>(u"channelFilter"_s)->setText(u"C1"_s);
    QTest::mouseClick(m_window->problemsButton(), Qt::LeftButton);
    QVERIFY(m_window->problemsFirstAction()->isChecked());
    QCOMPARE(m_window->findChild<QLineEdit *>(u"channelFilter"_s)->text(), QString());
    const QList<Hl::Subscription> selected = m_window->selectedSubscriptions();
    QCOMPARE(selected.size(), 1);
    QCOMPARE(selected.constFirst().canonical(), bad.canonical());
    QCOMPARE(v->currentIndex().row(), 0);
    // The status bar and the title come back when it is gone.
    m_controller->unsubscribe({bad});
    QVERIFY(waitUntil([this] { return !m_window->problemsButton()->isVisible(); }));
    QCOMPARE(m_window->windowTitle(), u"FeedScope"_s);
}

void tst_MainWindow::shortcutsWorkFromTheFilterBox()
{
    auto *filter = m_window->findChild<QLineEdit *>(u"channelFilter"_s);
    QVERIFY(filter);
    // The window's shortcuts pass the line edit (Ctrl+E, Ctrl+N, Ctrl+R…), and should a key
    // press reach it all the same, the action is triggered from there.
    QKeyEvent passed(QEvent::ShortcutOverride, Qt::Key_E, Qt::ControlModifier);
    QApplication::sendEvent(filter, &passed);
    QVERIFY(!passed.isAccepted());
    // Editing keys stay the line edit's.
    filter->setText(u"abc"_s);
    filter->selectAll();
    QKeyEvent copy(QEvent::ShortcutOverride, Qt::Key_C, Qt::ControlModifier);
    QApplication::sendEvent(filter, &copy);
    QVERIFY(copy.isAccepted());
    filter->clear();

    QCOMPARE(m_window->settingsAction()->shortcuts().value(0), QKeySequence(u"Ctrl+,"_s));
    QCOMPARE(m_window->findChannelAction()->shortcut(), QKeySequence(QKeySequence::Find));
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    m_window->subscriptionsView()->setFocus();
    QTest::keyClick(m_window->subscriptionsView(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY(filter->hasFocus());
    // Ctrl+R from the filter box reconnects the selected connection.
    QVERIFY(selectConnection(2) >= 0);
    filter->setFocus();
    QTest::keyClick(filter, Qt::Key_R, Qt::ControlModifier);
    QVERIFY(waitUntil([this] { return m_controller->lastSnapshot().reconnects.size() == 1; }));
    QCOMPARE(m_controller->lastSnapshot().reconnects.constFirst().connection, 2);
    // Ctrl+Shift+P pauses the display from the filter box too, even as a plain key press.
    QTest::keyClick(filter, Qt::Key_P, Qt::ControlModifier | Qt::ShiftModifier);
    QVERIFY(m_window->pauseUpdatesAction()->isChecked());
    QKeyEvent press(QEvent::KeyPress, Qt::Key_P, Qt::ControlModifier | Qt::ShiftModifier);
    QApplication::sendEvent(filter, &press);
    QVERIFY(!m_window->pauseUpdatesAction()->isChecked());
}

void tst_MainWindow::filterCountsAndShowsEveryFilter()
{
    auto *filter = m_window->findChild<QLineEdit *>(u"channelFilter"_s);
    auto *v = qobject_cast<LiveTableView *>(m_window->subscriptionsView());
    QCOMPARE(m_window->channelCountText(), u"9 channels"_s);
    filter->setText(u"bbo c3"_s);
    QCOMPARE(v->model()->rowCount(), 1);
    QCOMPARE(m_window->channelCountText(), u"1 of 9 channels"_s);
    QVERIFY(!v->emptyTextShown());
    filter->setText(u"bbo zzz"_s);
    QCOMPARE(m_window->channelCountText(), u"0 of 9 channels"_s);
    QVERIFY(v->emptyTextShown());
    QCOMPARE(v->emptyText(), u"No channel matches “bbo zzz”. Clear the filter to see all 9."_s);
    // Show its subscriptions: the connection filter is in the box, for all to see and clear.
    m_window->showConnectionSubscriptions(2);
    QCOMPARE(filter->text(), u"conn:2"_s);
    QCOMPARE(v->model()->rowCount(), 3);
    for (int r = 0; r < 3; ++r)
        QCOMPARE(v->model()->index(r, SubscriptionsModel::Connection).data().toInt(), 2);
    QCOMPARE(m_window->channelCountText(), u"3 of 9 channels"_s);
    QTest::keyClick(filter, Qt::Key_Escape); // Esc clears it
    QCOMPARE(filter->text(), QString());
    QCOMPARE(v->model()->rowCount(), 9);
    QVERIFY(!v->emptyTextShown());
}

void tst_MainWindow::columnsFitTheirContentsOnce()
{
    // A first start: nothing saved of an earlier window (the widths it saved would be kept).
    m_window.reset();
    QSettings().remove(u"UI"_s);
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->show();
    auto *v = qobject_cast<LiveTableView *>(m_window->subscriptionsView());
    QVERIFY(waitUntil([v] { return v->columnsSized(); }));
    QCoreApplication::processEvents(); // the sizing runs at the next turn of the event loop
    QHeaderView *h = v->horizontalHeader();
    auto *delegate = qobject_cast<SeverityDelegate *>(v->itemDelegate());
    QStyleOptionViewItem base;
    base.initFrom(v);
    // No cell of a sized column is clipped, and every header has a tooltip.
    for (int c = 0; c < v->model()->columnCount() - 1; ++c) {
        for (int r = 0; r < v->model()->rowCount(); ++r) {
            QStyleOptionViewItem o = base;
            o.rect = v->visualRect(v->model()->index(r, c));
            o.rect.setWidth(h->sectionSize(c));
            QVERIFY2(!delegate->isClipped(o, v->model()->index(r, c)),
                     qPrintable(v->model()->index(r, c).data().toString()));
        }
        QVERIFY(!v->model()->headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
    }
    // Headers of models without tooltips of their own (the events) get their titles.
    auto *events = qobject_cast<LiveTableView *>(m_window->eventsView());
    for (int c = 0; c < events->model()->columnCount(); ++c)
        QVERIFY(!events->headerToolTip(c).isEmpty());
    QVERIFY(v->headerToolTip(SubscriptionsModel::Params).contains(u"full JSON"_s));
    // The Connections, dispatcher and events tables are sized too.
    for (QTableView *t : {m_window->connectionsView(), m_window->dispatcherView(), m_window->eventsView()})
        QVERIFY(waitUntil([t] { return qobject_cast<LiveTableView *>(t)->columnsSized(); }));
    // The user's width is kept through live updates.
    h->resizeSection(SubscriptionsModel::Type, 77);
    QSignalSpy updates(m_controller.get(), &PoolController::updated);
    QVERIFY(waitUntil([&] { return updates.size() >= 3; }));
    QCOMPARE(h->sectionSize(SubscriptionsModel::Type), 77);
    // A clipped cell says what it holds.
    h->resizeSection(SubscriptionsModel::Type, 8);
    QStyleOptionViewItem o = base;
    o.rect = v->visualRect(v->model()->index(0, SubscriptionsModel::Type));
    QVERIFY(delegate->isClipped(o, v->model()->index(0, SubscriptionsModel::Type)));
}

void tst_MainWindow::smallWindowStaysUsable_data()
{
    QTest::addColumn<QSize>("size");
    QTest::addColumn<int>("minChannelRows");
    QTest::addRow("1600x1000") << QSize(1600, 1000) << 16;
    QTest::addRow("1024x700") << QSize(1024, 700) << 9;
}

void tst_MainWindow::smallWindowStaysUsable()
{
    QFETCH(QSize, size);
    QFETCH(int, minChannelRows);
    // A first start: nothing saved of an earlier window.
    m_window.reset();
    QSettings().remove(u"UI"_s);
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->show();
    m_window->resize(size);
    QVERIFY(waitUntil(
        [this] { return qobject_cast<LiveTableView *>(m_window->connectionsView())->columnsSized(); }));
    QCoreApplication::processEvents();
    shoot(m_window.get(), u"window-%1x%2"_s.arg(size.width()).arg(size.height()));
    QTableView *channels = m_window->subscriptionsView();
    const int rows = channels->viewport()->height() / channels->verticalHeader()->defaultSectionSize();
    QVERIFY2(rows >= minChannelRows, qPrintable(QString::number(rows)));
    // Every column of Connections in view: no horizontal scrolling.
    QTableView *conns = m_window->connectionsView();
    int width = 0;
    for (int c = 0; c < conns->model()->columnCount() - 1; ++c)
        width += conns->horizontalHeader()->sectionSize(c);
    QVERIFY2(width <= conns->viewport()->width(),
             qPrintable(u"%1 > %2"_s.arg(width).arg(conns->viewport()->width())));
    // The status bar's summary is readable, not squeezed.
    QSignalSpy updates(m_controller.get(), &PoolController::updated);
    QVERIFY(waitUntil([&] { return updates.size() >= 3; }));
    QLabel *summary = nullptr;
    for (QLabel *l : m_window->statusBar()->findChildren<QLabel *>())
        if (l->text() == m_window->summaryText())
            summary = l;
    QVERIFY(summary);
    QVERIFY2(summary->width() >= summary->sizeHint().width(),
             qPrintable(u"%1 < %2"_s.arg(summary->width()).arg(summary->sizeHint().width())));
}

void tst_MainWindow::connectionsDownTurnTheStatusBarRed()
{
    // The server goes away for a while: every connection is down, the status bar and the title say so.
    Sim::Fault f = Sim::Fault::make(Sim::FaultKind::Restart);
    f.amount = 3000;
    QVERIFY(m_sim->apply(f));
    QVERIFY(waitUntil([this] { return m_controller->summary().connectionsUp == 0; }));
    QVERIFY(waitUntil([this] { return m_window->problemsButton()->isVisible(); }));
    QVERIFY2(m_window->problemsButton()->text().contains(u"of 3 connections down"_s),
             qPrintable(m_window->problemsButton()->text()));
    QVERIFY(m_window->windowTitle().startsWith(u"⚠ FeedScope"_s));
    // The connections' rows are marked and come first; RTT is not shown for a dead socket.
    QTableView *v = m_window->connectionsView();
    QVERIFY(waitUntil([v] {
        return v->model()->index(0, 0).data(RowSeverityRole).value<Severity>() != Severity::Good &&
               v->model()->index(0, ConnectionsModel::Rtt).data().toString() == u"–"_s;
    }));
    // Back: all clear.
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 9; }, 20000));
    QVERIFY(waitUntil([this] { return !m_window->problemsButton()->isVisible(); }));
    QCOMPARE(m_window->windowTitle(), u"FeedScope"_s);
}

void tst_MainWindow::headerMenuHidesColumns()
{
    auto *v = qobject_cast<LiveTableView *>(m_window->connectionsView());
    QHeaderView *h = v->horizontalHeader();
    QTimer::singleShot(0, this, [] {
        auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
        QVERIFY(menu);
        QAction *url = menu->actions().value(ConnectionsModel::Url);
        QCOMPARE(url->text(), u"URL"_s);
        url->trigger();
        menu->close();
    });
    Q_EMIT h->customContextMenuRequested(QPoint(5, 5));
    QVERIFY(h->isSectionHidden(ConnectionsModel::Url));
    QVERIFY(v->columnsSized());
    // Kept for the next window.
    m_window->close();
    MainWindow again(m_controller.get());
    QVERIFY(again.connectionsView()->horizontalHeader()->isSectionHidden(ConnectionsModel::Url));
    QSettings().remove(u"UI"_s);
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"

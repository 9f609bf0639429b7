// The main window as a real (offscreen) window over a real pool and simulator.
#include "addsubscriptiondialog.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "serieschart.h"
#include "settingsdialog.h"
#include "simulator.h"
#include "testutil.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonObject>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

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
        QCOMPARE(timeline->index(row, ReconnectsModel::Cause).data().toString(), u"paused"_s);
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
    QCOMPARE(m_window->budgetGauge(0)->value(), 9); // subscriptions of the 1000 per IP
    QCOMPARE(m_window->budgetGauge(0)->maximum(), 1000);
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
    m_window->addSubscriptions(dialog.result());
    QVERIFY(waitUntil([this] {
        return m_sim->subscriptionCount() == 11 && m_controller->summary().subscriptionsActive == 11;
    }));
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

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"

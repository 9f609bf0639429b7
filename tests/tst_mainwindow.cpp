// The main window as a real (offscreen) window over a real pool and simulator.
#include "mainwindow.h"
#include "poolcontroller.h"
#include "simulator.h"
#include "testutil.h"

#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
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
    void filterAndSortOnRawValues();
    void windowStateRoundTrip();

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
    m_controller = std::make_unique<PoolController>(cfg);
    QVERIFY(m_controller->start(nullptr));
    m_window = std::make_unique<MainWindow>(m_controller->connections(), m_controller->subscriptions(),
                                            m_controller->reconnects());
    connect(m_window.get(), &MainWindow::reconnectRequested, m_controller.get(), &PoolController::reconnect);
    connect(m_window.get(), &MainWindow::reconnectAllRequested, m_controller.get(),
            &PoolController::reconnectAll);
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
    auto *filter = m_window->findChild<QLineEdit *>();
    QVERIFY(filter);
    filter->setText(u"C7"_s);
    QCOMPARE(v->model()->rowCount(), 1);
    filter->clear();
    QCOMPARE(v->model()->rowCount(), 9);
}

void tst_MainWindow::windowStateRoundTrip()
{
    m_window->resize(1111, 777);
    m_window->close(); // saves geometry and state
    MainWindow again(m_controller->connections(), m_controller->subscriptions(), m_controller->reconnects());
    QCOMPARE(again.size(), QSize(1111, 777));
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"

// Item models under QAbstractItemModelTester: bursts, removals, evictions; formatting.
#include "budget.h"
#include "inspector.h"
#include "livemodels.h"
#include "poolmodels.h"
#include "recording.h"
#include "report.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>
#include <QTimeZone>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

namespace {

SubscriptionStatus status(int i, SubState state = SubState::Active, qint64 messages = 0)
{
    SubscriptionStatus s;
    s.subscription = sub(R"({"type":"bbo","coin":"C)" + QByteArray::number(i) + "\"}");
    s.state = state;
    s.connection = 1 + i % 3;
    s.messages = messages;
    return s;
}

ConnectionStatus conn(int id, ConnState state = ConnState::Open)
{
    ConnectionStatus c;
    c.id = id;
    c.state = state;
    return c;
}

ReconnectRecord reconnect(int i)
{
    ReconnectRecord r;
    r.connection = 1;
    r.startedAt = QDateTime::fromMSecsSinceEpoch(1700000000000 + i * 1000, Qt::UTC);
    r.total = 10;
    return r;
}

} // namespace

class tst_Models : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sessionEventsBatchedAndEvicted();
    void sessionEventsBoundStatsSnapshots();
    void dispatcherModelRates();
    void timeSeriesWindow();
    void inspectorBounds();
    void subscriptionsBurstsAndRemovals();
    void subscriptionRatesAndStaleness();
    void secondBuckets();
    void connectionsComeAndGo();
    void reconnectRingEvicts();
    void batchedSignals();
    void formatting_data();
    void formatting();
    void summary();
    void humanNames_data();
    void humanNames();
    void connectionLiveness();
    void channelsLateAndProblems();
    void reconnectCausesInWords();
    void waitingForConnectionBudget();
    void channelsLatencyAndIntegrity();
    void latencyModelPerType();
};

void tst_Models::subscriptionsBurstsAndRemovals()
{
    SubscriptionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < 500; ++i)
        s.subscriptions.append(status(i));
    m.applySnapshot(s); // a burst of 500 inserts
    QCOMPARE(m.rowCount(), 500);
    // Remove every third, add 50 new, change states.
    PoolSnapshot s2 = s;
    s2.subscriptions.clear();
    for (int i = 0; i < 550; ++i) {
        if (i < 500 && i % 3 == 0)
            continue;
        s2.subscriptions.append(status(i, i % 5 == 0 ? SubState::Restoring : SubState::Active, i));
    }
    m.applySnapshot(s2);
    QCOMPARE(m.rowCount(), static_cast<int>(s2.subscriptions.size()));
    // Every row shows the subscription it claims to.
    for (int row = 0; row < m.rowCount(); ++row) {
        const QByteArray key = m.index(row, 0).data(KeyRole).toByteArray();
        const auto it =
            std::find_if(s2.subscriptions.cbegin(), s2.subscriptions.cend(),
                         [&](const SubscriptionStatus &x) { return x.subscription.canonical() == key; });
        QVERIFY(it != s2.subscriptions.cend());
        QCOMPARE(m.index(row, SubscriptionsModel::Total).data(RawValueRole).toLongLong(), it->messages);
        QCOMPARE(m.index(row, SubscriptionsModel::State).data().toString(), QString(nameOf(it->state)));
    }
    // Reset to nothing.
    m.applySnapshot(PoolSnapshot{});
    QCOMPARE(m.rowCount(), 0);
}

void tst_Models::subscriptionRatesAndStaleness()
{
    // Rates and staleness are the engine's (tst_Pool::dataStalenessAndRates); the model shows them.
    SubscriptionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    SubscriptionStatus book = status(0);
    book.subscription = sub(R"({"type":"l2Book","coin":"BTC"})");
    book.rate1s = 3;
    book.rate10s = 2.5;
    book.lastAgeMs = 22000;
    book.stale = true;
    book.consumers = {u"statistics"_s, u"inspector"_s};
    SubscriptionStatus orders = status(1);
    orders.subscription =
        sub(R"({"type":"orderUpdates","user":"0x1111111111111111111111111111111111111111"})");
    orders.lastAgeMs = 600000;
    s.subscriptions = {book, orders};
    m.applySnapshot(s);
    QVERIFY(m.isStale(0));
    QVERIFY(!m.isStale(1));
    QCOMPARE(m.index(0, SubscriptionsModel::LastAge).data(SeverityRole).value<Severity>(), Severity::Warning);
    QVERIFY(!m.index(1, SubscriptionsModel::LastAge).data(SeverityRole).isValid());
    QCOMPARE(m.index(0, SubscriptionsModel::MsgsPerSec).data(RawValueRole).toDouble(), 3.0);
    QCOMPARE(m.index(0, SubscriptionsModel::Rate10s).data(RawValueRole).toDouble(), 2.5);
    QCOMPARE(m.index(0, SubscriptionsModel::LastAge).data(RawValueRole).toLongLong(), 22000);
    QCOMPARE(m.index(0, SubscriptionsModel::Consumers).data().toString(), u"statistics, inspector"_s);
    QCOMPARE(m.index(0, SubscriptionsModel::Consumers).data(RawValueRole).toInt(), 2);
    QCOMPARE(m.index(0, SubscriptionsModel::Type).data().toString(), u"l2Book"_s);
    QCOMPARE(m.index(0, SubscriptionsModel::Params).data().toString(), u"BTC"_s);
    QCOMPARE(m.index(1, SubscriptionsModel::Params).data().toString(), u"user=0x1111…1111"_s);
}

void tst_Models::secondBuckets()
{
    SecondBuckets b;
    QCOMPARE(b.rate(100, 1), 0.0);
    for (int i = 0; i < 7; ++i)
        b.add(100);
    b.add(101, 3);
    QCOMPARE(b.rate(101, 1), 7.0); // the last whole second is 100
    QCOMPARE(b.rate(102, 1), 3.0);
    QCOMPARE(b.rate(102, 10), 1.0); // 10 messages over ten seconds
    QCOMPARE(b.rate(105, 1), 0.0);  // silence
    b.add(108, 20);
    QCOMPARE(b.rate(109, 10), 3.0); // 7 + 3 + 20 within 99..108
    QCOMPARE(b.rate(111, 10), 2.3); // second 100 left the window: (3 + 20) / 10
    QCOMPARE(b.rate(112, 10), 2.0); // and 101
    b.add(130);                     // a long gap clears everything older
    QCOMPARE(b.rate(131, 10), 0.1);
    // Staleness thresholds by type: a quiet orderUpdates is normal, a quiet bbo is not.
    QCOMPARE(staleAfterMs(sub(R"({"type":"bbo","coin":"BTC"})"), 3), 30000);
    QCOMPARE(staleAfterMs(sub(R"({"type":"l2Book","coin":"BTC"})"), 0.5), 2500);
    QCOMPARE(staleAfterMs(
                 sub(R"({"type":"orderUpdates","user":"0x1111111111111111111111111111111111111111"})"), 3),
             0);
}

void tst_Models::connectionsComeAndGo()
{
    ConnectionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    s.connections = {conn(1), conn(2), conn(3, ConnState::Backoff)};
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.index(2, ConnectionsModel::State).data(SeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(m.index(0, ConnectionsModel::State).data(SeverityRole).value<Severity>(), Severity::Good);
    s.connections = {conn(1), conn(3), conn(4)}; // 2 idle-closed, 4 new
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 3);
    QList<int> ids;
    for (int r = 0; r < 3; ++r)
        ids.append(m.index(r, ConnectionsModel::Id).data().toInt());
    QCOMPARE(ids, (QList<int>{1, 3, 4}));
    QCOMPARE(m.headerData(ConnectionsModel::Rtt, Qt::Horizontal, Qt::DisplayRole).toString(), u"RTT"_s);
    QCOMPARE(m.columnCount(), static_cast<int>(ConnectionsModel::ColumnCount));
}

void tst_Models::reconnectRingEvicts()
{
    ReconnectsModel m(5);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    for (int i = 0; i < 3; ++i)
        s.reconnects.append(reconnect(i));
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 3);
    for (int i = 3; i < 12; ++i)
        s.reconnects.append(reconnect(i));
    s.reconnects[11].durationMs = 42;
    s.reconnects[11].dataGapMs = 1500;
    s.reconnects[11].restored = 10;
    m.applySnapshot(s); // evictions at the front, inserts at the back
    QCOMPARE(m.rowCount(), 5);
    QCOMPARE(m.index(0, ReconnectsModel::Time).data(RawValueRole).toDateTime(), reconnect(7).startedAt);
    QCOMPARE(m.index(4, ReconnectsModel::Restored).data().toString(), u"10/10"_s);
    QCOMPARE(m.index(4, ReconnectsModel::Outage).data().toString(), u"42 ms"_s);
    QCOMPARE(m.index(4, ReconnectsModel::DataGap).data().toString(), u"1.5 s"_s);
    QCOMPARE(m.index(3, ReconnectsModel::Outage).data().toString(), u"restoring…"_s);
    QCOMPARE(m.index(3, ReconnectsModel::DataGap).data().toString(), QString());
    // The pool's own ring moved on too (it dropped its oldest).
    s.reconnects.remove(0, 4);
    s.reconnects.append(reconnect(12));
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 5);
    QCOMPARE(m.index(4, ReconnectsModel::Time).data(RawValueRole).toDateTime(), reconnect(12).startedAt);
}

void tst_Models::batchedSignals()
{
    // One tick: one batched insert and one dataChanged, not a signal per row.
    SubscriptionsModel m;
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    PoolSnapshot s;
    for (int i = 0; i < 200; ++i)
        s.subscriptions.append(status(i));
    m.applySnapshot(s);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(changed.size(), 1);
    for (auto &x : s.subscriptions)
        x.messages += 10;
    m.applySnapshot(s);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(changed.size(), 2);
}

void tst_Models::formatting_data()
{
    QTest::addColumn<QString>("actual");
    QTest::addColumn<QString>("expected");
    QTest::addRow("rate zero") << Format::rate(0.01) << u"0"_s;
    QTest::addRow("rate small") << Format::rate(2.345) << u"2.3"_s;
    QTest::addRow("rate mid") << Format::rate(523.6) << u"524"_s;
    QTest::addRow("rate big") << Format::rate(125400) << u"125.4k"_s;
    QTest::addRow("bytes") << Format::bytes(512) << u"512 B"_s;
    QTest::addRow("kib") << Format::bytes(2048) << u"2.0 KiB"_s;
    QTest::addRow("mib") << Format::bytes(3.5 * 1024 * 1024) << u"3.5 MiB"_s;
    QTest::addRow("ms") << Format::duration(340) << u"340 ms"_s;
    QTest::addRow("s") << Format::duration(2500) << u"2.5 s"_s;
    QTest::addRow("min") << Format::duration(125000) << u"2:05"_s;
    QTest::addRow("h") << Format::duration(3723000) << u"1:02:03"_s;
    QTest::addRow("never") << Format::age(-1) << u"never"_s;
}

void tst_Models::formatting()
{
    QFETCH(QString, actual);
    QFETCH(QString, expected);
    QCOMPARE(actual, expected);
}

void tst_Models::summary()
{
    PoolSnapshot s;
    s.connections = {conn(1), conn(2, ConnState::Backoff)};
    s.subscriptions = {status(0), status(1, SubState::Rejected), status(2, SubState::Restoring)};
    s.counters.outgoingUsed = 12;
    s.counters.outgoingCapacity = 1800;
    const PoolSummary p = summarize(s);
    QCOMPARE(p.connectionsUp, 1);
    QCOMPARE(p.connectionsTotal, 2);
    QCOMPARE(p.subscriptionsActive, 1);
    QCOMPARE(p.subscriptionsProblem, 1);
    QCOMPARE(p.outgoingUsed, 12);
}

void tst_Models::humanNames_data()
{
    QTest::addColumn<QString>("actual");
    QTest::addColumn<QString>("expected");
    QTest::addRow("socket error") << Format::cause(Cause::SocketError) << u"connection error"_s;
    QTest::addRow("pong timeout") << Format::cause(Cause::PongTimeout) << u"no pong"_s;
    QTest::addRow("stale") << Format::cause(Cause::Stale) << u"no data (half-open)"_s;
    QTest::addRow("paused") << Format::cause(Cause::Paused) << u"paused by you"_s;
    QTest::addRow("close frame") << Format::cause(Cause::CloseFrame) << u"closed by the server"_s;
    QTest::addRow("no cause") << Format::cause(Cause::None) << QString();
    QTest::addRow("backoff") << Format::connState(ConnState::Backoff) << u"waiting to retry"_s;
    QTest::addRow("rejected") << Format::subState(SubState::Rejected) << u"rejected by the server"_s;
    QTest::addRow("unplaceable") << Format::subState(SubState::Unplaceable) << u"no room on any connection"_s;
    ConnectionStatus c = conn(1);
    QTest::addRow("open") << Format::connectionState(c) << u"open"_s;
    c.silent = true;
    c.lastFrameAgeMs = 7200;
    QTest::addRow("silent") << Format::connectionState(c) << u"open · silent 7 s"_s;
    c.silent = false;
    c.pingOutstandingMs = 3240;
    QTest::addRow("awaiting pong") << Format::connectionState(c) << u"open · awaiting pong 3.2 s"_s;
    c.pingOutstandingMs = 20; // a pong on its way, as every ping has for a moment
    QTest::addRow("normal ping") << Format::connectionState(c) << u"open"_s;
    ConnectionStatus b = conn(2, ConnState::Backoff);
    b.failedAttempts = 5;
    b.consecutiveFailures = 2;
    QTest::addRow("backoff failing") << Format::connectionState(b) << u"waiting to retry (2 failed)"_s;
    QTest::addRow("reconnects failed") << Format::reconnects(b) << u"0 (5 failed)"_s;
    b.failedAttempts = 0;
    b.reconnects = 3;
    QTest::addRow("reconnects") << Format::reconnects(b) << u"3"_s;
    ConnectionStatus p = conn(3, ConnState::Stopped);
    p.lastCause = Cause::Paused;
    QTest::addRow("paused by you") << Format::connectionState(p) << u"disconnected by you"_s;
    p.lastCause = Cause::SocketError;
    QTest::addRow("stopped") << Format::connectionState(p) << u"stopped"_s;
}

void tst_Models::humanNames()
{
    QFETCH(QString, actual);
    QFETCH(QString, expected);
    QCOMPARE(actual, expected);
}

void tst_Models::connectionLiveness()
{
    ConnectionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    ConnectionStatus healthy = conn(1);
    healthy.rttMs = 12.5;
    healthy.lastFrameAgeMs = 40;
    healthy.usualGapMs = 100;
    ConnectionStatus silent = conn(2);
    silent.silent = true;
    silent.lastFrameAgeMs = 7000;
    silent.usualGapMs = 120;
    silent.pingOutstandingMs = 3200;
    silent.rttMs = 9;
    ConnectionStatus failing = conn(3, ConnState::Backoff);
    failing.rttMs = 30; // a value left from the last socket: not shown
    failing.lastFrameAgeMs = 5000;
    failing.failedAttempts = 5;
    failing.consecutiveFailures = 5;
    failing.lastCause = Cause::SocketError;
    failing.lastDetail = u"Connection refused"_s;
    s.connections = {healthy, silent, failing};
    m.applySnapshot(s);
    auto cell = [&m](int row, int column, int role = Qt::DisplayRole) {
        return m.index(row, column).data(role);
    };
    auto severity = [&](int row, int column) { return cell(row, column, SeverityRole).value<Severity>(); };
    auto rowSeverity = [&](int row) { return cell(row, 0, RowSeverityRole).value<Severity>(); };

    QCOMPARE(cell(0, ConnectionsModel::State).toString(), u"open"_s);
    QCOMPARE(severity(0, ConnectionsModel::State), Severity::Good);
    QCOMPARE(cell(0, ConnectionsModel::LastFrame).toString(), u"40 ms"_s);
    QCOMPARE(cell(0, ConnectionsModel::Rtt).toString(), u"12.5 ms"_s);
    QCOMPARE(rowSeverity(0), Severity::Good);

    QCOMPARE(cell(1, ConnectionsModel::State).toString(), u"open · silent 7 s · awaiting pong 3.2 s"_s);
    QCOMPARE(severity(1, ConnectionsModel::State), Severity::Warning);
    QCOMPARE(severity(1, ConnectionsModel::LastFrame), Severity::Warning);
    QCOMPARE(rowSeverity(1), Severity::Warning);
    QCOMPARE(cell(1, ConnectionsModel::LastFrame).toString(), u"7.0 s"_s);
    QCOMPARE(cell(1, ConnectionsModel::LastFrame, RawValueRole).toLongLong(), 7000);
    const QString tip = cell(1, ConnectionsModel::State, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(u"internal state: open"_s), qPrintable(tip));
    QVERIFY2(tip.contains(u"Last frame 7.0 s ago; usually one every 120 ms"_s), qPrintable(tip));
    QVERIFY2(tip.contains(u"Ping sent 3.2 s ago, no pong yet"_s), qPrintable(tip));

    QCOMPARE(cell(2, ConnectionsModel::State).toString(), u"waiting to retry (5 failed)"_s);
    QCOMPARE(cell(2, ConnectionsModel::Rtt).toString(), u"–"_s);
    QCOMPARE(cell(2, ConnectionsModel::Rtt, RawValueRole).toDouble(), -1.0);
    QCOMPARE(cell(2, ConnectionsModel::LastFrame).toString(), u"–"_s);
    QCOMPARE(cell(2, ConnectionsModel::Reconnects).toString(), u"0 (5 failed)"_s);
    QCOMPARE(cell(2, ConnectionsModel::Reconnects, RawValueRole).toInt(), 5);
    QCOMPARE(severity(2, ConnectionsModel::Reconnects), Severity::Warning);
    QVERIFY(cell(2, ConnectionsModel::Reconnects, Qt::ToolTipRole).toString().contains(u"5 in a row"_s));
    QCOMPARE(cell(2, ConnectionsModel::LastCause).toString(), u"connection error: Connection refused"_s);
    const QString causeTip = cell(2, ConnectionsModel::LastCause, Qt::ToolTipRole).toString();
    QVERIFY2(causeTip.contains(u"socketError"_s) && causeTip.contains(u"Connection refused"_s),
             qPrintable(causeTip));
    QCOMPARE(rowSeverity(2), Severity::Warning);

    // Healthy again: the warning goes.
    s.connections[1].silent = false;
    s.connections[1].pingOutstandingMs = -1;
    s.connections[1].lastFrameAgeMs = 30;
    m.applySnapshot(s);
    QCOMPARE(cell(1, ConnectionsModel::State).toString(), u"open"_s);
    QCOMPARE(severity(1, ConnectionsModel::State), Severity::Good);
    QVERIFY(!cell(1, ConnectionsModel::LastFrame, SeverityRole).isValid());

    // Every header has a tooltip.
    for (int c = 0; c < m.columnCount(); ++c)
        QVERIFY(!m.headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
}

void tst_Models::waitingForConnectionBudget()
{
    // Issue 16: a connection held back by the new-connection budget says so and when it will try,
    // its subscriptions say why they wait, and the report names it with the limits in force.
    ConnectionsModel conns;
    SubscriptionsModel subs;
    QAbstractItemModelTester t1(&conns, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&subs, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.at = QDateTime::fromMSecsSinceEpoch(1700000000000, Qt::UTC);
    ConnectionStatus waiting = conn(1, ConnState::Backoff);
    waiting.waitingForBudget = true;
    waiting.nextAttemptAt = s.at.addMSecs(11200);
    waiting.lastCause = Cause::CloseFrame; // the real cause is kept
    ConnectionStatus retrying = conn(2, ConnState::Backoff);
    retrying.nextAttemptAt = s.at.addMSecs(500);
    s.connections = {waiting, retrying};
    SubscriptionStatus pending = status(0, SubState::Pending);
    pending.connection = 1;
    SubscriptionStatus restoring = status(1, SubState::Restoring);
    restoring.connection = 2;
    s.subscriptions = {pending, restoring};
    s.counters.waitingForConnectionBudget = 1;
    s.counters.nextConnectionSlotAt = waiting.nextAttemptAt;
    PoolConfig raised;
    raised.maxConnections = 100;
    raised.newConnectionsPerMinute = 300;
    s.limits = PoolLimits::of(raised);
    conns.applySnapshot(s);
    subs.applySnapshot(s);

    QCOMPARE(conns.index(0, ConnectionsModel::State).data().toString(),
             u"waiting for the new-connection budget (next in 12 s)"_s);
    QCOMPARE(conns.index(0, ConnectionsModel::State).data(SeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(conns.index(0, ConnectionsModel::LastCause).data().toString(), u"closed by the server"_s);
    QCOMPARE(conns.index(1, ConnectionsModel::State).data().toString(), u"waiting to retry"_s);
    QCOMPARE(subs.index(0, SubscriptionsModel::State).data().toString(),
             u"pending · waiting for the new-connection budget"_s);
    QCOMPARE(subs.index(1, SubscriptionsModel::State).data().toString(), u"restoring · connection down"_s);

    const QJsonObject report = buildReport(s, DispatcherFigures{}, ReportMeta{});
    const QJsonObject c0 = report[u"connections"_s].toArray().at(0).toObject();
    QCOMPARE(c0[u"waitingFor"_s].toString(), u"new-connection budget"_s);
    QCOMPARE(c0[u"nextAttemptAt"_s].toString(), isoUtcMs(waiting.nextAttemptAt));
    QVERIFY(report[u"connections"_s].toArray().at(1).toObject()[u"waitingFor"_s].isNull());
    const QJsonObject w = report[u"waitingForConnectionBudget"_s].toObject();
    QCOMPARE(w[u"connections"_s].toInt(), 1);
    QCOMPARE(w[u"nextSlotInMs"_s].toInt(), 11200);
    const QJsonObject limits = report[u"limits"_s].toObject();
    QCOMPARE(limits[u"subscriptions"_s].toObject()[u"value"_s].toInt(), 10000);
    QCOMPARE(limits[u"subscriptions"_s].toObject()[u"source"_s].toString(), u"configured"_s);
    QCOMPARE(limits[u"newConnectionsPerMinute"_s].toObject()[u"value"_s].toInt(), 300);
    QCOMPARE(limits[u"users"_s].toObject()[u"source"_s].toString(), u"venue"_s);
    QCOMPARE(limits[u"messagesPerMinute"_s].toObject()[u"source"_s].toString(), u"default"_s);
    QCOMPARE(limits[u"messagesPerMinute"_s].toObject()[u"venue"_s].toInt(), 2000);
}

void tst_Models::channelsLateAndProblems()
{
    SubscriptionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    ConnectionStatus silent = conn(2);
    silent.silent = true;
    silent.lastFrameAgeMs = 9000;
    s.connections = {conn(1), silent, conn(3)};
    s.subscriptions = {status(0), status(1), status(2, SubState::Rejected), status(3)};
    s.subscriptions[0].stale = true; // connection 1
    s.subscriptions[0].lastAgeMs = 31000;
    s.subscriptions[2].error = u"Invalid subscription"_s;
    // status(1) is on connection 2 (silent); status(3) on connection 1, healthy.
    m.applySnapshot(s);
    auto cell = [&m](int row, int column, int role = Qt::DisplayRole) {
        return m.index(row, column).data(role);
    };
    QCOMPARE(cell(0, SubscriptionsModel::State).toString(), u"active · data late"_s);
    QCOMPARE(cell(0, SubscriptionsModel::State, SeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(cell(0, SubscriptionsModel::LastAge, SeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(cell(0, 0, RowSeverityRole).value<Severity>(), Severity::Warning);
    QVERIFY(cell(0, SubscriptionsModel::State, Qt::ToolTipRole).toString().contains(u"Data late"_s));
    QCOMPARE(cell(1, SubscriptionsModel::State).toString(), u"active · connection silent"_s);
    QCOMPARE(cell(1, SubscriptionsModel::LastAge, SeverityRole).value<Severity>(), Severity::Warning);
    QVERIFY(cell(1, SubscriptionsModel::State, Qt::ToolTipRole).toString().contains(u"#2 is silent"_s));
    QCOMPARE(cell(2, SubscriptionsModel::State).toString(), u"rejected by the server"_s);
    QCOMPARE(cell(2, 0, RowSeverityRole).value<Severity>(), Severity::Bad);
    const QString tip = cell(2, SubscriptionsModel::State, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(u"internal state: rejected"_s) && tip.contains(u"Invalid subscription"_s),
             qPrintable(tip));
    QCOMPARE(cell(3, SubscriptionsModel::State).toString(), u"active"_s);
    QCOMPARE(cell(3, 0, RowSeverityRole).value<Severity>(), Severity::Good);
    QVERIFY(!cell(3, SubscriptionsModel::LastAge, SeverityRole).isValid());
    // The raw state and the full subscription are there for the filter.
    QVERIFY(cell(2, 0, FilterTextRole).toString().contains(u"rejected"_s));
    QCOMPARE(m.rowOf(s.subscriptions[2].subscription.canonical()), 2);
    QCOMPARE(m.rowOf("nope"), -1);
    const PoolSummary p = summarize(s);
    QCOMPARE(p.subscriptionsStale, 2);
    QCOMPARE(p.connectionsSilent, 1);
    QCOMPARE(p.subscriptionsProblem, 1);
    for (int c = 0; c < m.columnCount(); ++c)
        QVERIFY(!m.headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
    // Connection 3 goes down: what it carried says so, not just "restoring"; a pool the user
    // disconnected holds its subscriptions, which is no problem.
    s.connections[2] = conn(3, ConnState::Backoff);
    s.subscriptions[2].state = SubState::Restoring; // status(2) is on connection 3
    s.subscriptions[2].error.clear();
    m.applySnapshot(s);
    QCOMPARE(cell(2, SubscriptionsModel::State).toString(), u"restoring · connection down"_s);
    QCOMPARE(cell(2, 0, RowSeverityRole).value<Severity>(), Severity::Warning);
    s.paused = true;
    m.applySnapshot(s);
    QCOMPARE(cell(2, SubscriptionsModel::State).toString(), u"held (pool disconnected)"_s);
    QCOMPARE(cell(2, 0, RowSeverityRole).value<Severity>(), Severity::Neutral);
    // A ping waiting for its pong: the last RTT is not shown as the current one.
    ConnectionsModel cm;
    ConnectionStatus waiting = conn(1);
    waiting.rttMs = 3.4;
    waiting.pingOutstandingMs = 2100;
    PoolSnapshot cs;
    cs.connections = {waiting};
    cm.applySnapshot(cs);
    QCOMPARE(cm.index(0, ConnectionsModel::Rtt).data().toString(), u"> 2.1 s (waiting)"_s);
}

void tst_Models::channelsLatencyAndIntegrity()
{
    // Issue 17: Latency p50/p99 (10 s, 5 min in the tooltip), amber above a second; "—" with the
    // reason for types without an event time; Integrity = total with the breakdown in the tooltip.
    SubscriptionsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.connections = {conn(1), conn(2), conn(3)};
    s.clock = ClockSync::fromTimex(TIME_ERROR, 0, 16000000, 0);
    s.subscriptions = {status(0), status(1), status(2)};
    LatencyFigures &fast = s.subscriptions[0].latency;
    fast.samples10s = 40;
    fast.p50Ms = 12.5;
    fast.p99Ms = 250;
    fast.maxMs = 300;
    fast.samples5m = 1200;
    fast.p50Ms5m = 11;
    fast.p99Ms5m = 800;
    fast.maxMs5m = 2100;
    LatencyFigures &slow = s.subscriptions[1].latency;
    slow.samples10s = 3;
    slow.p50Ms = 900;
    slow.p99Ms = 2500;
    slow.maxMs = 2500;
    slow.negative5m = 2;
    s.subscriptions[2].subscription = sub(R"({"type":"candle","coin":"BTC","interval":"1m"})");
    s.subscriptions[1].integrity.crossedBook = 2;
    s.subscriptions[1].integrity.duplicateTrade = 1;
    m.applySnapshot(s);
    auto cell = [&m](int row, int column, int role = Qt::DisplayRole) {
        return m.index(row, column).data(role);
    };
    QCOMPARE(cell(0, SubscriptionsModel::LatencyP50).toString(), u"12.5 ms"_s);
    QCOMPARE(cell(0, SubscriptionsModel::LatencyP99).toString(), u"250 ms"_s);
    QCOMPARE(cell(0, SubscriptionsModel::LatencyP99, RawValueRole).toDouble(), 250.0);
    QVERIFY(!cell(0, SubscriptionsModel::LatencyP99, SeverityRole).isValid());
    const QString tip = cell(0, SubscriptionsModel::LatencyP50, Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(u"Last 5 min: p50 11.0 ms, p99 800 ms, max 2.10 s (1200 samples)"_s),
             qPrintable(tip));
    QVERIFY2(tip.contains(u"clock not synchronised"_s), qPrintable(tip));
    QCOMPARE(cell(1, SubscriptionsModel::LatencyP99).toString(), u"2.50 s"_s);
    QCOMPARE(cell(1, SubscriptionsModel::LatencyP99, SeverityRole).value<Severity>(), Severity::Warning);
    QVERIFY(!cell(1, SubscriptionsModel::LatencyP50, SeverityRole).isValid()); // 900 ms: fine
    QVERIFY(cell(1, SubscriptionsModel::LatencyP99, Qt::ToolTipRole)
                .toString()
                .contains(u"later than they arrived"_s));
    // A candle: no event time, "—" and why.
    QCOMPARE(cell(2, SubscriptionsModel::LatencyP50).toString(), u"—"_s);
    QCOMPARE(cell(2, SubscriptionsModel::LatencyP99, RawValueRole).toDouble(), -1.0);
    const QString candleTip = cell(2, SubscriptionsModel::LatencyP99, Qt::ToolTipRole).toString();
    QVERIFY2(candleTip.contains(u"carry no event time"_s) && candleTip.contains(u"bar"_s),
             qPrintable(candleTip));
    // Integrity.
    QCOMPARE(cell(1, SubscriptionsModel::Integrity).toString(), u"3"_s);
    QCOMPARE(cell(1, SubscriptionsModel::Integrity, RawValueRole).toLongLong(), 3);
    QCOMPARE(cell(1, SubscriptionsModel::Integrity, SeverityRole).value<Severity>(), Severity::Warning);
    const QString itip = cell(1, SubscriptionsModel::Integrity, Qt::ToolTipRole).toString();
    QVERIFY2(itip.contains(u"Crossed or locked book: 2"_s) && itip.contains(u"Same trade twice: 1"_s),
             qPrintable(itip));
    QCOMPARE(cell(0, SubscriptionsModel::Integrity).toString(), u"0"_s);
    QVERIFY(!cell(0, SubscriptionsModel::Integrity, SeverityRole).isValid());
    QVERIFY(
        !m.headerData(SubscriptionsModel::LatencyP50, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
    QCOMPARE(m.headerData(SubscriptionsModel::LatencyP99, Qt::Horizontal, Qt::DisplayRole).toString(),
             u"Latency p99"_s);
}

void tst_Models::latencyModelPerType()
{
    LatencyModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto type = [](const QString &name, double p50, qint64 samples) {
        TypeLatency t;
        t.type = name;
        t.figures.p50Ms = p50;
        t.figures.p99Ms = p50 * 2;
        t.figures.samples10s = samples;
        return t;
    };
    PoolSnapshot s;
    s.latencyByType = {type(u"trades"_s, 5, 10)};
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 1);
    s.latencyByType = {type(u"bbo"_s, 1, 3), type(u"l2Book"_s, 2, 4), type(u"trades"_s, 600, 10)};
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    m.applySnapshot(s);
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.index(0, LatencyModel::Type).data().toString(), u"bbo"_s);
    QCOMPARE(m.index(2, LatencyModel::Type).data().toString(), u"trades"_s);
    QCOMPARE(m.index(2, LatencyModel::P50).data().toString(), u"600 ms"_s);
    QCOMPARE(m.index(2, LatencyModel::P99).data().toString(), u"1.20 s"_s);
    QCOMPARE(m.index(2, LatencyModel::P99).data(SeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(m.index(1, LatencyModel::Samples10s).data(RawValueRole).toLongLong(), 4);
    QCOMPARE(m.index(1, LatencyModel::Max).data().toString(), u"—"_s);
    // A type gone (not expected from the pool) is removed, the others stay.
    s.latencyByType = {type(u"bbo"_s, 1, 3), type(u"trades"_s, 6, 10)};
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(m.index(1, LatencyModel::Type).data().toString(), u"trades"_s);
    s.latencyByType.clear();
    m.applySnapshot(s);
    QCOMPARE(m.rowCount(), 0);
}

void tst_Models::reconnectCausesInWords()
{
    ReconnectsModel m(10);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    PoolSnapshot s;
    s.reconnects = {reconnect(0), reconnect(1)};
    s.reconnects[0].cause = Cause::PongTimeout;
    s.reconnects[0].detail = u"no pong within 10000 ms"_s;
    s.reconnects[0].durationMs = 300;
    s.reconnects[0].restored = 10;
    s.reconnects[1].cause = Cause::Stale;
    m.applySnapshot(s);
    QCOMPARE(m.index(0, ReconnectsModel::Cause).data().toString(), u"no pong"_s);
    QCOMPARE(m.index(0, ReconnectsModel::Cause).data(RawValueRole).toString(), u"pongTimeout"_s);
    QVERIFY(m.index(0, ReconnectsModel::Cause).data(Qt::ToolTipRole).toString().contains(u"pongTimeout"_s));
    QCOMPARE(m.index(0, ReconnectsModel::Detail).data(Qt::ToolTipRole).toString(),
             u"no pong within 10000 ms"_s);
    QCOMPARE(m.index(1, ReconnectsModel::Cause).data().toString(), u"no data (half-open)"_s);
    QCOMPARE(m.index(1, 0).data(RowSeverityRole).value<Severity>(), Severity::Warning); // restoring
    QCOMPARE(m.index(0, 0).data(RowSeverityRole).value<Severity>(), Severity::Good);
    for (int c = 0; c < m.columnCount(); ++c)
        QVERIFY(!m.headerData(c, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
}

void tst_Models::sessionEventsBatchedAndEvicted()
{
    SessionEventsModel m(100);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    qint64 seq = 0;
    auto event = [&seq](const QString &type, const QJsonObject &d) {
        return SessionEvent{++seq, QDateTime::currentDateTimeUtc(), type, d};
    };
    // A burst of 60 events is one insertion at the next tick, not 60.
    for (int i = 0; i < 60; ++i)
        m.enqueue(event(u"subscription"_s, {{u"subscription"_s, u"x"_s}, {u"state"_s, u"active"_s}}));
    QCOMPARE(m.rowCount(), 0);
    m.flush();
    QCOMPARE(m.rowCount(), 60);
    QCOMPARE(inserted.size(), 1);
    // Past the capacity: one eviction of the oldest, one insertion; the ring keeps the newest.
    for (int i = 0; i < 70; ++i)
        m.enqueue(event(u"connection"_s, {{u"connection"_s, 2},
                                          {u"from"_s, u"open"_s},
                                          {u"to"_s, u"backoff"_s},
                                          {u"cause"_s, u"pongTimeout"_s}}));
    m.flush();
    QCOMPARE(m.rowCount(), 100);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(m.eventAt(0)->seq, 31);
    QCOMPARE(m.eventAt(99)->seq, 130);
    QCOMPARE(m.index(99, SessionEventsModel::Summary).data().toString(),
             u"Connection #2: open → waiting to retry (no answer to a ping)"_s);
    QCOMPARE(m.index(99, SessionEventsModel::Type).data(SeverityRole).value<Severity>(), Severity::Warning);
    // A flood of more than the ring in one tick keeps only the newest.
    for (int i = 0; i < 250; ++i)
        m.enqueue(event(u"warning"_s, {{u"text"_s, u"w%1"_s.arg(i)}}));
    m.flush();
    QCOMPARE(m.rowCount(), 100);
    QCOMPARE(m.index(99, SessionEventsModel::Summary).data().toString(), u"w249"_s);
    // Overflow episodes and reconnects read as sentences.
    m.enqueue(event(u"overflow"_s, {{u"consumer"_s, u"inspector"_s},
                                    {u"policy"_s, u"drop-newest"_s},
                                    {u"phase"_s, u"end"_s},
                                    {u"durationMs"_s, 2500},
                                    {u"dropped"_s, 1234},
                                    {u"syncFallbacks"_s, 0},
                                    {u"peakDepth"_s, 100}}));
    m.enqueue(event(u"reconnect"_s, {{u"connection"_s, 3},
                                     {u"manual"_s, true},
                                     {u"cause"_s, u"manual"_s},
                                     {u"outageMs"_s, 42},
                                     {u"dataGapMs"_s, 50},
                                     {u"restored"_s, 7},
                                     {u"total"_s, 7}}));
    m.flush();
    QCOMPARE(
        m.index(98, SessionEventsModel::Summary).data().toString(),
        u"inspector queue (drops the newest) overflow over after 2.5 s: 1234 dropped, 0 delivered synchronously, peak 100 queued"_s);
    QCOMPARE(m.index(98, SessionEventsModel::Type).data(SeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(
        m.index(99, SessionEventsModel::Summary).data().toString(),
        u"Connection #3 reconnected (you asked); data lost for 50 ms; outage 42 ms; 7 of 7 subscriptions restored"_s);
    // Reset (an imported session).
    m.reset({event(u"manual"_s, {{u"action"_s, u"reconnectAll"_s}})});
    QCOMPARE(m.rowCount(), 1);
    QCOMPARE(m.index(0, SessionEventsModel::Summary).data().toString(), u"You: reconnect all"_s);
}

void tst_Models::sessionEventsBoundStatsSnapshots()
{
    SessionEventsModel m(20, 4);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    qint64 seq = 0;
    auto enqueue = [&](const QString &type) {
        m.enqueue(SessionEvent{++seq, QDateTime::currentDateTimeUtc(), type, {{u"text"_s, type}}});
    };
    auto types = [&m] {
        QStringList t;
        for (int row = 0; row < m.rowCount(); ++row)
            t.append(m.eventAt(row)->type.left(1) + QString::number(m.eventAt(row)->seq));
        return t;
    };
    // Ticks with a snapshot each and now and then an event: the events stay, the snapshots are
    // the newest four (removed where they sit, between the events).
    for (int tick = 0; tick < 12; ++tick) {
        enqueue(u"stats"_s);
        if (tick % 4 == 1)
            enqueue(u"warning"_s);
        m.flush();
    }
    QCOMPARE(types(), (QStringList{u"w3"_s, u"w8"_s, u"s11"_s, u"s12"_s, u"w13"_s, u"s14"_s, u"s15"_s}));
    // More snapshots in one tick than their bound: only the newest become rows.
    for (int i = 0; i < 10; ++i)
        enqueue(u"stats"_s);
    enqueue(u"connection"_s);
    m.flush();
    QCOMPARE(types(),
             (QStringList{u"w3"_s, u"w8"_s, u"w13"_s, u"s22"_s, u"s23"_s, u"s24"_s, u"s25"_s, u"c26"_s}));
    // The whole bound still applies to everything.
    for (int i = 0; i < 30; ++i)
        enqueue(u"warning"_s);
    m.flush();
    QCOMPARE(m.rowCount(), 20);
    QCOMPARE(m.eventAt(0)->seq, 37);
    // An imported session of many snapshots keeps its events and its last snapshots.
    QList<SessionEvent> imported;
    for (int i = 1; i <= 100; ++i)
        imported.append(
            SessionEvent{i, QDateTime::currentDateTimeUtc(), i % 25 == 0 ? u"reconnect"_s : u"stats"_s, {}});
    m.reset(imported);
    QCOMPARE(types(),
             (QStringList{u"r25"_s, u"r50"_s, u"r75"_s, u"s96"_s, u"s97"_s, u"s98"_s, u"s99"_s, u"r100"_s}));
}

void tst_Models::dispatcherModelRates()
{
    DispatcherModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsumerStats inl;
    inl.name = u"statistics"_s;
    inl.inlineConsumer = true;
    ConsumerStats w;
    w.name = u"inspector"_s;
    w.policy = DispatchPolicy::DropOldest;
    w.capacity = 100;
    m.applyStats({inl}, 0);
    QCOMPARE(m.rowCount(), 1);
    m.applyStats({inl, w}, 0);
    QCOMPARE(m.rowCount(), 2);
    w.received = 5000;
    w.delivered = 3900;
    w.dropped = 1000;
    w.queued = 100;
    w.highWater = 100;
    w.lagP99Us = 12500;
    m.applyStats({inl, w}, 200); // too soon for a rate: gauges move, rates wait
    QCOMPARE(m.index(1, DispatcherModel::Queue).data().toString(), u"100 / 100"_s);
    QCOMPARE(m.index(1, DispatcherModel::Queue).data(SeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(m.index(1, DispatcherModel::DropsPerSec).data(RawValueRole).toDouble(), 0.0);
    m.applyStats({inl, w}, 2000);
    QCOMPARE(m.index(1, DispatcherModel::DropsPerSec).data(RawValueRole).toDouble(), 500.0);
    QCOMPARE(m.index(1, DispatcherModel::ReceivedPerSec).data(RawValueRole).toDouble(), 2500.0);
    QCOMPARE(m.index(1, DispatcherModel::DropsPerSec).data(SeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(m.index(1, DispatcherModel::LagP99).data().toString(), u"12.5 ms"_s);
    QCOMPARE(m.index(1, DispatcherModel::Policy).data().toString(), u"drop-oldest"_s);
    QCOMPARE(m.index(0, DispatcherModel::Queue).data().toString(), QString());
    m.applyStats({}, 3000); // a new engine: reset
    QCOMPARE(m.rowCount(), 0);
}

void tst_Models::timeSeriesWindow()
{
    TimeSeriesSet t(std::chrono::seconds(10));
    for (int i = 0; i <= 30; ++i)
        t.add(u"conn/1/msgs"_s, 1000LL * i, i);
    const QList<QPointF> p = t.points(u"conn/1/msgs"_s);
    QCOMPARE(p.size(), 11); // 20..30 s: a fixed window, whatever ran before
    QCOMPARE(p.constFirst(), QPointF(20000, 20));
    QCOMPARE(p.constLast(), QPointF(30000, 30));
    t.add(u"conn/2/msgs"_s, 30000, 1);
    QCOMPARE(t.names(u"conn/"_s), (QStringList{u"conn/1/msgs"_s, u"conn/2/msgs"_s}));
    t.prune(45000); // a series that stopped (a closed connection) disappears once out of the window
    QVERIFY(t.names().isEmpty());
    QCOMPARE(t.pointCount(), 0);
}

void tst_Models::inspectorBounds()
{
    MessageInspector::Limits limits;
    limits.perSubscription = 5;
    limits.bytesPerSubscription = 100;
    limits.bytesTotal = 150;
    MessageInspector in(limits);
    for (int i = 0; i < 8; ++i)
        in.record(DataFrame{1, "a", QByteArray::number(i).leftJustified(10, ' '), 0, false});
    QList<MessageInspector::Message> a = in.messages("a");
    QCOMPARE(a.size(), 5); // the last N
    QCOMPARE(a.constFirst().raw.trimmed(), "3");
    QCOMPARE(a.constLast().raw.trimmed(), "7");
    in.record(DataFrame{2, "b", QByteArray(60, 'x'), 0, false});
    in.record(DataFrame{2, "b", QByteArray(60, 'y'), 0, false}); // 120 bytes > 100 for one subscription
    QCOMPARE(in.messages("b").size(), 1);
    QCOMPARE(in.messages("b").constFirst().raw.at(0), 'y');
    QCOMPARE(in.messages("b").constFirst().connection, 2);
    QVERIFY(in.bytes() <= 150);                                   // the total bound
    in.record(DataFrame{2, "c", QByteArray(500, 'z'), 0, false}); // one huge message is still kept
    QCOMPARE(in.messages("c").size(), 1);
    in.remove("c");
    QVERIFY(in.messages("c").isEmpty());
    QVERIFY(in.evicted() >= 4);

    // The age bound: older than maxAge goes, but never the newest keepLatest.
    MessageInspector::Limits aged;
    aged.maxAge = std::chrono::seconds(300);
    aged.keepLatest = 3;
    MessageInspector timed(aged);
    // The clock is set, not read: on a machine booted a minute ago the monotonic clock reads
    // ~60 s, and 10.5 minutes before it is negative. An hour on from the real clock is a time
    // this test can go back from on any machine.
    const qint64 now = monotonicNs() + qint64(3600) * 1000000000;
    auto at = [now](int secondsAgo) { return now - qint64(secondsAgo) * 1000000000; };
    for (int i = 0; i < 10; ++i) // ten quiet messages, 10.5 to 1.5 minutes ago...
        timed.record(DataFrame{1, "quiet", QByteArray::number(i), at(630 - i * 60), false}, now);
    QCOMPARE(timed.messages("quiet").size(), 4); // ...of which those of the last 5 minutes
    QCOMPARE(timed.messages("quiet").constFirst().raw, "6");
    // Nothing new for 20 minutes: a prune keeps its last three.
    timed.prune(now + qint64(1200) * 1000000000);
    QCOMPARE(timed.messages("quiet").size(), 3);
    QCOMPARE(timed.messages("quiet").constFirst().raw, "7");
    // The wall time of each is its receipt, not its recording.
    QVERIFY(qAbs(timed.messages("quiet").constLast().at.msecsTo(QDateTime::currentDateTimeUtc()) - 90000) <
            5000);
    // No age bound: nothing ages out.
    aged.maxAge = std::chrono::seconds(0);
    MessageInspector forever(aged);
    for (int i = 0; i < 10; ++i)
        forever.record(DataFrame{1, "quiet", QByteArray::number(i), at(630 - i * 60), false}, now);
    forever.prune(now + qint64(1200) * 1000000000);
    QCOMPARE(forever.messages("quiet").size(), 10);
}

QTEST_GUILESS_MAIN(tst_Models)
#include "tst_models.moc"

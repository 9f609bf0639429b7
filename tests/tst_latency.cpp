// Data latency (issue 17, item 1): the fixed-bucket windows, the clock's state, the pool's figures
// from a local server sending frames with known event times, and the Latency tab in the window.
#include "connectionpool.h"
#include "latencyview.h"
#include "latencywindow.h"
#include "mainwindow.h"
#include "metrics.h"
#include "poolcontroller.h"
#include "report.h"
#include "sessionlog.h"
#include "simulator.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPointer>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

// Counts allocations of this thread while armed: the histogram's hot path must make none.
namespace {
thread_local bool g_countAllocations = false;
thread_local qint64 g_allocations = 0;
} // namespace

void *operator new(std::size_t n)
{
    if (g_countAllocations)
        ++g_allocations;
    if (void *p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void operator delete(void *p) noexcept
{
    std::free(p);
}
void operator delete(void *p, std::size_t) noexcept
{
    std::free(p);
}
// Every other form too, so that no allocation is paired across allocators (Qt uses the nothrow
// forms; AddressSanitizer reports a malloc'd block freed by its own delete, and the reverse).
void *operator new(std::size_t n, const std::nothrow_t &) noexcept
{
    if (g_countAllocations)
        ++g_allocations;
    return std::malloc(n ? n : 1);
}
void *operator new[](std::size_t n)
{
    return operator new(n);
}
void *operator new[](std::size_t n, const std::nothrow_t &t) noexcept
{
    return operator new(n, t);
}
void operator delete(void *p, const std::nothrow_t &) noexcept
{
    std::free(p);
}
void operator delete[](void *p) noexcept
{
    std::free(p);
}
void operator delete[](void *p, std::size_t) noexcept
{
    std::free(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept
{
    std::free(p);
}

namespace {

/// A local server that acks every subscribe and then streams @p frame() every 20 ms to it.
class FrameServer : public QObject
{
public:
    explicit FrameServer(std::function<QString()> frame) : m_frame(std::move(frame))
    {
        m_server.listen(QHostAddress::LocalHost, 0);
        m_stream.setInterval(20);
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            QWebSocket *peer = m_server.nextPendingConnection();
            peer->setParent(&m_peers);
            m_peer = peer;
            connect(peer, &QWebSocket::textMessageReceived, peer, [this, peer](const QString &text) {
                const QJsonObject req = QJsonDocument::fromJson(text.toUtf8()).object();
                const QString method = req.value(u"method"_s).toString();
                if (method == u"ping"_s) {
                    peer->sendTextMessage(uR"({"channel":"pong"})"_s);
                    return;
                }
                if (method != u"subscribe"_s)
                    return;
                const QJsonObject ack{
                    {u"channel"_s, u"subscriptionResponse"_s},
                    {u"data"_s, QJsonObject{{u"method"_s, u"subscribe"_s},
                                            {u"subscription"_s, req.value(u"subscription"_s)}}}};
                peer->sendTextMessage(QString::fromUtf8(QJsonDocument(ack).toJson(QJsonDocument::Compact)));
                m_stream.start();
            });
        });
        connect(&m_stream, &QTimer::timeout, this, [this] {
            if (m_peer)
                m_peer->sendTextMessage(m_frame());
        });
    }
    QUrl url() const { return QUrl(u"ws://127.0.0.1:%1/"_s.arg(m_server.serverPort())); }

private:
    std::function<QString()> m_frame;
    QWebSocketServer m_server{u"latency"_s, QWebSocketServer::NonSecureMode};
    QObject m_peers;
    QPointer<QWebSocket> m_peer;
    QTimer m_stream;
};

const SubscriptionStatus *findSub(const PoolSnapshot &s, const QByteArray &type)
{
    for (const SubscriptionStatus &st : s.subscriptions)
        if (st.subscription.type().toUtf8() == type)
            return &st;
    return nullptr;
}

const TypeLatency *findType(const PoolSnapshot &s, const QString &type)
{
    for (const TypeLatency &t : s.latencyByType)
        if (t.type == type)
            return &t;
    return nullptr;
}

} // namespace

class tst_Latency : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void bucketBounds();
    void percentilesExactOnKnownInputs();
    void windowsRoll();
    void negativeCountedApart();
    void noAllocationPerSample();
    void clockWords();
    void poolMeasuresKnownDelay();
    void futureEventTimeIsNegativeNotACrash();
    void metricsReportAndSessionLog();
    void latencyTabShowsTheTypes();
    void simulatorDelayShowsAsLatency();
};

void tst_Latency::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
}

void tst_Latency::bucketBounds()
{
    QCOMPARE(latencyBucket(0), 0);
    QCOMPARE(latencyBucket(100), 0); // 0.1 ms: the first bound is inclusive
    QCOMPARE(latencyBucket(101), 1);
    QCOMPARE(latencyBucket(250000), 34); // 250 ms
    QCOMPARE(LatencyBoundsUs[34], 250000);
    QCOMPARE(latencyBucket(60000000), LatencyBucketCount - 2); // 60 s
    QCOMPARE(latencyBucket(60000001), LatencyBucketCount - 1); // above every bound
    for (size_t i = 1; i < LatencyBoundsUs.size(); ++i)
        QVERIFY(LatencyBoundsUs[i] > LatencyBoundsUs[i - 1]);
}

void tst_Latency::percentilesExactOnKnownInputs()
{
    LatencyWindow w;
    for (int i = 0; i < 100; ++i)
        w.add(1000, 250000); // 250 ms
    LatencyFigures f = w.figures(1000);
    QCOMPARE(f.samples10s, 100);
    QCOMPARE(f.p50Ms, 250.0);
    QCOMPARE(f.p99Ms, 250.0);
    QCOMPARE(f.maxMs, 250.0);
    QCOMPARE(f.samples5m, 100);
    QCOMPARE(f.p50Ms5m, 250.0);

    // Values on bucket bounds: 50 × 10 ms, 49 × 100 ms, one of 1 s.
    LatencyWindow m;
    for (int i = 0; i < 50; ++i)
        m.add(7, 10000);
    for (int i = 0; i < 49; ++i)
        m.add(7, 100000);
    m.add(7, 1000000);
    f = m.figures(7);
    QCOMPARE(f.samples10s, 100);
    QCOMPARE(f.p50Ms, 10.0);
    QCOMPARE(f.p99Ms, 100.0);
    QCOMPARE(f.maxMs, 1000.0);
    QCOMPARE(f.p99Ms5m, 100.0);
    QCOMPARE(f.maxMs5m, 1000.0);

    // Between bounds: within the bucket (1.25 × apart), never outside the samples.
    LatencyWindow u;
    for (int ms = 1; ms <= 100; ++ms)
        u.add(3, ms * 1000);
    f = u.figures(3);
    QVERIFY2(f.p50Ms >= 40 && f.p50Ms <= 63, qPrintable(QString::number(f.p50Ms)));
    QVERIFY2(f.p99Ms >= 80 && f.p99Ms <= 100, qPrintable(QString::number(f.p99Ms)));
    QCOMPARE(f.maxMs, 100.0);

    // Nothing: -1 everywhere.
    f = LatencyWindow().figures(5);
    QCOMPARE(f.samples10s, 0);
    QCOMPARE(f.p50Ms, -1.0);
    QCOMPARE(f.maxMs5m, -1.0);
}

void tst_Latency::windowsRoll()
{
    LatencyWindow w;
    w.add(100, 5000); // 5 ms at second 100 (ten-second slot 10)
    QCOMPARE(w.figures(100).samples10s, 1);
    QCOMPARE(w.figures(109).samples10s, 1);
    QCOMPARE(w.figures(110).samples10s, 0); // out of the 10 s window
    QCOMPARE(w.figures(110).p50Ms, -1.0);
    QCOMPARE(w.figures(110).samples5m, 1); // still in the 5 min one
    QCOMPARE(w.figures(399).samples5m, 1);
    QCOMPARE(w.figures(400).samples5m, 0); // thirty 10 s slots later, gone
    // A slot reused by a later second starts over (second 110 takes second 100's slot).
    w.add(110, 20000);
    LatencyFigures f = w.figures(110);
    QCOMPARE(f.samples10s, 1);
    QCOMPARE(f.maxMs, 20.0);
    QCOMPARE(f.samples5m, 2);
    QCOMPARE(f.maxMs5m, 20.0);
    // Much later, the old samples are gone everywhere.
    w.add(10000, 1000);
    f = w.figures(10000);
    QCOMPARE(f.samples10s, 1);
    QCOMPARE(f.samples5m, 1);
    QCOMPARE(f.maxMs5m, 1.0);
}

void tst_Latency::negativeCountedApart()
{
    LatencyWindow w;
    w.add(50, -3000); // event time 3 ms ahead of the receipt
    LatencyFigures f = w.figures(50);
    QCOMPARE(f.samples10s, 0);
    QCOMPARE(f.negative10s, 1);
    QCOMPARE(f.negative5m, 1);
    QCOMPARE(f.p50Ms, -1.0);
    w.add(50, 2000);
    f = w.figures(50);
    QCOMPARE(f.samples10s, 1);
    QCOMPARE(f.p50Ms, 2.0);
    QCOMPARE(f.negative10s, 1);
    LatencyTotals t;
    t.add(-1);
    t.add(1500000);
    QCOMPARE(t.negative, 1);
    QCOMPARE(t.samples, 1);
    QCOMPARE(t.counts[static_cast<size_t>(latencyBucket(1500000))], 1);
    QCOMPARE(t.sumSeconds, 1.5);
}

void tst_Latency::noAllocationPerSample()
{
    auto w = std::make_unique<LatencyWindow>();
    LatencyTotals totals;
    g_allocations = 0;
    g_countAllocations = true;
    for (qint64 i = 0; i < 200000; ++i) {
        w->add(i / 1000, (i * 7919) % 70000000 - 1000);
        totals.add((i * 7919) % 70000000);
    }
    const LatencyFigures f = w->figures(199);
    g_countAllocations = false;
    QCOMPARE(g_allocations, 0);
    QVERIFY(f.samples10s > 0);
    QVERIFY(f.negative10s >= 0);
}

void tst_Latency::clockWords()
{
    QCOMPARE(ClockSync::fromTimex(TIME_OK, 0, 2500, 100).text(), u"clock ± 2.5 ms"_s);
    QCOMPARE(ClockSync::fromTimex(TIME_OK, 0, 35000, 100).errorText(), u"± 35 ms"_s);
    QCOMPARE(ClockSync::fromTimex(TIME_OK, 0, 16000000, 100).errorText(), u"± 16 s"_s);
    QCOMPARE(ClockSync::fromTimex(TIME_ERROR, 0, 16000000, 100).text(), u"clock not synchronised"_s);
    QCOMPARE(ClockSync::fromTimex(TIME_OK, STA_UNSYNC, 100, 100).text(), u"clock not synchronised"_s);
    QCOMPARE(ClockSync::fromTimex(-1, 0, 0, 0).text(), u"clock state unknown"_s);
    const ClockSync now = ClockSync::read(); // whatever this machine's state, a sentence
    QVERIFY(!now.text().isEmpty());
    if (now.known && now.synchronised)
        QVERIFY(now.maxErrorUs >= 0);
}

void tst_Latency::poolMeasuresKnownDelay()
{
    // Frames whose event time is 250 ms before they are sent: p50 ≈ 250 ms. The machine may be
    // busy (queues, scheduling add to it), never take from it.
    FrameServer server([] {
        const qint64 t = QDateTime::currentMSecsSinceEpoch() - 250;
        return uR"({"channel":"l2Book","data":{"coin":"BTC","time":%1,"levels":[[{"px":"1","sz":"1","n":1}],[{"px":"2","sz":"1","n":1}]]}})"_s
            .arg(t);
    });
    PoolConfig cfg;
    cfg.url = server.url();
    PoolHost host(cfg);
    host.subscribe(sub(R"({"type":"l2Book","coin":"BTC"})"));
    QVERIFY(waitUntil([&] {
        const PoolSnapshot now = host.snapshot(); // findSub points into it
        const SubscriptionStatus *s = findSub(now, "l2Book");
        return s && s->latency.samples10s >= 10;
    }));
    const PoolSnapshot snap = host.snapshot();
    const LatencyFigures f = findSub(snap, "l2Book")->latency;
    QVERIFY2(f.p50Ms >= 240 && f.p50Ms < 5000, qPrintable(QString::number(f.p50Ms)));
    QVERIFY(f.p99Ms >= f.p50Ms);
    QVERIFY(f.maxMs >= f.p99Ms);
    QVERIFY(f.samples5m >= f.samples10s);
    QCOMPARE(f.negative10s, 0);
    const TypeLatency *t = findType(snap, u"l2Book"_s);
    QVERIFY(t);
    QVERIFY(t->figures.p50Ms >= 240 && t->figures.p50Ms < 5000);
    QVERIFY(t->samples >= 10);
    QCOMPARE(t->bucketCounts.size(), LatencyBucketCount);
    qint64 inBuckets = 0;
    for (qint64 n : t->bucketCounts)
        inBuckets += n;
    QCOMPARE(inBuckets, t->samples);
    QVERIFY(t->sumSeconds >= 0.24 * static_cast<double>(t->samples));
    // The clock's state travels with it.
    QCOMPARE(snap.clock.known, ClockSync::read().known);
    host.shutdown(1s);
}

void tst_Latency::futureEventTimeIsNegativeNotACrash()
{
    // The venue's clock ahead of ours by 5 s (or ours behind): counted as negative, never a
    // percentile, never a crash. bbo's first frame after a subscribe is a replay: skipped.
    int n = 0;
    FrameServer server([&n] {
        // Every third frame stamped absurdly far ahead (the largest int64): no overflow either.
        const qint64 t =
            ++n % 3 == 0 ? std::numeric_limits<qint64>::max() : QDateTime::currentMSecsSinceEpoch() + 5000;
        return uR"({"channel":"bbo","data":{"coin":"ETH","time":%1,"bbo":[{"px":"1","sz":"1","n":1},null]}})"_s
            .arg(t);
    });
    PoolConfig cfg;
    cfg.url = server.url();
    PoolHost host(cfg);
    host.subscribe(sub(R"({"type":"bbo","coin":"ETH"})"));
    QVERIFY(waitUntil([&] {
        const PoolSnapshot now = host.snapshot(); // findSub points into it
        const SubscriptionStatus *s = findSub(now, "bbo");
        return s && s->latency.negative10s >= 5;
    }));
    const PoolSnapshot snap = host.snapshot();
    const SubscriptionStatus *s = findSub(snap, "bbo");
    QCOMPARE(s->latency.samples10s, 0);
    QCOMPARE(s->latency.p50Ms, -1.0);
    QVERIFY(s->latency.negative5m >= s->latency.negative10s);
    QVERIFY(s->messages > s->latency.negative5m); // the replayed first frame gave no sample
    const TypeLatency *t = findType(snap, u"bbo"_s);
    QVERIFY(t && t->negative >= 5);
    QCOMPARE(t->samples, 0);
    host.shutdown(1s);
}

void tst_Latency::metricsReportAndSessionLog()
{
    // A snapshot as the pool makes it: one l2Book subscription with samples, a candle without.
    PoolSnapshot snap;
    snap.at = QDateTime::currentDateTimeUtc();
    snap.clock = ClockSync::fromTimex(TIME_OK, 0, 2500, 800);
    LatencyWindow w;
    LatencyTotals totals;
    for (qint64 us : {300, 2000, 250000, 250000, 70000000, -4000}) {
        w.add(10, us);
        totals.add(us);
    }
    SubscriptionStatus book;
    book.subscription = sub(R"({"type":"l2Book","coin":"BTC"})");
    book.state = SubState::Active;
    book.latency = w.figures(10);
    SubscriptionStatus candle;
    candle.subscription = sub(R"({"type":"candle","coin":"BTC","interval":"1m"})");
    snap.subscriptions = {book, candle};
    TypeLatency t;
    t.type = u"l2Book"_s;
    t.figures = book.latency;
    t.bucketCounts = QList<qint64>(totals.counts.cbegin(), totals.counts.cend());
    t.samples = totals.samples;
    t.negative = totals.negative;
    t.sumSeconds = totals.sumSeconds;
    snap.latencyByType = {t};

    // Metrics: a cumulative histogram per type, the ahead counter, the clock gauges.
    MetricsInput in;
    in.snapshot = snap;
    const QString text = QString::fromUtf8(renderMetrics(in));
    QVERIFY(text.contains(u"# TYPE feedscope_data_latency_seconds histogram"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_bucket{type="l2Book",le="0.0005"} 1)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_bucket{type="l2Book",le="0.0025"} 2)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_bucket{type="l2Book",le="0.25"} 4)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_bucket{type="l2Book",le="60"} 4)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_bucket{type="l2Book",le="+Inf"} 5)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_seconds_count{type="l2Book"} 5)"_s));
    QVERIFY(text.contains(uR"(feedscope_data_latency_ahead_total{type="l2Book"} 1)"_s));
    QVERIFY(text.contains(u"\nfeedscope_clock_synchronised 1\n"_s));
    QVERIFY(text.contains(u"\nfeedscope_clock_max_error_seconds 0.0025\n"_s));

    // Report: a latency object per subscription (null figures without samples), by type, the clock.
    const QJsonObject report = buildReport(snap, DispatcherFigures{}, ReportMeta{});
    const QJsonObject subLatency =
        report.value(u"subscriptions"_s).toArray().at(0).toObject().value(u"latency"_s).toObject();
    QCOMPARE(subLatency.value(u"samples10s"_s).toInt(), 5);
    const double p50 = book.latency.p50Ms; // within the 250 ms sample's bucket (200, 250]
    QVERIFY2(p50 > 200 && p50 <= 250, qPrintable(QString::number(p50)));
    QCOMPARE(subLatency.value(u"p50Ms"_s).toDouble(), p50);
    QCOMPARE(subLatency.value(u"maxMs"_s).toDouble(), 70000.0);
    QCOMPARE(subLatency.value(u"aheadOfClock5m"_s).toInt(), 1);
    const QJsonObject candleLatency =
        report.value(u"subscriptions"_s).toArray().at(1).toObject().value(u"latency"_s).toObject();
    QVERIFY(candleLatency.value(u"p50Ms"_s).isNull());
    QCOMPARE(candleLatency.value(u"samples10s"_s).toInt(), 0);
    const QJsonObject byType = report.value(u"latency"_s).toObject().value(u"l2Book"_s).toObject();
    QCOMPARE(byType.value(u"p50Ms"_s).toDouble(), p50);
    QCOMPARE(byType.value(u"samplesTotal"_s).toInt(), 5);
    QCOMPARE(byType.value(u"aheadOfClockTotal"_s).toInt(), 1);
    const QJsonObject clock = report.value(u"clock"_s).toObject();
    QCOMPARE(clock.value(u"synchronised"_s).toBool(), true);
    QCOMPARE(clock.value(u"maxErrorMs"_s).toDouble(), 2.5);
    QCOMPARE(clock.value(u"text"_s).toString(), u"clock ± 2.5 ms"_s);

    // Session log: latency per type in the statistics snapshot.
    SessionLog log;
    log.statisticsSnapshot(snap);
    QCOMPARE(log.statsRing().size(), size_t(1));
    const QJsonObject stats = log.statsRing().back().data;
    const QJsonObject l = stats.value(u"latency"_s).toObject().value(u"l2Book"_s).toObject();
    QCOMPARE(l.value(u"p50Ms"_s).toDouble(), p50);
    QCOMPARE(l.value(u"samples10s"_s).toInt(), 5);
    QCOMPARE(l.value(u"aheadOfClock10s"_s).toInt(), 1);
    QCOMPARE(stats.value(u"clock"_s).toString(), u"clock ± 2.5 ms"_s);
}

void tst_Latency::latencyTabShowsTheTypes()
{
    // The real window over the real simulator: its bbo and trades frames carry the time they were
    // made, so the Latency tab gets a row (and a chart) per type, and the clock's state in words.
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    auto window = std::make_unique<MainWindow>(&controller);
    window->show();
    controller.subscribe({sub(R"({"type":"bbo","coin":"BTC"})"), sub(R"({"type":"l2Book","coin":"ETH"})"),
                          sub(R"({"type":"candle","coin":"BTC","interval":"1m"})")});
    auto *view = window->findChild<LatencyView *>();
    QVERIFY(view);
    QAbstractItemModelTester tester(view->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto rowOf = [view](const QString &type) {
        for (int r = 0; r < view->model()->rowCount(); ++r)
            if (view->model()->index(r, 0).data().toString() == type)
                return r;
        return -1;
    };
    QVERIFY(waitUntil([&] { return rowOf(u"bbo"_s) >= 0 && rowOf(u"l2Book"_s) >= 0; }, 20000));
    QCOMPARE(rowOf(u"candle"_s), -1); // bar times are no event times
    const int row = rowOf(u"l2Book"_s);
    QVERIFY(!view->model()->index(row, LatencyModel::P50).data().toString().isEmpty());
    QVERIFY(view->model()->index(row, LatencyModel::Samples10s).data(RawValueRole).toLongLong() > 0);
    QVERIFY(waitUntil([&] { return view->chartCount() >= 2; }));
    const QString clock = view->clockLabel()->text();
    QVERIFY2(clock.contains(u"synchronised"_s) || clock.contains(u"±"_s) || clock.contains(u"unknown"_s),
             qPrintable(clock));
    window.reset();
    controller.shutdown(1s);
}

void tst_Latency::simulatorDelayShowsAsLatency()
{
    // End to end (issue 17's tests): the simulator's delay fault stamps every frame 400 ms before
    // sending it, so the engine's latency for those subscriptions is at least 400 ms; its clock
    // offset fault then puts event times 3 s ahead of ours, which count as ahead of the clock,
    // never as latency. The machine may add to the delay, never take from it.
    Sim::SimulatorConfig sc;
    sc.delay = 400ms;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    controller.subscribe({sub(R"({"type":"bbo","coin":"BTC"})"), sub(R"({"type":"trades","coin":"ETH"})")});
    auto figures = [&](const char *type) {
        const SubscriptionStatus *s = findSub(controller.engine().lastSnapshot(), type);
        return s ? s->latency : LatencyFigures{};
    };
    QVERIFY(waitUntil([&] { return figures("bbo").samples10s >= 5 && figures("trades").samples10s >= 3; },
                      20000));
    for (const char *type : {"bbo", "trades"}) {
        const LatencyFigures f = figures(type);
        QVERIFY2(f.p50Ms >= 390 && f.p50Ms < 10000,
                 qPrintable(u"%1 p50 %2"_s.arg(QLatin1StringView(type)).arg(f.p50Ms)));
        QCOMPARE(f.negative10s, 0);
    }
    // Now the venue's clock runs 3 s ahead: the delay no longer shows, the frames are ahead.
    Sim::Fault ahead = Sim::Fault::make(Sim::FaultKind::Offset);
    ahead.offsetMs = 3000;
    QVERIFY(sim.apply(ahead));
    QVERIFY(waitUntil([&] { return figures("bbo").negative10s >= 5; }, 20000));
    controller.shutdown(1s);
}

QTEST_MAIN(tst_Latency)
#include "tst_latency.moc"

// The charts' model side: nice ticks, log scales, one point per reconnect, and dispatcher figures
// that keep a flood which fills and empties a queue between two samples; the session events' words.
#include "budget.h"
#include "chartdata.h"
#include "dispatcher.h"
#include "eventwords.h"
#include "livemodels.h"

#include <QAbstractItemModelTester>
#include <QTest>

#include <atomic>
#include <cmath>
#include <thread>

using namespace FeedScope;
using namespace Qt::StringLiterals;

class tst_LiveModels : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void niceTicks_data();
    void niceTicks();
    void niceTicksAreAlways125();
    void logScaleDecades_data();
    void logScaleDecades();
    void reconnectPointsShowDataLost();
    void simultaneousReconnectsStayApart();
    void reconnectInProgressGrows();
    void floodBetweenTwoSamplesStillShows();
    void quietIntervalIsZero();
    void sessionEventsKeepRawNamesInTooltips();
};

void tst_LiveModels::niceTicks_data()
{
    QTest::addColumn<double>("maxValue");
    QTest::addColumn<int>("intervals");
    QTest::addColumn<double>("top");
    QTest::addColumn<double>("step");
    QTest::addColumn<int>("decimals");
    QTest::addRow("the issue's 31680, 6 steps") << 31680.0 << 6 << 40000.0 << 10000.0 << 0;
    QTest::addRow("31680, 8 steps") << 31680.0 << 8 << 35000.0 << 5000.0 << 0;
    QTest::addRow("23760") << 23760.0 << 6 << 25000.0 << 5000.0 << 0;
    QTest::addRow("100 exactly") << 100.0 << 6 << 100.0 << 20.0 << 0;
    QTest::addRow("7") << 7.0 << 6 << 8.0 << 2.0 << 0;
    QTest::addRow("1") << 1.0 << 6 << 1.0 << 0.2 << 1;
    QTest::addRow("0.37 ms") << 0.37 << 6 << 0.4 << 0.1 << 1;
    QTest::addRow("0.037") << 0.037 << 6 << 0.04 << 0.01 << 2;
    QTest::addRow("nothing yet") << 0.0 << 6 << 1.0 << 0.2 << 1;
    QTest::addRow("negative") << -5.0 << 6 << 1.0 << 0.2 << 1;
}

void tst_LiveModels::niceTicks()
{
    QFETCH(double, maxValue);
    QFETCH(int, intervals);
    QFETCH(double, top);
    QFETCH(double, step);
    QFETCH(int, decimals);
    const NiceScale s = niceScale(maxValue, intervals);
    QCOMPARE(s.max, top);
    QCOMPARE(s.step, step);
    QCOMPARE(s.decimals, decimals);
    QVERIFY(s.tickCount() - 1 <= std::max(2, intervals));
    QVERIFY(s.max >= maxValue);
}

void tst_LiveModels::niceTicksAreAlways125()
{
    // Every step is 1, 2 or 5 × 10^n, every top a whole number of steps at or above the data.
    for (double v = 0.0013; v < 5e7; v *= 1.37) {
        const NiceScale s = niceScale(v, 6);
        const double mantissa = s.step / std::pow(10.0, std::floor(std::log10(s.step) + 1e-9));
        QVERIFY2(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
                     std::abs(mantissa - 5) < 1e-6,
                 qPrintable(u"%1 → step %2"_s.arg(v).arg(s.step)));
        QVERIFY(s.max >= v - 1e-9);
        QVERIFY(s.max - s.step < v); // no empty step on top
        QVERIFY(std::abs(s.max / s.step - std::round(s.max / s.step)) < 1e-6);
        QVERIFY(s.tickCount() <= 7);
    }
}

void tst_LiveModels::logScaleDecades_data()
{
    QTest::addColumn<double>("minPositive");
    QTest::addColumn<double>("maxValue");
    QTest::addColumn<double>("low");
    QTest::addColumn<double>("high");
    QTest::addRow("a spike over small lines") << 0.5 << 31680.0 << 0.1 << 100000.0;
    QTest::addRow("one value") << 5.0 << 5.0 << 1.0 << 10.0;
    QTest::addRow("a power of ten") << 100.0 << 1000.0 << 100.0 << 1000.0;
    QTest::addRow("tiny values capped at six decades") << 1e-9 << 1000.0 << 1e-3 << 1000.0;
    QTest::addRow("no positive minimum") << 0.0 << 50.0 << 10.0 << 100.0;
    QTest::addRow("nothing yet") << 0.0 << 0.0 << 0.1 << 10.0;
}

void tst_LiveModels::logScaleDecades()
{
    QFETCH(double, minPositive);
    QFETCH(double, maxValue);
    QFETCH(double, low);
    QFETCH(double, high);
    const LogScale s = logScale(minPositive, maxValue);
    QCOMPARE(s.min, low);
    QCOMPARE(s.max, high);
}

namespace {
ReconnectRecord record(int connection, const QDateTime &started, qint64 outageMs, qint64 gapMs,
                       bool manual = false)
{
    ReconnectRecord r;
    r.connection = connection;
    r.cause = manual ? Cause::Manual : Cause::Stale;
    r.manual = manual;
    r.startedAt = started;
    r.durationMs = outageMs;
    r.dataGapMs = gapMs;
    r.lastFrameAt = started.addMSecs(-(gapMs - outageMs));
    r.restored = r.total = 3;
    return r;
}
} // namespace

void tst_LiveModels::reconnectPointsShowDataLost()
{
    // A stale connection: 2 ms of outage, but 24 s without data. The chart shows the 24 s.
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(1790000000000, Qt::UTC);
    const QList<ReconnectRecord> records{record(1, now.addSecs(-100), 2, 24000),
                                         record(2, now.addSecs(-50), 1, 39000),
                                         record(3, now.addSecs(-400), 2, 30000)}; // before the window
    const QList<ReconnectPoint> points = reconnectPoints(records, now.toMSecsSinceEpoch(), 300000, 0);
    QCOMPARE(points.size(), 2);
    QCOMPARE(points[0].connection, 1);
    QCOMPARE(points[0].gapSeconds, 24.0);
    QCOMPARE(points[0].outageMs, 2.0);
    QCOMPARE(points[0].xMs, static_cast<double>(now.addSecs(-100).toMSecsSinceEpoch()));
    QCOMPARE(points[1].gapSeconds, 39.0);
    QCOMPARE(points[1].cause, u"stale"_s);
    QVERIFY(!points[1].inProgress);
    // An older record without a data gap falls back to its outage.
    ReconnectRecord old = record(4, now.addSecs(-10), 1500, -1);
    QCOMPARE(reconnectPoints({old}, now.toMSecsSinceEpoch(), 300000, 0).constFirst().gapSeconds, 1.5);
}

void tst_LiveModels::simultaneousReconnectsStayApart()
{
    // Kill all: three reconnects at the same millisecond with the same gap are three points.
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(1790000000000, Qt::UTC);
    const QDateTime t = now.addSecs(-60);
    const QList<ReconnectRecord> records{record(3, t, 2, 1000), record(1, t, 2, 1000),
                                         record(2, t.addMSecs(5), 2, 1000)};
    const double spacing = 3000;
    const QList<ReconnectPoint> points = reconnectPoints(records, now.toMSecsSinceEpoch(), 300000, spacing);
    QCOMPARE(points.size(), 3);
    QCOMPARE(points[0].connection, 1); // in connection order
    QCOMPARE(points[1].connection, 3);
    QCOMPARE(points[2].connection, 2);
    for (int i = 1; i < 3; ++i)
        QVERIFY(points[i].xMs - points[i - 1].xMs >= spacing - 1e-6);
    const double mean = (points[0].xMs + points[1].xMs + points[2].xMs) / 3;
    const double trueMean = static_cast<double>(t.toMSecsSinceEpoch()) + 5.0 / 3;
    QVERIFY(std::abs(mean - trueMean) < 1e-6); // centred on when they happened
    QCOMPARE(points[1].startedMs, static_cast<double>(t.toMSecsSinceEpoch())); // the true time kept
    // Right at "now" they move left, never off the chart.
    const QList<ReconnectRecord> late{record(1, now, 2, 1000), record(2, now, 2, 1000)};
    const QList<ReconnectPoint> edge = reconnectPoints(late, now.toMSecsSinceEpoch(), 300000, spacing);
    QCOMPARE(edge.size(), 2);
    QVERIFY(edge[1].xMs <= static_cast<double>(now.toMSecsSinceEpoch()));
    QVERIFY(edge[1].xMs - edge[0].xMs >= spacing - 1e-6);
    // A chain of near ones (0.6 s apart, 1 s of spacing): still every pair a spacing apart.
    QList<ReconnectRecord> chain;
    for (int i = 0; i < 5; ++i)
        chain.append(record(i + 1, t.addMSecs(600 * i), 2, 1000));
    const QList<ReconnectPoint> spread = reconnectPoints(chain, now.toMSecsSinceEpoch(), 300000, 1000);
    for (int i = 1; i < spread.size(); ++i)
        QVERIFY(spread[i].xMs - spread[i - 1].xMs >= 1000 - 1e-6);
    QCOMPARE((spread.constFirst().xMs + spread.constLast().xMs) / 2,
             static_cast<double>(t.addMSecs(1200).toMSecsSinceEpoch())); // centred on the chain
    // Apart in time: untouched.
    const QList<ReconnectPoint> apart = reconnectPoints(
        {record(1, t, 2, 1000), record(2, t.addSecs(30), 2, 1000)}, now.toMSecsSinceEpoch(), 300000, spacing);
    QCOMPARE(apart[0].xMs, static_cast<double>(t.toMSecsSinceEpoch()));
    QCOMPARE(apart[1].xMs, static_cast<double>(t.addSecs(30).toMSecsSinceEpoch()));
}

void tst_LiveModels::reconnectInProgressGrows()
{
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(1790000000000, Qt::UTC);
    ReconnectRecord r;
    r.connection = 2;
    r.cause = Cause::SocketError;
    r.startedAt = now.addSecs(-3);
    r.lastFrameAt = now.addSecs(-5);
    r.durationMs = -1; // still down
    const auto at = [&r](const QDateTime &when) {
        return reconnectPoints({r}, when.toMSecsSinceEpoch(), 300000, 0).constFirst();
    };
    const ReconnectPoint first = at(now);
    QVERIFY(first.inProgress);
    QCOMPARE(first.gapSeconds, 5.0);
    QCOMPARE(first.outageMs, -1.0);
    QCOMPARE(at(now.addSecs(1)).gapSeconds, 6.0);
    QCOMPARE(at(now.addSecs(20)).gapSeconds, 25.0);
    r.lastFrameAt = QDateTime(); // no frame known: from the drop
    QCOMPARE(at(now).gapSeconds, 3.0);
}

namespace {
/// A worker consumer that holds its first frame until released: the queue fills at once.
struct Gate
{
    std::atomic<bool> open{false};
    Dispatcher::Callback callback()
    {
        return [this](const DataFrame &) {
            while (!open.load())
                std::this_thread::yield();
        };
    }
};
} // namespace

void tst_LiveModels::floodBetweenTwoSamplesStillShows()
{
    // The issue: 25 538 frames dropped (drop-oldest, capacity 2000), and Queue depth and Drops/s
    // stayed at zero, because the queue filled and emptied between two once-a-second samples.
    Gate gate;
    Dispatcher dispatcher(1);
    dispatcher.addWorker(u"inspector"_s, gate.callback(), DispatchPolicy::DropOldest, 2000);
    DispatcherSampler sampler;
    sampler.observe(dispatcher.stats());
    const QList<DispatcherSampler::Sample> before = sampler.take(dispatcher.stats(), 10000);
    QCOMPARE(before.size(), 1);
    QCOMPARE(before[0].peakQueue, 0.0);

    QList<DataFrame> batch;
    for (int i = 0; i < 27538; ++i) {
        batch.append(DataFrame{1, "k", QByteArray::number(i), monotonicNs(), false});
        if (batch.size() == 500) {
            dispatcher.dispatch(batch);
            batch.clear();
        }
    }
    dispatcher.dispatch(batch);
    gate.open = true;
    QVERIFY(dispatcher.drain(10000));
    const QList<ConsumerStats> after = dispatcher.stats();
    QCOMPARE(after[0].queued, 0); // what a sample of the value at the instant saw: nothing
    QVERIFY(after[0].dropped >= 25537);

    const QList<DispatcherSampler::Sample> s = sampler.take(after, 11000); // one second later
    QCOMPARE(s.size(), 1);
    QCOMPARE(s[0].name, u"inspector"_s);
    QCOMPARE(s[0].peakQueue, 2000.0); // it was full
    QCOMPARE(s[0].dropsPerSecond, static_cast<double>(after[0].dropped));
    // Over two seconds, the same drops make half the rate.
    DispatcherSampler slow;
    ConsumerStats a = after[0];
    slow.take({a}, 0);
    a.dropped += 1000;
    a.received += 1000;
    QCOMPARE(slow.take({a}, 2000).at(0).dropsPerSecond, 500.0);
}

void tst_LiveModels::quietIntervalIsZero()
{
    Dispatcher dispatcher(1);
    std::atomic<int> seen{0};
    dispatcher.addWorker(
        u"w"_s, [&seen](const DataFrame &) { ++seen; }, DispatchPolicy::DropOldest, 100);
    DispatcherSampler sampler;
    sampler.take(dispatcher.stats(), 0);
    dispatcher.dispatch({DataFrame{1, "k", "1", monotonicNs(), false}});
    QVERIFY(dispatcher.drain(5000));
    const auto s = sampler.take(dispatcher.stats(), 1000);
    QCOMPARE(s[0].dropsPerSecond, 0.0);
    QVERIFY(s[0].peakQueue <= 1.0); // one frame at most, never the capacity
    // A peak seen between samples is kept until the next sample, then forgotten.
    ConsumerStats deep = dispatcher.stats().at(0);
    deep.queued = 42;
    sampler.observe({deep});
    QCOMPARE(sampler.take(dispatcher.stats(), 2000).at(0).peakQueue, 42.0);
    QCOMPARE(sampler.take(dispatcher.stats(), 3000).at(0).peakQueue, 0.0);
}

void tst_LiveModels::sessionEventsKeepRawNamesInTooltips()
{
    SessionEventsModel model(100, 10);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.enqueue({1, QDateTime::currentDateTimeUtc(), u"connection"_s,
                   QJsonObject{{u"connection"_s, 1},
                               {u"from"_s, u"open"_s},
                               {u"to"_s, u"backoff"_s},
                               {u"cause"_s, u"socketError"_s},
                               {u"detail"_s, QString()}}});
    model.enqueue({2, QDateTime::currentDateTimeUtc(), u"serverError"_s,
                   QJsonObject{{u"connection"_s, 1}, {u"kind"_s, u"other"_s}, {u"text"_s, u"x"_s}}});
    model.flush();
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex summary = model.index(0, SessionEventsModel::Summary);
    QCOMPARE(summary.data().toString(), u"Connection #1: open → waiting to retry (network error)"_s);
    QVERIFY(summary.data(Qt::ToolTipRole).toString().contains(u"socketError"_s)); // for experts
    QVERIFY(summary.data(Qt::ToolTipRole).toString().contains(u"backoff"_s));
    const QModelIndex type = model.index(1, SessionEventsModel::Type);
    QCOMPARE(type.data(Qt::ToolTipRole).toString(), u"Server error (recorded as \"serverError\")"_s);
    QCOMPARE(Words::eventType(u"stats"_s), u"Statistics"_s);
    QCOMPARE(Words::cause(u"somethingNew"_s), u"somethingNew"_s); // unknown: as it is, never blank
}

QTEST_GUILESS_MAIN(tst_LiveModels)
#include "tst_livemodels.moc"

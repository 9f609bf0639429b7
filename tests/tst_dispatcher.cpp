// The dispatcher under a flood with a deliberately slow consumer, for each policy: the counter
// identity holds at every snapshot, and each policy keeps exactly what it promises.
#include "budget.h"
#include "dispatcher.h"

#include <QTest>

#include <mutex>
#include <numeric>
#include <thread>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

DataFrame frame(int seq, const QByteArray &key = "k")
{
    return DataFrame{1, key, QByteArray::number(seq), monotonicNs(), false};
}

/// Records what a consumer saw; slow on purpose when asked.
struct Sink
{
    std::mutex mutex;
    QList<DataFrame> seen;
    int delayUs = 0;
    Dispatcher::Callback callback()
    {
        return [this](const DataFrame &f) {
            if (delayUs > 0)
                std::this_thread::sleep_for(std::chrono::microseconds(delayUs)); // the slow consumer's work
            std::lock_guard lock(mutex);
            seen.append(f);
        };
    }
    QList<int> seqs()
    {
        std::lock_guard lock(mutex);
        QList<int> out;
        for (const DataFrame &f : seen)
            out.append(f.raw.toInt());
        return out;
    }
};

bool identityHolds(const ConsumerStats &s)
{
    return s.received == s.delivered + s.dropped + s.coalesced + s.queued;
}

} // namespace

class tst_Dispatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void policyNames();
    void inlineAndWorkerGetEverything();
    void keysFilter();
    void losslessFallsBackInOrder();
    void dropNewestKeepsTheFirst();
    void dropOldestKeepsTheLatest();
    void coalesceKeepsExactlyTheNewestPerKey();
    void overflowEpisodes();
    void lagHistogram();
};

void tst_Dispatcher::policyNames()
{
    for (auto p : {DispatchPolicy::Lossless, DispatchPolicy::DropOldest, DispatchPolicy::DropNewest,
                   DispatchPolicy::CoalesceLatest})
        QCOMPARE(dispatchPolicyFromName(QString(nameOf(p))), p);
    QVERIFY(!dispatchPolicyFromName(u"yolo"_s));
}

void tst_Dispatcher::inlineAndWorkerGetEverything()
{
    Sink counter, worker; // before the dispatcher: its workers may still call them until it is gone
    Dispatcher d(2);
    d.addInline(u"stats"_s, counter.callback());
    d.addWorker(u"worker"_s, worker.callback(), DispatchPolicy::Lossless, 1000);
    for (int batch = 0; batch < 50; ++batch) {
        QList<DataFrame> frames;
        for (int i = 0; i < 20; ++i)
            frames.append(frame(batch * 20 + i));
        d.dispatch(frames);
    }
    QVERIFY(d.drain(5000));
    QCOMPARE(counter.seqs().size(), 1000);
    QCOMPARE(worker.seqs().size(), 1000);
    for (const ConsumerStats &s : d.stats()) {
        QCOMPARE(s.received, 1000);
        QCOMPARE(s.delivered, 1000);
        QVERIFY(identityHolds(s));
        QVERIFY(s.lagP50Us >= 0 && s.lagP99Us >= s.lagP50Us);
    }
}

void tst_Dispatcher::keysFilter()
{
    Sink only, all;
    Dispatcher d(1);
    d.addWorker(u"only b"_s, only.callback(), DispatchPolicy::Lossless, 100, {QByteArray("b")});
    d.addInline(u"wildcard"_s, all.callback());
    d.dispatch({frame(1, "a"), frame(2, "b"), frame(3, "c"), frame(4, "b")});
    QVERIFY(d.drain(5000));
    QCOMPARE(only.seqs(), (QList<int>{2, 4}));
    QCOMPARE(all.seqs().size(), 4);
    QCOMPARE(d.stats().at(0).received, 2);
}

void tst_Dispatcher::losslessFallsBackInOrder()
{
    Sink slow;
    Dispatcher d(1);
    slow.delayUs = 50;
    d.addWorker(u"slow"_s, slow.callback(), DispatchPolicy::Lossless, 64);
    for (int i = 0; i < 3000; ++i) {
        d.dispatch({frame(i)});
        if (i % 100 == 0)
            QVERIFY(identityHolds(d.stats().constFirst())); // exact at every snapshot
    }
    QVERIFY(d.drain(20000));
    const ConsumerStats s = d.stats().constFirst();
    QCOMPARE(s.received, 3000);
    QCOMPARE(s.delivered, 3000);
    QCOMPARE(s.dropped, 0);
    QVERIFY(s.syncFallbacks > 0); // the producer did the slow consumer's work
    QVERIFY(s.highWater <= 65);
    QList<int> expected(3000);
    std::iota(expected.begin(), expected.end(), 0);
    QCOMPARE(slow.seqs(), expected); // nothing lost, nothing reordered
}

void tst_Dispatcher::dropNewestKeepsTheFirst()
{
    Sink slow;
    Dispatcher d(1);
    slow.delayUs = 200;
    d.addWorker(u"slow"_s, slow.callback(), DispatchPolicy::DropNewest, 50);
    for (int i = 0; i < 2000; ++i)
        d.dispatch({frame(i)});
    QVERIFY(identityHolds(d.stats().constFirst()));
    QVERIFY(d.drain(20000));
    const ConsumerStats s = d.stats().constFirst();
    QCOMPARE(s.received, 2000);
    QVERIFY(s.dropped > 0);
    QCOMPARE(s.delivered + s.dropped, 2000);
    QCOMPARE(s.syncFallbacks, 0);
    const QList<int> got = slow.seqs();
    QCOMPARE(got.size(), s.delivered);
    QVERIFY(std::is_sorted(got.cbegin(), got.cend()));
    QCOMPARE(got.constFirst(), 0);
    QVERIFY(got.constLast() < 1999); // the newest were the ones dropped
}

void tst_Dispatcher::dropOldestKeepsTheLatest()
{
    Sink slow;
    Dispatcher d(1);
    slow.delayUs = 200;
    d.addWorker(u"slow"_s, slow.callback(), DispatchPolicy::DropOldest, 50);
    for (int i = 0; i < 2000; ++i)
        d.dispatch({frame(i)});
    QVERIFY(d.drain(20000));
    const ConsumerStats s = d.stats().constFirst();
    QVERIFY(s.dropped > 0);
    QCOMPARE(s.delivered + s.dropped, 2000);
    const QList<int> got = slow.seqs();
    QVERIFY(std::is_sorted(got.cbegin(), got.cend()));
    QCOMPARE(got.constLast(), 1999); // the newest always arrives
    // The last 50 sent were all still queued when the flood ended, so all of them arrive.
    for (int i = 1950; i < 2000; ++i)
        QVERIFY(got.contains(i));
}

void tst_Dispatcher::coalesceKeepsExactlyTheNewestPerKey()
{
    Sink slow;
    Dispatcher d(1);
    slow.delayUs = 300;
    d.addWorker(u"books"_s, slow.callback(), DispatchPolicy::CoalesceLatest, 100);
    const QList<QByteArray> keys{"l2Book|BTC", "l2Book|ETH", "bbo|SOL", "allMids"};
    QHash<QByteArray, int> newest;
    for (int i = 0; i < 4000; ++i) {
        const QByteArray &k = keys[i % keys.size()];
        d.dispatch({frame(i, k)});
        newest[k] = i;
        if (i % 250 == 0)
            QVERIFY(identityHolds(d.stats().constFirst()));
    }
    QVERIFY(d.drain(20000));
    const ConsumerStats s = d.stats().constFirst();
    QVERIFY(s.coalesced > 0);
    QCOMPARE(s.dropped, 0); // fewer keys than room: coalescing alone bounds the queue
    QCOMPARE(s.delivered + s.coalesced, 4000);
    QVERIFY(s.highWater <= keys.size());
    // For every key, the last frame delivered is exactly the newest one sent.
    QHash<QByteArray, int> lastDelivered;
    {
        std::lock_guard lock(slow.mutex);
        for (const DataFrame &f : std::as_const(slow.seen))
            lastDelivered[f.key] = f.raw.toInt();
    }
    QCOMPARE(lastDelivered, newest);
}

void tst_Dispatcher::overflowEpisodes()
{
    Sink slow, fast;
    Dispatcher d(1);
    slow.delayUs = 200;
    d.addWorker(u"slow"_s, slow.callback(), DispatchPolicy::DropNewest, 20);
    d.addWorker(u"fast"_s, fast.callback(), DispatchPolicy::DropNewest, 100000);
    QVERIFY(d.pollEpisodes().isEmpty());
    for (int i = 0; i < 500; ++i)
        d.dispatch({frame(i)});
    // Started: reported once, for the consumer that overflowed only.
    QList<OverflowEpisode> e = d.pollEpisodes();
    QCOMPARE(e.size(), 1);
    QCOMPARE(e.constFirst().consumer, u"slow"_s);
    QVERIFY(!e.constFirst().ended);
    QVERIFY(e.constFirst().dropped > 0);
    QCOMPARE(e.constFirst().peakDepth, 20);
    const qint64 droppedAtStart = e.constFirst().dropped;
    // Still overflowing: nothing new to say until it is over.
    for (int i = 0; i < 200; ++i)
        d.dispatch({frame(i)});
    QVERIFY(d.pollEpisodes().isEmpty());
    QVERIFY(d.drain(20000));
    // No new drop since the last poll and room again: ended, with the whole episode's counts.
    e = d.pollEpisodes();
    QCOMPARE(e.size(), 1);
    QVERIFY(e.constFirst().ended);
    QVERIFY(e.constFirst().dropped > droppedAtStart);
    QCOMPARE(e.constFirst().dropped, d.stats().constFirst().dropped);
    QVERIFY(e.constFirst().endedAt >= e.constFirst().startedAt);
    QVERIFY(d.pollEpisodes().isEmpty());
    // A second flood is a second episode, counted from zero.
    for (int i = 0; i < 500; ++i)
        d.dispatch({frame(i)});
    e = d.pollEpisodes();
    QCOMPARE(e.size(), 1);
    QVERIFY(!e.constFirst().ended);
    QVERIFY(e.constFirst().dropped > 0 && e.constFirst().dropped <= 500);
}

void tst_Dispatcher::lagHistogram()
{
    Sink sink;
    Dispatcher d(1);
    d.addWorker(u"w"_s, sink.callback(), DispatchPolicy::Lossless, 1000);
    d.addInline(u"i"_s, [](const DataFrame &) {});
    const qint64 now = monotonicNs();
    // Frames received 30 ms ago land in the 50 ms bucket; fresh ones in the lowest buckets.
    for (int i = 0; i < 10; ++i)
        d.dispatch({DataFrame{1, "k", "x", now - 30'000'000, false}});
    for (int i = 0; i < 5; ++i)
        d.dispatch({frame(i)});
    QVERIFY(d.drain(5000));
    for (const ConsumerStats &s : d.stats()) {
        QCOMPARE(s.lagCount, 15);
        QCOMPARE(std::accumulate(s.lagBuckets.cbegin(), s.lagBuckets.cend(), qint64(0)), 15);
        // The old frames are above 25 ms whatever the machine does; the bucket bounds decide.
        const auto above25ms =
            static_cast<size_t>(std::find(LagBucketBoundsUs.cbegin(), LagBucketBoundsUs.cend(), 25000) -
                                LagBucketBoundsUs.cbegin() + 1);
        QVERIFY(std::accumulate(s.lagBuckets.cbegin() + static_cast<std::ptrdiff_t>(above25ms),
                                s.lagBuckets.cend(), qint64(0)) >= 10);
        QVERIFY(s.lagSumUs >= 10 * 30000.0);
    }
}

QTEST_GUILESS_MAIN(tst_Dispatcher)
#include "tst_dispatcher.moc"

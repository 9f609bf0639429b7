// Integrity checks (issue 17): the checker on hand-made frames (each violation, the documented
// non-violations, hostile input, bounded memory, rate-limited events), then through the real
// engine against the real simulator: each simulator fault counted exactly once on the right
// subscription and kind, and a clean run of every type counting nothing.
#include "engine.h"
#include "eventwords.h"
#include "integrity.h"
#include "metrics.h"
#include "simfeed.h"
#include "simulator.h"
#include "testutil.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTest>

#include <ctime>
#include <tuple>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

const QByteArray bboBtc = sub(R"({"type":"bbo","coin":"BTC"})").canonical();
const QByteArray bookEth = sub(R"({"type":"l2Book","coin":"ETH"})").canonical();
const QByteArray tradesBtc = sub(R"({"type":"trades","coin":"BTC"})").canonical();
const QByteArray candleBtc1m = sub(R"({"type":"candle","coin":"BTC","interval":"1m"})").canonical();
const QByteArray alice = "0x5e9ee1089755c3435139848e47e6635505d5a13a";
const QByteArray fillsAlice = sub(R"({"type":"userFills","user":")" + alice + "\"}").canonical();

/// Frames with a receive time the test controls (monotonic ns, from 1 s on).
struct Feeder
{
    IntegrityChecker &checker;
    qint64 ns = 1000000000;
    void operator()(const QByteArray &key, const QByteArray &frame, bool snapshot = false)
    {
        ns += 1000000; // 1 ms apart
        checker.check(DataFrame{1, key, frame, ns, snapshot});
    }
};

QByteArray bbo(const char *bid, const char *ask, qint64 time = 1000, const char *coin = "BTC")
{
    auto side = [](const char *px) {
        return px ? R"({"px":")" + QByteArray(px) + R"(","sz":"1.0","n":1})" : QByteArray("null");
    };
    return R"({"channel":"bbo","data":{"coin":")" + QByteArray(coin) + R"(","time":)" +
           QByteArray::number(time) + R"(,"bbo":[)" + side(bid) + "," + side(ask) + "]}}";
}

QByteArray book(const QByteArray &bids, const QByteArray &asks, qint64 time = 1000)
{
    return R"({"channel":"l2Book","data":{"coin":"ETH","time":)" + QByteArray::number(time) +
           R"(,"levels":[[)" + bids + "],[" + asks + "]]}}";
}

QByteArray level(const char *px)
{
    return R"({"px":")" + QByteArray(px) + R"(","sz":"2.5","n":3})";
}

QByteArray trade(qint64 tid, qint64 time, const char *coin = "BTC")
{
    return R"({"coin":")" + QByteArray(coin) + R"(","side":"A","px":"97000.0","sz":"0.1","time":)" +
           QByteArray::number(time) + R"(,"hash":"0xab","tid":)" + QByteArray::number(tid) +
           R"(,"users":["0xa","0xb"]})";
}

QByteArray trades(const QList<QByteArray> &ts)
{
    return R"({"channel":"trades","data":[)" + ts.join(',') + "]}";
}

bool zero(const IntegrityCounts &c)
{
    return c.total() == 0;
}

QByteArray httpGet(const QUrl &url)
{
    QNetworkAccessManager nam;
    QNetworkReply *r = nam.get(QNetworkRequest(url));
    if (!waitUntil([r] { return r->isFinished(); }, 10000))
        return {};
    const QByteArray body = r->readAll();
    r->deleteLater();
    return body;
}

/// The value of the sample line of @p series (name and labels exactly), or -1.
double sample(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n'))
        if (line.startsWith(QByteArray(series + ' ')))
            return line.mid(series.size() + 1).toDouble();
    return -1;
}

} // namespace

class tst_Integrity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void crossedAndLockedBooks();
    void timeGoingBackwards();
    void snapshotsAndRestartsStartAfresh();
    void duplicateTrades();
    void contradictingFrames();
    void hostileFramesCountNothing();
    void memoryIsBounded();
    void eventsAreRateLimited();
    void costPerFrame();
    void eventWords();

    void engineCountsEachFaultOnce();
    void cleanFeedOfEveryTypeCountsNothing();

private:
    static QList<SessionEvent> eventsOf(Engine &e, const QString &type)
    {
        QList<SessionEvent> out;
        for (const SessionEvent &ev : e.sessionLog().events())
            if (ev.type == type)
                out.append(ev);
        return out;
    }
};

void tst_Integrity::crossedAndLockedBooks()
{
    IntegrityChecker c;
    Feeder feed{c};
    feed(bboBtc, bbo("97000.0", "97000.5", 1));
    feed(bboBtc, bbo("97001.0", "97000.5", 2)); // crossed
    feed(bboBtc, bbo("97000.5", "97000.5", 3)); // locked
    feed(bboBtc, bbo(nullptr, "97000.5", 4));   // a null side: documented, no order there
    feed(bboBtc, bbo("97000.0", nullptr, 5));
    QCOMPARE(c.counts(bboBtc).crossedBook, 2);
    feed(bookEth, book(level("3650.1") + "," + level("3650.0"), level("3650.2"), 1));
    feed(bookEth, book(level("3650.3"), level("3650.2"), 2)); // crossed
    feed(bookEth, book("", level("3650.2"), 3));              // no bids
    feed(bookEth, book(level("3650.1"), "", 4));              // no asks
    feed(bookEth, book("", "", 5));                           // empty
    feed(bookEth, book(level("3650.1"), level("3650.2"), 6));
    QCOMPARE(c.counts(bookEth).crossedBook, 4);
    QCOMPARE(c.counts(bookEth).total(), 4);
    QCOMPARE(c.totals().crossedBook, 6);
    const QList<IntegrityEvent> events = c.takeEvents(0);
    QCOMPARE(events.size(), 2); // the first of each subscription; the others within 10 s
    QCOMPARE(events[0].subscription, bboBtc);
    QCOMPARE(events[0].kind, IntegrityKind::CrossedBook);
    QCOMPARE(events[0].detail, u"best bid 97001.0 is above best ask 97000.5"_s);
    QCOMPARE(events[0].frame, bbo("97001.0", "97000.5", 2));
    QCOMPARE(events[1].detail, u"best bid 3650.3 is above best ask 3650.2"_s);
}

void tst_Integrity::timeGoingBackwards()
{
    IntegrityChecker c;
    Feeder feed{c};
    feed(bboBtc, bbo("1", "2", 5000));
    feed(bboBtc, bbo("1", "2", 5000)); // the same block again: not backwards
    feed(bboBtc, bbo("1", "2", 4999)); // backwards
    feed(bboBtc, bbo("1", "2", 5001));
    feed(bboBtc, bbo("1", "2", 5000)); // against the newest seen
    QCOMPARE(c.counts(bboBtc).timeBackwards, 2);
    feed(tradesBtc, trades({trade(1, 100), trade(2, 100)}));
    feed(tradesBtc, trades({trade(3, 90)})); // a new trade before the previous ones
    feed(tradesBtc, trades({trade(4, 110)}));
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 1);
    QCOMPARE(c.counts(tradesBtc).total(), 1);
    const QList<IntegrityEvent> events = c.takeEvents(0);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].detail, u"event time 4999 is 1 ms before the previous frame's"_s);
}

void tst_Integrity::snapshotsAndRestartsStartAfresh()
{
    IntegrityChecker c;
    Feeder feed{c};
    feed(bookEth, book(level("1"), level("2"), 5000));
    // An isSnapshot frame is not compared with the live ones.
    feed(bookEth, book(level("1"), level("2"), 100), true);
    QCOMPARE(c.counts(bookEth).timeBackwards, 0);
    // After an acknowledgement (a restore), the first frame starts afresh: here the server's
    // recent trades, older than what came before the reconnect.
    feed(tradesBtc, trades({trade(10, 5000)}));
    c.acknowledged(tradesBtc);
    const DataFrame restored{1, tradesBtc, trades({trade(7, 4000), trade(8, 4100)}), feed.ns + 1000000,
                             false};
    c.markRestarts({restored});
    c.check(restored);
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 0);
    // ... but only the first: the next frame must not go back again.
    feed.ns = restored.receivedNs;
    feed(tradesBtc, trades({trade(11, 3000)}));
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 1);
    // A trade already seen, resent after the reconnect, IS a duplicate (issue 17: "e.g. across a
    // reconnect"), marked as coming right after the (re)subscription.
    c.acknowledged(tradesBtc);
    const DataFrame again{1, tradesBtc, trades({trade(10, 5000), trade(12, 6000)}), feed.ns + 1000000, false};
    c.markRestarts({again});
    c.check(again);
    QCOMPARE(c.counts(tradesBtc).duplicateTrade, 1);
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 1);
    bool sawRestore = false;
    for (const IntegrityEvent &e : c.takeEvents(0))
        if (e.kind == IntegrityKind::DuplicateTrade) {
            QVERIFY(e.afterRestore);
            QVERIFY(e.detail.contains(u"trade 10 came again"_s));
            sawRestore = true;
        }
    QVERIFY(sawRestore);
    // An acknowledgement of another subscription changes nothing here.
    c.acknowledged(bboBtc);
    feed(tradesBtc, trades({trade(13, 1000)}));
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 2);
}

void tst_Integrity::duplicateTrades()
{
    IntegrityChecker c;
    Feeder feed{c};
    feed(tradesBtc, trades({trade(1, 100), trade(2, 100)}));
    feed(tradesBtc, trades({trade(2, 100), trade(1, 100)})); // two again: one frame, one count
    QCOMPARE(c.counts(tradesBtc).duplicateTrade, 1);
    // The same tid at another time is another trade (PROTOCOL.md: unique = time, coin, tid).
    feed(tradesBtc, trades({trade(1, 200)}));
    QCOMPARE(c.counts(tradesBtc).duplicateTrade, 1);
    QCOMPARE(c.counts(tradesBtc).timeBackwards, 0); // a resent trade is a duplicate, not backwards
    // Another coin's subscription keeps its own memory.
    const QByteArray tradesEth = sub(R"({"type":"trades","coin":"ETH"})").canonical();
    feed(tradesEth, trades({trade(1, 100, "ETH")}));
    QCOMPARE(c.counts(tradesEth).total(), 0);
}

void tst_Integrity::contradictingFrames()
{
    IntegrityChecker c;
    Feeder feed{c};
    feed(tradesBtc, trades({trade(1, 100), trade(2, 100, "ETH")}));
    QCOMPARE(c.counts(tradesBtc).contradicts, 1);
    QCOMPARE(c.counts(tradesBtc).duplicateTrade, 0);
    feed(bboBtc, bbo("1", "2", 10, "SOL"));
    QCOMPARE(c.counts(bboBtc).contradicts, 1);
    feed(
        candleBtc1m,
        R"({"channel":"candle","data":{"t":1,"T":2,"s":"BTC","i":"5m","o":"1","c":"1","h":"1","l":"1","v":"1","n":1}})");
    feed(
        candleBtc1m,
        R"({"channel":"candle","data":{"t":1,"T":2,"s":"BTC","i":"1m","o":"1","c":"1","h":"1","l":"1","v":"1","n":1}})");
    QCOMPARE(c.counts(candleBtc1m).contradicts, 1);
    feed(fillsAlice, R"({"channel":"userFills","data":{"user":")" + alice.toUpper().replace("0X", "0x") +
                         R"(","fills":[]}})"); // the same address in other case: fine
    feed(
        fillsAlice,
        R"({"channel":"userFills","data":{"user":"0x0d1d9635d0640821d15e323ac8adadfa9c111414","fills":[]}})");
    QCOMPARE(c.counts(fillsAlice).contradicts, 1);
    const QList<IntegrityEvent> events = c.takeEvents(0);
    QCOMPARE(events.size(), 4);
    QCOMPARE(events[0].detail, u"a trade's coin is \"ETH\", the subscription's is \"BTC\""_s);
    QCOMPARE(events[2].detail, u"the candle's interval is \"5m\", the subscription's is \"1m\""_s);
}

void tst_Integrity::hostileFramesCountNothing()
{
    IntegrityChecker c;
    Feeder feed{c};
    const QList<QByteArray> hostile{
        "",
        "garbage {",
        "[1,2,3]",
        R"({"channel":"bbo"})",
        R"({"channel":"bbo","data":null})",
        R"({"channel":"bbo","data":{"coin":7,"time":"soon","bbo":"x"}})",
        R"({"channel":"bbo","data":{"coin":"BTC","time":1e308,"bbo":[{"px":"abc"},{"px":"1"}]}})",
        R"({"channel":"bbo","data":{"coin":"BTC","time":-5,"bbo":[{"px":"1e999"},{"px":"1"}]}})",
        R"({"channel":"bbo","data":{"coin":"BTC","time":0.5,"bbo":[{"px":5},{"px":[1]}]}})",
        R"({"channel":"bbo","data":{"coin":"BTC","bbo":[1,2,3]}})",
        R"({"channel":"bbo","data":{"coin":"BTC","bbo":[{"px":"nan"},{"px":"-1"}]}})",
    };
    for (const QByteArray &f : hostile)
        feed(bboBtc, f);
    for (
        const QByteArray &f : QList<QByteArray>{
            R"({"channel":"l2Book","data":{"coin":"ETH","levels":"none"}})",
            R"({"channel":"l2Book","data":{"coin":"ETH","levels":[[],[],[]]}})",
            R"({"channel":"l2Book","data":{"coin":"ETH","levels":[{"a":1},[]]}})",
            R"({"channel":"l2Book","data":{"coin":"ETH","levels":[[7],[null]]}})",
            R"({"channel":"l2Book","data":{"coin":"ETH","time":99999999999999999999999,"levels":[[{"px":"1"}],[{"px":"2"}]]}})",
        })
        feed(bookEth, f);
    for (const QByteArray &f : QList<QByteArray>{
             R"({"channel":"trades","data":{"coin":"BTC"}})",
             R"({"channel":"trades","data":[]})",
             R"({"channel":"trades","data":[null,1,"x",[]]})",
             R"({"channel":"trades","data":[{"coin":5,"tid":"1","time":"2"}]})",
             R"({"channel":"trades","data":[{"coin":"BTC","tid":1e300,"time":1e300}]})",
             R"({"channel":"trades","data":[{"coin":"BTC","tid":1e300,"time":1e300}]})",
             R"({"channel":"trades","data":[{"coin":"BTC","tid":-1,"time":-1}]})",
             R"({"channel":"trades","data":[{"coin":"BTC","tid":-1,"time":-1}]})",
             R"({"channel":"trades","data":[{"coin":null,"tid":1.5,"time":100}]})",
             R"({"channel":"trades","data":[{"coin":null,"tid":1.5,"time":100}]})",
             QByteArray(200000, '['),
         })
        feed(tradesBtc, f);
    feed("not a subscription key", bbo("2", "1"));
    feed(candleBtc1m, R"({"channel":"candle","data":{"s":1,"i":null}})");
    feed(fillsAlice, R"({"channel":"userFills","data":{"user":["x"]}})");
    QVERIFY(zero(c.counts(bboBtc)));
    QVERIFY(zero(c.counts(bookEth)));
    QVERIFY(zero(c.counts(tradesBtc)));
    QVERIFY(zero(c.counts(candleBtc1m)));
    QVERIFY(zero(c.counts(fillsAlice)));
    QVERIFY(zero(c.totals()));
    QVERIFY(c.takeEvents(0).isEmpty());
}

void tst_Integrity::memoryIsBounded()
{
    IntegrityChecker::Limits limits;
    limits.tids = 100;
    limits.frameBytes = 64;
    IntegrityChecker c(limits);
    Feeder feed{c};
    for (int i = 0; i < 5000; ++i)
        feed(tradesBtc, trades({trade(i, 1000 + i)}));
    QCOMPARE(c.rememberedTrades(tradesBtc), 100);
    feed(tradesBtc, trades({trade(4950, 1000 + 4950)})); // still remembered
    QCOMPARE(c.counts(tradesBtc).duplicateTrade, 1);
    // An offending frame is kept truncated, with its real size.
    QByteArray big = bbo("2", "1");
    big.insert(big.size() - 2, QByteArray(R"(,"pad":")") + QByteArray(10000, 'x') + '"');
    feed(bboBtc, big);
    QCOMPARE(c.counts(bboBtc).crossedBook, 1);
    const QList<IntegrityEvent> events = c.takeEvents(0);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[1].frame.size(), 64);
    QCOMPARE(events[1].frameBytes, big.size());
    c.remove(bboBtc);
    QCOMPARE(c.tracked(), 1);
    QCOMPARE(c.totals().crossedBook, 1); // totals keep what removed subscriptions had
}

void tst_Integrity::eventsAreRateLimited()
{
    IntegrityChecker c;
    Feeder feed{c};
    const qint64 startMs = feed.ns / 1000000;
    for (int i = 0; i < 5; ++i)
        feed(bboBtc, bbo("3", "2", 10 + i));
    feed(bboBtc, bbo("1", "2", 1)); // another kind: its own first event
    QList<IntegrityEvent> events = c.takeEvents(startMs + 100);
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].kind, IntegrityKind::CrossedBook);
    QCOMPARE(events[0].count, 1);
    QCOMPARE(events[0].suppressed, 0);
    QCOMPARE(events[1].kind, IntegrityKind::TimeBackwards);
    QVERIFY(c.takeEvents(startMs + 5000).isEmpty()); // 4 more, within 10 s: no event yet
    // 10 s after the first: one summary with the count of the others and the last frame.
    events = c.takeEvents(startMs + 10001);
    QCOMPARE(events.size(), 1);
    QVERIFY(events[0].summary);
    QCOMPARE(events[0].suppressed, 4);
    QCOMPARE(events[0].count, 5);
    QCOMPARE(events[0].frame, bbo("3", "2", 14));
    QVERIFY(c.takeEvents(startMs + 30000).isEmpty());
    // At shutdown every pending summary comes out, due or not.
    feed.ns = (startMs + 30000) * 1000000;
    feed(bboBtc, bbo("3", "2", 20));
    feed(bboBtc, bbo("3", "2", 21));
    events = c.takeEvents(startMs + 30000);
    QCOMPARE(events.size(), 1); // the first after the interval
    QVERIFY(c.takeEvents(startMs + 30001).isEmpty());
    events = c.takeEvents(startMs + 30001, true);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].suppressed, 1);
    QCOMPARE(events[0].count, 7);
    // A new one after the interval gets its own event at once.
    feed.ns = (startMs + 50000) * 1000000;
    feed(bboBtc, bbo("3", "2", 100));
    events = c.takeEvents(startMs + 50001);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].suppressed, 0);
    QCOMPARE(events[0].count, 8);
    QCOMPARE(c.counts(bboBtc).crossedBook, 8);
}

void tst_Integrity::costPerFrame()
{
    // The cost of the checks on the worker, per frame of the common kinds (printed, not asserted).
    IntegrityChecker c;
    const QByteArray allMids = sub(R"({"type":"allMids"})").canonical();
    Sim::SyntheticFeed bookFeed(sub(bookEth), 1), bboFeed(sub(bboBtc), 1), tradesFeed(sub(tradesBtc), 1),
        midsFeed(sub(allMids), 1);
    for (auto [name, key, feed] :
         {std::tuple{"l2Book", bookEth, &bookFeed}, std::tuple{"bbo", bboBtc, &bboFeed},
          std::tuple{"trades", tradesBtc, &tradesFeed},
          std::tuple{"allMids (no checks)", allMids, &midsFeed}}) {
        QList<QByteArray> frames;
        for (int i = 0; i < 2000; ++i)
            frames.append(feed->next(1700000000000 + i));
        // Thread CPU time: what the worker spends, not what a busy machine's scheduler adds.
        auto cpuNs = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return static_cast<qint64>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
        };
        QElapsedTimer t;
        t.start();
        const qint64 cpu0 = cpuNs();
        qint64 ns = 1;
        for (const QByteArray &f : std::as_const(frames))
            c.check(DataFrame{1, key, f, ++ns, false});
        qInfo("%s: %.1f µs CPU per frame (%.1f µs wall; %lld bytes)", name,
              static_cast<double>(cpuNs() - cpu0) / 2000 / 1000,
              static_cast<double>(t.nsecsElapsed()) / 2000 / 1000,
              static_cast<long long>(frames.constFirst().size()));
        QVERIFY(zero(c.counts(key))); // the simulator's clean frames
    }
}

void tst_Integrity::eventWords()
{
    QCOMPARE(Words::eventType(u"integrity"_s), u"Data integrity"_s);
    QCOMPARE(Words::integrityKind(u"duplicateTrade"_s), u"the same trade twice"_s);
    QCOMPARE(Words::integrityKind(u"somethingNew"_s), u"somethingNew"_s);
    const QJsonObject first{{u"kind"_s, u"crossedBook"_s},
                            {u"subscription"_s, u"{\"coin\":\"BTC\",\"type\":\"bbo\"}"_s},
                            {u"connection"_s, 2},
                            {u"detail"_s, u"best bid 2 is above best ask 1"_s},
                            {u"count"_s, 3},
                            {u"suppressed"_s, 2}};
    QCOMPARE(
        Words::integritySummary(first),
        u"crossed or one-sided book on {\"coin\":\"BTC\",\"type\":\"bbo\"} (connection #2): best bid 2 is "
        u"above best ask 1; 3 of this kind in all; 2 since the last report"_s);
    QJsonObject summary = first;
    summary.insert(u"summary"_s, true);
    summary.insert(u"count"_s, 1e300); // an imported file may hold anything
    QCOMPARE(
        Words::integritySummary(summary),
        u"crossed or one-sided book on {\"coin\":\"BTC\",\"type\":\"bbo\"}: 2 more since the last report "
        u"(0 in all)"_s);
}

void tst_Integrity::engineCountsEachFaultOnce()
{
    Sim::SimulatorConfig sc;
    sc.rateScale = 10;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = 50ms;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    const auto bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    const auto tradesSol = sub(R"({"type":"trades","coin":"SOL"})");
    const auto tradesBtc = sub(R"({"type":"trades","coin":"BTC"})");
    const QList<Hl::Subscription> all{bbo, book, tradesSol, tradesBtc};
    for (const Hl::Subscription &s : all)
        engine.subscribe(s, u"test"_s);
    auto stateOf = [&engine](const Hl::Subscription &s) -> SubscriptionStatus {
        for (const SubscriptionStatus &st : engine.lastSnapshot().subscriptions)
            if (st.subscription.canonical() == s.canonical())
                return st;
        return {};
    };
    QVERIFY(waitUntil([&] {
        return std::all_of(all.cbegin(), all.cend(), [&](const Hl::Subscription &s) {
            const SubscriptionStatus st = stateOf(s);
            return st.state == SubState::Active && st.messages >= 3;
        });
    }));
    struct Case
    {
        Sim::FaultKind fault;
        Hl::Subscription subscription;
        IntegrityKind kind;
    };
    const QList<Case> cases{
        {Sim::FaultKind::Crossed, bbo, IntegrityKind::CrossedBook},
        {Sim::FaultKind::Crossed, book, IntegrityKind::CrossedBook},
        {Sim::FaultKind::Backwards, bbo, IntegrityKind::TimeBackwards},
        {Sim::FaultKind::Backwards, tradesSol, IntegrityKind::TimeBackwards},
        {Sim::FaultKind::Duplicate, tradesBtc, IntegrityKind::DuplicateTrade},
        {Sim::FaultKind::Foreign, tradesSol, IntegrityKind::Contradicts},
    };
    QHash<QByteArray, IntegrityCounts> expected;
    for (const Case &k : cases) {
        Sim::Fault f = Sim::Fault::make(k.fault);
        f.subscription = k.subscription;
        QString error;
        QVERIFY2(sim.apply(f, &error), qPrintable(error));
        IntegrityCounts &e = expected[k.subscription.canonical()];
        switch (k.kind) {
        case IntegrityKind::CrossedBook:
            ++e.crossedBook;
            break;
        case IntegrityKind::TimeBackwards:
            ++e.timeBackwards;
            break;
        case IntegrityKind::DuplicateTrade:
            ++e.duplicateTrade;
            break;
        case IntegrityKind::Contradicts:
            ++e.contradicts;
            break;
        }
        // Counted once it has been checked; then more clean frames of it change nothing.
        QVERIFY2(
            waitUntil([&] { return stateOf(k.subscription).integrity.total() == e.total(); }),
            qPrintable(u"%1 on %2"_s.arg(nameOf(k.kind), QString::fromUtf8(k.subscription.canonical()))));
    }
    // Metrics by kind (and per subscription where those series are on) and the report.
    MetricsServer server(&engine);
    server.setPerSubscriptionSeries(10);
    QString error;
    const quint16 port = server.listen(QHostAddress::LocalHost, 0, &error);
    QVERIFY2(port > 0, qPrintable(error));
    const QByteArray metrics = httpGet(QUrl(u"http://127.0.0.1:%1/metrics"_s.arg(port)));
    QCOMPARE(sample(metrics, R"(feedscope_integrity_violations_total{kind="crossedBook"})"), 2.0);
    QCOMPARE(sample(metrics, R"(feedscope_integrity_violations_total{kind="timeBackwards"})"), 2.0);
    QCOMPARE(sample(metrics, R"(feedscope_integrity_violations_total{kind="duplicateTrade"})"), 1.0);
    QCOMPARE(sample(metrics, R"(feedscope_integrity_violations_total{kind="contradicts"})"), 1.0);
    QVERIFY(metrics.contains("# TYPE feedscope_integrity_violations_total counter"));
    const QByteArray perSub = "feedscope_subscription_integrity_violations_total{subscription=\"" +
                              PromWriter::escapeLabel(QString::fromUtf8(tradesSol.canonical())).toUtf8() +
                              "\",kind=\"";
    QCOMPARE(sample(metrics, perSub + "contradicts\"}"), 1.0);
    QCOMPARE(sample(metrics, perSub + "timeBackwards\"}"), 1.0);
    QCOMPARE(sample(metrics, perSub + "crossedBook\"}"), 0.0);
    const QJsonObject report =
        QJsonDocument::fromJson(httpGet(QUrl(u"http://127.0.0.1:%1/report"_s.arg(port)))).object();
    QCOMPARE(report[u"integrity"_s][u"total"_s].toInt(), cases.size());
    QCOMPARE(report[u"integrity"_s][u"crossedBook"_s].toInt(), 2);
    for (const QJsonValue &v : report[u"subscriptions"_s].toArray()) {
        const QJsonObject i = v[u"integrity"_s].toObject();
        const IntegrityCounts want = expected.value(v[u"key"_s].toString().toUtf8());
        QCOMPARE(i[u"duplicateTrade"_s].toInt(), want.duplicateTrade);
        QCOMPARE(i[u"total"_s].toInt(), want.total());
    }

    // More clean frames of every one of them, then everything checked (the shutdown drains the
    // dispatcher): nothing more was counted.
    const qint64 sentBefore = sim.totalDataFramesSent();
    QVERIFY(waitUntil([&] {
        qint64 routed = 0;
        for (const Hl::Subscription &s : all)
            routed += stateOf(s).messages;
        return sim.totalDataFramesSent() > sentBefore + 40 && routed >= sentBefore + 40;
    }));
    const Engine::Final fin = engine.shutdown(2s);
    QVERIFY(fin.drained);
    QCOMPARE(fin.snapshot.subscriptions.size(), all.size());
    for (const SubscriptionStatus &st : fin.snapshot.subscriptions) {
        const IntegrityCounts want = expected.value(st.subscription.canonical());
        QCOMPARE(st.integrity.crossedBook, want.crossedBook);
        QCOMPARE(st.integrity.timeBackwards, want.timeBackwards);
        QCOMPARE(st.integrity.duplicateTrade, want.duplicateTrade);
        QCOMPARE(st.integrity.contradicts, want.contradicts);
    }
    QCOMPARE(engine.integrityTotals().total(), cases.size());
    QCOMPARE(engine.integrityTotals().crossedBook, 2);
    // A session event per violation (each the first of its subscription and kind), with the frame.
    const QList<SessionEvent> events = eventsOf(engine, u"integrity"_s);
    QCOMPARE(events.size(), cases.size());
    for (const SessionEvent &e : events) {
        const QString frame = e.data[u"frame"_s].toString();
        QVERIFY(QJsonDocument::fromJson(frame.toUtf8()).isObject());
        QCOMPARE(e.data[u"count"_s].toInt(), 1);
        QVERIFY(!e.data[u"detail"_s].toString().isEmpty());
        QVERIFY(!e.data[u"kind"_s].toString().isEmpty());
    }
}

void tst_Integrity::cleanFeedOfEveryTypeCountsNothing()
{
    // False positives are the worst bug here: every type the demo uses, plus every other type of
    // the catalogue, fast, through a reconnect of everything (restores resend snapshots).
    Sim::SimulatorConfig sc;
    sc.rateScale = 20;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.pool.maxSubscriptionsPerConnection = 15;
    cfg.publishInterval = 50ms;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    QList<Hl::Subscription> subs = Sim::demoSubscriptions();
    subs.removeAll(Sim::demoRejectedSubscription());
    QSet<QString> types;
    for (const Hl::Subscription &s : subs)
        types.insert(s.type());
    for (const Hl::TypeSpec &t : Hl::catalogue()) {
        const QString type = QString::fromLatin1(t.type);
        if (types.contains(type) || t.legacy)
            continue;
        QJsonObject o{{u"type"_s, type}};
        for (const Hl::ParamSpec &p : t.params)
            if (p.required)
                o.insert(QString::fromLatin1(p.name), p.kind == Hl::ParamKind::User
                                                          ? u"0x0d1d9635d0640821d15e323ac8adadfa9c111414"_s
                                                          : u"ETH"_s);
        subs.append(*Hl::Subscription::fromJson(o));
    }
    for (const Hl::Subscription &s : std::as_const(subs))
        engine.subscribe(s, u"test"_s);
    auto everyoneGot = [&](qint64 n) {
        const auto &st = engine.lastSnapshot().subscriptions;
        if (st.size() != subs.size())
            return false;
        qint64 busy = 0;
        for (const SubscriptionStatus &s : st) {
            if (s.state != SubState::Active)
                return false;
            if (s.messages >= n)
                ++busy;
        }
        return busy >= st.size() * 3 / 4; // the event-driven ones are slow
    };
    QVERIFY(waitUntil([&] { return everyoneGot(10); }, 30000));
    const auto totalMessages = [&] {
        qint64 n = 0;
        for (const SubscriptionStatus &s : engine.lastSnapshot().subscriptions)
            n += s.messages;
        return n;
    };
    const qint64 beforeReconnect = totalMessages();
    engine.reconnectAll();
    QVERIFY(waitUntil(
        [&] {
            const auto &st = engine.lastSnapshot().subscriptions;
            return totalMessages() > beforeReconnect + 2000 &&
                   std::all_of(st.cbegin(), st.cend(), [](const SubscriptionStatus &s) {
                       return s.state == SubState::Active && s.restores >= 1;
                   });
        },
        60000));
    const Engine::Final fin = engine.shutdown(2s);
    for (const SubscriptionStatus &s : fin.snapshot.subscriptions)
        QVERIFY2(s.integrity.total() == 0, s.subscription.canonical().constData());
    QCOMPARE(engine.integrityTotals().total(), 0);
    QVERIFY(eventsOf(engine, u"integrity"_s).isEmpty());
}

QTEST_GUILESS_MAIN(tst_Integrity)
#include "tst_integrity.moc"

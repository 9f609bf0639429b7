// Precise unsubscribe with several consumers (seed P1-1), against a real pool and simulator.
#include "connectionpool.h"
#include "registry.h"
#include "simulator.h"
#include "testutil.h"

#include <QSignalSpy>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_Registry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handlesAreExact();
    void serverSeesFirstAndLastOnly();
};

void tst_Registry::handlesAreExact()
{
    SubscriptionRegistry r;
    QSignalSpy subs(&r, &SubscriptionRegistry::serverSubscribe);
    QSignalSpy unsubs(&r, &SubscriptionRegistry::serverUnsubscribe);
    const auto btc = sub(R"({"type":"trades","coin":"BTC"})");
    const auto h1 = r.subscribe(btc, u"chart"_s);
    const auto h2 =
        r.subscribe(sub(R"({"coin":"BTC","type":"trades"})"), u"recorder"_s); // same canonical key
    const auto h3 = r.subscribe(btc, u"alerts"_s);
    QCOMPARE(subs.size(), 1);
    QCOMPARE(r.consumersOf(btc), (QStringList{u"alerts"_s, u"chart"_s, u"recorder"_s}));
    QVERIFY(r.unsubscribe(h2)); // the middle one: exactly that consumer leaves
    QCOMPARE(r.consumersOf(btc), (QStringList{u"alerts"_s, u"chart"_s}));
    QVERIFY(!r.unsubscribe(h2)); // a handle works once
    QVERIFY(!r.unsubscribe(9999));
    QCOMPARE(unsubs.size(), 0);
    QVERIFY(r.unsubscribe(h1));
    QVERIFY(r.unsubscribe(h3));
    QCOMPARE(unsubs.size(), 1); // only when the last consumer left
    QCOMPARE(r.subscriptionCount(), 0);
    r.subscribe(btc, u"chart"_s);
    QCOMPARE(subs.size(), 2); // and it can come back
}

void tst_Registry::serverSeesFirstAndLastOnly()
{
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    PoolConfig cfg;
    cfg.url = sim.url();
    PoolHost host(cfg);
    SubscriptionRegistry r;
    connect(&r, &SubscriptionRegistry::serverSubscribe, &host,
            [&host](const Hl::Subscription &s) { host.subscribe(s); });
    connect(&r, &SubscriptionRegistry::serverUnsubscribe, &host,
            [&host](const Hl::Subscription &s) { host.unsubscribe(s); });
    const auto bbo = sub(R"({"type":"bbo","coin":"ETH"})");
    const auto a = r.subscribe(bbo, u"a"_s);
    const auto b = r.subscribe(bbo, u"b"_s);
    QVERIFY(waitUntil([&] { return sim.subscriptionCount() == 1; }));
    QCOMPARE(sim.subscribeRequests(bbo), 1);
    r.unsubscribe(a);
    QTest::qWait(300); // nothing may happen on the server: give it the chance to be wrong
    QCOMPARE(sim.subscriptionCount(), 1);
    r.unsubscribe(b);
    QVERIFY(waitUntil([&] { return sim.subscriptionCount() == 0; }));
    // Back again while the unsubscribe may still be in flight: it ends subscribed.
    r.subscribe(bbo, u"c"_s);
    QVERIFY(waitUntil([&] { return sim.subscriptionCount() == 1; }));
    host.shutdown(1s);
}

QTEST_GUILESS_MAIN(tst_Registry)
#include "tst_registry.moc"

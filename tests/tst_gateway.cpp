// The gateway end to end: the real simulator upstream, the engine's pool, the hub and the
// downstream server, and real clients — Python `websockets` and Node `ws` scripts that behave
// like the SDKs (tests/clients/) — plus raw QWebSocket clients for the hostile cases.
#include "gatewayhub.h"
#include "gatewayserver.h"
#include "simulator.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>
#include <QUrlQuery>
#include <QWebSocket>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

constexpr int Long = 30000; // generous: a loaded 2-core machine, several suites at once

QJsonObject obj(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QString channelOf(const QString &frame)
{
    return QJsonDocument::fromJson(frame.toUtf8()).object().value(u"channel"_s).toString();
}

bool isData(const QString &frame)
{
    static const QStringList control{u"subscriptionResponse"_s, u"pong"_s, u"error"_s, u"post"_s};
    return !control.contains(channelOf(frame));
}

/// Simulator → engine (pool) → hub → server, with every routed frame recorded per subscription.
struct Rig
{
    std::unique_ptr<Sim::FeedSimulator> sim;
    std::unique_ptr<Engine> engine;
    std::unique_ptr<Gw::GatewayServer> server;
    std::unique_ptr<GatewayHub> hub;
    QObject context;
    QHash<QByteArray, QList<QByteArray>> upstream; ///< canonical → frames routed, in order
    QHash<QByteArray, QByteArray> keyOf;           ///< frame → canonical

    bool start(Gw::GatewayConfig g = {}, GatewayHubConfig h = {}, double rateScale = 5,
               const QHash<QString, double> &rates = {})
    {
        Sim::SimulatorConfig sc;
        sc.rateScale = rateScale;
        sc.rates = rates;
        sim = std::make_unique<Sim::FeedSimulator>(sc);
        if (!sim->start())
            return false;
        EngineConfig cfg;
        cfg.pool.url = sim->url();
        cfg.publishInterval = 50ms;
        engine = std::make_unique<Engine>(cfg);
        if (!engine->start(nullptr))
            return false;
        QObject::connect(engine->pool(), &ConnectionPool::routed, &context,
                         [this](const QList<DataFrame> &fs) {
                             for (const DataFrame &f : fs) {
                                 upstream[f.key].append(f.raw);
                                 keyOf.insert(f.raw, f.key);
                             }
                         });
        server = std::make_unique<Gw::GatewayServer>(g);
        hub = std::make_unique<GatewayHub>(*engine, *server, h);
        QString error;
        if (!server->listen(&error)) {
            qWarning() << error;
            return false;
        }
        return true;
    }
    ~Rig()
    {
        hub.reset();
        server.reset();
        engine.reset();
    }
    QUrl url(const QString &query = {}) const
    {
        QUrl u = server->url();
        u.setPath(u"/ws"_s);
        if (!query.isEmpty())
            u.setQuery(query);
        return u;
    }
    /// Stops the simulator's data and waits until every frame it sent reached the gateway and
    /// was written to the clients.
    bool quiesce(const QList<Hl::Subscription> &subs, bool drained = true, bool exact = true)
    {
        sim->setDataPaused(true);
        return waitUntil(
            [&] {
                for (const auto &s : subs)
                    if (exact && upstream.value(s.canonical()).size() != sim->dataFramesSent(s))
                        return false;
                for (const auto &c : server->clients())
                    if (drained && c.queuedFrames > 0)
                        return false;
                return true;
            },
            Long);
    }
};

/// A client script (tests/clients/sdkclient.{py,js}) run with QProcess.
class Peer : public QObject
{
public:
    bool node = false;
    QProcess process;
    QList<QJsonObject> events;

    bool start(bool useNode, const QUrl &url, const QJsonArray &subs, int pingMs = 50000,
               bool reconnect = false, int receiveBuffer = 0)
    {
        node = useNode;
        const QString dir = QStringLiteral(FEEDSCOPE_CLIENTS);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (receiveBuffer > 0)
            env.insert(u"SDKCLIENT_RCVBUF"_s, QString::number(receiveBuffer));
        env.insert(u"NODE_PATH"_s, u"/usr/share/nodejs"_s);
        process.setProcessEnvironment(env);
        QObject::connect(&process, &QProcess::readyReadStandardOutput, this, [this] {
            while (process.canReadLine())
                events.append(QJsonDocument::fromJson(process.readLine()).object());
        });
        QObject::connect(&process, &QProcess::readyReadStandardError, this,
                         [this] { qWarning().noquote() << process.readAllStandardError(); });
        const QStringList args{dir + (node ? u"/sdkclient.js"_s : u"/sdkclient.py"_s), url.toString(),
                               QString::fromUtf8(QJsonDocument(subs).toJson(QJsonDocument::Compact)),
                               QString::number(pingMs), reconnect ? u"1"_s : u"0"_s};
        process.start(node ? u"node"_s : u"/usr/bin/python3"_s, args);
        return process.waitForStarted(10000) && waitUntil([this] { return count(u"open"_s) > 0; }, Long);
    }
    ~Peer() override
    {
        if (process.state() != QProcess::NotRunning) {
            command({{u"cmd"_s, u"quit"_s}});
            if (!process.waitForFinished(5000))
                process.kill();
            process.waitForFinished(3000);
        }
    }
    void command(const QJsonObject &c)
    {
        process.write(QJsonDocument(c).toJson(QJsonDocument::Compact) + '\n');
    }
    void subscribe(const QByteArray &s)
    {
        command({{u"cmd"_s, u"subscribe"_s}, {u"subscription"_s, obj(s)}});
    }
    void unsubscribe(const QByteArray &s)
    {
        command({{u"cmd"_s, u"unsubscribe"_s}, {u"subscription"_s, obj(s)}});
    }
    void send(const QByteArray &text)
    {
        command({{u"cmd"_s, u"send"_s}, {u"text"_s, QString::fromUtf8(text)}});
    }
    int count(const QString &ev) const
    {
        return static_cast<int>(std::count_if(events.cbegin(), events.cend(),
                                              [&](const QJsonObject &e) { return e.value(u"ev"_s) == ev; }));
    }
    QStringList frames() const
    {
        QStringList out;
        for (const QJsonObject &e : events)
            if (e.value(u"ev"_s) == u"frame"_s)
                out.append(e.value(u"text"_s).toString());
        return out;
    }
    QStringList data() const
    {
        QStringList out;
        for (const QString &f : frames())
            if (isData(f))
                out.append(f);
        return out;
    }
    QStringList ofChannel(const QString &channel) const
    {
        QStringList out;
        for (const QString &f : frames())
            if (channelOf(f) == channel)
                out.append(f);
        return out;
    }
};

/// The client's data frames of subscription @p key, as the rig saw them upstream.
QList<QByteArray> framesOf(const Rig &rig, const Peer &p, const QByteArray &key)
{
    QList<QByteArray> out;
    for (const QString &f : p.data()) {
        const QByteArray raw = f.toUtf8();
        if (rig.keyOf.value(raw) == key)
            out.append(raw);
    }
    return out;
}

/// What a client that joined later got: every frame from its first one on, in order, none twice.
QList<QByteArray> tailFrom(const QList<QByteArray> &all, const QList<QByteArray> &got)
{
    if (got.isEmpty())
        return {};
    const qsizetype at = all.indexOf(got.constFirst());
    return at < 0 ? QList<QByteArray>{} : all.mid(at);
}

/// Every data frame the client got was sent upstream for one of its subscriptions, none twice.
bool allKnownAndUnique(const Rig &rig, const Peer &p, QString *why)
{
    QSet<QString> seen;
    for (const QString &f : p.data()) {
        if (!rig.keyOf.contains(f.toUtf8())) {
            *why = u"a frame the upstream never sent: "_s + f.left(200);
            return false;
        }
        if (seen.contains(f)) {
            *why = u"delivered twice: "_s + f.left(200);
            return false;
        }
        seen.insert(f);
    }
    return true;
}

} // namespace

class tst_Gateway : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sharedAcrossPythonAndNode();
    void unsubscribeAndLinger();
    void upstreamKillAll();
    void rejectionInTheVenuesWords();
    void postsWithTheSameId();
    void postsGoOverThePool();
    void slowClientDisconnected();
    void slowClientDropOldest();
    void slowClientCoalesce();
    void tokenRefusedAndAccepted();
    void garbageAndLimits();
    void idleClose();
    void lateJoinerGetsTheSnapshot();
    void sdkReconnectResubscribes();
    void upstreamAllowanceInTheVenuesWords();
};

void tst_Gateway::initTestCase()
{
    QProcess p;
    p.start(u"/usr/bin/python3"_s, {u"-c"_s, u"import websockets"_s});
    QVERIFY2(p.waitForFinished(20000) && p.exitCode() == 0, "python3 websockets (Debian python3-websockets)");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"NODE_PATH"_s, u"/usr/share/nodejs"_s);
    p.setProcessEnvironment(env);
    p.start(u"node"_s, {u"-e"_s, u"require('ws')"_s});
    QVERIFY2(p.waitForFinished(20000) && p.exitCode() == 0, "node with ws (Debian node-ws)");
}

void tst_Gateway::sharedAcrossPythonAndNode()
{
    Rig rig;
    QVERIFY(rig.start());
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    const auto bbo = sub(R"({"type":"bbo","coin":"SOL"})");
    // Three clients share trades BTC, written three ways.
    Peer a, b, c;
    QVERIFY(a.start(
        false, rig.url(u"name=alpha"_s),
        QJsonArray{obj(R"({"type":"trades","coin":"BTC"})"), obj(R"({"type":"l2Book","coin":"ETH"})")}, 400));
    QVERIFY(b.start(
        true, rig.url(),
        QJsonArray{obj(R"({"coin":"BTC","type":"trades"})"), obj(R"({"type":"bbo","coin":"SOL"})")}, 400));
    QVERIFY(c.start(false, rig.url(), QJsonArray{obj(R"({"coin":"BTC","type":"trades"})")}, 400));
    QVERIFY(waitUntil(
        [&] {
            return framesOf(rig, a, book.canonical()).size() >= 5 &&
                   framesOf(rig, b, bbo.canonical()).size() >= 5 &&
                   framesOf(rig, c, trades.canonical()).size() >= 5;
        },
        Long));
    // One upstream subscription for the three.
    QCOMPARE(rig.sim->subscribeRequests(trades), 1);
    QCOMPARE(rig.hub->clientsOf(trades), 3);
    QCOMPARE(rig.engine->registry().consumersOf(trades).size(), 3);
    QVERIFY(rig.engine->registry().consumersOf(trades).contains(u"gateway: alpha #1"_s));
    // Names from ?name= and the User-Agent.
    QStringList names;
    for (const auto &st : rig.server->clients())
        names.append(st.name);
    names.sort();
    QCOMPARE(names, (QStringList{u"alpha"_s, u"sdkclient.js"_s, u"sdkclient.py"_s}));
    // The acks are the venue's own bytes.
    QVERIFY(a.ofChannel(u"subscriptionResponse"_s).contains(QString::fromUtf8(Gw::ackFrame(trades))));
    QVERIFY(a.ofChannel(u"subscriptionResponse"_s).contains(QString::fromUtf8(Gw::ackFrame(book))));
    QVERIFY(
        b.ofChannel(u"subscriptionResponse"_s)
            .contains(QString::fromUtf8(
                R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}})")));
    // Pings are answered.
    QVERIFY(waitUntil(
        [&] { return a.ofChannel(u"pong"_s).size() >= 1 && b.ofChannel(u"pong"_s).size() >= 1; }, Long));

    // Exact frames per client against what the simulator sent, in order, none twice.
    QVERIFY(rig.quiesce({trades, book, bbo}));
    // B and C joined trades after A: they get everything from their first frame on.
    const auto tradesAll = [&] { return rig.upstream.value(trades.canonical()); };
    QVERIFY(waitUntil(
        [&] {
            return framesOf(rig, a, trades.canonical()) == tradesAll() &&
                   framesOf(rig, b, trades.canonical()) ==
                       tailFrom(tradesAll(), framesOf(rig, b, trades.canonical())) &&
                   framesOf(rig, c, trades.canonical()) ==
                       tailFrom(tradesAll(), framesOf(rig, c, trades.canonical())) &&
                   framesOf(rig, a, book.canonical()) == rig.upstream.value(book.canonical()) &&
                   framesOf(rig, b, bbo.canonical()) == rig.upstream.value(bbo.canonical());
        },
        Long));
    QCOMPARE(rig.upstream.value(trades.canonical()).size(), rig.sim->dataFramesSent(trades));
    QCOMPARE(rig.upstream.value(book.canonical()).size(), rig.sim->dataFramesSent(book));
    QCOMPARE(rig.upstream.value(bbo.canonical()).size(), rig.sim->dataFramesSent(bbo));
    QVERIFY(framesOf(rig, b, trades.canonical()).size() >= 5);
    QVERIFY(framesOf(rig, c, trades.canonical()).size() >= 5);
    QVERIFY(framesOf(rig, a, bbo.canonical()).isEmpty());
    QVERIFY(framesOf(rig, c, book.canonical()).isEmpty());
    QString why;
    QVERIFY2(allKnownAndUnique(rig, a, &why), qPrintable(why));
    QVERIFY2(allKnownAndUnique(rig, b, &why), qPrintable(why));

    // A late joiner (Node) gets the ack, then at once the latest book (data is paused: nothing new).
    Peer d;
    QVERIFY(d.start(true, rig.url(), QJsonArray{obj(R"({"type":"l2Book","coin":"ETH"})")}, 400));
    QVERIFY(waitUntil([&] { return d.frames().size() >= 2; }, Long));
    QCOMPARE(d.frames().at(0).toUtf8(), Gw::ackFrame(book));
    QCOMPARE(d.frames().at(1).toUtf8(), rig.upstream.value(book.canonical()).constLast());
    QCOMPARE(rig.sim->subscribeRequests(book), 1);
    QVERIFY(rig.hub->counters().cacheReplays >= 1);
}

void tst_Gateway::unsubscribeAndLinger()
{
    Rig rig;
    GatewayHubConfig h;
    h.linger = 1500ms;
    QVERIFY(rig.start({}, h));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    QSignalSpy unsubscribed(rig.sim.get(), &Sim::FeedSimulator::unsubscribed);
    Peer a, b;
    QVERIFY(a.start(false, rig.url(), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")}));
    QVERIFY(b.start(true, rig.url(), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")}));
    QVERIFY(waitUntil(
        [&] {
            return framesOf(rig, a, trades.canonical()).size() >= 3 &&
                   framesOf(rig, b, trades.canonical()).size() >= 3;
        },
        Long));
    a.unsubscribe(R"({"type":"trades","coin":"BTC"})");
    const QString unsubAck = QString::fromUtf8(Gw::ackFrame(trades, true));
    QVERIFY(waitUntil([&] { return a.frames().contains(unsubAck); }, Long));
    const qsizetype aAfter = a.frames().size();
    const qsizetype bNow = framesOf(rig, b, trades.canonical()).size();
    // B keeps flowing, A gets nothing more, nothing is unsubscribed upstream.
    QVERIFY(waitUntil([&] { return framesOf(rig, b, trades.canonical()).size() >= bNow + 5; }, Long));
    QCOMPARE(a.frames().size(), aAfter);
    QCOMPARE(unsubscribed.size(), 0);
    QCOMPARE(rig.hub->clientsOf(trades), 1);
    // The second unsubscribe of the same subscription: the venue's text.
    a.unsubscribe(R"({"type":"trades","coin":"BTC"})");
    QVERIFY(waitUntil([&] { return !a.ofChannel(u"error"_s).isEmpty(); }, Long));
    QCOMPARE(a.ofChannel(u"error"_s).constFirst().toUtf8(),
             Gw::errorFrame(u"Already unsubscribed: {\"coin\":\"BTC\",\"type\":\"trades\"}"_s));

    // The last client leaves (disconnects): the subscription lingers, then goes upstream.
    QSignalSpy gone(rig.server.get(), &Gw::GatewayServer::clientDisconnected);
    b.command({{u"cmd"_s, u"quit"_s}});
    QVERIFY(gone.wait(Long));
    QVERIFY(rig.hub->lingering(trades));
    QCOMPARE(unsubscribed.size(), 0);
    QVERIFY(unsubscribed.wait(Long));
    QCOMPARE(unsubscribed.constFirst().at(1).toByteArray(), trades.canonical());
    QVERIFY(!rig.hub->lingering(trades));
    QCOMPARE(rig.hub->sharedCount(), 0);
    QCOMPARE(rig.hub->counters().upstreamUnsubscribes, 1);

    // A client coming back within the linger causes no churn.
    Peer c;
    QVERIFY(c.start(false, rig.url(), QJsonArray{obj(R"({"type":"bbo","coin":"ETH"})")}));
    const auto bbo = sub(R"({"type":"bbo","coin":"ETH"})");
    QVERIFY(waitUntil([&] { return framesOf(rig, c, bbo.canonical()).size() >= 1; }, Long));
    c.command({{u"cmd"_s, u"quit"_s}});
    QVERIFY(gone.wait(Long));
    QVERIFY(rig.hub->lingering(bbo));
    Peer d;
    QVERIFY(d.start(true, rig.url(), QJsonArray{obj(R"({"type":"bbo","coin":"ETH"})")}));
    QVERIFY(waitUntil([&] { return framesOf(rig, d, bbo.canonical()).size() >= 3; }, Long));
    QCOMPARE(rig.sim->subscribeRequests(bbo), 1);
    QCOMPARE(rig.hub->counters().lingerRescues, 1);
}

void tst_Gateway::upstreamKillAll()
{
    Rig rig;
    QVERIFY(rig.start());
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    Peer a, b;
    QVERIFY(a.start(
        false, rig.url(),
        QJsonArray{obj(R"({"type":"trades","coin":"BTC"})"), obj(R"({"type":"l2Book","coin":"ETH"})")}, 400));
    QVERIFY(b.start(true, rig.url(), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")}, 400));
    QVERIFY(waitUntil(
        [&] {
            return framesOf(rig, a, book.canonical()).size() >= 3 &&
                   framesOf(rig, b, trades.canonical()).size() >= 3;
        },
        Long));
    const qsizetype before = rig.upstream.value(book.canonical()).size();
    QSignalSpy restored(rig.engine->pool(), &ConnectionPool::reconnectFinished);
    QVERIFY(rig.sim->apply(Sim::Fault::make(Sim::FaultKind::Abort)));
    QVERIFY(restored.wait(Long));
    // Frames resume; the clients never noticed more than a gap.
    QVERIFY(waitUntil(
        [&] {
            return framesOf(rig, a, book.canonical()).size() >= before + 5 &&
                   framesOf(rig, b, trades.canonical()).size() >= 3;
        },
        Long));
    QCOMPARE(a.count(u"close"_s), 0);
    QCOMPARE(b.count(u"close"_s), 0);
    QCOMPARE(rig.server->clientCount(), 2);
    // Frames the simulator wrote to the aborted sockets never arrived: the gateway's own view
    // upstream is the reference.
    QVERIFY(rig.quiesce({trades, book}, true, false));
    const bool same = waitUntil(
        [&] {
            return framesOf(rig, a, trades.canonical()) == rig.upstream.value(trades.canonical()) &&
                   framesOf(rig, b, trades.canonical()) == tailFrom(rig.upstream.value(trades.canonical()),
                                                                    framesOf(rig, b, trades.canonical())) &&
                   framesOf(rig, a, book.canonical()) == rig.upstream.value(book.canonical());
        },
        Long);
    QVERIFY(same);
    QString why;
    QVERIFY2(allKnownAndUnique(rig, a, &why), qPrintable(why));
    QVERIFY2(allKnownAndUnique(rig, b, &why), qPrintable(why));
    // One ack per client and subscription: the restore is the gateway's business.
    QCOMPARE(a.ofChannel(u"subscriptionResponse"_s).size(), 2);
    QCOMPARE(b.ofChannel(u"subscriptionResponse"_s).size(), 1);
}

void tst_Gateway::rejectionInTheVenuesWords()
{
    Rig rig;
    QVERIFY(rig.start());
    Sim::Fault f = Sim::Fault::make(Sim::FaultKind::Reject);
    f.subscription = sub(R"({"type":"bbo","coin":"NOPE"})");
    QVERIFY(rig.sim->apply(f));
    QSignalSpy sent(rig.sim.get(), &Sim::FeedSimulator::errorSent);
    Peer a, b;
    QVERIFY(
        a.start(false, rig.url(),
                QJsonArray{obj(R"({"type":"bbo","coin":"NOPE"})"), obj(R"({"type":"bbo","coin":"BTC"})")}));
    QVERIFY(b.start(true, rig.url(), QJsonArray{obj(R"({"coin":"NOPE","type":"bbo"})")}));
    QVERIFY(waitUntil(
        [&] { return !a.ofChannel(u"error"_s).isEmpty() && !b.ofChannel(u"error"_s).isEmpty(); }, Long));
    QVERIFY(!sent.isEmpty());
    const QByteArray venue = Gw::errorFrame(sent.constFirst().at(1).toString());
    QCOMPARE(a.ofChannel(u"error"_s).constFirst().toUtf8(), venue);
    QCOMPARE(b.ofChannel(u"error"_s).constFirst().toUtf8(), venue);
    QVERIFY(venue.contains("Invalid subscription"));
    // The other subscription flows; the rejected one is forgotten (a new subscribe retries).
    const auto btc = sub(R"({"type":"bbo","coin":"BTC"})");
    QVERIFY(waitUntil([&] { return framesOf(rig, a, btc.canonical()).size() >= 2; }, Long));
    QCOMPARE(rig.hub->clientsOf(f.subscription), -1);
    QVERIFY(!rig.server->holds(1, f.subscription));
    QCOMPARE(rig.hub->counters().rejectionsForwarded, 2);
}

void tst_Gateway::postsWithTheSameId()
{
    Rig rig;
    QVERIFY(rig.start());
    Peer a, b;
    QVERIFY(a.start(false, rig.url(), {}));
    QVERIFY(b.start(true, rig.url(), {}));
    a.send(R"({"method":"post","id":1,"request":{"type":"info","payload":{"type":"meta"}}})");
    b.send(
        R"({"method":"post","id":1,"request":{"type":"info","payload":{"type":"clearinghouseState","user":"0x0000000000000000000000000000000000000001"}}})");
    QVERIFY(waitUntil([&] { return !a.ofChannel(u"post"_s).isEmpty() && !b.ofChannel(u"post"_s).isEmpty(); },
                      Long));
    QCOMPARE(
        a.ofChannel(u"post"_s).constFirst().toUtf8(),
        QByteArray(
            R"({"channel":"post","data":{"id":1,"response":{"type":"info","payload":{"type":"meta","data":{"simulated":true}}}}})"));
    QCOMPARE(
        b.ofChannel(u"post"_s).constFirst().toUtf8(),
        QByteArray(
            R"({"channel":"post","data":{"id":1,"response":{"type":"info","payload":{"type":"clearinghouseState","data":{"simulated":true}}}}})"));
    QCOMPARE(rig.hub->counters().postsForwarded, 2);
    QCOMPARE(rig.hub->postsInFlight(), 0);
}

void tst_Gateway::postsGoOverThePool()
{
    Rig rig;
    QVERIFY(rig.start());
    Peer a;
    QVERIFY(a.start(false, rig.url(), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")}));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    QVERIFY(waitUntil([&] { return framesOf(rig, a, trades.canonical()).size() >= 1; }, Long));
    QCOMPARE(rig.sim->connections().size(), 1);
    // A signed action's bytes go upstream exactly as the client wrote them (spaces, key order).
    const QByteArray action =
        R"({"type":"action","payload":{"action":{"type":"order","orders":[]},  "nonce":1700000000000,"signature":{"r":"0x1","s":"0x2","v":27},"vaultAddress":null}})";
    QSignalSpy requests(rig.sim.get(), &Sim::FeedSimulator::requestReceived);
    a.send(R"({"method":"post","id":41,"request":)" + action + "}");
    QVERIFY(waitUntil([&] { return !a.ofChannel(u"post"_s).isEmpty(); }, Long));
    QVERIFY(a.ofChannel(u"post"_s).constFirst().startsWith(
        uR"({"channel":"post","data":{"id":41,"response":)"_s));
    // On the pool's own connection: no socket of the hub's beside the pool.
    QCOMPARE(rig.sim->connections().size(), 1);
    bool seen = false;
    for (const QList<QVariant> &r : std::as_const(requests))
        seen = seen || r.at(1).toByteArray().contains(QByteArray(R"(,"request":)" + action + "}"));
    QVERIFY(seen);

    // The connection is lost with posts in flight: each fails with the reason, the client stays.
    QVERIFY(rig.sim->apply(Sim::Fault::make(Sim::FaultKind::Stall)));
    a.send(R"({"method":"post","id":42,"request":{"type":"info","payload":{"type":"meta"}}})");
    a.send(R"({"method":"post","id":43,"request":{"type":"info","payload":{"type":"meta"}}})");
    QVERIFY(waitUntil([&] { return rig.hub->postsInFlight() == 2; }, Long));
    QVERIFY(rig.sim->apply(Sim::Fault::make(Sim::FaultKind::Abort)));
    QVERIFY(waitUntil([&] { return a.ofChannel(u"post"_s).size() >= 3; }, Long));
    for (int id : {42, 43})
        QVERIFY(a.ofChannel(u"post"_s).contains(
            QString::fromUtf8(Gw::postErrorFrame(id, u"the connection to the venue was lost"_s))));
    QCOMPARE(rig.hub->postsInFlight(), 0);
    QCOMPARE(rig.hub->counters().postsFailed, 2);
    QCOMPARE(rig.server->clientCount(), 1);
    // Frames resume on the restored connection.
    const qsizetype before = framesOf(rig, a, trades.canonical()).size();
    QVERIFY(waitUntil([&] { return framesOf(rig, a, trades.canonical()).size() > before; }, Long));
}

void tst_Gateway::slowClientDisconnected()
{
    // The default policy (disconnect): a Python client (with a small socket receive buffer) stops
    // reading a busy feed. The other client (in-process, always reading) gets every frame.
    Gw::GatewayConfig g;
    g.queueBytes = 512 * 1024;
    Rig rig;
    QVERIFY(rig.start(g, {}, 1, {{u"trades"_s, 4000.0}}));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    Peer slow;
    QVERIFY(slow.start(false, rig.url(u"name=slow"_s), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")},
                       400, false, 8192));
    QWebSocket fine;
    QList<QByteArray> fineData;
    connect(&fine, &QWebSocket::textMessageReceived, this, [&](const QString &t) {
        if (isData(t))
            fineData.append(t.toUtf8());
    });
    fine.open(rig.url(u"name=fine"_s));
    QVERIFY(waitUntil([&] { return fine.state() == QAbstractSocket::ConnectedState; }, Long));
    fine.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})"_s);
    QVERIFY(waitUntil(
        [&] { return framesOf(rig, slow, trades.canonical()).size() >= 2 && fineData.size() >= 2; }, Long));
    QSignalSpy gone(rig.server.get(), &Gw::GatewayServer::clientDisconnected);
    slow.command({{u"cmd"_s, u"stopReading"_s}});
    QVERIFY(gone.wait(Long * 2));
    const auto st = gone.constFirst().at(0).value<Gw::ClientStats>();
    QCOMPARE(st.name, u"slow"_s);
    QCOMPARE(gone.constFirst().at(1).value<Gw::CloseReason>(), Gw::CloseReason::SlowConsumer);
    QCOMPARE(gone.constFirst().at(2).toInt(), 1008);
    QCOMPARE(rig.server->counters().closed[static_cast<size_t>(Gw::CloseReason::SlowConsumer)], 1);
    // The other client received every frame, in order.
    QVERIFY(rig.quiesce({trades}));
    QVERIFY(waitUntil([&] { return fineData == tailFrom(rig.upstream.value(trades.canonical()), fineData); },
                      Long * 2));
    QVERIFY(fineData.size() > 1000);
    QCOMPARE(rig.server->clientCount(), 1);
}

void tst_Gateway::slowClientDropOldest()
{
    Gw::GatewayConfig g;
    g.policy = Gw::SlowPolicy::DropOldest;
    g.queueBytes = 64 * 1024;
    g.socketBudgetBytes = 32 * 1024;
    Rig rig;
    QVERIFY(rig.start(g));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    Peer slow;
    QVERIFY(
        slow.start(true, rig.url(u"name=slow"_s), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")}, 400));
    QVERIFY(waitUntil([&] { return framesOf(rig, slow, trades.canonical()).size() >= 2; }, Long));
    slow.command({{u"cmd"_s, u"stopReading"_s}});
    Sim::Fault flood = Sim::Fault::make(Sim::FaultKind::Flood);
    flood.subscription = trades;
    flood.amount = 200000;
    QVERIFY(rig.sim->apply(flood));
    QVERIFY(waitUntil([&] { return rig.server->clients().value(0).dropped > 1000; }, Long * 2));
    QVERIFY(rig.quiesce({trades}, false));
    slow.command({{u"cmd"_s, u"resumeReading"_s}});
    QVERIFY(waitUntil([&] { return rig.server->clients().value(0).queuedBytes == 0; }, Long));
    QCOMPARE(rig.server->clientCount(), 1);
    // What it got is in order, without duplicates, with the newest frame last.
    const auto st = rig.server->clients().value(0);
    QVERIFY(
        waitUntil([&] { return framesOf(rig, slow, trades.canonical()).size() == st.dataFramesOut; }, Long));
    const QList<QByteArray> got = framesOf(rig, slow, trades.canonical());
    const QList<QByteArray> &all = rig.upstream[trades.canonical()];
    qsizetype pos = 0;
    for (const QByteArray &f : got) {
        const qsizetype at = all.indexOf(f, pos);
        QVERIFY2(at >= pos, "out of order or unknown");
        pos = at + 1;
    }
    QCOMPARE(got.constLast(), all.constLast());
    QCOMPARE(st.dataFramesOut + st.dropped, static_cast<qint64>(all.size()));
}

void tst_Gateway::slowClientCoalesce()
{
    Gw::GatewayConfig g;
    g.policy = Gw::SlowPolicy::CoalesceLatest;
    g.queueBytes = 64 * 1024;
    g.socketBudgetBytes = 32 * 1024;
    Rig rig;
    QVERIFY(rig.start(g));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    Peer slow;
    QVERIFY(slow.start(
        false, rig.url(),
        QJsonArray{obj(R"({"type":"trades","coin":"BTC"})"), obj(R"({"type":"l2Book","coin":"ETH"})")}, 400));
    QVERIFY(waitUntil([&] { return framesOf(rig, slow, book.canonical()).size() >= 2; }, Long));
    slow.command({{u"cmd"_s, u"stopReading"_s}});
    Sim::Fault flood = Sim::Fault::make(Sim::FaultKind::Flood);
    flood.subscription = trades;
    flood.amount = 200000;
    QVERIFY(rig.sim->apply(flood));
    QVERIFY(waitUntil([&] { return rig.server->clients().value(0).coalesced > 1000; }, Long * 2));
    QVERIFY(rig.quiesce({trades, book}, false));
    slow.command({{u"cmd"_s, u"resumeReading"_s}});
    QVERIFY(waitUntil([&] { return rig.server->clients().value(0).queuedBytes == 0; }, Long));
    const auto st = rig.server->clients().value(0);
    QVERIFY(waitUntil([&] { return slow.data().size() == st.dataFramesOut; }, Long));
    // The newest of each subscription arrived; coalesced + dropped + delivered = all.
    QCOMPARE(framesOf(rig, slow, trades.canonical()).constLast(),
             rig.upstream.value(trades.canonical()).constLast());
    QCOMPARE(framesOf(rig, slow, book.canonical()).constLast(),
             rig.upstream.value(book.canonical()).constLast());
    QCOMPARE(st.dataFramesOut + st.dropped + st.coalesced,
             static_cast<qint64>(rig.upstream.value(trades.canonical()).size() +
                                 rig.upstream.value(book.canonical()).size()));
    QString why;
    QVERIFY2(allKnownAndUnique(rig, slow, &why), qPrintable(why));
}

void tst_Gateway::tokenRefusedAndAccepted()
{
    Gw::GatewayConfig g;
    g.token = "s3cret-token";
    Rig rig;
    QVERIFY(rig.start(g));
    QSignalSpy refused(rig.server.get(), &Gw::GatewayServer::handshakeRefused);
    QWebSocket none, wrong, query, bearer;
    QSignalSpy noneErr(&none, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error)),
        wrongErr(&wrong, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error));
    none.open(rig.url());
    wrong.open(rig.url(u"token=nope"_s));
    QVERIFY(waitUntil([&] { return refused.size() == 2; }, Long));
    QCOMPARE(refused.at(0).at(1).toInt(), 401);
    QCOMPARE(refused.at(1).at(1).toInt(), 401);
    QVERIFY(waitUntil([&] { return !noneErr.isEmpty() && !wrongErr.isEmpty(); }, Long));
    QCOMPARE(rig.server->counters().refusedToken, 2);
    QSignalSpy q(&query, &QWebSocket::connected), b(&bearer, &QWebSocket::connected);
    query.open(rig.url(u"token=s3cret-token"_s));
    QNetworkRequest req(rig.url());
    req.setRawHeader("Authorization", "Bearer s3cret-token");
    bearer.open(req);
    QVERIFY(waitUntil([&] { return !q.isEmpty() && !b.isEmpty(); }, Long));
    QCOMPARE(rig.server->clientCount(), 2);
    QVERIFY(Gw::tokenMatches("abc", "abc"));
    QVERIFY(!Gw::tokenMatches("abd", "abc"));
    QVERIFY(!Gw::tokenMatches("", ""));
    // Binding beyond loopback without a token is refused.
    Gw::GatewayConfig open;
    open.bind = QHostAddress::Any;
    Gw::GatewayServer exposed(open);
    QString error;
    QVERIFY(!exposed.listen(&error));
    QVERIFY(error.contains(u"token"_s));
}

void tst_Gateway::garbageAndLimits()
{
    Gw::GatewayConfig g;
    g.maxSubscriptions = 2;
    g.maxMessagesPerMinute = 12;
    g.maxFrameBytes = 64 * 1024;
    g.maxClients = 3;
    Rig rig;
    QVERIFY(rig.start(g));
    QWebSocket ws, other;
    QStringList got, otherGot;
    connect(&ws, &QWebSocket::textMessageReceived, this, [&](const QString &t) { got.append(t); });
    connect(&other, &QWebSocket::textMessageReceived, this, [&](const QString &t) { otherGot.append(t); });
    QSignalSpy up(&ws, &QWebSocket::connected), up2(&other, &QWebSocket::connected);
    ws.open(rig.url());
    other.open(rig.url());
    QVERIFY(waitUntil([&] { return !up.isEmpty() && !up2.isEmpty(); }, Long));
    other.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}})"_s);
    const auto parse = [](const QString &raw) {
        return QString::fromUtf8(Gw::errorFrame(Gw::parseErrorText(raw.toUtf8())));
    };
    ws.sendTextMessage(u"this is not JSON {"_s);
    ws.sendBinaryMessage("\x00\x01\x02");
    ws.sendTextMessage(uR"({"method":"dance"})"_s);
    ws.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})"_s);
    ws.sendTextMessage(uR"({"method":"subscribe","subscription":{"coin":"BTC","type":"trades"}})"_s);
    ws.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"bbo","coin":"ETH"}})"_s);
    ws.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"bbo","coin":"SOL"}})"_s);
    QVERIFY(waitUntil([&] { return got.size() >= 7; }, Long));
    QCOMPARE(got.at(0), parse(u"this is not JSON {"_s));
    QCOMPARE(got.at(1), parse(u"<binary frame>"_s));
    QCOMPARE(got.at(2), parse(uR"({"method":"dance"})"_s));
    QVERIFY(got.contains(
        QString::fromUtf8(Gw::errorFrame(u"Already subscribed: {\"type\":\"trades\",\"coin\":\"BTC\"}"_s))));
    QVERIFY(got.contains(QString::fromUtf8(Gw::errorFrame(u"Cannot subscribe to more than 2 channels."_s))));
    // The rate limit: 12 a minute.
    for (int i = 0; i < 7; ++i) // 6 text frames so far
        ws.sendTextMessage(uR"({"method":"ping"})"_s);
    const QString limited =
        QString::fromUtf8(Gw::errorFrame(u"Cannot send more than 12 messages per minute."_s));
    QVERIFY(waitUntil([&] { return got.contains(limited); }, Long));
    QCOMPARE(got.count(QString::fromUtf8(Gw::pongFrame())), 6);
    QCOMPARE(rig.server->client(1)->rateLimited, 1);
    QCOMPARE(rig.server->client(1)->malformed, 3);
    // An oversized frame closes with 1009.
    QSignalSpy closed(&ws, &QWebSocket::disconnected);
    ws.sendTextMessage(QString(70 * 1024, u'x'));
    QVERIFY(closed.wait(Long));
    QCOMPARE(ws.closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
    QVERIFY(waitUntil([&] { return rig.server->counters().oversized == 1; }, Long));
    // Nothing else was affected.
    const auto bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    QVERIFY(waitUntil([&] { return otherGot.size() >= 3; }, Long));
    QCOMPARE(otherGot.at(0).toUtf8(), Gw::ackFrame(bbo));
    // At most maxClients: the fourth handshake is refused.
    QWebSocket c2, c3, c4;
    QSignalSpy refused(rig.server.get(), &Gw::GatewayServer::handshakeRefused);
    QSignalSpy u2(&c2, &QWebSocket::connected), u3(&c3, &QWebSocket::connected);
    c2.open(rig.url());
    c3.open(rig.url());
    QVERIFY(waitUntil([&] { return !u2.isEmpty() && !u3.isEmpty(); }, Long));
    c4.open(rig.url());
    QVERIFY(refused.wait(Long));
    QCOMPARE(refused.constFirst().at(1).toInt(), 429);
}

void tst_Gateway::idleClose()
{
    Gw::GatewayConfig g;
    g.idleTimeout = 600ms;
    Rig rig;
    QVERIFY(rig.start(g));
    QWebSocket quiet;
    QSignalSpy up(&quiet, &QWebSocket::connected), closed(&quiet, &QWebSocket::disconnected);
    quiet.open(rig.url());
    QVERIFY(up.wait(Long));
    QVERIFY(closed.wait(Long));
    QCOMPARE(quiet.closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QVERIFY(quiet.closeReason().startsWith(u"idle"_s));
    // Counted when the server's side of the link ends, which may be just after the client's.
    QVERIFY(waitUntil(
        [&] { return rig.server->counters().closed[static_cast<size_t>(Gw::CloseReason::Idle)] == 1; },
        Long));
    // A client that pings stays (the SDKs' keep-alive).
    Peer pinging;
    QVERIFY(pinging.start(true, rig.url(), {}, 150));
    QVERIFY(waitUntil([&] { return pinging.ofChannel(u"pong"_s).size() >= 8; }, Long));
    QCOMPARE(pinging.count(u"close"_s), 0);
}

void tst_Gateway::lateJoinerGetsTheSnapshot()
{
    Rig rig;
    QVERIFY(rig.start({}, {}, 1, {{u"userFills"_s, 20.0}}));
    const QByteArray json = R"({"type":"userFills","user":"0x00000000000000000000000000000000000000aa"})";
    const auto fills = sub(json);
    Peer a;
    QVERIFY(a.start(false, rig.url(), QJsonArray{obj(json)}));
    QVERIFY(waitUntil([&] { return framesOf(rig, a, fills.canonical()).size() >= 4; }, Long));
    QVERIFY(framesOf(rig, a, fills.canonical()).constFirst().contains(R"("isSnapshot":true)"));
    QVERIFY(rig.quiesce({fills}));
    // The late joiner: the ack, the snapshot, then what followed it, as the first client got them.
    Peer b;
    QVERIFY(b.start(
        true, rig.url(),
        QJsonArray{obj(R"({"type":"userFills","user":"0x00000000000000000000000000000000000000AA"})")}));
    const QList<QByteArray> all = rig.upstream.value(fills.canonical());
    QVERIFY(waitUntil([&] { return framesOf(rig, b, fills.canonical()).size() == all.size(); }, Long));
    QCOMPARE(b.frames().constFirst().toUtf8(), Gw::ackFrame(fills));
    QCOMPARE(framesOf(rig, b, fills.canonical()), all);
    QCOMPARE(rig.sim->subscribeRequests(fills), 1); // address case: one subscription upstream
}

void tst_Gateway::sdkReconnectResubscribes()
{
    Rig rig;
    QVERIFY(rig.start());
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    for (bool node : {false, true}) {
        Peer p;
        QVERIFY(p.start(node, rig.url(u"name=bot"_s), QJsonArray{obj(R"({"type":"trades","coin":"BTC"})")},
                        400, true));
        QVERIFY(waitUntil([&] { return framesOf(rig, p, trades.canonical()).size() >= 2; }, Long));
        const int id = rig.server->clientIds().constFirst();
        QVERIFY(rig.server->disconnectClient(id, u"maintenance"_s));
        // The client reconnects on its own and subscribes again: the linger kept it upstream.
        QVERIFY(waitUntil(
            [&] { return p.count(u"open"_s) == 2 && p.ofChannel(u"subscriptionResponse"_s).size() == 2; },
            Long));
        const qsizetype before = framesOf(rig, p, trades.canonical()).size();
        QVERIFY(waitUntil([&] { return framesOf(rig, p, trades.canonical()).size() >= before + 2; }, Long));
        QCOMPARE(p.events
                     .at(p.events.indexOf(QJsonObject{
                         {u"ev"_s, u"close"_s}, {u"code"_s, 1000}, {u"reason"_s, u"maintenance"_s}}))
                     .value(u"code"_s)
                     .toInt(),
                 1000);
        QCOMPARE(rig.sim->subscribeRequests(trades), 1);
        QString why;
        QVERIFY2(allKnownAndUnique(rig, p, &why), qPrintable(why));
        p.command({{u"cmd"_s, u"quit"_s}});
        QVERIFY(waitUntil([&] { return p.process.state() == QProcess::NotRunning; }, Long));
        QVERIFY(waitUntil([&] { return rig.server->clientCount() == 0; }, Long));
    }
    QCOMPARE(rig.server->counters().closed[static_cast<size_t>(Gw::CloseReason::Operator)], 2);
}

void tst_Gateway::upstreamAllowanceInTheVenuesWords()
{
    GatewayHubConfig h;
    h.upstreamMaxUsers = 1;
    h.maxPostsInFlight = 0;
    Rig rig;
    QVERIFY(rig.start({}, h));
    Peer a;
    QVERIFY(a.start(
        false, rig.url(),
        QJsonArray{obj(R"({"type":"openOrders","user":"0x00000000000000000000000000000000000000a1"})"),
                   obj(R"({"type":"openOrders","user":"0x00000000000000000000000000000000000000a2"})")}));
    QVERIFY(waitUntil([&] { return !a.ofChannel(u"error"_s).isEmpty(); }, Long));
    QCOMPARE(a.ofChannel(u"error"_s).constFirst().toUtf8(),
             Gw::errorFrame(u"Cannot track more than 1 total users."_s));
    QCOMPARE(rig.hub->counters().limitRefusals, 1);
    a.send(R"({"method":"post","id":77,"request":{"type":"info","payload":{"type":"meta"}}})");
    QVERIFY(waitUntil([&] { return a.ofChannel(u"error"_s).size() == 2; }, Long));
    QCOMPARE(a.ofChannel(u"error"_s).at(1).toUtf8(),
             Gw::errorFrame(u"too many pending post requests id=77"_s));
}

QTEST_GUILESS_MAIN(tst_Gateway)
#include "tst_gateway.moc"

#include "codec.h"
#include "recording.h"
#include "simfeed.h"
#include "simulator.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Sim;
using FeedScope::Test::sub;
using FeedScope::Test::waitUntil;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

const QByteArray userA = "0x1111111111111111111111111111111111111111";
const QByteArray userB = "0x2222222222222222222222222222222222222222";
const QByteArray userC = "0x3333333333333333333333333333333333333333";

/// A plain QWebSocket client that keeps every frame it receives, decoded.
class Client : public QObject
{
public:
    explicit Client(QObject *parent = nullptr) : QObject(parent)
    {
        connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &t) {
            const QByteArray utf8 = t.toUtf8();
            texts.append(utf8);
            frames.append(decoder.decode(utf8));
        });
        connect(&socket, &QWebSocket::binaryMessageReceived, this,
                [this](const QByteArray &) { ++binaryFrames; });
    }
    bool open(const QUrl &url)
    {
        QSignalSpy connected(&socket, &QWebSocket::connected);
        QSignalSpy disconnected(&socket, &QWebSocket::disconnected);
        socket.open(url);
        for (int i = 0; i < 50 && connected.isEmpty() && disconnected.isEmpty(); ++i)
            connected.wait(100);
        return !connected.isEmpty();
    }
    void send(const QByteArray &text) { socket.sendTextMessage(QString::fromUtf8(text)); }
    void subscribe(const QByteArray &json) { send(R"({"method":"subscribe","subscription":)" + json + "}"); }
    void unsubscribe(const QByteArray &json)
    {
        send(R"({"method":"unsubscribe","subscription":)" + json + "}");
    }
    qsizetype count(Hl::FrameKind kind) const
    {
        return std::count_if(frames.cbegin(), frames.cend(),
                             [kind](const Hl::Envelope &e) { return e.kind == kind; });
    }
    qsizetype dataFor(const Hl::Subscription &s) const
    {
        return std::count_if(frames.cbegin(), frames.cend(), [&](const Hl::Envelope &e) {
            return e.kind == Hl::FrameKind::Data && e.routeKey == s.routeKey();
        });
    }
    QStringList errors() const
    {
        QStringList out;
        for (const Hl::Envelope &e : frames)
            if (e.kind == Hl::FrameKind::Error)
                out.append(e.serverError.text);
        return out;
    }
    bool hasAck(const Hl::Subscription &s, bool unsubscribe = false) const
    {
        return std::any_of(frames.cbegin(), frames.cend(), [&](const Hl::Envelope &e) {
            return e.kind == Hl::FrameKind::SubscriptionResponse && e.unsubscribeAck == unsubscribe &&
                   e.subscription.ackKey() == s.ackKey();
        });
    }
    bool isOpen() const { return socket.state() == QAbstractSocket::ConnectedState; }

    QWebSocket socket;
    Hl::FrameDecoder decoder;
    QList<QByteArray> texts;
    QList<Hl::Envelope> frames;
    int binaryFrames = 0;
};

} // namespace

class tst_Simulator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void acksAndPong();
    void ackEchoIsNormalised();
    void errorTexts_data();
    void errorTexts();
    void unsubscribeStopsData();
    void dataShapes_data();
    void dataShapes();
    void deterministicForASeed();
    void perTypeRates();
    void postRequests();

    void limitConnections();
    void limitNewConnectionsPerMinute();
    void limitSubscriptionsAcrossConnections();
    void limitUsers();
    void limitMessagesPerMinute();
    void idleTimeout();

    void faultAbort();
    void faultAbortAll();
    void faultClose();
    void faultStall();
    void faultReject();
    void faultMalformed_data();
    void faultMalformed();
    void faultOversized();
    void faultFlood();
    void faultRestart();
    void faultSpecs_data();
    void faultSpecs();
    void scheduledFault();
    void controlChannel();
    void replay();
    void replayErrors();

    // Integrity and event-time faults (issue 17).
    void faultCrossed();
    void faultBackwards();
    void faultDuplicateAndForeign();
    void integrityFaultNeedsItsSubscription();
    void tradeIdsContinueAcrossReconnects();
    void delayAndOffsetShiftEventTimes();
    void delayAndOffsetFromTheControlChannel();

private:
    std::unique_ptr<FeedSimulator> startSim(SimulatorConfig cfg = {});
    Client *connectClient(FeedSimulator &sim);

    std::unique_ptr<FeedSimulator> m_sim;
    QList<Client *> m_clients;
};

std::unique_ptr<FeedSimulator> tst_Simulator::startSim(SimulatorConfig cfg)
{
    auto sim = std::make_unique<FeedSimulator>(cfg);
    QString error;
    if (!sim->start(&error))
        qFatal("simulator did not start: %s", qPrintable(error));
    return sim;
}

Client *tst_Simulator::connectClient(FeedSimulator &sim)
{
    auto *c = new Client;
    m_clients.append(c);
    if (!c->open(sim.url()))
        return nullptr;
    return c;
}

void tst_Simulator::init()
{
    SimulatorConfig cfg;
    cfg.rateScale = 20; // plenty of data quickly
    m_sim = startSim(cfg);
}

void tst_Simulator::cleanup()
{
    qDeleteAll(m_clients);
    m_clients.clear();
    m_sim.reset();
}

void tst_Simulator::acksAndPong()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    QCOMPARE(m_sim->url().host(), u"127.0.0.1"_s);
    c->send(R"({"method":"ping"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::Pong), 1);
    const Hl::Subscription trades = sub(R"({"type":"trades","coin":"BTC"})");
    c->subscribe(trades.canonical());
    QTRY_VERIFY(c->hasAck(trades));
    QTRY_VERIFY(c->dataFor(trades) > 0);
    QCOMPARE(m_sim->subscriptionCount(), 1);
    QCOMPARE(m_sim->subscribeRequests(trades), 1);
}

void tst_Simulator::ackEchoIsNormalised()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    c->subscribe(R"({"type":"l2Book","coin":"ETH"})");
    c->subscribe(R"({"type":"candle","coin":"HYPE","interval":"1d"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::SubscriptionResponse), 2);
    // Like the real server: nulls filled in for l2Book, candle keys reordered.
    QVERIFY(c->texts.contains(
        R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"ETH","nSigFigs":null,"mantissa":null}}})"));
    QVERIFY(c->texts.contains(
        R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"candle","interval":"1d","coin":"HYPE"}}})"));
}

void tst_Simulator::errorTexts_data()
{
    QTest::addColumn<QList<QByteArray>>("requests");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<Hl::ServerErrorKind>("kind");
    const QByteArray trades = R"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})";
    QTest::addRow("already subscribed")
        << QList<QByteArray>{trades, trades} << uR"(Already subscribed: {"type":"trades","coin":"BTC"})"_s
        << Hl::ServerErrorKind::AlreadySubscribed;
    QTest::addRow("already unsubscribed")
        << QList<QByteArray>{R"({"method":"unsubscribe","subscription":{"type":"trades","coin":"ETH"}})"}
        << uR"(Already unsubscribed: {"coin":"ETH","type":"trades"})"_s
        << Hl::ServerErrorKind::AlreadyUnsubscribed;
    QTest::addRow("invalid subscription")
        << QList<
               QByteArray>{R"({"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC","nSigFigs":9}})"}
        << uR"(Invalid subscription {"coin":"BTC","nSigFigs":9,"type":"l2Book"})"_s
        << Hl::ServerErrorKind::InvalidSubscription;
    const QByteArray unknown = R"({"method":"subscribe","subscription":{"type":"tradez","coin":"BTC"}})";
    QTest::addRow("unknown type") << QList<QByteArray>{unknown}
                                  << u"Error parsing JSON into valid websocket request: "_s +
                                         QString::fromUtf8(unknown)
                                  << Hl::ServerErrorKind::ParseError;
    const QByteArray webData2 =
        R"({"method":"subscribe","subscription":{"type":"webData2","user":")" + userA + "\"}}";
    QTest::addRow("webData2 removed")
        << QList<QByteArray>{webData2}
        << u"Error parsing JSON into valid websocket request: "_s + QString::fromUtf8(webData2)
        << Hl::ServerErrorKind::ParseError;
    QTest::addRow("not json") << QList<QByteArray>{"hello"}
                              << u"Error parsing JSON into valid websocket request: hello"_s
                              << Hl::ServerErrorKind::ParseError;
    QTest::addRow("bare subscription")
        << QList<QByteArray>{R"({ "type": "allMids" })"}
        << uR"(Error parsing JSON into valid websocket request: { "type": "allMids" })"_s
        << Hl::ServerErrorKind::ParseError;
}

void tst_Simulator::errorTexts()
{
    QFETCH(QList<QByteArray>, requests);
    QFETCH(QString, expected);
    QFETCH(Hl::ServerErrorKind, kind);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    for (const QByteArray &r : requests)
        c->send(r);
    QTRY_COMPARE(c->errors().size(), 1);
    QCOMPARE(c->errors().constFirst(), expected);
    const auto it = std::find_if(c->frames.cbegin(), c->frames.cend(),
                                 [](const Hl::Envelope &e) { return e.kind == Hl::FrameKind::Error; });
    QCOMPARE(it->serverError.kind, kind);
}

void tst_Simulator::unsubscribeStopsData()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const Hl::Subscription bbo = sub(R"({"type":"bbo","coin":"SOL"})");
    c->subscribe(bbo.canonical());
    QTRY_VERIFY(c->dataFor(bbo) >= 3);
    c->unsubscribe(bbo.canonical());
    QTRY_VERIFY(c->hasAck(bbo, true));
    QCOMPARE(m_sim->subscriptionCount(), 0);
    // Everything the server sent for it arrived; a ping round trip later, nothing more came.
    const qsizetype after = c->dataFor(bbo);
    QCOMPARE(after, m_sim->dataFramesSent(bbo));
    c->send(R"({"method":"ping"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::Pong), 1);
    QCOMPARE(c->dataFor(bbo), after);
}

void tst_Simulator::dataShapes_data()
{
    QTest::addColumn<QByteArray>("json");
    auto row = [](const char *name, const QByteArray &j) { QTest::addRow("%s", name) << j; };
    row("allMids", R"({"type":"allMids"})");
    row("allMids dex", R"({"type":"allMids","dex":"xyz"})");
    row("l2Book", R"({"type":"l2Book","coin":"BTC"})");
    row("l2Book fast", R"({"type":"l2Book","coin":"ETH","fast":true})");
    row("trades", R"({"type":"trades","coin":"SOL"})");
    row("bbo", R"({"type":"bbo","coin":"HYPE"})");
    row("candle", R"({"type":"candle","coin":"BTC","interval":"15m"})");
    row("activeAssetCtx perp", R"({"type":"activeAssetCtx","coin":"BTC"})");
    row("activeAssetCtx spot", R"({"type":"activeAssetCtx","coin":"@107"})");
    row("userFills", R"({"type":"userFills","user":")" + userA + "\"}");
    row("orderUpdates", R"({"type":"orderUpdates","user":")" + userA + "\"}");
    row("userEvents", R"({"type":"userEvents","user":")" + userA + "\"}");
    row("fastAssetCtxs", R"({"type":"fastAssetCtxs"})");
    // Every other type of the catalogue produces routable frames too.
    for (const Hl::TypeSpec &t : Hl::catalogue()) {
        const QString type = QString::fromLatin1(t.type);
        static const QStringList covered{u"allMids"_s,       u"l2Book"_s,       u"trades"_s,
                                         u"bbo"_s,           u"candle"_s,       u"activeAssetCtx"_s,
                                         u"userFills"_s,     u"orderUpdates"_s, u"userEvents"_s,
                                         u"fastAssetCtxs"_s, u"webData2"_s};
        if (covered.contains(type))
            continue;
        QJsonObject o{{u"type"_s, type}};
        for (const Hl::ParamSpec &p : t.params) {
            if (!p.required)
                continue;
            o.insert(QString::fromLatin1(p.name),
                     p.kind == Hl::ParamKind::User ? QString::fromLatin1(userB) : u"ETH"_s);
        }
        QTest::addRow("%s", t.type) << QJsonDocument(o).toJson(QJsonDocument::Compact);
    }
}

void tst_Simulator::dataShapes()
{
    QFETCH(QByteArray, json);
    SimulatorConfig cfg;
    cfg.rateScale = 1000; // every type, even the slow ones, several times a second
    m_sim = startSim(cfg);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const Hl::Subscription s = sub(json);
    c->subscribe(s.canonical());
    QTRY_VERIFY_WITH_TIMEOUT(c->dataFor(s) >= 3, 10000);
    QVERIFY(c->hasAck(s));

    // Every frame routes back to the subscription and parses as strict JSON.
    QList<QJsonValue> datas;
    for (qsizetype i = 0; i < c->frames.size(); ++i) {
        const Hl::Envelope &e = c->frames.at(i);
        if (e.kind == Hl::FrameKind::SubscriptionResponse)
            continue;
        QCOMPARE(e.kind, Hl::FrameKind::Data);
        QCOMPARE(e.routeKey, s.routeKey());
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(c->texts.at(i), &pe);
        QVERIFY2(pe.error == QJsonParseError::NoError, c->texts.at(i).left(200).constData());
        datas.append(doc.object().value(u"data"_s));
    }
    const QJsonValue first = datas.constFirst();
    const QString type = s.type();
    if (type == u"l2Book"_s) {
        const int n = s.json().value(u"fast"_s).toBool() ? 5 : 20;
        const QJsonArray levels = first[u"levels"_s].toArray();
        QCOMPARE(levels.size(), 2);
        QCOMPARE(levels[0].toArray().size(), n);
        QCOMPARE(levels[1].toArray().size(), n);
        const double bestBid = levels[0][0][u"px"_s].toString().toDouble();
        const double bestAsk = levels[1][0][u"px"_s].toString().toDouble();
        QVERIFY(bestBid > 0 && bestBid < bestAsk);
        QVERIFY(levels[0][0][u"n"_s].isDouble());
    } else if (type == u"trades"_s) {
        const QJsonObject t = first.toArray().first().toObject();
        QVERIFY(t[u"px"_s].isString() && t[u"sz"_s].isString());
        QVERIFY(t[u"tid"_s].isDouble() && t[u"time"_s].isDouble());
        QCOMPARE(t[u"users"_s].toArray().size(), 2);
    } else if (type == u"bbo"_s) {
        QCOMPARE(first[u"bbo"_s].toArray().size(), 2);
        QVERIFY(first[u"bbo"_s][0][u"px"_s].toString().toDouble() <
                first[u"bbo"_s][1][u"px"_s].toString().toDouble());
    } else if (type == u"candle"_s) {
        QCOMPARE(first[u"i"_s].toString(), u"15m"_s);
        QVERIFY(first[u"o"_s].isString() && first[u"v"_s].isString() && first[u"t"_s].isDouble());
    } else if (type == u"allMids"_s) {
        const QJsonObject mids = first[u"mids"_s].toObject();
        QVERIFY(mids.size() > 900); // the real message has hundreds of coins (~16 KB)
        QVERIFY2(c->texts.constLast().size() > 14000,
                 QByteArray::number(c->texts.constLast().size()).constData());
        if (s.json().contains(u"dex"_s))
            QCOMPARE(first[u"dex"_s].toString(), u"xyz"_s);
        else
            QVERIFY(mids.value(u"BTC"_s).isString());
    } else if (type == u"userFills"_s) {
        QCOMPARE(first[u"isSnapshot"_s].toBool(), true);
        QVERIFY(first[u"fills"_s].toArray().size() >= 2);
        QVERIFY(!datas.constLast().toObject().value(u"isSnapshot"_s).toBool());
    } else if (type == u"activeAssetCtx"_s) {
        const bool spot = s.json().value(u"coin"_s).toString().startsWith(u'@');
        const auto it = std::find_if(c->frames.cbegin(), c->frames.cend(),
                                     [](const Hl::Envelope &e) { return e.kind == Hl::FrameKind::Data; });
        QCOMPARE(it->channel, spot ? QByteArray("activeSpotAssetCtx") : QByteArray("activeAssetCtx"));
    } else if (type == u"fastAssetCtxs"_s) {
        const auto inflated = Hl::inflateFastAssetCtxs(first.toString().toLatin1());
        QVERIFY(inflated.has_value());
        QVERIFY(QJsonDocument::fromJson(*inflated).object().contains(u"BTC"_s));
    } else if (type == u"userEvents"_s) {
        QCOMPARE(c->frames.last().channel, QByteArray("user"));
        QVERIFY(first[u"fills"_s].isArray());
    }
}

void tst_Simulator::deterministicForASeed()
{
    const Hl::Subscription s = sub(R"({"type":"l2Book","coin":"BTC"})");
    SyntheticFeed a(s, 7), b(s, 7), other(s, 8);
    bool differs = false;
    for (int i = 0; i < 20; ++i) {
        const QByteArray fa = a.next(1000 + i);
        QCOMPARE(fa, b.next(1000 + i));
        QCOMPARE(a.nextGapMs(2), b.nextGapMs(2));
        differs |= fa != other.next(1000 + i);
        other.nextGapMs(2);
    }
    QVERIFY(differs);
}

void tst_Simulator::perTypeRates()
{
    // Per-type rates are configurable; a zero rate silences a type completely.
    SimulatorConfig cfg;
    cfg.rates.insert(u"bbo"_s, 0.0);
    cfg.rates.insert(u"trades"_s, 200.0);
    m_sim = startSim(cfg);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const Hl::Subscription bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    const Hl::Subscription trades = sub(R"({"type":"trades","coin":"BTC"})");
    c->subscribe(bbo.canonical());
    c->subscribe(trades.canonical());
    QTRY_VERIFY(c->dataFor(trades) >= 20);
    // bbo sends its snapshot on subscribe and then nothing at rate zero.
    QCOMPARE(m_sim->dataFramesSent(bbo), 1);
    QCOMPARE(defaultRatePerSecond(sub(R"({"type":"l2Book","coin":"BTC","fast":true})")), 2.0);
    QVERIFY(defaultRatePerSecond(bbo) >= 2.0);
    QVERIFY(defaultRatePerSecond(sub(R"({"type":"allMids"})")) < 1.0);
}

void tst_Simulator::postRequests()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    c->send(
        Hl::encodePost(41, Hl::PostType::Info, QJsonObject{{u"type"_s, u"l2Book"_s}, {u"coin"_s, u"BTC"_s}}));
    c->send(Hl::encodePost(42, Hl::PostType::Action, QJsonObject{{u"nonce"_s, 1}}));
    QTRY_COMPARE(c->count(Hl::FrameKind::Post), 2);
    QCOMPARE(c->frames[0].postId, 41);
    QCOMPARE(c->frames[0].postResponseType, u"info"_s);
    QCOMPARE(c->frames[1].postId, 42);
}

void tst_Simulator::limitConnections()
{
    SimulatorConfig cfg;
    cfg.limits.maxConnections = 3;
    m_sim = startSim(cfg);
    QSignalSpy refused(m_sim.get(), &FeedSimulator::handshakeRefused);
    QList<Client *> open;
    for (int i = 0; i < 3; ++i) {
        Client *c = connectClient(*m_sim);
        QVERIFY2(c, "connection within the limit refused");
        open.append(c);
    }
    auto *extra = new Client;
    m_clients.append(extra);
    QVERIFY(!extra->open(m_sim->url()));
    QCOMPARE(refused.size(), 1);
    QCOMPARE(m_sim->refusedHandshakes(), 1);
    QVERIFY(refused.first().first().toString().contains(u"more than 3 connections"_s));
    QCOMPARE(m_sim->connections().size(), 3);

    // Closing one frees a slot.
    open.first()->socket.close();
    QTRY_COMPARE(m_sim->connections().size(), 2);
    QVERIFY(connectClient(*m_sim));
}

void tst_Simulator::limitNewConnectionsPerMinute()
{
    SimulatorConfig cfg;
    cfg.limits.maxNewConnectionsPerMinute = 4;
    m_sim = startSim(cfg);
    for (int i = 0; i < 4; ++i) {
        Client *c = connectClient(*m_sim);
        QVERIFY(c);
        c->socket.close();
        QTRY_COMPARE(m_sim->connections().size(), 0);
    }
    auto *fifth = new Client;
    m_clients.append(fifth);
    QVERIFY(!fifth->open(m_sim->url()));
    QCOMPARE(m_sim->refusedHandshakes(), 1);
}

void tst_Simulator::limitSubscriptionsAcrossConnections()
{
    SimulatorConfig cfg;
    cfg.limits.maxSubscriptions = 5;
    m_sim = startSim(cfg);
    Client *a = connectClient(*m_sim);
    Client *b = connectClient(*m_sim);
    QVERIFY(a && b);
    for (const char *coin : {"BTC", "ETH", "SOL"})
        a->subscribe(R"({"type":"bbo","coin":")" + QByteArray(coin) + "\"}");
    for (const char *coin : {"HYPE", "DOGE", "AVAX"})
        b->subscribe(R"({"type":"bbo","coin":")" + QByteArray(coin) + "\"}");
    QTRY_COMPARE(b->errors().size(), 1);
    QCOMPARE(b->errors().constFirst(), u"Cannot subscribe to more than 5 channels."_s);
    QCOMPARE(m_sim->subscriptionCount(), 5);
    // The limit is per address: an unsubscribe on one connection frees room on the other.
    a->unsubscribe(R"({"type":"bbo","coin":"BTC"})");
    QTRY_COMPARE(m_sim->subscriptionCount(), 4);
    b->subscribe(R"({"type":"bbo","coin":"AVAX"})");
    QTRY_COMPARE(m_sim->subscriptionCount(), 5);
}

void tst_Simulator::limitUsers()
{
    SimulatorConfig cfg;
    cfg.limits.maxUsers = 2;
    m_sim = startSim(cfg);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    c->subscribe(R"({"type":"userFills","user":")" + userA + "\"}");
    c->subscribe(R"({"type":"orderUpdates","user":")" + userA + "\"}"); // same user: no new slot
    c->subscribe(R"({"type":"userFills","user":")" + userB + "\"}");
    c->subscribe(R"({"type":"userFills","user":")" + userC + "\"}");
    QTRY_COMPARE(c->errors().size(), 1);
    QCOMPARE(c->errors().constFirst(), u"Cannot track more than 2 total users."_s);
    QCOMPARE(m_sim->subscriptionCount(), 3);
}

void tst_Simulator::limitMessagesPerMinute()
{
    SimulatorConfig cfg;
    cfg.limits.maxMessagesPerMinute = 10;
    m_sim = startSim(cfg);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    for (int i = 0; i < 12; ++i)
        c->send(R"({"method":"ping"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::Pong) + c->errors().size(), 12);
    QCOMPARE(c->count(Hl::FrameKind::Pong), 10);
    QCOMPARE(c->errors(), QStringList(2, u"Cannot send more than 10 messages per minute."_s));
}

void tst_Simulator::idleTimeout()
{
    SimulatorConfig cfg;
    cfg.limits.idleTimeout = 300ms;
    m_sim = startSim(cfg);
    Client *quiet = connectClient(*m_sim);
    Client *talker = connectClient(*m_sim);
    QVERIFY(quiet && talker);
    QTimer pinger;
    connect(&pinger, &QTimer::timeout, talker, [talker] { talker->send(R"({"method":"ping"})"); });
    pinger.start(100);
    QSignalSpy closed(&quiet->socket, &QWebSocket::disconnected);
    QVERIFY(closed.wait(5000));
    QCOMPARE(quiet->socket.closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QVERIFY(talker->isOpen()); // client traffic keeps a connection alive
    QCOMPARE(m_sim->connections().size(), 1);
}

void tst_Simulator::faultAbort()
{
    Client *a = connectClient(*m_sim);
    Client *b = connectClient(*m_sim);
    QVERIFY(a && b);
    const int idA = m_sim->idOfPeerPort(a->socket.localPort());
    QVERIFY(idA > 0);
    QSignalSpy gone(&a->socket, &QWebSocket::disconnected);
    QSignalSpy socketError(&a->socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error));
    QVERIFY(m_sim->apply(Fault::make(FaultKind::Abort, idA)));
    QVERIFY(gone.wait(5000));
    // No close frame: the client sees the TCP connection drop, not a close handshake.
    QCOMPARE(socketError.size(), 1);
    QCOMPARE(socketError.first().first().value<QAbstractSocket::SocketError>(),
             QAbstractSocket::RemoteHostClosedError);
    QVERIFY(a->socket.closeReason().isEmpty());
    QVERIFY(b->isOpen());
    QCOMPARE(m_sim->connections().size(), 1);
    QString error;
    QVERIFY(!m_sim->apply(Fault::make(FaultKind::Abort, 999), &error));
    QCOMPARE(error, u"no connection 999"_s);
}

void tst_Simulator::faultAbortAll()
{
    Client *a = connectClient(*m_sim);
    Client *b = connectClient(*m_sim);
    QVERIFY(a && b);
    QVERIFY(m_sim->apply(Fault::make(FaultKind::Abort, -1)));
    QTRY_VERIFY(!a->isOpen() && !b->isOpen());
    QCOMPARE(m_sim->connections().size(), 0);
    QVERIFY(connectClient(*m_sim)); // the server itself still listens
}

void tst_Simulator::faultClose()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    Fault f = Fault::make(FaultKind::Close, m_sim->idOfPeerPort(c->socket.localPort()));
    f.closeCode = 4001;
    f.reason = u"maintenance"_s;
    QSignalSpy gone(&c->socket, &QWebSocket::disconnected);
    QVERIFY(m_sim->apply(f));
    QVERIFY(gone.wait(5000));
    QCOMPARE(static_cast<int>(c->socket.closeCode()), 4001);
    QCOMPARE(c->socket.closeReason(), u"maintenance"_s);
}

void tst_Simulator::faultStall()
{
    Client *c = connectClient(*m_sim);
    Client *other = connectClient(*m_sim);
    QVERIFY(c && other);
    const Hl::Subscription bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    c->subscribe(bbo.canonical());
    other->subscribe(bbo.canonical());
    QTRY_VERIFY(c->dataFor(bbo) > 0);
    const int id = m_sim->idOfPeerPort(c->socket.localPort());
    auto info = [this, id] {
        const auto all = m_sim->connections();
        return *std::find_if(all.cbegin(), all.cend(), [id](const auto &ci) { return ci.id == id; });
    };
    QVERIFY(m_sim->apply(Fault::make(FaultKind::Stall, id)));
    QVERIFY(info().stalled);
    const qint64 sentBeforeStall = info().dataFrames;
    c->send(R"({"method":"ping"})");
    // The other connection keeps flowing while this one sends nothing and answers no ping.
    const qsizetype otherBefore = other->dataFor(bbo);
    QTRY_VERIFY(other->dataFor(bbo) >= otherBefore + 10);
    QCOMPARE(c->count(Hl::FrameKind::Pong), 0);
    QCOMPARE(info().dataFrames, sentBeforeStall);
    QCOMPARE(c->dataFor(bbo), sentBeforeStall); // everything sent before the stall arrived, nothing after
    QVERIFY(c->isOpen());
    // Unstall: it flows again and answers pings.
    QVERIFY(m_sim->apply(Fault::make(FaultKind::Unstall, id)));
    c->send(R"({"method":"ping"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::Pong), 1);
    const qsizetype resumed = c->dataFor(bbo);
    QTRY_VERIFY(c->dataFor(bbo) > resumed);
}

void tst_Simulator::faultReject()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const Hl::Subscription bad = sub(R"({"type":"l2Book","coin":"NOPE"})");
    Fault f = Fault::make(FaultKind::Reject);
    f.subscription = bad;
    QVERIFY(m_sim->apply(f));
    c->subscribe(R"({"type":"l2Book","coin":"NOPE","nSigFigs":null})");
    c->subscribe(R"({"type":"l2Book","coin":"BTC"})");
    QTRY_COMPARE(c->count(Hl::FrameKind::SubscriptionResponse), 1);
    QTRY_COMPARE(c->errors().size(), 1);
    const Hl::Envelope err = *std::find_if(c->frames.cbegin(), c->frames.cend(), [](const Hl::Envelope &e) {
        return e.kind == Hl::FrameKind::Error;
    });
    QCOMPARE(err.serverError.kind, Hl::ServerErrorKind::InvalidSubscription);
    QCOMPARE(err.serverError.subscription, bad); // the client can tell which subscription failed
    QCOMPARE(m_sim->subscribeRequests(bad), 1);
}

void tst_Simulator::faultMalformed_data()
{
    QTest::addColumn<MalformedKind>("kind");
    QTest::addColumn<Hl::DecodeError>("error");
    QTest::addColumn<Hl::FrameKind>("frameKind");
    QTest::addRow("notJson") << MalformedKind::NotJson << Hl::DecodeError::NotJson << Hl::FrameKind::Invalid;
    QTest::addRow("unknownChannel") << MalformedKind::UnknownChannel << Hl::DecodeError::None
                                    << Hl::FrameKind::Unknown;
    QTest::addRow("wrongShape") << MalformedKind::WrongShape << Hl::DecodeError::WrongShape
                                << Hl::FrameKind::Invalid;
    QTest::addRow("emptyTrades") << MalformedKind::EmptyTrades << Hl::DecodeError::Unroutable
                                 << Hl::FrameKind::Invalid;
    QTest::addRow("binary") << MalformedKind::Binary << Hl::DecodeError::None << Hl::FrameKind::Invalid;
}

void tst_Simulator::faultMalformed()
{
    QFETCH(MalformedKind, kind);
    QFETCH(Hl::DecodeError, error);
    QFETCH(Hl::FrameKind, frameKind);
    Client *a = connectClient(*m_sim);
    Client *b = connectClient(*m_sim);
    QVERIFY(a && b);
    Fault f = Fault::make(FaultKind::Malformed, -1);
    f.malformed = kind;
    QVERIFY(m_sim->apply(f));
    if (kind == MalformedKind::Binary) {
        QTRY_COMPARE(a->binaryFrames, 1);
        QTRY_COMPARE(b->binaryFrames, 1);
        return;
    }
    QTRY_COMPARE(a->frames.size(), 1);
    QTRY_COMPARE(b->frames.size(), 1);
    QCOMPARE(a->frames[0].error, error);
    QCOMPARE(a->frames[0].kind, frameKind);
    QVERIFY(a->isOpen());
}

void tst_Simulator::faultOversized()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    c->socket.setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
    Fault f = Fault::make(FaultKind::Oversized, m_sim->idOfPeerPort(c->socket.localPort()));
    f.amount = 3 * 1024 * 1024;
    QVERIFY(m_sim->apply(f));
    QTRY_COMPARE_WITH_TIMEOUT(c->texts.size(), 1, 10000);
    QCOMPARE(c->texts[0].size(), f.amount);
    QCOMPARE(c->frames[0].kind, Hl::FrameKind::Data); // well-formed, just huge

    // A client with a smaller limit refuses it (QWebSocket closes with "too much data").
    Client *small = connectClient(*m_sim);
    QVERIFY(small);
    small->socket.setMaxAllowedIncomingMessageSize(1024 * 1024);
    QSignalSpy gone(&small->socket, &QWebSocket::disconnected);
    f.connection = m_sim->idOfPeerPort(small->socket.localPort());
    QVERIFY(m_sim->apply(f));
    QVERIFY(gone.wait(10000));
    QCOMPARE(small->socket.closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
    QVERIFY(small->texts.isEmpty());
}

void tst_Simulator::faultFlood()
{
    SimulatorConfig cfg;
    cfg.rates.insert(u"trades"_s, 0.0); // only the flood produces trades
    m_sim = startSim(cfg);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const Hl::Subscription trades = sub(R"({"type":"trades","coin":"ETH"})");
    c->subscribe(trades.canonical());
    QTRY_VERIFY(c->hasAck(trades));
    QTRY_COMPARE(c->dataFor(trades), 1); // the snapshot of recent trades
    Fault f = Fault::make(FaultKind::Flood, -1);
    f.subscription = trades;
    f.amount = 20000;
    QVERIFY(m_sim->apply(f));
    QVERIFY(waitUntil([c, &trades] { return c->dataFor(trades) >= 20001; }, 30000));
    QCOMPARE(c->dataFor(trades), 20001);
    QCOMPARE(m_sim->dataFramesSent(trades), 20001);
}

void tst_Simulator::faultRestart()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const quint16 port = m_sim->port();
    QSignalSpy listening(m_sim.get(), &FeedSimulator::listeningChanged);
    Fault f = Fault::make(FaultKind::Restart);
    f.amount = 800;
    QVERIFY(m_sim->apply(f));
    QTRY_VERIFY(!c->isOpen());
    QVERIFY(!m_sim->isListening());
    QCOMPARE(listening.size(), 1);
    // While down, connecting fails.
    auto *during = new Client;
    m_clients.append(during);
    QVERIFY(!during->open(m_sim->url()));
    // Back on the same port.
    QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 2, 5000);
    QVERIFY(m_sim->isListening());
    QCOMPARE(m_sim->port(), port);
    QVERIFY(connectClient(*m_sim));
}

void tst_Simulator::faultSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<FaultKind>("kind");
    QTest::addColumn<int>("connection");
    QTest::addColumn<qint64>("amount");
    QTest::addRow("abort all") << u"5000:abort:all"_s << true << FaultKind::Abort << -1 << qint64(0);
    QTest::addRow("abort default all") << u"5000:abort"_s << true << FaultKind::Abort << -1 << qint64(0);
    QTest::addRow("close") << u"100:close:2:4000:going away"_s << true << FaultKind::Close << 2 << qint64(0);
    QTest::addRow("stall") << u"9000:stall:1"_s << true << FaultKind::Stall << 1 << qint64(0);
    QTest::addRow("restart") << u"12000:restart:2000"_s << true << FaultKind::Restart << -1 << qint64(2000);
    QTest::addRow("malformed") << u"1:malformed:all:binary"_s << true << FaultKind::Malformed << -1
                               << qint64(0);
    QTest::addRow("oversized") << u"1:oversized:3:20000000"_s << true << FaultKind::Oversized << 3
                               << qint64(20000000);
    QTest::addRow("flood") << uR"(20000:flood:{"type":"trades","coin":"BTC"}:100000)"_s << true
                           << FaultKind::Flood << -1 << qint64(100000);
    QTest::addRow("reject") << uR"(0:reject:{"type":"bbo","coin":"X"})"_s << true << FaultKind::Reject << -1
                            << qint64(0);
    QTest::addRow("no kind") << u"5000"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("bad time") << u"soon:abort"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("unknown kind") << u"1:explode"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("bad conn") << u"1:stall:first"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("bad code") << u"1:close:1:99"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("bad malformed") << u"1:malformed:1:weird"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("flood bad sub") << uR"(1:flood:{"type":"nope"}:10)"_s << false << FaultKind::Abort << 0
                                   << qint64(0);
    QTest::addRow("flood no count") << uR"(1:flood:{"type":"trades","coin":"BTC"})"_s << false
                                    << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("crossed") << uR"(3000:crossed:{"type":"bbo","coin":"BTC"})"_s << true << FaultKind::Crossed
                             << -1 << qint64(0);
    QTest::addRow("backwards") << uR"(3000:backwards:{"type":"l2Book","coin":"ETH"})"_s << true
                               << FaultKind::Backwards << -1 << qint64(0);
    QTest::addRow("backwards ms") << uR"(3000:backwards:{"type":"trades","coin":"ETH"}:500)"_s << true
                                  << FaultKind::Backwards << -1 << qint64(500);
    QTest::addRow("duplicate") << uR"(1:duplicate:{"type":"trades","coin":"BTC"})"_s << true
                               << FaultKind::Duplicate << -1 << qint64(0);
    QTest::addRow("foreign") << uR"(1:foreign:{"type":"trades","coin":"BTC"})"_s << true << FaultKind::Foreign
                             << -1 << qint64(0);
    QTest::addRow("delay") << u"0:delay:250"_s << true << FaultKind::Delay << -1 << qint64(250);
    QTest::addRow("offset") << u"0:offset:-1500"_s << true << FaultKind::Offset << -1 << qint64(0);
    QTest::addRow("crossed trades") << uR"(1:crossed:{"type":"trades","coin":"BTC"})"_s << false
                                    << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("duplicate bbo") << uR"(1:duplicate:{"type":"bbo","coin":"BTC"})"_s << false
                                   << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("backwards candle") << uR"(1:backwards:{"type":"candle","coin":"BTC","interval":"1m"})"_s
                                      << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("backwards bad ms")
        << uR"(1:backwards:{"type":"bbo","coin":"BTC"}:-5)"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("crossed no sub") << u"1:crossed"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("delay negative") << u"0:delay:-1"_s << false << FaultKind::Abort << 0 << qint64(0);
    QTest::addRow("offset words") << u"0:offset:ahead"_s << false << FaultKind::Abort << 0 << qint64(0);
}

void tst_Simulator::faultSpecs()
{
    QFETCH(QString, spec);
    QFETCH(bool, valid);
    QFETCH(FaultKind, kind);
    QFETCH(int, connection);
    QFETCH(qint64, amount);
    QString error;
    const auto f = Fault::parseSpec(spec, &error);
    QCOMPARE(f.has_value(), valid);
    if (!valid) {
        QVERIFY(error.startsWith(u"bad fault \""_s + spec));
        return;
    }
    QCOMPARE(f->kind, kind);
    QCOMPARE(f->connection, connection);
    QCOMPARE(f->amount, amount);
    if (kind == FaultKind::Close) {
        QCOMPARE(f->closeCode, 4000);
        QCOMPARE(f->reason, u"going away"_s);
    }
    if (kind == FaultKind::Offset)
        QCOMPARE(f->offsetMs, -1500);
    if (kind == FaultKind::Crossed || kind == FaultKind::Backwards || kind == FaultKind::Duplicate ||
        kind == FaultKind::Foreign)
        QVERIFY(f->subscription.isValid());
}

void tst_Simulator::scheduledFault()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    QString error;
    const auto f = Fault::parseSpec(u"300:abort:all"_s, &error);
    QVERIFY(f);
    QSignalSpy gone(&c->socket, &QWebSocket::disconnected);
    m_sim->schedule(*f);
    QVERIFY(gone.wait(5000));
}

void tst_Simulator::controlChannel()
{
    Client *feed = connectClient(*m_sim);
    QVERIFY(feed);
    Client control;
    QVERIFY(control.open(m_sim->controlUrl()));
    QCOMPARE(m_sim->connections().size(), 1); // control connections are not feed connections

    control.send(R"({"fault":"status"})");
    QTRY_COMPARE(control.texts.size(), 1);
    const QJsonObject status = QJsonDocument::fromJson(control.texts[0]).object();
    QVERIFY(status[u"ok"_s].toBool());
    QCOMPARE(status[u"connections"_s].toArray().size(), 1);
    const int id = status[u"connections"_s][0][u"id"_s].toInt();

    control.send(R"({"fault":"explode"})");
    QTRY_COMPARE(control.texts.size(), 2);
    QCOMPARE(QJsonDocument::fromJson(control.texts[1]).object()[u"ok"_s].toBool(), false);

    QSignalSpy gone(&feed->socket, &QWebSocket::disconnected);
    control.send(R"({"fault":"abort","connection":)" + QByteArray::number(id) + "}");
    QVERIFY(gone.wait(5000));
    QTRY_COMPARE(control.texts.size(), 3);
    QVERIFY(QJsonDocument::fromJson(control.texts[2]).object()[u"ok"_s].toBool());
}

void tst_Simulator::replay()
{
    // A recording as the client writes it: data frames of two subscriptions plus control frames.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"session.jsonl"_s);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    const Hl::Subscription trades = sub(R"({"type":"trades","coin":"BTC"})");
    const Hl::Subscription bbo = sub(R"({"type":"bbo","coin":"ETH"})");
    SyntheticFeed tf(trades, 1), bf(bbo, 1);
    qint64 ns = 5'000'000'000;
    auto write = [&](const QByteArray &frame) {
        file.write(toJsonLine({QDateTime::currentDateTimeUtc(), ns, 1, frame, false}));
        ns += 2'000'000;
    };
    write(
        R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}})");
    for (int i = 0; i < 7; ++i) {
        write(tf.next(1000 + i));
        if (i % 2 == 0)
            write(bf.next(1000 + i));
    }
    write(R"({"channel":"pong"})");
    file.close();

    SimulatorConfig cfg;
    cfg.replayFile = path;
    cfg.replaySpeed = 10;
    m_sim = startSim(cfg);
    QSignalSpy finished(m_sim.get(), &FeedSimulator::replayFinished);
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    c->subscribe(trades.canonical());
    c->subscribe(bbo.canonical());
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.first().first().toLongLong(), 11);
    QTRY_COMPARE(c->dataFor(trades), 7);
    QTRY_COMPARE(c->dataFor(bbo), 4);
    QCOMPARE(m_sim->dataFramesSent(trades), 7);
}

void tst_Simulator::replayErrors()
{
    QTemporaryDir dir;
    SimulatorConfig cfg;
    cfg.replayFile = dir.filePath(u"missing.jsonl"_s);
    FeedSimulator missing(cfg);
    QString error;
    QVERIFY(!missing.start(&error));
    QVERIFY(error.contains(u"cannot open recording"_s));

    QFile bad(dir.filePath(u"bad.jsonl"_s));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"t\":\"2026-01-01T00:00:00.000Z\",\"ns\":1,\"conn\":1,\"text\":\"{}\"}\nnot a line\n");
    bad.close();
    cfg.replayFile = bad.fileName();
    FeedSimulator broken(cfg);
    QVERIFY(!broken.start(&error));
    QVERIFY2(error.contains(u"line 2: not a JSON object"_s), qPrintable(error));
}

namespace {

QJsonValue dataOf(const QByteArray &frame)
{
    return QJsonDocument::fromJson(frame).object().value(u"data"_s);
}

/// Data frames @p c received for @p s, as text, in order.
QList<QByteArray> dataTexts(const Client &c, const Hl::Subscription &s)
{
    QList<QByteArray> out;
    for (qsizetype i = 0; i < c.frames.size(); ++i)
        if (c.frames[i].kind == Hl::FrameKind::Data && c.frames[i].routeKey == s.routeKey())
            out.append(c.texts[i]);
    return out;
}

Fault twist(FaultKind kind, const Hl::Subscription &s, qint64 amount = 0)
{
    Fault f = Fault::make(kind);
    f.subscription = s;
    f.amount = amount;
    return f;
}

double px(const QJsonValue &level)
{
    return level.toObject().value(u"px"_s).toString().toDouble();
}

} // namespace

void tst_Simulator::faultCrossed()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const auto bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    c->subscribe(bbo.canonical());
    c->subscribe(book.canonical());
    QVERIFY(waitUntil([&] { return c->dataFor(bbo) >= 2 && c->dataFor(book) >= 1; }));
    // Clean frames are never crossed.
    for (const QByteArray &t : dataTexts(*c, bbo)) {
        const QJsonArray sides = dataOf(t)[u"bbo"_s].toArray();
        QVERIFY(px(sides[0]) < px(sides[1]));
    }
    m_sim->setDataPaused(true); // the next frames are the faults' own
    QVERIFY(waitUntil([&] {
        return c->dataFor(bbo) == m_sim->dataFramesSent(bbo) &&
               c->dataFor(book) == m_sim->dataFramesSent(book);
    }));
    const qsizetype before = c->texts.size();
    QVERIFY(m_sim->apply(twist(FaultKind::Crossed, bbo)));
    QVERIFY(m_sim->apply(twist(FaultKind::Crossed, book)));
    QVERIFY(waitUntil([&] { return c->texts.size() == before + 2; }));
    const QJsonArray sides = dataOf(c->texts[before])[u"bbo"_s].toArray();
    QVERIFY2(px(sides[0]) > px(sides[1]), c->texts[before].constData());
    const QJsonArray levels = dataOf(c->texts[before + 1])[u"levels"_s].toArray();
    QCOMPARE(levels[0].toArray().size(), 20);
    QVERIFY(px(levels[0][0]) > px(levels[1][0]));
    QCOMPARE(c->frames[before + 1].routeKey, book.routeKey());
}

void tst_Simulator::faultBackwards()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const auto trades = sub(R"({"type":"trades","coin":"SOL"})");
    c->subscribe(trades.canonical());
    QVERIFY(waitUntil([&] { return c->dataFor(trades) >= 2; }));
    m_sim->setDataPaused(true);
    QVERIFY(waitUntil([&] { return c->dataFor(trades) == m_sim->dataFramesSent(trades); }));
    const qsizetype before = c->texts.size();
    const QJsonArray last = dataOf(dataTexts(*c, trades).constLast()).toArray();
    const qint64 lastTime = last.last()[u"time"_s].toInteger();
    const qint64 lastTid = last.last()[u"tid"_s].toInteger();
    QVERIFY(m_sim->apply(twist(FaultKind::Backwards, trades, 700)));
    QVERIFY(waitUntil([&] { return c->texts.size() > before; }));
    const QJsonArray back = dataOf(c->texts[before]).toArray();
    QVERIFY(!back.isEmpty());
    for (const QJsonValue &t : back) {
        QCOMPARE(t[u"time"_s].toInteger(), lastTime - 700);
        QVERIFY(t[u"tid"_s].toInteger() > lastTid); // new trades, only their time is off
    }
}

void tst_Simulator::faultDuplicateAndForeign()
{
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    c->subscribe(trades.canonical());
    QVERIFY(waitUntil([&] { return c->dataFor(trades) >= 2; }));
    m_sim->setDataPaused(true);
    QVERIFY(waitUntil([&] { return c->dataFor(trades) == m_sim->dataFramesSent(trades); }));
    const qsizetype before = c->texts.size();
    const QJsonValue lastTrade = dataOf(dataTexts(*c, trades).constLast()).toArray().last();
    QVERIFY(m_sim->apply(twist(FaultKind::Duplicate, trades)));
    QVERIFY(m_sim->apply(twist(FaultKind::Foreign, trades)));
    QVERIFY(waitUntil([&] { return c->texts.size() == before + 2; }));
    const QJsonArray dup = dataOf(c->texts[before]).toArray();
    QCOMPARE(dup.size(), 1);
    QCOMPARE(dup[0], lastTrade); // the very same trade: tid, time, hash
    const QJsonArray foreign = dataOf(c->texts[before + 1]).toArray();
    QVERIFY(foreign.size() >= 2);
    QCOMPARE(foreign.first()[u"coin"_s].toString(), u"BTC"_s); // still routed to BTC's trades
    QCOMPARE(foreign.last()[u"coin"_s].toString(), u"ETH"_s);
    QCOMPARE(c->frames[before + 1].routeKey, trades.routeKey());
}

void tst_Simulator::integrityFaultNeedsItsSubscription()
{
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    QString error;
    QVERIFY(!m_sim->apply(twist(FaultKind::Duplicate, trades), &error));
    QVERIFY2(error.contains(u"no connection holds"_s), qPrintable(error));
    QJsonObject wrongType{{u"fault"_s, u"crossed"_s},
                          {u"subscription"_s, QJsonObject{{u"type"_s, u"trades"_s}, {u"coin"_s, u"BTC"_s}}}};
    QVERIFY(!Fault::fromJson(wrongType, &error));
    QCOMPARE(error, u"a crossed book needs an l2Book or bbo subscription"_s);
    QVERIFY(!Fault::fromJson(QJsonObject{{u"fault"_s, u"duplicate"_s}}, &error));
    QCOMPARE(error, u"this fault needs a \"subscription\""_s);
}

void tst_Simulator::tradeIdsContinueAcrossReconnects()
{
    const auto trades = sub(R"({"type":"trades","coin":"ETH"})");
    auto tidsOf = [&](const Client &c) {
        QList<qint64> out;
        for (const QByteArray &t : dataTexts(c, trades))
            for (const QJsonValue &v : dataOf(t).toArray())
                out.append(v[u"tid"_s].toInteger());
        return out;
    };
    Client *a = connectClient(*m_sim);
    QVERIFY(a);
    a->subscribe(trades.canonical());
    QVERIFY(waitUntil([&] { return a->dataFor(trades) >= 5; }));
    QSignalSpy gone(&a->socket, &QWebSocket::disconnected);
    QVERIFY(m_sim->apply(Fault::make(FaultKind::Abort)));
    QVERIFY(gone.wait(5000));
    const QList<qint64> first = tidsOf(*a);
    Client *b = connectClient(*m_sim);
    QVERIFY(b);
    b->subscribe(trades.canonical());
    QVERIFY(waitUntil([&] { return b->dataFor(trades) >= 5; }));
    const QList<qint64> second = tidsOf(*b);
    QVERIFY(!second.isEmpty());
    QVERIFY(second.constFirst() > first.constLast()); // a clean feed never repeats a trade
}

void tst_Simulator::delayAndOffsetShiftEventTimes()
{
    SimulatorConfig cfg;
    cfg.rateScale = 20;
    cfg.delay = 400ms;
    m_sim = startSim(cfg);
    QCOMPARE(m_sim->delayMs(), 400);
    // The stamp is the wall clock read in between, less the delay: exact, whatever the machine's speed.
    qint64 before = QDateTime::currentMSecsSinceEpoch();
    qint64 stamp = m_sim->eventTimeMs();
    qint64 after = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(stamp >= before - 400 && stamp <= after - 400);

    // On the wire: every frame's event time is at least 400 ms before it arrived.
    Client *c = connectClient(*m_sim);
    QVERIFY(c);
    const auto bbo = sub(R"({"type":"bbo","coin":"ETH"})");
    QList<qint64> arrivals;
    connect(&c->socket, &QWebSocket::textMessageReceived, c,
            [&arrivals] { arrivals.append(QDateTime::currentMSecsSinceEpoch()); });
    c->subscribe(bbo.canonical());
    QVERIFY(waitUntil([&] { return c->dataFor(bbo) >= 5; }));
    for (qsizetype i = 0; i < c->frames.size(); ++i) {
        if (c->frames[i].kind != Hl::FrameKind::Data)
            continue;
        const qint64 t = dataOf(c->texts[i])[u"time"_s].toInteger();
        QVERIFY2(arrivals[i] - t >= 400, qPrintable(u"%1 ms late"_s.arg(arrivals[i] - t)));
    }

    // An offset moves the clock the other way; both together add up.
    Fault offset = Fault::make(FaultKind::Offset);
    offset.offsetMs = 2500;
    QVERIFY(m_sim->apply(offset));
    QCOMPARE(m_sim->clockOffsetMs(), 2500);
    before = QDateTime::currentMSecsSinceEpoch();
    stamp = m_sim->eventTimeMs();
    after = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(stamp >= before + 2100 && stamp <= after + 2100);
    Fault noDelay = Fault::make(FaultKind::Delay);
    noDelay.amount = 0;
    QVERIFY(m_sim->apply(noDelay));
    before = QDateTime::currentMSecsSinceEpoch();
    stamp = m_sim->eventTimeMs();
    after = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(stamp >= before + 2500 && stamp <= after + 2500);
}

void tst_Simulator::delayAndOffsetFromTheControlChannel()
{
    Client control;
    QVERIFY(control.open(m_sim->controlUrl()));
    control.send(R"({"fault":"delay","amount":250})");
    QTRY_COMPARE(control.texts.size(), 1);
    QVERIFY(QJsonDocument::fromJson(control.texts[0]).object()[u"ok"_s].toBool());
    QCOMPARE(m_sim->delayMs(), 250);
    control.send(R"({"fault":"offset","ms":-1500})");
    QTRY_COMPARE(control.texts.size(), 2);
    QCOMPARE(m_sim->clockOffsetMs(), -1500);
    control.send(R"({"fault":"offset","ms":1e300})");
    QTRY_COMPARE(control.texts.size(), 3);
    QCOMPARE(QJsonDocument::fromJson(control.texts[2]).object()[u"ok"_s].toBool(), false);
    QCOMPARE(m_sim->clockOffsetMs(), -1500);
    // A crossed book for a subscription nobody holds: a clear error, nothing sent.
    control.send(R"({"fault":"crossed","subscription":{"type":"bbo","coin":"BTC"}})");
    QTRY_COMPARE(control.texts.size(), 4);
    const QJsonObject r = QJsonDocument::fromJson(control.texts[3]).object();
    QCOMPARE(r[u"ok"_s].toBool(), false);
    QVERIFY(r[u"error"_s].toString().contains(u"no connection holds"_s));
}

QTEST_GUILESS_MAIN(tst_Simulator)
#include "tst_simulator.moc"

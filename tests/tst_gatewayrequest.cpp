// The gateway's client-request parser: the venue's protocol and its error texts byte for byte,
// and hostile input that must give an error, never a crash.
#include "clientrequest.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Gw;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

class tst_GatewayRequest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void requests();
    void venueTexts();
    void postKeepsTheRequestBytes();
    void errors_data();
    void errors();
    void hostileInput();
    void echoesAsTheSimulator();
};

void tst_GatewayRequest::requests()
{
    QCOMPARE(parseClientRequest(R"({"method":"ping"})").kind, RequestKind::Ping);
    const ClientRequest s =
        parseClientRequest(R"({"method":"subscribe","subscription":{"coin":"BTC","type":"trades"}})");
    QCOMPARE(s.kind, RequestKind::Subscribe);
    QCOMPARE(s.subscription.canonical(), QByteArray(R"({"coin":"BTC","type":"trades"})"));
    // Address case and key order do not matter: one canonical subscription.
    const ClientRequest u1 = parseClientRequest(
        R"({"method":"subscribe","subscription":{"type":"userFills","user":"0xABCDEF0123456789ABCDEF0123456789ABCDEF01"}})");
    const ClientRequest u2 = parseClientRequest(
        R"({"subscription":{"user":"0xabcdef0123456789abcdef0123456789abcdef01","type":"userFills"},"method":"subscribe"})");
    QCOMPARE(u1.kind, RequestKind::Subscribe);
    QCOMPARE(u1.subscription.canonical(), u2.subscription.canonical());
    const ClientRequest un =
        parseClientRequest(R"({"method":"unsubscribe","subscription":{"type":"l2Book","coin":"ETH"}})");
    QCOMPARE(un.kind, RequestKind::Unsubscribe);
    QCOMPARE(un.subscription.canonical(), QByteArray(R"({"coin":"ETH","type":"l2Book"})"));
    const ClientRequest p = parseClientRequest(
        R"({"method":"post","id":7,"request":{"type":"info","payload":{"type":"l2Book","coin":"ETH"}}})");
    QCOMPARE(p.kind, RequestKind::Post);
    QCOMPARE(p.postId, 7);
}

void tst_GatewayRequest::venueTexts()
{
    // The fixtures' texts, byte for byte.
    QFile f(QStringLiteral(FEEDSCOPE_TESTDATA "/hyperliquid/error.limits.jsonl"));
    QStringList fixture;
    QVERIFY(f.open(QIODevice::ReadOnly));
    {
        for (const QByteArray &line : f.readAll().split('\n'))
            if (!line.trimmed().isEmpty())
                fixture.append(QJsonDocument::fromJson(line).object().value(u"data"_s).toString());
    }
    const QStringList ours{tooManyUsersText(10), tooManyPendingPostsText(1234), tooManyMessagesText(2000),
                           tooManyChannelsText(1000)};
    QCOMPARE(ours, fixture);
    QCOMPARE(tooManyChannelsText(1000), u"Cannot subscribe to more than 1000 channels."_s);
    QCOMPARE(tooManyMessagesText(2000), u"Cannot send more than 2000 messages per minute."_s);
    QCOMPARE(tooManyUsersText(10), u"Cannot track more than 10 total users."_s);
    QCOMPARE(tooManyPendingPostsText(1234), u"too many pending post requests id=1234"_s);
    QCOMPARE(
        errorFrame(parseErrorText(R"({ "type": "allMids" })")),
        QByteArray(
            R"({"channel":"error","data":"Error parsing JSON into valid websocket request: { \"type\": \"allMids\" }"})"));
    QCOMPARE(pongFrame(), QByteArray(R"({"channel":"pong"})"));
    const auto candle = sub(R"({"type":"candle","coin":"UNI","interval":"30m"})");
    QCOMPARE(alreadySubscribedText(candle),
             u"Already subscribed: {\"type\":\"candle\",\"interval\":\"30m\",\"coin\":\"UNI\"}"_s);
    QCOMPARE(
        ackFrame(sub(R"({"type":"l2Book","coin":"BTC"})")),
        QByteArray(
            R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC","nSigFigs":null,"mantissa":null}}})"));
    QCOMPARE(
        ackFrame(sub(R"({"type":"trades","coin":"SOL"})"), true),
        QByteArray(
            R"({"channel":"subscriptionResponse","data":{"method":"unsubscribe","subscription":{"type":"trades","coin":"SOL"}}})"));
}

void tst_GatewayRequest::postKeepsTheRequestBytes()
{
    // A signed action: odd spacing, key order and number forms must survive exactly.
    const QByteArray request =
        R"({ "type" : "action", "payload":{"action":{"type":"order","orders":[{"a":1,"b":true,"p":"1.50","s":"0.1000","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"},"nonce":1713825891591,"signature":{"r":"0xab\"cd","s":"0x12","v":27},"vaultAddress":null} })";
    const QByteArray frame = R"({"method":"post", "id": 256, "request": )" + request + "}";
    const ClientRequest p = parseClientRequest(frame);
    QCOMPARE(p.kind, RequestKind::Post);
    QCOMPARE(p.postId, 256);
    QCOMPARE(p.postRequest, request);
    QCOMPARE(topLevelValue(R"({"a":[1,{"b":"}"}],"c" : "x\\\"y" })", "c").toByteArray(),
             QByteArray(R"("x\\\"y")"));
    QCOMPARE(topLevelValue(R"({"a":1,"a":2})", "a").toByteArray(), QByteArray("2"));
    QVERIFY(topLevelValue(R"({"a":1})", "b").isNull());

    // The key written with an escape (valid JSON for the same key): the scanner does not match
    // it, so the request is the re-serialised object (found by tests/fuzz/fuzz_gatewayrequest).
    const ClientRequest escaped = parseClientRequest(
        R"({"method":"post","id":7,"r\u0065quest":{"type":"info","payload":{"type":"meta"}}})");
    QCOMPARE(escaped.kind, RequestKind::Post);
    QCOMPARE(escaped.postId, 7);
    QCOMPARE(escaped.postRequest, QByteArray(R"({"payload":{"type":"meta"},"type":"info"})"));
}

void tst_GatewayRequest::errors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("error");
    const QString parse = u"Error parsing JSON into valid websocket request: "_s;
    for (
        const char *raw :
        {"", "not json", "[]", "42", "\"ping\"", "{}", R"({"method":7})", R"({"method":"dance"})",
         R"({"method":"subscribe"})", R"({"method":"subscribe","subscription":"trades"})",
         R"({"method":"subscribe","subscription":{"type":"nope"}})",
         R"({"method":"subscribe","subscription":{"type":"webData2","user":"0x0000000000000000000000000000000000000000"}})",
         R"({"method":"unsubscribe","subscription":{}})",
         R"({"method":"post","id":-1,"request":{"type":"info","payload":{}}})",
         R"({"method":"post","id":1.5,"request":{"type":"info","payload":{}}})",
         R"({"method":"post","id":"1","request":{"type":"info","payload":{}}})",
         R"({"method":"post","id":1,"request":{"type":"explorer","payload":{}}})",
         R"({"method":"post","id":1,"request":{"type":"info"}})", R"({"method":"ping")"})
        QTest::newRow(raw) << QByteArray(raw) << parse + QString::fromUtf8(raw);
    QTest::newRow("invalid coin")
        << QByteArray(R"({"method":"subscribe","subscription":{"type":"trades","coin":""}})")
        << u"Invalid subscription {\"coin\":\"\",\"type\":\"trades\"}"_s;
    QTest::newRow("bad sig figs")
        << QByteArray(R"({"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC","nSigFigs":9}})")
        << u"Invalid subscription {\"coin\":\"BTC\",\"nSigFigs\":9,\"type\":\"l2Book\"}"_s;
}

void tst_GatewayRequest::errors()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, error);
    const ClientRequest r = parseClientRequest(frame);
    QCOMPARE(r.kind, RequestKind::Invalid);
    QCOMPARE(r.error, error);
}

void tst_GatewayRequest::hostileInput()
{
    // Deep nesting, huge strings, invalid UTF-8, NULs, random bytes and mutations of valid
    // requests: every one is a request or an error, nothing crashes, nothing hangs.
    QList<QByteArray> inputs{QByteArray(100000, '['),
                             QByteArray(100000, '{'),
                             "{\"method\":\"subscribe\",\"subscription\":" + QByteArray(5000, '[') + "}",
                             "{\"method\":\"post\",\"id\":1,\"request\":{\"type\":\"info\",\"payload\":" +
                                 QByteArray(3000, '{') + "}}",
                             QByteArray("{\"method\":\"ping\"\0}", 18),
                             "\xff\xfe\xfd",
                             "{\"method\":\"\xc3\x28\"}",
                             "{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"" +
                                 QByteArray(1 << 20, 'A') + "\"}}"};
    const QList<QByteArray> seeds{
        R"({"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC","nSigFigs":5,"mantissa":2}})",
        R"({"method":"post","id":3,"request":{"type":"action","payload":{"action":{"type":"order"},"nonce":1}}})",
        R"({"method":"unsubscribe","subscription":{"type":"candle","coin":"ETH","interval":"1m"}})"};
    QRandomGenerator rng(14);
    for (int i = 0; i < 20000; ++i) {
        QByteArray m = seeds.at(i % seeds.size());
        const int edits = 1 + static_cast<int>(rng.bounded(4u));
        for (int e = 0; e < edits; ++e) {
            const int at = static_cast<int>(rng.bounded(static_cast<quint32>(m.size())));
            switch (rng.bounded(3u)) {
            case 0:
                m[at] = static_cast<char>(rng.bounded(256u));
                break;
            case 1:
                m.remove(at, 1 + static_cast<int>(rng.bounded(5u)));
                break;
            default:
                m.insert(at, "{[\",:}]"[rng.bounded(7u)]);
            }
            if (m.isEmpty())
                break;
        }
        inputs.append(m);
    }
    int invalid = 0;
    for (const QByteArray &in : std::as_const(inputs)) {
        const ClientRequest r = parseClientRequest(in);
        if (r.kind == RequestKind::Invalid) {
            ++invalid;
            QVERIFY(!r.error.isEmpty());
        } else if (r.kind == RequestKind::Subscribe || r.kind == RequestKind::Unsubscribe) {
            QVERIFY(r.subscription.isValid());
        } else if (r.kind == RequestKind::Post) {
            QVERIFY(r.postId >= 0);
            QVERIFY(QJsonDocument::fromJson(r.postRequest).isObject());
        }
    }
    QVERIFY(invalid > inputs.size() / 2);
}

void tst_GatewayRequest::echoesAsTheSimulator()
{
    // Every recorded ack, byte for byte, from the subscription it acknowledges.
    const QDir dir(QStringLiteral(FEEDSCOPE_TESTDATA "/hyperliquid"));
    int checked = 0;
    for (const QString &name : dir.entryList({u"subscriptionResponse.*.json"_s})) {
        QFile f(dir.filePath(name));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray ack = f.readAll().trimmed();
        const QJsonObject echo = QJsonDocument::fromJson(ack)
                                     .object()
                                     .value(u"data"_s)
                                     .toObject()
                                     .value(u"subscription"_s)
                                     .toObject();
        const auto s = Hl::Subscription::fromJson(echo);
        QVERIFY2(s.has_value(), qPrintable(name));
        QCOMPARE(ackFrame(*s), ack);
        ++checked;
    }
    QCOMPARE(checked, 6);
    // Key order as the venue echoes it (PROTOCOL.md §1.3, fixture subscriptionResponse.candle.HYPE.1d).
    QCOMPARE(normalisedEcho(sub(R"({"coin":"HYPE","interval":"1d","type":"candle"})")),
             QByteArray(R"({"type":"candle","interval":"1d","coin":"HYPE"})"));
    QCOMPARE(normalisedEcho(sub(R"({"coin":"HYPE","type":"bbo"})")),
             QByteArray(R"({"type":"bbo","coin":"HYPE"})"));
}

QTEST_GUILESS_MAIN(tst_GatewayRequest)
#include "tst_gatewayrequest.moc"

#include "codec.h"
#include "subscription.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <QTest>

using namespace FeedScope::Hl;
using namespace Qt::StringLiterals;

namespace {

QString dataDir()
{
    return QStringLiteral(FEEDSCOPE_TESTDATA "/hyperliquid");
}

QByteArray readFixture(const QString &name)
{
    QFile f(dataDir() + u'/' + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open fixture %s", qPrintable(name));
    return f.readAll().trimmed();
}

/// One message of a fixture file: whole file for *.json, one line for *.jsonl.
QByteArray fixtureMessage(const QString &file, int line)
{
    const QByteArray all = readFixture(file);
    if (!file.endsWith(u".jsonl"_s))
        return all;
    return all.split('\n').value(line).trimmed();
}

Subscription sub(const char *json)
{
    QString error;
    auto s = Subscription::fromJson(QJsonDocument::fromJson(json).object(), &error);
    if (!s)
        qFatal("bad test subscription %s: %s", json, qPrintable(error));
    return *s;
}

const char *const userA = "0x15f43d1f2dee81424afd891943262aa90f22cc2a";

/// A complete example of every subscription type, with every parameter it takes.
QList<QByteArray> exampleOfEveryType()
{
    const QByteArray u = "\"0xAbCdEf0123456789aBcDeF0123456789ABCDEF01\"";
    return {
        R"({"type":"allMids","dex":"xyz"})",
        R"({"type":"notification","user":)" + u + "}",
        R"({"type":"webData3","user":)" + u + "}",
        R"({"type":"twapStates","user":)" + u + R"(,"dex":"xyz"})",
        R"({"type":"clearinghouseState","user":)" + u + R"(,"dex":"xyz"})",
        R"({"type":"openOrders","user":)" + u + R"(,"dex":""})",
        R"({"type":"candle","coin":"kPEPE","interval":"1M"})",
        R"({"type":"l2Book","coin":"BTC","nSigFigs":5,"mantissa":2,"fast":true})",
        R"({"type":"trades","coin":"PURR/USDC"})",
        R"({"type":"orderUpdates","user":)" + u + "}",
        R"({"type":"userEvents","user":)" + u + "}",
        R"({"type":"userFills","user":)" + u + R"(,"aggregateByTime":true})",
        R"({"type":"userFundings","user":)" + u + "}",
        R"({"type":"userNonFundingLedgerUpdates","user":)" + u + "}",
        R"({"type":"activeAssetCtx","coin":"@107"})",
        R"({"type":"activeAssetData","user":)" + u + R"(,"coin":"ETH"})",
        R"({"type":"userTwapSliceFills","user":)" + u + "}",
        R"({"type":"userTwapHistory","user":)" + u + "}",
        R"({"type":"bbo","coin":"xyz:NVDA"})",
        R"({"type":"spotState","user":)" + u + R"(,"isPortfolioMargin":false})",
        R"({"type":"allDexsClearinghouseState","user":)" + u + "}",
        R"({"type":"allDexsAssetCtxs"})",
        R"({"type":"outcomeMetaUpdates"})",
        R"({"type":"fastAssetCtxs"})",
        R"({"type":"assetCtxs","dex":"xyz"})",
        R"({"type":"spotAssetCtxs"})",
        R"({"type":"userHistoricalOrders","user":)" + u + "}",
        R"({"type":"webData2","user":)" + u + "}",
    };
}

/// Builds a data frame for @p s the way the server shapes it, filling the routing fields.
QByteArray dataFrameFor(const Subscription &s)
{
    const TypeSpec *spec = s.spec();
    QJsonObject data;
    QJsonValue dataValue;
    for (const RouteField &f : spec->route) {
        const QString path = QString::fromLatin1(f.dataPath);
        const QJsonValue v = s.json().value(QLatin1StringView(f.param));
        const QJsonValue value = v.isUndefined() ? QJsonValue(QString::fromLatin1(f.defaultValue)) : v;
        if (path == u"0.coin"_s) {
            dataValue = QJsonArray{QJsonObject{{u"coin"_s, value}, {u"px"_s, u"1.0"_s}}};
        } else if (path.contains(u'.')) {
            const QStringList parts = path.split(u'.');
            data.insert(parts[0], QJsonObject{{parts[1], value}});
        } else {
            data.insert(path, value);
        }
    }
    if (dataValue.isNull())
        dataValue = data;
    // Channel: the spot alias for activeAssetCtx on a spot coin.
    QString channel = QString::fromLatin1(spec->channel);
    if (spec->aliasChannel && s.json().value(u"coin"_s).toString().startsWith(u'@'))
        channel = QString::fromLatin1(spec->aliasChannel);
    return QJsonDocument(QJsonObject{{u"channel"_s, channel}, {u"data"_s, dataValue}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class tst_Codec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fuzzRegressions();
    void fixtures_data();
    void fixtures();
    void everyFixtureIsCovered();
    void fastAssetCtxsPayload();
    void canonicalForm();
    void acksMatchRequests_data();
    void acksMatchRequests();
    void roundTripEveryType_data();
    void roundTripEveryType();
    void ambiguity_data();
    void ambiguity();
    void serverErrors_data();
    void serverErrors();
    void validation_data();
    void validation();
    void subscriptionList();
    void garbage_data();
    void garbage();
    void randomBytesNeverCrash();
    void encoders();
    void frameBytesExactAndFaithful_data();
    void frameBytesExactAndFaithful();
    void routeKeysShared();
    void eventTimeFromFixtures_data();
    void eventTimeFromFixtures();
    void eventTimeShapes_data();
    void eventTimeShapes();

private:
    FrameDecoder m_decoder;
    QSet<QString> m_coveredFiles;
};

void tst_Codec::fixtures_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<FrameKind>("kind");
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QByteArray>("routeKey");
    QTest::addColumn<bool>("snapshot");

    const QByteArray twapUser = "0xe746435d136c4714383a64ee28e35c8bdb8d5cb1";
    auto data = [](const char *file, int line, const char *channel, const QByteArray &key,
                   bool snap = false) {
        QTest::addRow("%s:%d", file, line)
            << QString::fromLatin1(file) << line << FrameKind::Data << QByteArray(channel) << key << snap;
    };
    data("allDexsAssetCtxs.trimmed.json", 0, "allDexsAssetCtxs", "allDexsAssetCtxs");
    data("allMids.json", 0, "allMids", "allMids");
    for (int i = 0; i < 5; ++i)
        data("bbo.ETH.jsonl", i, "bbo", "bbo|ETH");
    data("bbo.HYPE.json", 0, "bbo", "bbo|HYPE");
    data("candle.BTC.1m.json", 0, "candle", "candle|BTC|1m");
    data("candle.HYPE.1d.json", 0, "candle", "candle|HYPE|1d");
    data("l2Book.BTC.json", 0, "l2Book", "l2Book|BTC");
    data("orderUpdates.json", 0, "orderUpdates", "orderUpdates");
    data("trades.BTC.2024.json", 0, "trades", "trades|BTC");
    data("trades.BTC.json", 0, "trades", "trades|BTC");
    data("user.fills.json", 0, "user", "userEvents");
    data("user.fills.liquidation.json", 0, "user", "userEvents");
    data("userFills.snapshot.2024.json", 0, "userFills", "userFills|" + QByteArray(userA), true);
    data("userTwapHistory.snapshot.json", 0, "userTwapHistory", "userTwapHistory|" + twapUser, true);
    data("userTwapSliceFills.snapshot.json", 0, "userTwapSliceFills", "userTwapSliceFills|" + twapUser, true);

    auto control = [](const char *file, int line, FrameKind kind, const char *channel) {
        QTest::addRow("%s:%d", file, line)
            << QString::fromLatin1(file) << line << kind << QByteArray(channel) << QByteArray() << false;
    };
    control("pong.json", 0, FrameKind::Pong, "pong");
    control("error.parse.json", 0, FrameKind::Error, "error");
    for (int i = 0; i < 4; ++i)
        control("error.limits.jsonl", i, FrameKind::Error, "error");
    for (const char *f : {"subscriptionResponse.allMids.json", "subscriptionResponse.bbo.HYPE.json",
                          "subscriptionResponse.candle.HYPE.1d.json", "subscriptionResponse.l2Book.BTC.json",
                          "subscriptionResponse.l2Book.HYPE.json", "subscriptionResponse.trades.SOL.json"})
        control(f, 0, FrameKind::SubscriptionResponse, "subscriptionResponse");
}

void tst_Codec::fixtures()
{
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(FrameKind, kind);
    QFETCH(QByteArray, channel);
    QFETCH(QByteArray, routeKey);
    QFETCH(bool, snapshot);

    const QByteArray frame = fixtureMessage(file, line);
    QVERIFY(!frame.isEmpty());
    const Envelope env = m_decoder.decode(frame);
    QCOMPARE(env.error, DecodeError::None);
    QCOMPARE(env.kind, kind);
    QCOMPARE(env.channel, channel);
    QCOMPARE(env.routeKey, routeKey);
    QCOMPARE(env.isSnapshot, snapshot);
    QCOMPARE(env.raw, frame);
    m_coveredFiles.insert(file);
}

void tst_Codec::everyFixtureIsCovered()
{
    // Every recorded message file is decoded above (the fastAssetCtxs payload files have their own test).
    const QStringList files = QDir(dataDir()).entryList({u"*.json"_s, u"*.jsonl"_s}, QDir::Files);
    QVERIFY(files.size() >= 20);
    for (const QString &f : files) {
        if (f.startsWith(u"fastAssetCtxs"_s))
            continue;
        QVERIFY2(m_coveredFiles.contains(f), qPrintable(u"fixture not decoded by a test row: "_s + f));
    }
    // Every line of the .jsonl files has a row.
    QCOMPARE(readFixture(u"bbo.ETH.jsonl"_s).split('\n').size(), 5);
    QCOMPARE(readFixture(u"error.limits.jsonl"_s).split('\n').size(), 4);
}

void tst_Codec::fastAssetCtxsPayload()
{
    const QByteArray b64 = readFixture(u"fastAssetCtxs.payload.b64.txt"_s);
    const QByteArray expected = readFixture(u"fastAssetCtxs.payload.decoded.json"_s);
    QString error;
    const auto json = inflateFastAssetCtxs(b64, &error);
    QVERIFY2(json.has_value(), qPrintable(error));
    QCOMPARE(*json, expected);

    // As a whole frame it routes to the singleton.
    const Envelope env = m_decoder.decode(R"({"channel":"fastAssetCtxs","data":")" + b64 + "\"}");
    QCOMPARE(env.kind, FrameKind::Data);
    QCOMPARE(env.routeKey, QByteArray("fastAssetCtxs"));

    // Our own deflate round-trips through the same inflater.
    const QByteArray again = deflateRaw(expected).toBase64();
    QCOMPARE(inflateFastAssetCtxs(again).value_or(QByteArray()), expected);

    // Garbage payloads are errors, never crashes.
    QVERIFY(!inflateFastAssetCtxs("!!!not base64!!!", &error));
    QVERIFY(!inflateFastAssetCtxs(QByteArray("hello world").toBase64(), &error));
    QVERIFY(!inflateFastAssetCtxs(b64.left(20), &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!inflateFastAssetCtxs(deflateRaw(QByteArray(4096, 'x')).toBase64(), &error, 1000));
}

void tst_Codec::canonicalForm()
{
    const Subscription s = sub(R"({"user":"0xABCDEF0123456789ABCDEF0123456789ABCDEF01","type":"userFills",
                                   "aggregateByTime":false})");
    QCOMPARE(
        s.canonical(),
        QByteArray(
            R"({"aggregateByTime":false,"type":"userFills","user":"0xabcdef0123456789abcdef0123456789abcdef01"})"));
    QCOMPARE(s.user(), u"0xabcdef0123456789abcdef0123456789abcdef01"_s);
    QCOMPARE(s.ackKey(),
             QByteArray(R"({"type":"userFills","user":"0xabcdef0123456789abcdef0123456789abcdef01"})"));

    const Subscription book = sub(R"({"type":"l2Book","nSigFigs":null,"coin":"kPEPE","mantissa":null})");
    QCOMPARE(book.canonical(), QByteArray(R"({"coin":"kPEPE","type":"l2Book"})"));
    QCOMPARE(book, sub(R"({"coin":"kPEPE","type":"l2Book"})"));
    QVERIFY(!(book == sub(R"({"coin":"KPEPE","type":"l2Book"})"))); // coin case kept
    QCOMPARE(qHash(book), qHash(sub(R"({"type":"l2Book","coin":"kPEPE"})")));
}

void tst_Codec::acksMatchRequests_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QString>("ackFile");
    QTest::addRow("trades") << QByteArray(R"({"type":"trades","coin":"SOL"})")
                            << u"subscriptionResponse.trades.SOL.json"_s;
    QTest::addRow("l2Book nulls filled")
        << QByteArray(R"({"type":"l2Book","coin":"BTC"})") << u"subscriptionResponse.l2Book.BTC.json"_s;
    QTest::addRow("l2Book HYPE") << QByteArray(R"({"type":"l2Book","coin":"HYPE"})")
                                 << u"subscriptionResponse.l2Book.HYPE.json"_s;
    QTest::addRow("candle keys reordered") << QByteArray(R"({"type":"candle","coin":"HYPE","interval":"1d"})")
                                           << u"subscriptionResponse.candle.HYPE.1d.json"_s;
    QTest::addRow("bbo") << QByteArray(R"({"type":"bbo","coin":"HYPE"})")
                         << u"subscriptionResponse.bbo.HYPE.json"_s;
    QTest::addRow("allMids") << QByteArray(R"({"type":"allMids"})") << u"subscriptionResponse.allMids.json"_s;
}

void tst_Codec::acksMatchRequests()
{
    QFETCH(QByteArray, request);
    QFETCH(QString, ackFile);
    const Subscription req = sub(request.constData());
    const Envelope env = m_decoder.decode(readFixture(ackFile));
    QCOMPARE(env.kind, FrameKind::SubscriptionResponse);
    QVERIFY(!env.unsubscribeAck);
    QCOMPARE(env.subscription.ackKey(), req.ackKey());
    QCOMPARE(env.subscription.canonical(), req.canonical()); // nulls dropped, keys sorted

    // Defaults the server may fill in (fast:false, aggregateByTime:false, dex:"") still match.
    if (req.type() == u"l2Book"_s) {
        const Envelope filled = m_decoder.decode(
            R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"l2Book","coin":")" +
            req.json().value(u"coin"_s).toString().toUtf8() +
            R"(","nSigFigs":null,"mantissa":null,"fast":false}}})");
        QCOMPARE(filled.subscription.ackKey(), req.ackKey());
        QVERIFY(filled.subscription.canonical() != req.canonical());
    }
}

void tst_Codec::roundTripEveryType_data()
{
    QTest::addColumn<QByteArray>("json");
    QSet<QString> types;
    for (const QByteArray &j : exampleOfEveryType()) {
        const QString type = QJsonDocument::fromJson(j).object().value(u"type"_s).toString();
        types.insert(type);
        QTest::addRow("%s", qPrintable(type)) << j;
    }
    // The table covers the whole catalogue.
    for (const TypeSpec &t : catalogue())
        QVERIFY2(types.contains(QString::fromLatin1(t.type)), t.type);
}

void tst_Codec::roundTripEveryType()
{
    QFETCH(QByteArray, json);
    const Subscription s = sub(json.constData());

    // encode → wire → canonical
    const QJsonObject wire = QJsonDocument::fromJson(encodeSubscribe(s)).object();
    QCOMPARE(wire.value(u"method"_s).toString(), u"subscribe"_s);
    QString error;
    const auto back = Subscription::fromJson(wire.value(u"subscription"_s).toObject(), &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QCOMPARE(*back, s);
    QCOMPARE(back->routeKey(), s.routeKey());
    const QJsonObject unsub = QJsonDocument::fromJson(encodeUnsubscribe(s)).object();
    QCOMPARE(unsub.value(u"method"_s).toString(), u"unsubscribe"_s);
    QCOMPARE(canonicalJson(unsub.value(u"subscription"_s)), s.canonical());

    // The server's ack of it decodes to the same subscription.
    const QByteArray ack =
        R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":)" + s.canonical() +
        "}}";
    const Envelope ackEnv = m_decoder.decode(ack);
    QCOMPARE(ackEnv.kind, FrameKind::SubscriptionResponse);
    QCOMPARE(ackEnv.subscription, s);

    // A data frame of it routes back to its route key.
    const QByteArray frame = dataFrameFor(s);
    const Envelope env = m_decoder.decode(frame);
    QVERIFY2(env.error == DecodeError::None, frame.constData());
    QCOMPARE(env.kind, FrameKind::Data);
    QCOMPARE(env.spec, s.spec());
    QCOMPARE(env.routeKey, s.routeKey());
}

void tst_Codec::ambiguity_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("share");
    const QByteArray u1 = "0x1111111111111111111111111111111111111111";
    const QByteArray u2 = "0x2222222222222222222222222222222222222222";
    auto row = [](const char *name, const QByteArray &a, const QByteArray &b, bool share) {
        QTest::addRow("%s", name) << a << b << share;
    };
    row("l2Book same coin, nSigFigs", R"({"type":"l2Book","coin":"BTC"})",
        R"({"type":"l2Book","coin":"BTC","nSigFigs":5})", false);
    row("l2Book same coin, fast", R"({"type":"l2Book","coin":"BTC","fast":true})",
        R"({"type":"l2Book","coin":"BTC"})", false);
    row("l2Book other coin", R"({"type":"l2Book","coin":"BTC"})",
        R"({"type":"l2Book","coin":"ETH","nSigFigs":5})", true);
    row("userEvents two users", R"({"type":"userEvents","user":")" + u1 + "\"}",
        R"({"type":"userEvents","user":")" + u2 + "\"}", false);
    row("orderUpdates two users", R"({"type":"orderUpdates","user":")" + u1 + "\"}",
        R"({"type":"orderUpdates","user":")" + u2 + "\"}", false);
    row("notification two users", R"({"type":"notification","user":")" + u1 + "\"}",
        R"({"type":"notification","user":")" + u2 + "\"}", false);
    row("userEvents and orderUpdates", R"({"type":"userEvents","user":")" + u1 + "\"}",
        R"({"type":"orderUpdates","user":")" + u1 + "\"}", true);
    row("userFills aggregateByTime", R"({"type":"userFills","user":")" + u1 + "\"}",
        R"({"type":"userFills","user":")" + u1 + R"(","aggregateByTime":true})", false);
    row("userFills two users", R"({"type":"userFills","user":")" + u1 + "\"}",
        R"({"type":"userFills","user":")" + u2 + "\"}", true);
    row("allMids two dexes", R"({"type":"allMids"})", R"({"type":"allMids","dex":"xyz"})", false);
    row("singleton twice", R"({"type":"allDexsAssetCtxs"})", R"({"type":"allDexsAssetCtxs"})", false);
    row("same subscription twice", R"({"type":"trades","coin":"BTC"})", R"({"type":"trades","coin":"BTC"})",
        false);
    row("trades and bbo", R"({"type":"trades","coin":"BTC"})", R"({"type":"bbo","coin":"BTC"})", true);
    row("candle two intervals", R"({"type":"candle","coin":"BTC","interval":"1m"})",
        R"({"type":"candle","coin":"BTC","interval":"5m"})", true);
    row("clearinghouseState two dexes", R"({"type":"clearinghouseState","user":")" + u1 + "\"}",
        R"({"type":"clearinghouseState","user":")" + u1 + R"(","dex":"xyz"})", true);
}

void tst_Codec::ambiguity()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, share);
    QCOMPARE(canShareConnection(sub(a.constData()), sub(b.constData())), share);
    QCOMPARE(canShareConnection(sub(b.constData()), sub(a.constData())), share);
}

void tst_Codec::serverErrors_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<ServerErrorKind>("kind");
    QTest::addColumn<int>("limit");
    QTest::addColumn<QByteArray>("echo"); // canonical subscription the text names, if any

    const QList<QByteArray> limits = readFixture(u"error.limits.jsonl"_s).split('\n');
    QTest::addRow("users") << limits[0].trimmed() << ServerErrorKind::TooManyUsers << 10 << QByteArray();
    QTest::addRow("posts") << limits[1].trimmed() << ServerErrorKind::TooManyPendingPosts << -1
                           << QByteArray();
    QTest::addRow("rate") << limits[2].trimmed() << ServerErrorKind::RateLimited << 2000 << QByteArray();
    QTest::addRow("channels") << limits[3].trimmed() << ServerErrorKind::TooManyChannels << 1000
                              << QByteArray();
    QTest::addRow("users 15") << QByteArray(
                                     R"({"channel":"error","data":"Cannot track more than 15 total users."})")
                              << ServerErrorKind::TooManyUsers << 15 << QByteArray();
    QTest::addRow("parse") << readFixture(u"error.parse.json"_s) << ServerErrorKind::ParseError << -1
                           << QByteArray(R"({"type":"allMids"})");
    QTest::addRow("parse webData2")
        << QByteArray(
               R"({"channel":"error","data":"Error parsing JSON into valid websocket request: {\"method\":\"subscribe\",\"subscription\":{\"type\":\"webData2\",\"user\":\"0xABCDEF0123456789ABCDEF0123456789ABCDEF01\"}}"})")
        << ServerErrorKind::ParseError << -1
        << QByteArray(R"({"type":"webData2","user":"0xabcdef0123456789abcdef0123456789abcdef01"})");
    QTest::addRow("already subscribed")
        << QByteArray(
               R"({"channel":"error","data":"Already subscribed: {\"type\":\"candle\",\"interval\":\"30m\",\"coin\":\"UNI\"}"})")
        << ServerErrorKind::AlreadySubscribed << -1
        << QByteArray(R"({"coin":"UNI","interval":"30m","type":"candle"})");
    QTest::addRow("already unsubscribed")
        << QByteArray(
               R"({"channel":"error","data":"Already unsubscribed: {\"type\":\"trades\",\"coin\":\"BTC\"}"})")
        << ServerErrorKind::AlreadyUnsubscribed << -1 << QByteArray(R"({"coin":"BTC","type":"trades"})");
    QTest::addRow("invalid, no colon")
        << QByteArray(
               R"({"channel":"error","data":"Invalid subscription {\"type\":\"l2Book\",\"coin\":\"NOPE\",\"nSigFigs\":null}"})")
        << ServerErrorKind::InvalidSubscription << -1 << QByteArray(R"({"coin":"NOPE","type":"l2Book"})");
    QTest::addRow("invalid, colon")
        << QByteArray(
               R"({"channel":"error","data":"Invalid subscription: {\"type\":\"bbo\",\"coin\":\"NOPE\"}"})")
        << ServerErrorKind::InvalidSubscription << -1 << QByteArray(R"({"coin":"NOPE","type":"bbo"})");
    QTest::addRow("unknown text") << QByteArray(R"({"channel":"error","data":"Something new happened"})")
                                  << ServerErrorKind::Other << -1 << QByteArray();
}

void tst_Codec::serverErrors()
{
    QFETCH(QByteArray, frame);
    QFETCH(ServerErrorKind, kind);
    QFETCH(int, limit);
    QFETCH(QByteArray, echo);
    const Envelope env = m_decoder.decode(frame);
    QCOMPARE(env.kind, FrameKind::Error);
    QCOMPARE(env.serverError.kind, kind);
    QCOMPARE(env.serverError.limit, limit);
    QCOMPARE(env.serverError.subscription.canonical(), echo);
    QCOMPARE(env.serverError.text, QJsonDocument::fromJson(frame).object().value(u"data"_s).toString());
    if (kind == ServerErrorKind::TooManyPendingPosts)
        QCOMPARE(env.serverError.postId, 1234);
}

void tst_Codec::validation_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("errorContains");
    QTest::addRow("no type") << QByteArray(R"({"coin":"BTC"})") << u"missing \"type\""_s;
    QTest::addRow("unknown type") << QByteArray(R"({"type":"tradez","coin":"BTC"})")
                                  << u"unknown subscription type \"tradez\""_s;
    QTest::addRow("missing coin") << QByteArray(R"({"type":"trades"})") << u"trades needs \"coin\""_s;
    QTest::addRow("empty coin") << QByteArray(R"({"type":"bbo","coin":""})") << u"non-empty string"_s;
    QTest::addRow("bad user") << QByteArray(R"({"type":"userFills","user":"0x123"})") << u"40 hex digits"_s;
    QTest::addRow("bad interval") << QByteArray(R"({"type":"candle","coin":"BTC","interval":"7m"})")
                                  << u"\"interval\" must be one of"_s;
    QTest::addRow("bad nSigFigs") << QByteArray(R"({"type":"l2Book","coin":"BTC","nSigFigs":7})")
                                  << u"from 2 to 5"_s;
    QTest::addRow("mantissa without 5")
        << QByteArray(R"({"type":"l2Book","coin":"BTC","nSigFigs":4,"mantissa":2})")
        << u"only allowed with"_s;
    QTest::addRow("unknown param") << QByteArray(R"({"type":"trades","coin":"BTC","coins":"ETH"})")
                                   << u"takes no parameter \"coins\""_s;
    QTest::addRow("bool as string") << QByteArray(R"({"type":"l2Book","coin":"BTC","fast":"yes"})")
                                    << u"true or false"_s;
}

void tst_Codec::validation()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, errorContains);
    QString error;
    QVERIFY(!Subscription::fromJson(QJsonDocument::fromJson(json).object(), &error));
    QVERIFY2(error.contains(errorContains), qPrintable(error));
}

void tst_Codec::subscriptionList()
{
    QString error;
    const auto list = Subscription::listFromJson(
        R"([{"type":"trades","coin":"BTC"},{"type":"l2Book","coin":"ETH","nSigFigs":5}])", &error);
    QVERIFY2(list.has_value(), qPrintable(error));
    QCOMPARE(list->size(), 2);
    QCOMPARE(list->at(1).canonical(), QByteArray(R"({"coin":"ETH","nSigFigs":5,"type":"l2Book"})"));

    QVERIFY(!Subscription::listFromJson(R"([{"type":"trades","coin":"BTC"},{"type":"nope"}])", &error));
    QVERIFY2(error.startsWith(u"entry 1 {\"type\":\"nope\"}: unknown subscription type"_s),
             qPrintable(error));
    QVERIFY(!Subscription::listFromJson(R"([{"type":"trades","coin":"BTC"}, 5])", &error));
    QVERIFY2(error.startsWith(u"entry 1 5: expected an object"_s), qPrintable(error));
    QVERIFY(!Subscription::listFromJson(R"({"type":"trades"})", &error));
    QVERIFY(error.contains(u"JSON array"_s));
    QVERIFY(!Subscription::listFromJson("[{\"type\":", &error));
    QVERIFY(error.startsWith(u"not valid JSON"_s));
}

void tst_Codec::garbage_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<DecodeError>("error");
    QTest::addRow("empty") << QByteArray() << DecodeError::Empty;
    QTest::addRow("greeting") << QByteArray("Websocket connection established.") << DecodeError::NotJson;
    QTest::addRow("truncated") << QByteArray(R"({"channel":"tra)") << DecodeError::NotJson;
    QTest::addRow("broken control") << QByteArray(R"({"channel":"error","data":"x)") << DecodeError::NotJson;
    QTest::addRow("broken ack") << QByteArray(R"({"channel":"subscriptionResponse","data":{)")
                                << DecodeError::NotJson;
    QTest::addRow("array") << QByteArray("[1,2,3]") << DecodeError::NotObject;
    QTest::addRow("number") << QByteArray("42") << DecodeError::NotObject;
    QTest::addRow("string") << QByteArray("\"hello\"") << DecodeError::NotObject;
    QTest::addRow("no channel") << QByteArray(R"({"data":{"coin":"BTC"}})") << DecodeError::MissingChannel;
    QTest::addRow("numeric channel") << QByteArray(R"({"channel":7,"data":{}})")
                                     << DecodeError::MissingChannel;
    QTest::addRow("trades not array")
        << QByteArray(R"({"channel":"trades","data":{"coin":"BTC"}})") << DecodeError::WrongShape;
    QTest::addRow("trades empty") << QByteArray(R"({"channel":"trades","data":[]})")
                                  << DecodeError::Unroutable;
    QTest::addRow("trades element not object")
        << QByteArray(R"({"channel":"trades","data":[1]})") << DecodeError::WrongShape;
    QTest::addRow("l2Book no coin") << QByteArray(R"({"channel":"l2Book","data":{"levels":[]}})")
                                    << DecodeError::Unroutable;
    QTest::addRow("l2Book data string")
        << QByteArray(R"({"channel":"l2Book","data":"BTC"})") << DecodeError::WrongShape;
    QTest::addRow("bbo coin object") << QByteArray(R"({"channel":"bbo","data":{"coin":{"x":1}}})")
                                     << DecodeError::WrongShape;
    QTest::addRow("data missing") << QByteArray(R"({"channel":"bbo"})") << DecodeError::WrongShape;
    QTest::addRow("ack without subscription")
        << QByteArray(R"({"channel":"subscriptionResponse","data":{"method":"subscribe"}})")
        << DecodeError::WrongShape;
    QTest::addRow("error not string")
        << QByteArray(R"({"channel":"error","data":{"x":1}})") << DecodeError::WrongShape;
    QTest::addRow("post without id") << QByteArray(R"({"channel":"post","data":{}})")
                                     << DecodeError::WrongShape;
    QTest::addRow("binary bytes") << QByteArray("\x00\xff\xfe{\x01", 5) << DecodeError::NotJson;
    QTest::addRow("10 MB of garbage") << QByteArray(10 * 1024 * 1024, 'x') << DecodeError::NotJson;
    QTest::addRow("10 MB unterminated")
        << (QByteArray(R"({"channel":"trades","data":[)") + QByteArray(10 * 1024 * 1024, '['))
        << DecodeError::NotJson; // nesting beyond the parser's depth limit
}

void tst_Codec::garbage()
{
    QFETCH(QByteArray, frame);
    QFETCH(DecodeError, error);
    const Envelope env = m_decoder.decode(frame);
    QCOMPARE(env.error, error);
    QCOMPARE(env.kind, FrameKind::Invalid);
    QVERIFY(env.routeKey.isEmpty());
    // The decoder stays usable after garbage.
    QCOMPARE(m_decoder.decode(readFixture(u"bbo.HYPE.json"_s)).routeKey, QByteArray("bbo|HYPE"));
}

void tst_Codec::randomBytesNeverCrash()
{
    // Mutations of real frames: every result is a typed value, and nothing crashes.
    QRandomGenerator rng(42);
    const QList<QByteArray> seeds = {readFixture(u"l2Book.BTC.json"_s), readFixture(u"trades.BTC.json"_s),
                                     readFixture(u"subscriptionResponse.candle.HYPE.1d.json"_s),
                                     readFixture(u"error.parse.json"_s)};
    int invalid = 0;
    for (int i = 0; i < 20000; ++i) {
        QByteArray f = seeds[i % seeds.size()];
        const int edits = 1 + static_cast<int>(rng.bounded(4u));
        for (int e = 0; e < edits; ++e) {
            const auto pos = static_cast<qsizetype>(rng.bounded(static_cast<quint32>(f.size())));
            switch (rng.bounded(3u)) {
            case 0:
                f[pos] = static_cast<char>(rng.bounded(256u));
                break;
            case 1:
                f.remove(pos, 1 + static_cast<qsizetype>(rng.bounded(8u)));
                break;
            default:
                f.truncate(pos);
                break;
            }
            if (f.isEmpty())
                break;
        }
        const Envelope env = m_decoder.decode(f);
        QVERIFY((env.kind == FrameKind::Invalid) == (env.error != DecodeError::None));
        invalid += env.kind == FrameKind::Invalid;
    }
    QVERIFY(invalid > 5000); // the mutations really produced garbage
}

void tst_Codec::encoders()
{
    QCOMPARE(encodePing(), QByteArray(R"({"method":"ping"})"));
    const QByteArray post =
        encodePost(7, PostType::Info, QJsonObject{{u"type"_s, u"l2Book"_s}, {u"coin"_s, u"ETH"_s}});
    QCOMPARE(
        post,
        QByteArray(
            R"({"method":"post","id":7,"request":{"type":"info","payload":{"coin":"ETH","type":"l2Book"}}})"));
    const QJsonObject action =
        QJsonDocument::fromJson(encodePost(8, PostType::Action, QJsonObject{{u"nonce"_s, 1}})).object();
    QCOMPARE(action.value(u"request"_s).toObject().value(u"type"_s).toString(), u"action"_s);
    QCOMPARE(encodeSubscribe(sub(R"({"type":"trades","coin":"BTC"})")),
             QByteArray(R"({"method":"subscribe","subscription":{"coin":"BTC","type":"trades"}})"));

    // A post response decodes with its id.
    const Envelope env = m_decoder.decode(
        R"({"channel":"post","data":{"id":256,"response":{"type":"action","payload":{"status":"ok"}}}})");
    QCOMPARE(env.kind, FrameKind::Post);
    QCOMPARE(env.postId, 256);
    QCOMPARE(env.postResponseType, u"action"_s);
    // An unknown channel is kept by name.
    const Envelope unknown = m_decoder.decode(R"({"channel":"somethingNew","data":{}})");
    QCOMPARE(unknown.kind, FrameKind::Unknown);
    QCOMPARE(unknown.channel, QByteArray("somethingNew"));
    // Spot asset ctx arrives on its alias.
    const Envelope spot =
        m_decoder.decode(R"({"channel":"activeSpotAssetCtx","data":{"coin":"@107","ctx":{}}})");
    QCOMPARE(spot.routeKey, QByteArray("activeAssetCtx|@107"));
}

void tst_Codec::fuzzRegressions()
{
    // fuzz_subscriptions / fuzz_profile: a number beyond qint64 in a subscription made the canonical
    // form convert it to an integer (undefined behaviour). Now: a clear error, or a canonical form.
    QString error;
    const auto list = Subscription::listFromJson(
        R"([{"type":"l2Book","coin":"BTC","nSigFigs":5,"mantissa":28888888888888888888888888888888}])",
        &error);
    QVERIFY(!list);
    QVERIFY2(error.contains(u"mantissa"_s), qPrintable(error));
    // ... and a parameter beyond int (nSigFigs 6e118) was converted before it was range-checked.
    QVERIFY(!Subscription::listFromJson(R"([{"type":"l2Book","coin":"ETH","nSigFigs":6e118}])", &error));
    QVERIFY2(error.contains(u"nSigFigs"_s), qPrintable(error));
    QCOMPARE(canonicalJson(QJsonValue(1.5e23)), QByteArray("1.5e+23"));
    QCOMPARE(canonicalJson(QJsonValue(-9.5e15)), QByteArray("-9500000000000000"));
    QCOMPARE(canonicalJson(QJsonValue(42.0)), QByteArray("42"));
}

void tst_Codec::frameBytesExactAndFaithful_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("one") << u"x"_s;
    for (int n : {15, 16, 17, 31, 32, 33, 350}) {
        QString ascii;
        for (int i = 0; i < n; ++i)
            ascii.append(QChar(u'!' + i % 90));
        QTest::addRow("ascii %d", n) << ascii;
        // One character beyond ASCII at the start, in the vectorised part, at the very end.
        for (int at : {0, n / 2, n - 1}) {
            QString t = ascii;
            t[at] = QChar(0xe9); // é: Latin-1, but two bytes in UTF-8
            QTest::addRow("latin1 %d at %d", n, at) << t;
            t[at] = QChar(0x4e2d); // 中
            QTest::addRow("cjk %d at %d", n, at) << t;
            t[at] = QChar(0x80);
            QTest::addRow("0x80 %d at %d", n, at) << t;
        }
    }
    QTest::newRow("surrogate pair") << QString::fromUtf8("{\"coin\":\"\xf0\x9f\x9a\x80\"}");
}

void tst_Codec::frameBytesExactAndFaithful()
{
    QFETCH(QString, text);
    const QByteArray bytes = frameBytes(text);
    QCOMPARE(bytes, text.toUtf8());
    QVERIFY(bytes.capacity() <= bytes.size() + 16); // no three bytes a character kept
}

void tst_Codec::routeKeysShared()
{
    // Route keys are interned: frames of one subscription share one key, with its exact bytes.
    FrameDecoder d;
    const QByteArray a = R"({"channel":"trades","data":[{"coin":"BTC","px":"1"}]})";
    const QByteArray b = R"({"channel":"trades","data":[{"coin":"BTC","px":"2"}]})";
    const QByteArray c = R"({"channel":"trades","data":[{"coin":"ETH","px":"2"}]})";
    const Envelope ea = d.decode(a), eb = d.decode(b), ec = d.decode(c);
    QCOMPARE(ea.kind, FrameKind::Data);
    QCOMPARE(ea.routeKey, eb.routeKey);
    QCOMPARE(ea.routeKey.constData(), eb.routeKey.constData()); // one allocation for both
    QVERIFY(ea.routeKey != ec.routeKey);
    // Many distinct keys (a server inventing coins) keep the table bounded and the keys right.
    for (int i = 0; i < 10000; ++i) {
        const Envelope e =
            d.decode(R"({"channel":"trades","data":[{"coin":"C)" + QByteArray::number(i) + R"("}]})");
        QCOMPARE(e.routeKey, QByteArray("trades|C" + QByteArray::number(i)));
    }
    QCOMPARE(d.decode(a).routeKey, ea.routeKey);
}

void tst_Codec::eventTimeFromFixtures_data()
{
    // Issue 17: the venue's event time out of the routing parse, for every real recorded frame.
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<qint64>("eventTimeMs");
    auto row = [](const char *file, int line, qint64 t) {
        QTest::addRow("%s:%d", file, line) << QString::fromLatin1(file) << line << t;
    };
    const qint64 bboEth[] = {1746364055109, 1746364055581, 1746364055739, 1746364056570, 1746364057455};
    for (int i = 0; i < 5; ++i)
        row("bbo.ETH.jsonl", i, bboEth[i]);
    row("bbo.HYPE.json", 0, 1766566375292);
    row("l2Book.BTC.json", 0, 1751427259657);
    row("trades.BTC.json", 0, 1751430933565);
    row("trades.BTC.2024.json", 0, 1710125266669);
    row("orderUpdates.json", 0, 1710163596492); // statusTimestamp
    row("user.fills.json", 0, 1776756630725);   // userEvents {fills}
    row("user.fills.liquidation.json", 0, 1781528065899);
    // No event time: bar times, price maps, contexts; snapshots carry history.
    row("candle.BTC.1m.json", 0, 0);
    row("candle.HYPE.1d.json", 0, 0);
    row("allMids.json", 0, 0);
    row("allDexsAssetCtxs.trimmed.json", 0, 0);
    row("userFills.snapshot.2024.json", 0, 0);
    row("userTwapHistory.snapshot.json", 0, 0);
    row("userTwapSliceFills.snapshot.json", 0, 0);
}

void tst_Codec::eventTimeFromFixtures()
{
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(qint64, eventTimeMs);
    FrameDecoder d;
    const Envelope env = d.decode(fixtureMessage(file, line));
    QCOMPARE(env.kind, FrameKind::Data);
    QCOMPARE(env.eventTimeMs, eventTimeMs);
}

void tst_Codec::eventTimeShapes_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QByteArray>("routeKey");
    QTest::addColumn<qint64>("eventTimeMs");
    const QByteArray user = userA;
    // The fixtures' history frames as live updates (isSnapshot false): their items' newest time.
    QByteArray fills = readFixture(u"userFills.snapshot.2024.json"_s);
    fills.replace("\"isSnapshot\":true", "\"isSnapshot\":false");
    QTest::newRow("userFills live") << fills << "userFills|" + user << qint64(1710208712815);
    QByteArray slices = readFixture(u"userTwapSliceFills.snapshot.json"_s);
    slices.replace("\"isSnapshot\":true", "\"isSnapshot\":false");
    QTest::newRow("userTwapSliceFills live")
        << slices << QByteArray("userTwapSliceFills|0xe746435d136c4714383a64ee28e35c8bdb8d5cb1")
        << qint64(1786016954036);
    QTest::newRow("userFills without flag")
        << QByteArray(
               R"({"channel":"userFills","data":{"user":")" + user +
               R"(","fills":[{"coin":"BTC","time":5},{"coin":"ETH","time":9},{"coin":"SOL","time":7}]}})")
        << "userFills|" + user << qint64(9);
    // Trades: the newest of the batch, wherever it is; the route is still the first coin.
    QTest::newRow("trades newest last")
        << QByteArray(
               R"({"channel":"trades","data":[{"coin":"BTC","time":100,"tid":1},{"coin":"BTC","time":300},)"
               R"({"coin":"BTC","time":200}]})")
        << QByteArray("trades|BTC") << qint64(300);
    QTest::newRow("trades time first")
        << QByteArray(R"({"channel":"trades","data":[{"time":42,"coin":"ETH"}]})") << QByteArray("trades|ETH")
        << qint64(42);
    QTest::newRow("trades without time")
        << QByteArray(R"({"channel":"trades","data":[{"coin":"ETH","px":"1"}]})") << QByteArray("trades|ETH")
        << qint64(0);
    QTest::newRow("trades time as text")
        << QByteArray(R"({"channel":"trades","data":[{"coin":"ETH","time":"9"}]})")
        << QByteArray("trades|ETH") << qint64(0);
    QTest::newRow("l2Book time before coin")
        << QByteArray(R"({"channel":"l2Book","data":{"time":77,"coin":"BTC","levels":[[],[]]}})")
        << QByteArray("l2Book|BTC") << qint64(77);
    QTest::newRow("orderUpdates newest")
        << QByteArray(
               R"({"channel":"orderUpdates","data":[{"order":{"timestamp":1},"status":"open","statusTimestamp":11},)"
               R"({"order":{"timestamp":2},"status":"filled","statusTimestamp":12}]})")
        << QByteArray("orderUpdates") << qint64(12);
    QTest::newRow("userEvents funding")
        << QByteArray(
               R"({"channel":"user","data":{"funding":{"time":1700000000000,"coin":"BTC","usdc":"-1"}}})")
        << QByteArray("userEvents") << qint64(1700000000000);
    QTest::newRow("userEvents nonUserCancel")
        << QByteArray(R"({"channel":"user","data":{"nonUserCancel":[{"coin":"BTC","oid":1}]}})")
        << QByteArray("userEvents") << qint64(0);
    QTest::newRow("userEvents liquidation")
        << QByteArray(R"({"channel":"user","data":{"liquidation":{"lid":1,"liquidator":"0x1"}}})")
        << QByteArray("userEvents") << qint64(0);
    QTest::newRow("userFundings")
        << QByteArray(R"({"channel":"userFundings","data":{"user":")" + user +
                      R"(","fundings":[{"time":3600000,"coin":"BTC"},{"time":7200000,"coin":"ETH"}]}})")
        << "userFundings|" + user << qint64(7200000);
    QTest::newRow("ledger updates")
        << QByteArray(R"({"channel":"userNonFundingLedgerUpdates","data":{"user":")" + user +
                      R"(","nonFundingLedgerUpdates":[{"time":55,"hash":"0x","delta":{"type":"deposit"}}]}})")
        << "userNonFundingLedgerUpdates|" + user << qint64(55);
    QTest::newRow("activeAssetCtx has none")
        << QByteArray(R"({"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"markPx":"1"}}})")
        << QByteArray("activeAssetCtx|BTC") << qint64(0);
    QTest::newRow("bbo negative time")
        << QByteArray(R"({"channel":"bbo","data":{"coin":"ETH","time":-5,"bbo":[null,null]}})")
        << QByteArray("bbo|ETH") << qint64(0);
    QTest::newRow("bbo fractional time")
        << QByteArray(R"({"channel":"bbo","data":{"coin":"ETH","time":1.5e12,"bbo":[null,null]}})")
        << QByteArray("bbo|ETH") << qint64(0);
    QTest::newRow("trades odd later element") // routed as before; a frame of that shape gives no time
        << QByteArray(
               R"({"channel":"trades","data":[{"coin":"BTC","time":5},[1,2],{"coin":"BTC","time":9}]})")
        << QByteArray("trades|BTC") << qint64(0);
}

void tst_Codec::eventTimeShapes()
{
    QFETCH(QByteArray, frame);
    QFETCH(QByteArray, routeKey);
    QFETCH(qint64, eventTimeMs);
    FrameDecoder d;
    const Envelope env = d.decode(frame);
    QCOMPARE(env.kind, FrameKind::Data);
    QCOMPARE(env.routeKey, routeKey);
    QCOMPARE(env.eventTimeMs, eventTimeMs);
}

QTEST_GUILESS_MAIN(tst_Codec)
#include "tst_codec.moc"

#include "simfeed.h"

#include "codec.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope::Sim {

namespace {

/// The coins of the synthetic allMids map (perps, spot by index, a pair, a builder dex).
QList<QByteArray> allMidsCoins()
{
    QList<QByteArray> coins{"BTC",  "ETH", "SOL", "HYPE", "kPEPE",    "DOGE",
                            "AVAX", "ARB", "OP",  "SUI",  "PURR/USDC"};
    // The real map has hundreds of entries (~16 KB): spot tokens by index make up most of it.
    for (int i = 1; i <= 900; ++i)
        coins.append("@" + QByteArray::number(i));
    return coins;
}

int decimalsFor(double px)
{
    if (px >= 10000)
        return 1;
    if (px >= 100)
        return 2;
    if (px >= 1)
        return 4;
    return 6;
}

} // namespace

double basePrice(QByteArrayView coin)
{
    if (coin == "BTC")
        return 97500.0;
    if (coin == "ETH")
        return 3650.0;
    if (coin == "SOL")
        return 210.0;
    if (coin == "HYPE")
        return 24.0;
    if (coin == "kPEPE")
        return 0.0185;
    const size_t h = qHash(coin, 7);
    return 0.5 + static_cast<double>(h % 50000) / 100.0;
}

QList<Hl::Subscription> demoSubscriptions()
{
    const QByteArray alice = "0x5e9ee1089755c3435139848e47e6635505d5a13a";
    const QByteArray bob = "0x0d1d9635d0640821d15e323ac8adadfa9c111414";
    QList<QByteArray> json;
    for (const char *coin : {"BTC", "ETH", "SOL", "HYPE", "kPEPE", "DOGE", "AVAX", "ARB"}) {
        const QByteArray c = coin;
        json << R"({"type":"bbo","coin":")" + c + "\"}"
             << R"({"type":"trades","coin":")" + c + "\"}";
    }
    for (const char *coin : {"BTC", "ETH", "SOL", "HYPE"}) {
        const QByteArray c = coin;
        json << R"({"type":"l2Book","coin":")" + c + "\"}"
             << R"({"type":"activeAssetCtx","coin":")" + c + "\"}";
    }
    json << R"({"type":"l2Book","coin":"BTC","nSigFigs":5})" // cannot share a connection with the plain one
         << R"({"type":"l2Book","coin":"ETH","fast":true})"
         << R"({"type":"l2Book","coin":"DELISTED"})"
         << R"({"type":"candle","coin":"BTC","interval":"1m"})"
         << R"({"type":"candle","coin":"BTC","interval":"1h"})"
         << R"({"type":"candle","coin":"ETH","interval":"5m"})"
         << R"({"type":"candle","coin":"HYPE","interval":"15m"})"
         << R"({"type":"allMids"})"
         << R"({"type":"fastAssetCtxs"})"
         << R"({"type":"activeAssetCtx","coin":"@107"})"
         << R"({"type":"trades","coin":"PURR/USDC"})"
         << R"({"type":"bbo","coin":"xyz:NVDA"})";
    for (const QByteArray &u : {alice, bob}) {
        json << R"({"type":"userFills","user":")" + u + "\"}"
             << R"({"type":"orderUpdates","user":")" + u + "\"}"
             << R"({"type":"userEvents","user":")" + u + "\"}"
             << R"({"type":"clearinghouseState","user":")" + u + "\"}"
             << R"({"type":"openOrders","user":")" + u + "\"}";
    }
    json << R"({"type":"activeAssetData","user":")" + alice + R"(","coin":"BTC"})"
         << R"({"type":"webData3","user":")" + alice + "\"}"
         << R"({"type":"spotState","user":")" + bob + "\"}";
    QList<Hl::Subscription> out;
    for (const QByteArray &j : json)
        out.append(*Hl::Subscription::fromJson(QJsonDocument::fromJson(j).object()));
    return out;
}

Hl::Subscription demoRejectedSubscription()
{
    return *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"l2Book"_s}, {u"coin"_s, u"DELISTED"_s}});
}

double defaultRatePerSecond(const Hl::Subscription &s)
{
    const QString t = s.type();
    if (t == u"bbo"_s)
        return 5.0;
    if (t == u"l2Book"_s)
        return s.json().value(u"fast"_s).toBool() ? 2.0 : 0.5;
    if (t == u"trades"_s)
        return 3.0;
    if (t == u"allMids"_s)
        return 0.3;
    if (t == u"candle"_s || t == u"activeAssetCtx"_s || t == u"fastAssetCtxs"_s)
        return 1.0;
    if (t == u"userFills"_s || t == u"orderUpdates"_s || t == u"userEvents"_s)
        return 0.2;
    if (t == u"activeAssetData"_s)
        return 0.5;
    if (t == u"notification"_s || t == u"outcomeMetaUpdates"_s)
        return 0.02;
    if (t == u"userFundings"_s || t == u"userNonFundingLedgerUpdates"_s || t == u"userTwapSliceFills"_s ||
        t == u"userTwapHistory"_s || t == u"userHistoricalOrders"_s)
        return 0.05;
    return 0.25; // periodic user-state and asset-context re-pushes (~every 4 s)
}

bool sendsSnapshotOnSubscribe(const QString &type)
{
    static const QStringList none{u"orderUpdates"_s, u"userEvents"_s, u"notification"_s,
                                  u"outcomeMetaUpdates"_s};
    return !none.contains(type);
}

SyntheticFeed::SyntheticFeed(const Hl::Subscription &subscription, quint64 seed)
    : m_sub(subscription), m_type(subscription.type()), m_rng(seed ^ qHash(subscription.canonical(), 0x5eed))
{
    const QJsonObject j = m_sub.json();
    m_coin = j.value(u"coin"_s).toString().toUtf8();
    if (m_coin.isEmpty())
        m_coin = "BTC";
    m_user = j.value(u"user"_s).toString().toUtf8();
    m_dex = j.value(u"dex"_s).toString().toUtf8();
    m_mid = basePrice(m_coin);
    m_tick = std::pow(10.0, -decimalsFor(m_mid));
    m_tid = 100000000000000ULL + m_rng.bounded(1000000000u);
}

void SyntheticFeed::walk()
{
    const double step = (m_rng.generateDouble() - 0.5) * 0.0008 * m_mid;
    m_mid = std::max(m_tick * 10, m_mid + step);
}

QByteArray SyntheticFeed::price(double px) const
{
    return QByteArray::number(px, 'f', decimalsFor(m_mid));
}

QByteArray SyntheticFeed::size()
{
    const double sz =
        std::round((0.001 + m_rng.generateDouble() * m_rng.generateDouble() * 25.0) * 1e5) / 1e5;
    return QByteArray::number(sz, 'f', 5);
}

QByteArray SyntheticFeed::level(double px)
{
    return R"({"px":")" + price(px) + R"(","sz":")" + size() + R"(","n":)" +
           QByteArray::number(1 + m_rng.bounded(30u)) + "}";
}

QByteArray SyntheticFeed::hash()
{
    QByteArray h = "0x";
    static constexpr char hex[] = "0123456789abcdef";
    for (int i = 0; i < 64; ++i)
        h += hex[m_rng.bounded(16u)];
    return h;
}

QByteArray SyntheticFeed::fill(qint64 nowMs)
{
    const bool buy = m_rng.bounded(2u) == 0;
    return R"({"coin":")" + m_coin + R"(","px":")" + price(m_mid) + R"(","sz":")" + size() + R"(","side":")" +
           (buy ? "B" : "A") + R"(","time":)" + QByteArray::number(nowMs) +
           R"(,"startPosition":"0.0","dir":")" + (buy ? "Open Long" : "Open Short") +
           R"(","closedPnl":"0.0","hash":")" + hash() + R"(","oid":)" +
           QByteArray::number(50000000000ULL + m_rng.bounded(1000000000u)) + R"(,"crossed":true,"fee":")" +
           price(m_mid * 0.00035) + R"(","tid":)" + QByteArray::number(++m_tid) +
           R"(,"feeToken":"USDC","twapId":null})";
}

double SyntheticFeed::nextGapMs(double ratePerSecond)
{
    if (ratePerSecond <= 0)
        return 1e12;
    const double mean = 1000.0 / ratePerSecond;
    if (m_type == u"trades"_s) {
        // Bursty: clusters of a few trades a few ms apart, exponential gaps between clusters.
        if (m_burstLeft > 0) {
            --m_burstLeft;
            return 2.0 + m_rng.generateDouble() * 8.0;
        }
        m_burstLeft = static_cast<int>(m_rng.bounded(5u));
        return -std::log(1.0 - m_rng.generateDouble()) * mean * (1 + m_burstLeft);
    }
    // Snapshots and periodic pushes: regular with a little jitter.
    return mean * (0.9 + 0.2 * m_rng.generateDouble());
}

QByteArray SyntheticFeed::dataFor(qint64 nowMs)
{
    const QByteArray now = QByteArray::number(nowMs);
    const QByteArray userField = R"("user":")" + m_user + "\"";
    const bool first = m_count == 0;
    const QByteArray snapshot = first ? R"("isSnapshot":true,)" : QByteArray();
    const QString &t = m_type;

    // Crossed (a fault): the best bid lies above the best ask.
    const double side = m_twist == Twist::Crossed ? -1.0 : 1.0;
    if (t == u"bbo"_s) {
        const double half = m_tick * (1 + m_rng.bounded(3u));
        return R"({"coin":")" + m_coin + R"(","time":)" + now + R"(,"bbo":[)" + level(m_mid - side * half) +
               "," + level(m_mid + side * half) + "]}";
    }
    if (t == u"l2Book"_s) {
        const int n = m_sub.json().value(u"fast"_s).toBool() ? 5 : 20;
        QByteArray bids, asks;
        for (int i = 0; i < n; ++i) {
            bids += (i ? "," : "") + level(m_mid - m_tick * (side + i * 2));
            asks += (i ? "," : "") + level(m_mid + m_tick * (side + i * 2));
        }
        return R"({"coin":")" + m_coin + R"(","time":)" + now + R"(,"levels":[[)" + bids + "],[" + asks +
               "]]}";
    }
    if (t == u"trades"_s) {
        if (m_twist == Twist::Duplicate)
            return "[" + m_lastTrade + "]";
        const int n = 1 + static_cast<int>(m_rng.bounded(3u));
        QByteArray arr = "[";
        for (int i = 0; i < n; ++i)
            arr += (i ? "," : "") + trade(m_coin, now);
        if (m_twist == Twist::Foreign) // another coin's trade in this coin's frame
            arr += "," + trade(m_coin == "ETH" ? "SOL" : "ETH", now);
        return arr + "]";
    }
    if (t == u"allMids"_s) {
        static const QList<QByteArray> coins = allMidsCoins();
        QByteArray mids;
        mids.reserve(16 * 1024);
        for (const QByteArray &c : coins) {
            const double px = basePrice(c) * (1.0 + (m_rng.generateDouble() - 0.5) * 0.002);
            if (!mids.isEmpty())
                mids += ',';
            mids += '"' + (m_dex.isEmpty() ? c : m_dex + ':' + c) + R"(":")" +
                    QByteArray::number(px, 'f', decimalsFor(px)) + '"';
        }
        return R"({"mids":{)" + mids + "}" + (m_dex.isEmpty() ? QByteArray() : R"(,"dex":")" + m_dex + "\"") +
               "}";
    }
    if (t == u"candle"_s) {
        const QByteArray interval = m_sub.json().value(u"interval"_s).toString().toUtf8();
        const qint64 open = nowMs - nowMs % 60000;
        return R"({"t":)" + QByteArray::number(open) + R"(,"T":)" + QByteArray::number(open + 59999) +
               R"(,"s":")" + m_coin + R"(","i":")" + interval + R"(","o":")" + price(m_mid * 0.999) +
               R"(","c":")" + price(m_mid) + R"(","h":")" + price(m_mid * 1.002) + R"(","l":")" +
               price(m_mid * 0.997) + R"(","v":")" + size() + R"(","n":)" + QByteArray::number(m_count + 1) +
               "}";
    }
    if (t == u"activeAssetCtx"_s) {
        return R"({"coin":")" + m_coin +
               R"(","ctx":{"funding":"0.0000125","openInterest":"27353.17682","prevDayPx":")" +
               price(m_mid * 0.99) +
               R"(","dayNtlVlm":"1516669192.19","premium":"-0.0005927453","oraclePx":")" + price(m_mid) +
               R"(","markPx":")" + price(m_mid) + R"(","midPx":")" + price(m_mid) + R"(","impactPxs":[")" +
               price(m_mid - m_tick) + R"(",")" + price(m_mid + m_tick) +
               R"("],"dayBaseVlm":"19707.77457"}})";
    }
    if (t == u"activeAssetData"_s) {
        return "{" + userField + R"(,"coin":")" + m_coin +
               R"(","leverage":{"type":"cross","value":20},"maxTradeSzs":[")" + size() + R"(",")" + size() +
               R"("],"availableToTrade":[")" + size() + R"(",")" + size() + R"("],"markPx":")" +
               price(m_mid) + "\"}";
    }
    if (t == u"userFills"_s) {
        QByteArray fills = fill(nowMs);
        if (first)
            fills += "," + fill(nowMs - 60000) + "," + fill(nowMs - 120000);
        return "{" + snapshot + userField + R"(,"fills":[)" + fills + "]}";
    }
    if (t == u"userEvents"_s)
        return R"({"fills":[)" + fill(nowMs) + "]}";
    if (t == u"orderUpdates"_s) {
        static const char *const statuses[] = {"open", "filled", "canceled"};
        return R"([{"order":{"coin":")" + m_coin + R"(","side":"B","limitPx":")" + price(m_mid) +
               R"(","sz":")" + size() + R"(","oid":)" + QByteArray::number(7000000000ULL + m_count) +
               R"(,"timestamp":)" + now + R"(,"origSz":"1.0"},"status":")" + statuses[m_rng.bounded(3u)] +
               R"(","statusTimestamp":)" + now + "}]";
    }
    if (t == u"notification"_s)
        return R"({"notification":"Order filled: simulated notification )" + QByteArray::number(m_count) +
               "\"}";
    if (t == u"webData3"_s) {
        return R"({"userState":{"agentAddress":null,"agentValidUntil":null,"serverTime":)" + now +
               R"(,"cumLedger":"0.0","isVault":false,)" + userField +
               R"(},"perpDexStates":[{"totalVaultEquity":"0.0"}]})";
    }
    if (t == u"clearinghouseState"_s) {
        return R"({"dex":")" + m_dex + "\"," + userField +
               R"(,"clearinghouseState":{"assetPositions":[],"marginSummary":{"accountValue":"1000.0"},"crossMarginSummary":{"accountValue":"1000.0"},"crossMaintenanceMarginUsed":"0.0","withdrawable":"1000.0"}})";
    }
    if (t == u"openOrders"_s)
        return R"({"dex":")" + m_dex + "\"," + userField + R"(,"orders":[]})";
    if (t == u"twapStates"_s)
        return R"({"dex":")" + m_dex + "\"," + userField + R"(,"states":[]})";
    if (t == u"userFundings"_s)
        return "{" + snapshot + userField + R"(,"fundings":[{"time":)" + now +
               R"(,"coin":"BTC","usdc":"-0.01","szi":"0.1","fundingRate":"0.0000125","nSamples":null}]})";
    if (t == u"userNonFundingLedgerUpdates"_s)
        return "{" + snapshot + userField + R"(,"nonFundingLedgerUpdates":[{"time":)" + now + R"(,"hash":")" +
               hash() + R"(","delta":{"type":"deposit","usdc":"100.0"}}]})";
    if (t == u"userTwapSliceFills"_s)
        return "{" + snapshot + userField + R"(,"twapSliceFills":[{"fill":)" + fill(nowMs) +
               R"(,"twapId":2087225}]})";
    if (t == u"userTwapHistory"_s)
        return "{" + snapshot + userField + R"(,"history":[]})";
    if (t == u"userHistoricalOrders"_s)
        return "{" + snapshot + userField + R"(,"orderHistory":[]})";
    if (t == u"spotState"_s)
        return "{" + userField +
               R"(,"spotState":{"balances":[{"coin":"USDC","token":0,"hold":"0.0","total":"100.0","entryNtl":"0.0"}]}})";
    if (t == u"allDexsClearinghouseState"_s)
        return "{" + userField +
               R"(,"clearinghouseStates":[["",{"assetPositions":[],"withdrawable":"0.0"}]]})";
    if (t == u"allDexsAssetCtxs"_s)
        return R"({"ctxs":[["",[{"funding":"0.0","markPx":")" + price(m_mid) +
               R"(","midPx":null,"impactPxs":null}]]]})";
    if (t == u"assetCtxs"_s)
        return R"({"dex":")" + m_dex + R"(","ctxs":[{"funding":"0.0","markPx":")" + price(m_mid) + R"("}]})";
    if (t == u"spotAssetCtxs"_s)
        return R"([{"coin":"PURR/USDC","markPx":")" + price(m_mid) + R"("}])";
    if (t == u"outcomeMetaUpdates"_s)
        return R"([{"questionUpdated":{"question":)" + QByteArray::number(m_count) + "}}]";
    if (t == u"fastAssetCtxs"_s) {
        const QByteArray json = R"({"BTC":{"markPx":")" + price(m_mid) + R"("},"ETH":{"midPx":")" +
                                QByteArray::number(basePrice("ETH"), 'f', 2) + R"("}})";
        return '"' + Hl::deflateRaw(json).toBase64() + '"';
    }
    // webData2 and anything unknown never get this far (the server rejects them).
    return "{" + userField + "}";
}

QByteArray SyntheticFeed::trade(const QByteArray &coin, const QByteArray &now)
{
    QByteArray t =
        R"({"coin":")" + coin + R"(","side":")" + (m_rng.bounded(2u) ? "A" : "B") + R"(","px":")" +
        price(m_mid) + R"(","sz":")" + size() + R"(","time":)" + now + R"(,"hash":")" + hash() +
        R"(","tid":)" + QByteArray::number(++m_tid) +
        R"(,"users":["0xcc0a3b6e3267c84361e91d8230868eea53431e4b","0xc64cc00b46101bd40aa1c3121195e85c0b0918d8"]})";
    if (coin == m_coin)
        m_lastTrade = t;
    return t;
}

QByteArray SyntheticFeed::frame(const QByteArray &data) const
{
    const Hl::TypeSpec *spec = m_sub.spec();
    QByteArray channel = spec ? QByteArray(spec->channel) : m_type.toUtf8();
    if (spec && spec->aliasChannel && (m_coin.startsWith('@') || m_coin.contains('/')))
        channel = spec->aliasChannel;
    return R"({"channel":")" + channel + R"(","data":)" + data + "}";
}

QByteArray SyntheticFeed::next(qint64 nowMs)
{
    walk();
    const QByteArray data = dataFor(nowMs);
    m_lastStampMs = nowMs;
    ++m_count;
    return frame(data);
}

bool twistApplies(Twist twist, const QString &type)
{
    switch (twist) {
    case Twist::None:
        return true;
    case Twist::Crossed:
        return type == u"l2Book"_s || type == u"bbo"_s;
    case Twist::Backwards:
        return type == u"l2Book"_s || type == u"bbo"_s || type == u"trades"_s;
    case Twist::Duplicate:
    case Twist::Foreign:
        return type == u"trades"_s;
    }
    return false;
}

QByteArray SyntheticFeed::twisted(qint64 nowMs, Twist twist, qint64 backMs)
{
    if (!twistApplies(twist, m_type) || (twist == Twist::Duplicate && m_lastTrade.isEmpty()) ||
        (twist == Twist::Backwards && m_lastStampMs < 0))
        return {};
    walk();
    m_twist = twist;
    const QByteArray data =
        dataFor(twist == Twist::Backwards ? m_lastStampMs - std::max<qint64>(1, backMs) : nowMs);
    m_twist = Twist::None;
    if (twist != Twist::Backwards && twist != Twist::Duplicate)
        m_lastStampMs = nowMs;
    ++m_count;
    return frame(data);
}

} // namespace FeedScope::Sim

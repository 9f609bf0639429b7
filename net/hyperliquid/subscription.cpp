#include "subscription.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

using namespace std::chrono_literals;
using namespace Qt::StringLiterals;

namespace FeedScope::Hl {

namespace {

constexpr ParamSpec user{"user", ParamKind::User, true};
constexpr ParamSpec coin{"coin", ParamKind::Coin, true};
constexpr ParamSpec dex{"dex", ParamKind::Dex, false};
constexpr RouteField routeUser{"user", "user", ""};
constexpr RouteField routeDex{"dex", "dex", ""};
constexpr RouteField routeCoin{"coin", "coin", ""};

QList<TypeSpec> buildCatalogue()
{
    // Route fields follow PROTOCOL.md §2.1 / §4.4. allMids is routed by family only: whether the
    // data carries `dex` depends on how it was subscribed, so two allMids never share a connection.
    return {
        {"allMids", "allMids", nullptr, {dex}, {}, 5s},
        {"notification", "notification", nullptr, {user}, {}, 0ms},
        {"webData3", "webData3", nullptr, {user}, {{"user", "userState.user", ""}}, 10s},
        {"twapStates", "twapStates", nullptr, {user, dex}, {routeUser, routeDex}, 10s},
        {"clearinghouseState", "clearinghouseState", nullptr, {user, dex}, {routeUser, routeDex}, 10s},
        {"openOrders", "openOrders", nullptr, {user, dex}, {routeUser, routeDex}, 10s},
        {"candle",
         "candle",
         nullptr,
         {coin, {"interval", ParamKind::Interval, true}},
         {{"coin", "s", ""}, {"interval", "i", ""}},
         60s},
        {"l2Book",
         "l2Book",
         nullptr,
         {coin,
          {"nSigFigs", ParamKind::SigFigs, false},
          {"mantissa", ParamKind::Mantissa, false},
          {"fast", ParamKind::Bool, false}},
         {routeCoin},
         5s},
        {"trades", "trades", nullptr, {coin}, {{"coin", "0.coin", ""}}, 0ms},
        {"orderUpdates", "orderUpdates", nullptr, {user}, {}, 0ms},
        {"userEvents", "user", nullptr, {user}, {}, 0ms},
        {"userFills",
         "userFills",
         nullptr,
         {user, {"aggregateByTime", ParamKind::Bool, false}},
         {routeUser},
         0ms,
         false,
         true},
        {"userFundings", "userFundings", nullptr, {user}, {routeUser}, 0ms, false, true},
        {"userNonFundingLedgerUpdates",
         "userNonFundingLedgerUpdates",
         nullptr,
         {user},
         {routeUser},
         0ms,
         false,
         true},
        {"activeAssetCtx", "activeAssetCtx", "activeSpotAssetCtx", {coin}, {routeCoin}, 3s},
        {"activeAssetData", "activeAssetData", nullptr, {user, coin}, {routeUser, routeCoin}, 10s},
        {"userTwapSliceFills", "userTwapSliceFills", nullptr, {user}, {routeUser}, 0ms, false, true},
        {"userTwapHistory", "userTwapHistory", nullptr, {user}, {routeUser}, 0ms, false, true},
        {"bbo", "bbo", nullptr, {coin}, {routeCoin}, 10s}, // event-driven but ~7/s on a live coin
        {"spotState",
         "spotState",
         nullptr,
         {user, {"isPortfolioMargin", ParamKind::Bool, false}},
         {routeUser},
         10s},
        {"allDexsClearinghouseState", "allDexsClearinghouseState", nullptr, {user}, {routeUser}, 10s},
        {"allDexsAssetCtxs", "allDexsAssetCtxs", nullptr, {}, {}, 10s},
        {"outcomeMetaUpdates", "outcomeMetaUpdates", nullptr, {}, {}, 0ms},
        {"fastAssetCtxs", "fastAssetCtxs", nullptr, {}, {}, 3s},
        // Undocumented but live ([TS]).
        {"assetCtxs", "assetCtxs", nullptr, {dex}, {routeDex}, 10s},
        {"spotAssetCtxs", "spotAssetCtxs", nullptr, {}, {}, 10s},
        {"userHistoricalOrders", "userHistoricalOrders", nullptr, {user}, {routeUser}, 0ms, false, true},
        // Removed by the real server; encoded only when asked, its rejection is surfaced.
        {"webData2", "webData2", nullptr, {user}, {routeUser}, 10s, true},
    };
}

bool isHexAddress(const QString &s)
{
    static const QRegularExpression re(u"^0x[0-9a-fA-F]+$"_s);
    return re.match(s).hasMatch();
}

bool isUserAddress(const QString &s)
{
    static const QRegularExpression re(u"^0x[0-9a-fA-F]{40}$"_s);
    return re.match(s).hasMatch();
}

void appendJsonString(QByteArray &out, const QString &s)
{
    out += '"';
    const QByteArray utf8 = s.toUtf8();
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (u < 0x20) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void appendCanonical(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out += "null";
        break;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        break;
    case QJsonValue::Double: {
        const double d = value.toDouble();
        // Range first: converting a double beyond qint64 is undefined (found by fuzz_subscriptions).
        if (std::abs(d) < 9.0e15 && d == std::trunc(d))
            out += QByteArray::number(static_cast<qint64>(d));
        else
            out += QByteArray::number(d, 'g', 17);
        break;
    }
    case QJsonValue::String:
        appendJsonString(out, value.toString());
        break;
    case QJsonValue::Array: {
        out += '[';
        bool first = true;
        for (const QJsonValue &v : value.toArray()) {
            if (!first)
                out += ',';
            first = false;
            appendCanonical(out, v);
        }
        out += ']';
        break;
    }
    case QJsonValue::Object: {
        const QJsonObject o = value.toObject();
        QList<QByteArray> keys;
        keys.reserve(o.size());
        for (auto it = o.constBegin(); it != o.constEnd(); ++it)
            keys.append(it.key().toUtf8());
        std::sort(keys.begin(), keys.end());
        out += '{';
        bool first = true;
        for (const QByteArray &k : keys) {
            if (!first)
                out += ',';
            first = false;
            appendJsonString(out, QString::fromUtf8(k));
            out += ':';
            appendCanonical(out, o.value(QString::fromUtf8(k)));
        }
        out += '}';
        break;
    }
    }
}

/// Drops nulls, lowercases hex addresses (recursively).
QJsonObject normalise(const QJsonObject &in)
{
    QJsonObject out;
    for (auto it = in.constBegin(); it != in.constEnd(); ++it) {
        const QJsonValue v = it.value();
        if (v.isNull() || v.isUndefined())
            continue;
        if (v.isString() && isHexAddress(v.toString()))
            out.insert(it.key(), v.toString().toLower());
        else if (v.isObject())
            out.insert(it.key(), normalise(v.toObject()));
        else
            out.insert(it.key(), v);
    }
    return out;
}

QString describe(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Bool:
        return v.toBool() ? u"true"_s : u"false"_s;
    case QJsonValue::Double:
        return QString::number(v.toDouble());
    case QJsonValue::String:
        return u'"' + v.toString() + u'"';
    case QJsonValue::Array:
        return u"an array"_s;
    case QJsonValue::Object:
        return u"an object"_s;
    default:
        return u"null"_s;
    }
}

bool isInteger(const QJsonValue &v, int *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    // Range first: converting a double beyond int is undefined (found by fuzz_subscriptions).
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::trunc(d))
        return false;
    *out = static_cast<int>(d);
    return true;
}

QString validateParam(const ParamSpec &p, const QJsonValue &v)
{
    const QString name = QString::fromLatin1(p.name);
    int n = 0;
    switch (p.kind) {
    case ParamKind::Coin:
        if (!v.isString() || v.toString().isEmpty())
            return u"\"%1\" must be a non-empty string (got %2)"_s.arg(name, describe(v));
        return {};
    case ParamKind::User:
        if (!v.isString() || !isUserAddress(v.toString()))
            return u"\"%1\" must be an address of 0x and 40 hex digits (got %2)"_s.arg(name, describe(v));
        return {};
    case ParamKind::Interval:
        if (!v.isString() || !candleIntervals().contains(v.toString()))
            return u"\"%1\" must be one of %2 (got %3)"_s.arg(name, candleIntervals().join(u' '),
                                                              describe(v));
        return {};
    case ParamKind::SigFigs:
        if (!isInteger(v, &n) || n < 2 || n > 5)
            return u"\"%1\" must be an integer from 2 to 5 (got %2)"_s.arg(name, describe(v));
        return {};
    case ParamKind::Mantissa:
        if (!isInteger(v, &n) || (n != 1 && n != 2 && n != 5))
            return u"\"%1\" must be 1, 2 or 5 (got %2)"_s.arg(name, describe(v));
        return {};
    case ParamKind::Bool:
        if (!v.isBool())
            return u"\"%1\" must be true or false (got %2)"_s.arg(name, describe(v));
        return {};
    case ParamKind::Dex:
        if (!v.isString())
            return u"\"%1\" must be a string (got %2)"_s.arg(name, describe(v));
        return {};
    }
    return {};
}

QString valueAsRouteText(const QJsonValue &v, const char *dflt)
{
    if (v.isString())
        return v.toString();
    if (v.isDouble())
        return QString::number(v.toDouble());
    if (v.isBool())
        return v.toBool() ? u"true"_s : u"false"_s;
    return QString::fromLatin1(dflt);
}

} // namespace

const QList<TypeSpec> &catalogue()
{
    static const QList<TypeSpec> c = buildCatalogue();
    return c;
}

const TypeSpec *findType(QStringView type)
{
    for (const TypeSpec &s : catalogue()) {
        if (type == QLatin1StringView(s.type))
            return &s;
    }
    return nullptr;
}

const TypeSpec *findChannel(QByteArrayView channel)
{
    // Called for every frame: one hash look-up, no allocation (the key wraps the caller's bytes).
    static const QHash<QByteArray, const TypeSpec *> byChannel = [] {
        QHash<QByteArray, const TypeSpec *> h;
        for (const TypeSpec &s : catalogue()) {
            h.insert(QByteArray(s.channel), &s);
            if (s.aliasChannel)
                h.insert(QByteArray(s.aliasChannel), &s);
        }
        return h;
    }();
    return byChannel.value(QByteArray::fromRawData(channel.data(), channel.size()), nullptr);
}

const QList<QString> &candleIntervals()
{
    static const QList<QString> i{u"1m"_s, u"3m"_s, u"5m"_s,  u"15m"_s, u"30m"_s, u"1h"_s, u"2h"_s,
                                  u"4h"_s, u"8h"_s, u"12h"_s, u"1d"_s,  u"3d"_s,  u"1w"_s, u"1M"_s};
    return i;
}

QByteArray canonicalJson(const QJsonValue &value)
{
    QByteArray out;
    out.reserve(64);
    appendCanonical(out, value);
    return out;
}

std::optional<Subscription> Subscription::fromJson(const QJsonObject &object, QString *error)
{
    auto fail = [error](const QString &msg) -> std::optional<Subscription> {
        if (error)
            *error = msg;
        return std::nullopt;
    };
    const QJsonValue typeValue = object.value(u"type"_s);
    if (!typeValue.isString())
        return fail(u"missing \"type\" (a string such as \"trades\")"_s);
    const TypeSpec *spec = findType(typeValue.toString());
    if (!spec)
        return fail(u"unknown subscription type \"%1\""_s.arg(typeValue.toString()));

    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        if (it.key() == u"type"_s)
            continue;
        const auto p = std::find_if(spec->params.cbegin(), spec->params.cend(), [&](const ParamSpec &ps) {
            return it.key() == QLatin1StringView(ps.name);
        });
        if (p == spec->params.cend()) {
            QStringList known;
            for (const ParamSpec &ps : spec->params)
                known.append(QString::fromLatin1(ps.name));
            return fail(u"%1 takes no parameter \"%2\" (it takes: %3)"_s.arg(
                QString::fromLatin1(spec->type), it.key(),
                known.isEmpty() ? u"none"_s : known.join(u", "_s)));
        }
        if (it.value().isNull() && !p->required)
            continue;
        if (const QString e = validateParam(*p, it.value()); !e.isEmpty())
            return fail(QString::fromLatin1(spec->type) + u": "_s + e);
    }
    for (const ParamSpec &ps : spec->params) {
        if (ps.required && !object.contains(QLatin1StringView(ps.name)))
            return fail(
                u"%1 needs \"%2\""_s.arg(QString::fromLatin1(spec->type), QString::fromLatin1(ps.name)));
    }
    if (object.contains(u"mantissa"_s) && !object.value(u"mantissa"_s).isNull() &&
        object.value(u"nSigFigs"_s).toInt() != 5)
        return fail(u"l2Book: \"mantissa\" is only allowed with \"nSigFigs\": 5"_s);

    Subscription s;
    s.m_json = normalise(object);
    s.finish();
    return s;
}

Subscription Subscription::fromEcho(const QJsonObject &object)
{
    Subscription s;
    s.m_json = normalise(object);
    s.finish();
    return s;
}

std::optional<QList<Subscription>> Subscription::listFromJson(const QByteArray &json, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = u"not valid JSON at offset %1: %2"_s.arg(pe.offset).arg(pe.errorString());
        return std::nullopt;
    }
    if (!doc.isArray()) {
        *error = u"expected a JSON array of subscription objects"_s;
        return std::nullopt;
    }
    QList<Subscription> out;
    const QJsonArray array = doc.array();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue v = array.at(i);
        QString why;
        std::optional<Subscription> s;
        if (v.isObject())
            s = fromJson(v.toObject(), &why);
        else
            why = u"expected an object, got %1"_s.arg(describe(v));
        if (!s) {
            const QString text = v.isObject() ? QString::fromUtf8(canonicalJson(v)) : describe(v);
            *error = u"entry %1 %2: %3"_s.arg(i).arg(text, why);
            return std::nullopt;
        }
        out.append(*s);
    }
    return out;
}

void Subscription::finish()
{
    m_type = m_json.value(u"type"_s).toString();
    m_spec = findType(m_type);
    m_user = m_json.value(u"user"_s).toString().toLower();
    m_canonical = canonicalJson(m_json);

    QJsonObject ack = m_json;
    for (auto it = ack.begin(); it != ack.end();) {
        const bool isDefault =
            it.key() != u"type"_s && ((it.value().isBool() && !it.value().toBool()) ||
                                      (it.value().isString() && it.value().toString().isEmpty()));
        it = isDefault ? ack.erase(it) : it + 1;
    }
    m_ackKey = canonicalJson(ack);

    if (!m_spec) {
        m_routeKey = "?" + m_canonical;
        return;
    }
    m_routeKey = m_spec->type;
    for (const RouteField &f : m_spec->route) {
        QString v = valueAsRouteText(m_json.value(QLatin1StringView(f.param)), f.defaultValue);
        if (QByteArrayView(f.param) == "user")
            v = v.toLower();
        m_routeKey += '|';
        m_routeKey += v.toUtf8();
    }
}

bool canShareConnection(const Subscription &a, const Subscription &b)
{
    return a.routeKey() != b.routeKey() && a.ackKey() != b.ackKey();
}

} // namespace FeedScope::Hl

#include "codec.h"

#include "enumname.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <simdjson.h>
#include <zlib.h>

#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <unordered_map>
#include <vector>

using namespace Qt::StringLiterals;

namespace FeedScope::Hl {

QLatin1StringView nameOf(DecodeError e)
{
    return lowerCamelName(e);
}

QLatin1StringView nameOf(FrameKind k)
{
    return lowerCamelName(k);
}

QLatin1StringView nameOf(ServerErrorKind k)
{
    return lowerCamelName(k);
}

namespace {

/// The subscription echoed in @p jsonText: a bare subscription object, or a whole request
/// envelope ({"method":…,"subscription":{…}}).
Subscription echoedSubscription(const QString &jsonText)
{
    const QJsonDocument doc = QJsonDocument::fromJson(jsonText.trimmed().toUtf8());
    if (!doc.isObject())
        return {};
    QJsonObject o = doc.object();
    if (o.value(u"subscription"_s).isObject())
        o = o.value(u"subscription"_s).toObject();
    if (!o.value(u"type"_s).isString())
        return {};
    return Subscription::fromEcho(o);
}

} // namespace

ServerError classifyServerError(const QString &text)
{
    ServerError e;
    e.text = text;
    static const QRegularExpression limitRe(
        u"^Cannot (subscribe to|track|send) more than (\\d+) (channels|total users|messages per minute)\\.?$"_s);
    static const QRegularExpression postRe(u"^too many pending post requests id=(\\d+)"_s);
    struct Prefix
    {
        QLatin1StringView prefix;
        ServerErrorKind kind;
    };
    static const Prefix prefixes[] = {
        {"Already subscribed:"_L1, ServerErrorKind::AlreadySubscribed},
        {"Already unsubscribed:"_L1, ServerErrorKind::AlreadyUnsubscribed},
        {"Invalid subscription:"_L1, ServerErrorKind::InvalidSubscription},
        {"Invalid subscription"_L1, ServerErrorKind::InvalidSubscription},
        {"Error parsing JSON into valid websocket request:"_L1, ServerErrorKind::ParseError},
    };
    for (const Prefix &p : prefixes) {
        if (text.startsWith(p.prefix)) {
            e.kind = p.kind;
            e.subscription = echoedSubscription(text.mid(p.prefix.size()));
            return e;
        }
    }
    if (const auto m = limitRe.match(text); m.hasMatch()) {
        e.limit = m.captured(2).toInt();
        const QString what = m.captured(1);
        e.kind = what == u"subscribe to"_s ? ServerErrorKind::TooManyChannels
                 : what == u"track"_s      ? ServerErrorKind::TooManyUsers
                                           : ServerErrorKind::RateLimited;
        return e;
    }
    if (const auto m = postRe.match(text); m.hasMatch()) {
        e.kind = ServerErrorKind::TooManyPendingPosts;
        e.postId = m.captured(1).toLongLong();
        return e;
    }
    return e;
}

namespace {

/// Where the event time sits in a family's data (PROTOCOL.md §2, the fixtures). Candles carry bar
/// times (`t`/`T`), not the time of an event; allMids, the contexts and the state feeds carry none;
/// userTwapHistory's `time` is in seconds: none of those give a latency sample.
struct TimeShape
{
    enum Kind : quint8 {
        None,
        Field,      ///< data.time (l2Book, bbo)
        ItemsMax,   ///< data[].<field>, the newest (trades: time, orderUpdates: statusTimestamp)
        ListMax,    ///< data.<list>[].time, the newest (userFills, userFundings, ledger updates)
        TwapSlices, ///< data.twapSliceFills[].fill.time, the newest
        UserEvents, ///< data.fills[].time or data.funding.time (liquidation, nonUserCancel: none)
    };
    Kind kind = None;
    const char *field = "time";
    const char *list = nullptr;
};

TimeShape timeShapeFor(const TypeSpec &spec)
{
    const std::string_view t(spec.type);
    if (t == "l2Book" || t == "bbo")
        return {TimeShape::Field};
    if (t == "trades")
        return {TimeShape::ItemsMax};
    if (t == "orderUpdates")
        return {TimeShape::ItemsMax, "statusTimestamp"};
    if (t == "userFills")
        return {TimeShape::ListMax, "time", "fills"};
    if (t == "userFundings")
        return {TimeShape::ListMax, "time", "fundings"};
    if (t == "userNonFundingLedgerUpdates")
        return {TimeShape::ListMax, "time", "nonFundingLedgerUpdates"};
    if (t == "userTwapSliceFills")
        return {TimeShape::TwapSlices};
    if (t == "userEvents")
        return {TimeShape::UserEvents};
    return {};
}

} // namespace

struct FrameDecoder::Private
{
    simdjson::ondemand::parser parser;
    std::vector<char> buffer;
    /// Route keys are built here (its capacity is kept) and handed out interned: one shared
    /// QByteArray per distinct key, so a data frame costs no allocation for its key. Bounded:
    /// a server inventing keys only ever makes the table start over.
    QByteArray scratch;
    struct ViewHash
    {
        using is_transparent = void;
        size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
    };
    std::unordered_map<std::string, QByteArray, ViewHash, std::equal_to<>> interned;
    static constexpr size_t MaxInterned = 4096;

    QByteArray intern(const QByteArray &key)
    {
        const std::string_view view(key.constData(), static_cast<size_t>(key.size()));
        if (const auto it = interned.find(view); it != interned.end())
            return it->second;
        if (interned.size() >= MaxInterned)
            interned.clear();
        const QByteArray copy(key.constData(), key.size());
        interned.emplace(std::string(view), copy);
        return copy;
    }

    Envelope decodeControl(Envelope env);
    bool route(Envelope &env, simdjson::ondemand::value data);

    /// Where a family's data carries the venue's event time (issue 17), by catalogue position.
    std::vector<TimeShape> timeShapes;
    TimeShape timeShapeOf(const TypeSpec *spec) const
    {
        const qsizetype i = spec - catalogue().constData();
        return i >= 0 && i < static_cast<qsizetype>(timeShapes.size()) ? timeShapes[static_cast<size_t>(i)]
                                                                       : TimeShape{};
    }
};

bool carriesEventTime(const TypeSpec &spec)
{
    return timeShapeFor(spec).kind != TimeShape::None;
}

FrameDecoder::FrameDecoder() : d(std::make_unique<Private>())
{
    for (const TypeSpec &spec : catalogue())
        d->timeShapes.push_back(timeShapeFor(spec));
}
FrameDecoder::~FrameDecoder() = default;

namespace {

/// Reads a scalar as routing text: strings as they are, numbers and booleans as written.
/// Errors after which the On-Demand iterator must not be used again (the document is broken).
bool isFatal(simdjson::error_code e)
{
    return e != simdjson::SUCCESS && e != simdjson::NO_SUCH_FIELD && e != simdjson::INCORRECT_TYPE;
}

bool scalarText(simdjson::ondemand::value v, std::string_view *out)
{
    const auto e = v.get_string().get(*out);
    if (e == simdjson::SUCCESS)
        return true;
    if (e != simdjson::INCORRECT_TYPE)
        return false;
    // Numbers and booleans keep their written form (the token may carry trailing blanks).
    std::string_view token = v.raw_json_token();
    while (!token.empty() &&
           (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t'))
        token.remove_suffix(1);
    if (token.empty() || token.front() == '{' || token.front() == '[' || token.front() == '"')
        return false;
    *out = token;
    return true;
}

/// Folds @p o's integer @p field (ms) into @p newest. Returns the lookup's error.
simdjson::error_code readTime(simdjson::ondemand::object &o, const char *field, qint64 *newest)
{
    int64_t t = 0;
    const auto e = o.find_field_unordered(field).get_int64().get(t);
    if (e == simdjson::SUCCESS && t > *newest)
        *newest = t;
    return e;
}

/// The newest @p field of the objects of @p arr (of their `fill` object with @p inFill); 0 when
/// none has one or the document breaks on the way.
qint64 newestOfItems(simdjson::ondemand::array arr, const char *field, bool inFill = false)
{
    qint64 newest = 0;
    for (auto element : arr) {
        simdjson::ondemand::object o;
        if (element.get_object().get(o) != simdjson::SUCCESS)
            return 0;
        if (inFill) {
            const auto e = o.find_field_unordered("fill").get_object().get(o);
            if (isFatal(e))
                return 0;
            if (e != simdjson::SUCCESS)
                continue;
        }
        if (isFatal(readTime(o, field, &newest)))
            return 0;
    }
    return newest;
}

/// userEvents carries one of fills (their times), funding (its time), liquidation or
/// nonUserCancel (no time).
qint64 userEventTime(simdjson::ondemand::object o)
{
    for (auto field : o) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS)
            return 0;
        if (key == "fills") {
            simdjson::ondemand::array fills;
            return field.value().get_array().get(fills) == simdjson::SUCCESS ? newestOfItems(fills, "time")
                                                                             : 0;
        }
        if (key == "funding") {
            simdjson::ondemand::object funding;
            qint64 t = 0;
            if (field.value().get_object().get(funding) != simdjson::SUCCESS ||
                readTime(funding, "time", &t) != simdjson::SUCCESS)
                return 0;
            return t;
        }
        return 0;
    }
    return 0;
}

void appendRoutePart(QByteArray &key, std::string_view value, bool lower)
{
    key += '|';
    const qsizetype start = key.size();
    key.append(value.data(), static_cast<qsizetype>(value.size()));
    if (lower) {
        for (qsizetype i = start; i < key.size(); ++i) {
            const char c = key.at(i);
            if (c >= 'A' && c <= 'Z')
                key[i] = static_cast<char>(c - 'A' + 'a');
        }
    }
}

} // namespace

bool FrameDecoder::Private::route(Envelope &env, simdjson::ondemand::value data)
{
    const TypeSpec &spec = *env.spec;
    QByteArray &key = scratch;
    key.resize(0); // keeps the capacity
    key.append(spec.type);
    if (spec.route.isEmpty()) {
        // Unrouted families: only orderUpdates and userEvents carry an event time.
        const TimeShape shape = timeShapeOf(env.spec);
        if (shape.kind == TimeShape::ItemsMax) {
            simdjson::ondemand::array arr;
            if (data.get_array().get(arr) == simdjson::SUCCESS)
                env.eventTimeMs = newestOfItems(arr, shape.field);
        } else if (shape.kind == TimeShape::UserEvents) {
            simdjson::ondemand::object o;
            if (data.get_object().get(o) == simdjson::SUCCESS)
                env.eventTimeMs = userEventTime(o);
        }
        return true;
    }

    const RouteField &first = spec.route.first();
    if (std::strcmp(first.dataPath, "0.coin") == 0) {
        // trades: the coin of the first element.
        simdjson::ondemand::array arr;
        if (const auto e = data.get_array().get(arr); e != simdjson::SUCCESS) {
            env.error = isFatal(e) ? DecodeError::NotJson : DecodeError::WrongShape;
            return false;
        }
        // The event time: the newest trade's (every element is read up to its time).
        const TimeShape shape = timeShapeOf(env.spec);
        const bool timed = shape.kind == TimeShape::ItemsMax;
        bool firstItem = true;
        qint64 newest = 0;
        for (auto element : arr) {
            simdjson::ondemand::object o;
            auto e = element.get_object().get(o);
            if (firstItem) {
                std::string_view coin;
                simdjson::ondemand::value v;
                if (e == simdjson::SUCCESS)
                    e = o.find_field_unordered("coin").get(v);
                if (isFatal(e)) {
                    env.error = DecodeError::NotJson;
                    return false;
                }
                if (e != simdjson::SUCCESS || !scalarText(v, &coin)) {
                    env.error = DecodeError::WrongShape;
                    return false;
                }
                appendRoutePart(key, coin, false);
                firstItem = false;
                if (!timed)
                    return true;
            } else if (e != simdjson::SUCCESS) {
                return true; // routed; a broken later element gives no time
            }
            if (isFatal(readTime(o, shape.field, &newest)))
                return true;
        }
        if (firstItem) {
            env.error = DecodeError::Unroutable; // empty array: nothing says whose it is
            return false;
        }
        env.eventTimeMs = newest;
        return true;
    }

    simdjson::ondemand::object obj;
    if (const auto e = data.get_object().get(obj); e != simdjson::SUCCESS) {
        env.error = isFatal(e) ? DecodeError::NotJson : DecodeError::WrongShape;
        return false;
    }
    if (spec.snapshotFlag) {
        bool snapshot = false;
        const auto snapErr = obj.find_field_unordered("isSnapshot").get_bool().get(snapshot);
        if (isFatal(snapErr)) {
            env.error = DecodeError::NotJson;
            return false;
        }
        env.isSnapshot = snapErr == simdjson::SUCCESS && snapshot;
    }

    for (const RouteField &f : spec.route) {
        const bool lower = std::strcmp(f.param, "user") == 0;
        const char *dot = std::strchr(f.dataPath, '.');
        simdjson::ondemand::value v;
        simdjson::error_code err;
        if (dot) {
            // Nested path (webData3: userState.user); only ever the sole route field.
            const std::string outer(f.dataPath, static_cast<size_t>(dot - f.dataPath));
            simdjson::ondemand::object inner;
            err = obj.find_field_unordered(outer).get_object().get(inner);
            if (err == simdjson::SUCCESS)
                err = inner.find_field_unordered(dot + 1).get(v);
        } else {
            err = obj.find_field_unordered(f.dataPath).get(v);
        }
        std::string_view text;
        if (err == simdjson::NO_SUCH_FIELD && std::strcmp(f.param, "dex") == 0) {
            appendRoutePart(key, f.defaultValue, false);
            continue;
        }
        if (err == simdjson::NO_SUCH_FIELD) {
            env.error = DecodeError::Unroutable;
            return false;
        }
        if (isFatal(err)) {
            env.error = DecodeError::NotJson;
            return false;
        }
        if (err != simdjson::SUCCESS || !scalarText(v, &text)) {
            env.error = DecodeError::WrongShape;
            return false;
        }
        appendRoutePart(key, text, lower);
    }
    if (env.isSnapshot)
        return true; // history, not news: no latency sample
    // The event time, after the routing fields (it usually follows them: one forward step).
    switch (const TimeShape shape = timeShapeOf(env.spec); shape.kind) {
    case TimeShape::Field: {
        qint64 t = 0;
        if (readTime(obj, shape.field, &t) == simdjson::SUCCESS)
            env.eventTimeMs = t;
        break;
    }
    case TimeShape::ListMax:
    case TimeShape::TwapSlices: {
        simdjson::ondemand::array arr;
        const char *list = shape.kind == TimeShape::TwapSlices ? "twapSliceFills" : shape.list;
        if (obj.find_field_unordered(list).get_array().get(arr) == simdjson::SUCCESS)
            env.eventTimeMs = newestOfItems(arr, shape.field, shape.kind == TimeShape::TwapSlices);
        break;
    }
    case TimeShape::UserEvents:
        env.eventTimeMs = userEventTime(obj);
        break;
    case TimeShape::None:
    case TimeShape::ItemsMax:
        break;
    }
    return true;
}

Envelope FrameDecoder::Private::decodeControl(Envelope env)
{
    // Control frames are rare: a DOM is fine here and keeps the code plain.
    const QJsonObject root = QJsonDocument::fromJson(env.raw).object();
    const QJsonValue data = root.value(u"data"_s);
    if (env.channel == "pong") {
        env.kind = FrameKind::Pong;
    } else if (env.channel == "subscriptionResponse") {
        const QJsonObject d = data.toObject();
        const QJsonValue sub = d.value(u"subscription"_s);
        if (!sub.isObject() || !sub.toObject().value(u"type"_s).isString()) {
            env.error = DecodeError::WrongShape;
            return env;
        }
        env.kind = FrameKind::SubscriptionResponse;
        env.unsubscribeAck = d.value(u"method"_s).toString() == u"unsubscribe"_s;
        env.subscription = Subscription::fromEcho(sub.toObject());
    } else if (env.channel == "error") {
        if (!data.isString()) {
            env.error = DecodeError::WrongShape;
            return env;
        }
        env.kind = FrameKind::Error;
        env.serverError = classifyServerError(data.toString());
    } else if (env.channel == "post") {
        const QJsonObject d = data.toObject();
        if (!d.value(u"id"_s).isDouble()) {
            env.error = DecodeError::WrongShape;
            return env;
        }
        env.kind = FrameKind::Post;
        env.postId = d.value(u"id"_s).toInteger();
        env.postResponseType = d.value(u"response"_s).toObject().value(u"type"_s).toString();
    }
    return env;
}

Envelope FrameDecoder::decode(const QByteArray &utf8)
{
    Envelope env;
    env.raw = utf8;
    if (utf8.isEmpty()) {
        env.error = DecodeError::Empty;
        return env;
    }
    const auto len = static_cast<size_t>(utf8.size());
    if (d->buffer.size() < len + simdjson::SIMDJSON_PADDING)
        d->buffer.resize(len + simdjson::SIMDJSON_PADDING);
    std::memcpy(d->buffer.data(), utf8.constData(), len);

    simdjson::ondemand::document doc;
    if (d->parser.iterate(d->buffer.data(), len, d->buffer.size()).get(doc) != simdjson::SUCCESS) {
        env.error = DecodeError::NotJson;
        return env;
    }
    simdjson::ondemand::json_type type;
    if (doc.type().get(type) != simdjson::SUCCESS) {
        env.error = DecodeError::NotJson;
        return env;
    }
    if (type != simdjson::ondemand::json_type::object) {
        // Valid JSON that is not an object (array, string, number…) versus garbage.
        const QByteArray wrapped = QByteArray("[") + utf8 + QByteArray("]");
        const bool scalarOk = QJsonDocument::fromJson(wrapped).isArray();
        env.error = scalarOk ? DecodeError::NotObject : DecodeError::NotJson;
        return env;
    }
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        env.error = DecodeError::NotJson;
        return env;
    }
    std::string_view channel;
    const auto chErr = obj.find_field_unordered("channel").get_string().get(channel);
    if (chErr == simdjson::NO_SUCH_FIELD || chErr == simdjson::INCORRECT_TYPE) {
        env.error = DecodeError::MissingChannel;
        return env;
    }
    if (chErr != simdjson::SUCCESS) {
        env.error = DecodeError::NotJson;
        return env;
    }
    const QByteArrayView channelView(channel.data(), static_cast<qsizetype>(channel.size()));

    if (channel == "pong" || channel == "subscriptionResponse" || channel == "error" || channel == "post") {
        env.channel = channelView.toByteArray();
        // Validate the whole document first: the DOM parser below must not see broken JSON.
        if (QJsonDocument::fromJson(utf8).isNull()) {
            env.channel.clear();
            env.error = DecodeError::NotJson;
            return env;
        }
        return d->decodeControl(std::move(env));
    }

    env.spec = findChannel(channelView);
    if (!env.spec) {
        env.channel = channelView.toByteArray();
        env.kind = FrameKind::Unknown;
        return env;
    }
    // Known channels point at the catalogue's static names: no allocation per frame.
    const char *name =
        channelView == QByteArrayView(env.spec->channel) ? env.spec->channel : env.spec->aliasChannel;
    env.channel = QByteArray::fromRawData(name, static_cast<qsizetype>(std::strlen(name)));
    simdjson::ondemand::value data;
    const auto dataErr = obj.find_field_unordered("data").get(data);
    if (dataErr != simdjson::SUCCESS) {
        env.error = dataErr == simdjson::NO_SUCH_FIELD ? DecodeError::WrongShape : DecodeError::NotJson;
        return env;
    }
    if (!d->route(env, data))
        return env;
    env.routeKey = d->intern(d->scratch);
    env.kind = FrameKind::Data;
    return env;
}

namespace {

QByteArray encodeWithSubscription(const char *method, const Subscription &s)
{
    QByteArray out;
    out.reserve(40 + s.canonical().size());
    out += R"({"method":")";
    out += method;
    out += R"(","subscription":)";
    out += s.canonical();
    out += '}';
    return out;
}

} // namespace

QByteArray encodeSubscribe(const Subscription &s)
{
    return encodeWithSubscription("subscribe", s);
}

QByteArray encodeUnsubscribe(const Subscription &s)
{
    return encodeWithSubscription("unsubscribe", s);
}

QByteArray frameBytes(const QString &text)
{
    const qsizetype n = text.size();
    const char16_t *src = QStringView(text).utf16();
    QByteArray out(n, Qt::Uninitialized);
    char *dst = out.data();
    qsizetype i = 0;
    bool ascii = true;
#if defined(__SSE2__)
    // 16 characters a step: narrowed with saturation (a non-ASCII character is caught below and
    // the whole frame redone), their bits OR-ed to see whether any is beyond ASCII.
    __m128i seen = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i + 8));
        seen = _mm_or_si128(seen, _mm_or_si128(a, b));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + i), _mm_packus_epi16(a, b));
    }
    const __m128i high = _mm_and_si128(seen, _mm_set1_epi16(static_cast<short>(0xff80)));
    ascii = _mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) == 0xffff;
#endif
    char16_t tail = 0;
    for (; i < n; ++i) {
        tail |= src[i];
        dst[i] = static_cast<char>(src[i]);
    }
    if (ascii && tail < 0x80)
        return out;
    out = text.toUtf8();
    out.squeeze();
    return out;
}

QByteArray encodePing()
{
    return QByteArrayLiteral(R"({"method":"ping"})");
}

QByteArray encodePost(quint64 id, PostType type, const QJsonObject &payload)
{
    QByteArray out = R"({"method":"post","id":)";
    out += QByteArray::number(id);
    out += R"(,"request":{"type":")";
    out += type == PostType::Info ? "info" : "action";
    out += R"(","payload":)";
    out += canonicalJson(payload);
    out += "}}";
    return out;
}

std::optional<QByteArray> inflateFastAssetCtxs(QByteArrayView base64, QString *error, qsizetype maxBytes)
{
    auto fail = [error](const QString &why) -> std::optional<QByteArray> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const auto decoded =
        QByteArray::fromBase64Encoding(base64.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return fail(u"fastAssetCtxs: payload is not valid base64"_s);
    const QByteArray &in = *decoded;

    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return fail(u"fastAssetCtxs: zlib initialisation failed"_s);
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.constData()));
    zs.avail_in = static_cast<uInt>(in.size());
    QByteArray out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef *>(chunk);
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            return fail(u"fastAssetCtxs: payload is not raw DEFLATE data (zlib code %1)"_s.arg(rc));
        }
        out.append(chunk, static_cast<qsizetype>(sizeof chunk - zs.avail_out));
        if (out.size() > maxBytes) {
            inflateEnd(&zs);
            return fail(u"fastAssetCtxs: inflated payload exceeds %1 bytes"_s.arg(maxBytes));
        }
        if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            return fail(u"fastAssetCtxs: payload is truncated"_s);
        }
    }
    inflateEnd(&zs);
    return out;
}

QByteArray deflateRaw(QByteArrayView data)
{
    z_stream zs{};
    deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(static_cast<qsizetype>(deflateBound(&zs, static_cast<uLong>(data.size()))),
                   Qt::Uninitialized);
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, Z_FINISH);
    out.resize(static_cast<qsizetype>(zs.total_out));
    deflateEnd(&zs);
    return out;
}

} // namespace FeedScope::Hl

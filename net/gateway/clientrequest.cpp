#include "clientrequest.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope::Gw {

namespace {

/// Index just past the JSON value starting at @p i (valid JSON assumed), or -1.
qsizetype skipValue(QByteArrayView s, qsizetype i)
{
    const qsizetype n = s.size();
    if (i >= n)
        return -1;
    if (s[i] == '"') {
        for (++i; i < n; ++i) {
            if (s[i] == '\\')
                ++i;
            else if (s[i] == '"')
                return i + 1;
        }
        return -1;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < n; ++i) {
            const char c = s[i];
            if (c == '"') {
                const qsizetype e = skipValue(s, i); // strings do not recurse further
                if (e < 0)
                    return -1;
                i = e - 1;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return -1;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\r' && s[i] != '\n')
        ++i;
    return i;
}

qsizetype skipSpace(QByteArrayView s, qsizetype i)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        ++i;
    return i;
}

bool isPostId(const QJsonValue &v)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d;
}

} // namespace

QByteArrayView topLevelValue(QByteArrayView json, QByteArrayView key)
{
    qsizetype i = skipSpace(json, 0);
    if (i >= json.size() || json[i] != '{')
        return {};
    ++i;
    QByteArrayView found;
    while (true) {
        i = skipSpace(json, i);
        if (i >= json.size() || json[i] == '}')
            return found;
        if (json[i] == ',') {
            ++i;
            continue;
        }
        const qsizetype keyEnd = skipValue(json, i);
        if (keyEnd < 0 || json[i] != '"')
            return found;
        const QByteArrayView k = json.sliced(i + 1, keyEnd - i - 2);
        i = skipSpace(json, keyEnd);
        if (i >= json.size() || json[i] != ':')
            return found;
        i = skipSpace(json, i + 1);
        const qsizetype valueEnd = skipValue(json, i);
        if (valueEnd < 0)
            return found;
        if (k == key)
            found = json.sliced(i, valueEnd - i);
        i = valueEnd;
    }
}

QString parseErrorText(QByteArrayView raw)
{
    return u"Error parsing JSON into valid websocket request: "_s + QString::fromUtf8(raw);
}

QString alreadySubscribedText(const Hl::Subscription &s)
{
    return u"Already subscribed: "_s + QString::fromUtf8(normalisedEcho(s));
}

QString alreadyUnsubscribedText(const Hl::Subscription &s)
{
    return u"Already unsubscribed: "_s + QString::fromUtf8(s.canonical());
}

QString tooManyChannelsText(int limit)
{
    return u"Cannot subscribe to more than %1 channels."_s.arg(limit);
}

QString tooManyUsersText(int limit)
{
    return u"Cannot track more than %1 total users."_s.arg(limit);
}

QString tooManyMessagesText(int limit)
{
    return u"Cannot send more than %1 messages per minute."_s.arg(limit);
}

QString tooManyPendingPostsText(qint64 id)
{
    return u"too many pending post requests id=%1"_s.arg(id);
}

ClientRequest parseClientRequest(QByteArrayView utf8)
{
    ClientRequest r;
    auto invalid = [&] {
        r.kind = RequestKind::Invalid;
        r.error = parseErrorText(utf8);
        return r;
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(utf8.toByteArray(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return invalid();
    const QJsonObject o = doc.object();
    const QJsonValue method = o.value(u"method"_s);
    if (!method.isString())
        return invalid();
    const QString m = method.toString();
    if (m == u"ping"_s) {
        r.kind = RequestKind::Ping;
        return r;
    }
    if (m == u"subscribe"_s || m == u"unsubscribe"_s) {
        const QJsonValue sv = o.value(u"subscription"_s);
        if (!sv.isObject())
            return invalid();
        const Hl::TypeSpec *spec = Hl::findType(sv.toObject().value(u"type"_s).toString());
        if (!spec || spec->legacy)
            return invalid();
        QString why;
        auto s = Hl::Subscription::fromJson(sv.toObject(), &why);
        if (m == u"subscribe"_s) {
            if (!s) {
                r.kind = RequestKind::Invalid;
                r.error = u"Invalid subscription "_s + QString::fromUtf8(Hl::canonicalJson(sv));
                return r;
            }
            r.kind = RequestKind::Subscribe;
            r.subscription = *s;
            return r;
        }
        r.kind = RequestKind::Unsubscribe;
        r.subscription = s ? *s : Hl::Subscription::fromEcho(sv.toObject());
        return r;
    }
    if (m == u"post"_s) {
        const QJsonValue id = o.value(u"id"_s);
        const QJsonValue req = o.value(u"request"_s);
        const QString type = req.toObject().value(u"type"_s).toString();
        if (!isPostId(id) || !req.isObject() || (type != u"info"_s && type != u"action"_s) ||
            !req.toObject().value(u"payload"_s).isObject())
            return invalid();
        const QByteArrayView raw = topLevelValue(utf8, "request");
        r.kind = RequestKind::Post;
        r.postId = static_cast<qint64>(id.toDouble());
        // The bytes as sent (a signed action passes byte for byte); re-serialised only when the
        // key was written with escapes the scanner does not compare.
        r.postRequest =
            raw.isNull() ? QJsonDocument(req.toObject()).toJson(QJsonDocument::Compact) : raw.toByteArray();
        return r;
    }
    return invalid();
}

QByteArray normalisedEcho(const Hl::Subscription &s)
{
    // As the venue (and the simulator, which mimics it) echoes: type first, then the catalogue's
    // parameters in its order, l2Book's nSigFigs/mantissa filled in with null, candle as
    // type, interval, coin.
    const QJsonObject j = s.json();
    QList<std::pair<QString, QJsonValue>> fields{{u"type"_s, s.type()}};
    if (s.type() == u"candle"_s) {
        fields.append({u"interval"_s, j.value(u"interval"_s)});
        fields.append({u"coin"_s, j.value(u"coin"_s)});
    } else if (s.spec()) {
        for (const Hl::ParamSpec &p : s.spec()->params) {
            const QString name = QString::fromLatin1(p.name);
            if (j.contains(name))
                fields.append({name, j.value(name)});
            else if (s.type() == u"l2Book"_s && name != u"fast"_s)
                fields.append({name, QJsonValue::Null});
        }
    } else {
        for (auto it = j.begin(); it != j.end(); ++it)
            if (it.key() != u"type"_s)
                fields.append({it.key(), it.value()});
    }
    QByteArray out = "{";
    for (const auto &[k, v] : fields) {
        if (out.size() > 1)
            out += ',';
        out += Hl::canonicalJson(QJsonValue(k)) + ':' + Hl::canonicalJson(v);
    }
    return out + '}';
}

QByteArray ackFrame(const Hl::Subscription &s, bool unsubscribe)
{
    return QByteArray(R"({"channel":"subscriptionResponse","data":{"method":")") +
           (unsubscribe ? "unsubscribe" : "subscribe") + R"(","subscription":)" + normalisedEcho(s) + "}}";
}

QByteArray errorFrame(const QString &text)
{
    return R"({"channel":"error","data":)" + Hl::canonicalJson(QJsonValue(text)) + "}";
}

QByteArray pongFrame()
{
    return R"({"channel":"pong"})";
}

QByteArray postErrorFrame(qint64 id, const QString &text)
{
    return R"({"channel":"post","data":{"id":)" + QByteArray::number(id) +
           R"(,"response":{"type":"error","payload":)" + Hl::canonicalJson(QJsonValue(text)) + "}}}";
}

} // namespace FeedScope::Gw

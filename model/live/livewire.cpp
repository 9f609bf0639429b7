#include "livewire.h"

#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope::Live {

namespace {

QJsonValue msOrNull(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(static_cast<double>(t.toMSecsSinceEpoch()))
                       : QJsonValue(QJsonValue::Null);
}

double round1(double v)
{
    return std::round(v * 10.0) / 10.0;
}

void appendNumber(QByteArray &out, qint64 v)
{
    out += QByteArray::number(v);
}

void appendDouble(QByteArray &out, double v)
{
    if (!std::isfinite(v)) {
        out += "-1";
        return;
    }
    const double r = round1(v);
    if (r == std::floor(r) && std::fabs(r) < 1e15)
        out += QByteArray::number(static_cast<qint64>(r));
    else
        out += QByteArray::number(r, 'f', 1);
}

template<typename E> QJsonValue enumName(E e)
{
    return QString(nameOf(e));
}

} // namespace

// -------------------------------------------------------------------------------------------
// Encoding

QJsonObject connectionJson(const ConnectionStatus &c)
{
    QJsonArray malformed;
    for (qint64 n : c.malformed)
        malformed.append(static_cast<double>(n));
    return QJsonObject{
        {u"id"_s, c.id},
        {u"state"_s, enumName(c.state)},
        {u"url"_s, redactedUrl(c.url)},
        {u"localPort"_s, c.localPort},
        {u"subscriptions"_s, c.subscriptions},
        {u"reconnects"_s, c.reconnects},
        {u"failedAttempts"_s, c.failedAttempts},
        {u"consecutiveFailures"_s, c.consecutiveFailures},
        {u"lastCause"_s, enumName(c.lastCause)},
        {u"lastDetail"_s, c.lastDetail},
        {u"openedAt"_s, msOrNull(c.openedAt)},
        {u"nextAttemptAt"_s, msOrNull(c.nextAttemptAt)},
        {u"silent"_s, c.silent},
        {u"waitingForBudget"_s, c.waitingForBudget},
        {u"queuedOut"_s, c.queuedOut},
        {u"unknownChannel"_s, static_cast<double>(c.unknownChannel)},
        {u"oversized"_s, static_cast<double>(c.oversized)},
        {u"malformed"_s, malformed},
    };
}

QJsonArray connectionCountersJson(const ConnectionStatus &c)
{
    return QJsonArray{c.id,
                      static_cast<double>(c.messagesIn),
                      static_cast<double>(c.bytesIn),
                      static_cast<double>(c.framesOut),
                      round1(c.rttMs),
                      static_cast<double>(c.lastFrameAgeMs),
                      static_cast<double>(c.pingOutstandingMs),
                      static_cast<double>(c.usualGapMs)};
}

QJsonObject subscriptionStructJson(int id, const SubscriptionStatus &s, bool withKey)
{
    QJsonObject o{
        {u"i"_s, id},
        {u"state"_s, enumName(s.state)},
        {u"connection"_s, s.connection},
        {u"error"_s, s.error},
        {u"attempts"_s, s.attempts},
        {u"ackLatencyMs"_s, static_cast<double>(s.ackLatencyMs)},
        {u"restores"_s, static_cast<double>(s.restores)},
        {u"stale"_s, s.stale},
        {u"consumers"_s, QJsonArray::fromStringList(s.consumers)},
        {u"firstMessageAt"_s, msOrNull(s.firstMessageAt)},
        {u"integrity"_s, QJsonArray{static_cast<double>(s.integrity.crossedBook),
                                    static_cast<double>(s.integrity.timeBackwards),
                                    static_cast<double>(s.integrity.duplicateTrade),
                                    static_cast<double>(s.integrity.contradicts)}},
    };
    if (withKey)
        o.insert(u"subscription"_s, s.subscription.json());
    return o;
}

void appendSubscriptionCounters(QByteArray &out, int id, const SubscriptionStatus &s)
{
    out += '[';
    appendNumber(out, id);
    out += ',';
    appendNumber(out, s.messages);
    out += ',';
    appendNumber(out, s.bytes);
    out += ',';
    appendNumber(out, s.lastAgeMs);
    out += ',';
    appendDouble(out, s.rate1s);
    out += ',';
    appendDouble(out, s.rate10s);
    out += ']';
}

void appendSubscriptionLatency(QByteArray &out, int id, const LatencyFigures &l)
{
    out += '[';
    appendNumber(out, id);
    for (qint64 n : {l.samples10s, l.samples5m, l.negative10s, l.negative5m}) {
        out += ',';
        appendNumber(out, n);
    }
    for (double v : {l.p50Ms, l.p99Ms, l.maxMs, l.p50Ms5m, l.p99Ms5m, l.maxMs5m}) {
        out += ',';
        appendDouble(out, v);
    }
    out += ']';
}

QJsonObject countersJson(const PoolCounters &c)
{
    QJsonObject byKind;
    for (auto it = c.serverErrorsByKind.cbegin(); it != c.serverErrorsByKind.cend(); ++it)
        byKind.insert(it.key(), static_cast<double>(it.value()));
    return QJsonObject{
        {u"malformedFrames"_s, static_cast<double>(c.malformedFrames)},
        {u"serverErrors"_s, static_cast<double>(c.serverErrors)},
        {u"oversizedFrames"_s, static_cast<double>(c.oversizedFrames)},
        {u"unroutedFrames"_s, static_cast<double>(c.unroutedFrames)},
        {u"unexpectedAcks"_s, static_cast<double>(c.unexpectedAcks)},
        {u"outgoingUsed"_s, c.outgoingUsed},
        {u"outgoingCapacity"_s, c.outgoingCapacity},
        {u"outgoingQueued"_s, c.outgoingQueued},
        {u"newConnectionsLastMinute"_s, c.newConnectionsLastMinute},
        {u"waitingForConnectionBudget"_s, c.waitingForConnectionBudget},
        {u"nextConnectionSlotAt"_s, msOrNull(c.nextConnectionSlotAt)},
        {u"serverErrorsByKind"_s, byKind},
    };
}

QJsonObject limitsJson(const PoolLimits &l)
{
    return QJsonObject{{u"subscriptions"_s, l.subscriptions},
                       {u"users"_s, l.users},
                       {u"connections"_s, l.connections},
                       {u"newConnectionsPerMinute"_s, l.newConnectionsPerMinute},
                       {u"messagesPerMinute"_s, l.messagesPerMinute}};
}

QJsonObject consumerJson(const ConsumerStats &c)
{
    QJsonObject o = toJson(c);
    o.insert(u"inline"_s, c.inlineConsumer);
    o.insert(u"capacity"_s, static_cast<double>(c.capacity));
    return o;
}

QJsonObject reconnectJson(const ReconnectRecord &r)
{
    return QJsonObject{{u"connection"_s, r.connection},
                       {u"cause"_s, enumName(r.cause)},
                       {u"detail"_s, r.detail},
                       {u"manual"_s, r.manual},
                       {u"startedAt"_s, msOrNull(r.startedAt)},
                       {u"durationMs"_s, static_cast<double>(r.durationMs)},
                       {u"dataGapMs"_s, static_cast<double>(r.dataGapMs)},
                       {u"lastFrameAt"_s, msOrNull(r.lastFrameAt)},
                       {u"restored"_s, r.restored},
                       {u"total"_s, r.total}};
}

QJsonObject eventJson(const SessionEvent &e)
{
    return QJsonObject{{u"seq"_s, static_cast<double>(e.seq)},
                       {u"at"_s, msOrNull(e.at)},
                       {u"type"_s, e.type},
                       {u"data"_s, e.data}};
}

QJsonObject chartJson(const ChartSample &s)
{
    QJsonObject v;
    for (const auto &[name, value] : s.values)
        v.insert(name, std::isfinite(value) ? round1(value) : 0.0);
    return QJsonObject{{u"t"_s, static_cast<double>(s.atMs)}, {u"v"_s, v}};
}

QJsonArray latencyByTypeJson(const QList<TypeLatency> &types)
{
    QJsonArray out;
    for (const TypeLatency &t : types) {
        QByteArray figures;
        appendSubscriptionLatency(figures, 0, t.figures);
        out.append(QJsonObject{{u"type"_s, t.type},
                               {u"figures"_s, QJsonDocument::fromJson(figures).array()},
                               {u"samples"_s, static_cast<double>(t.samples)},
                               {u"negative"_s, static_cast<double>(t.negative)},
                               {u"sumSeconds"_s, t.sumSeconds}});
    }
    return out;
}

bool sameStructure(const SubscriptionStatus &a, const SubscriptionStatus &b)
{
    return a.state == b.state && a.connection == b.connection && a.error == b.error &&
           a.attempts == b.attempts && a.ackLatencyMs == b.ackLatencyMs && a.restores == b.restores &&
           a.stale == b.stale && a.consumers == b.consumers && a.firstMessageAt == b.firstMessageAt &&
           a.integrity.crossedBook == b.integrity.crossedBook &&
           a.integrity.timeBackwards == b.integrity.timeBackwards &&
           a.integrity.duplicateTrade == b.integrity.duplicateTrade &&
           a.integrity.contradicts == b.integrity.contradicts;
}

bool sameCounters(const SubscriptionStatus &a, const SubscriptionStatus &b)
{
    // The age moves every tick; it is sent only along with a change of the others or at a state
    // that can make it matter (stale): the window ages rows itself between counters.
    return a.messages == b.messages && a.bytes == b.bytes && round1(a.rate1s) == round1(b.rate1s) &&
           round1(a.rate10s) == round1(b.rate10s) && (a.lastAgeMs < 0) == (b.lastAgeMs < 0);
}

bool sameLatency(const LatencyFigures &a, const LatencyFigures &b)
{
    return a.samples10s == b.samples10s && a.samples5m == b.samples5m && a.negative10s == b.negative10s &&
           a.negative5m == b.negative5m && round1(a.p50Ms) == round1(b.p50Ms) &&
           round1(a.p99Ms) == round1(b.p99Ms) && round1(a.maxMs) == round1(b.maxMs) &&
           round1(a.p50Ms5m) == round1(b.p50Ms5m) && round1(a.p99Ms5m) == round1(b.p99Ms5m) &&
           round1(a.maxMs5m) == round1(b.maxMs5m);
}

// -------------------------------------------------------------------------------------------
// Decoding: every value is checked for its type and range; the first fault throws Bad, which
// apply() turns into the error text (the state it worked on is a copy, dropped on error).

namespace {

struct Bad
{
    QString what;
};

[[noreturn]] void bad(const QString &what)
{
    throw Bad{what};
}

QJsonObject objectAt(const QJsonObject &o, QLatin1StringView key, bool required = true)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() && !required)
        return {};
    if (!v.isObject())
        bad(u"\"%1\" must be an object"_s.arg(key));
    return v.toObject();
}

QJsonArray arrayAt(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (!v.isArray())
        bad(u"\"%1\" must be an array"_s.arg(key));
    const QJsonArray a = v.toArray();
    if (a.size() > MaxRows)
        bad(u"\"%1\" has more than %2 entries"_s.arg(key).arg(MaxRows));
    return a;
}

qint64 integer(const QJsonValue &v, const QString &what, qint64 min = -1, qint64 max = (1LL << 53))
{
    if (!v.isDouble())
        bad(u"%1 must be a number"_s.arg(what));
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max))
        bad(u"%1 must be a whole number from %2 to %3"_s.arg(what).arg(min).arg(max));
    return static_cast<qint64>(d);
}

qint64 intAt(const QJsonObject &o, QLatin1StringView key, qint64 min = -1, qint64 max = (1LL << 53))
{
    return integer(o.value(key), u"\"%1\""_s.arg(key), min, max);
}

int smallIntAt(const QJsonObject &o, QLatin1StringView key, int min = -1)
{
    return static_cast<int>(intAt(o, key, min, 1 << 30));
}

double real(const QJsonValue &v, const QString &what)
{
    if (!v.isDouble() || !std::isfinite(v.toDouble()))
        bad(u"%1 must be a number"_s.arg(what));
    return v.toDouble();
}

QString stringAt(const QJsonObject &o, QLatin1StringView key, qsizetype maxLength = 4096)
{
    const QJsonValue v = o.value(key);
    if (!v.isString())
        bad(u"\"%1\" must be a string"_s.arg(key));
    QString s = v.toString();
    if (s.size() > maxLength)
        bad(u"\"%1\" is longer than %2 characters"_s.arg(key).arg(maxLength));
    return s;
}

bool boolAt(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (!v.isBool())
        bad(u"\"%1\" must be true or false"_s.arg(key));
    return v.toBool();
}

QDateTime timeAt(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isNull())
        return {};
    return QDateTime::fromMSecsSinceEpoch(integer(v, u"\"%1\""_s.arg(key), 0), Qt::UTC);
}

template<typename E, int Count> E enumAt(const QJsonObject &o, QLatin1StringView key)
{
    const QString name = stringAt(o, key, 64);
    for (int i = 0; i < Count; ++i)
        if (nameOf(static_cast<E>(i)) == name)
            return static_cast<E>(i);
    bad(u"\"%1\" has an unknown value \"%2\""_s.arg(key, name.left(64)));
}

ConnState connStateAt(const QJsonObject &o, QLatin1StringView key)
{
    return enumAt<ConnState, 6>(o, key);
}
Cause causeAt(const QJsonObject &o, QLatin1StringView key)
{
    return enumAt<Cause, 15>(o, key);
}
SubState subStateAt(const QJsonObject &o, QLatin1StringView key)
{
    return enumAt<SubState, 6>(o, key);
}

QJsonArray fixedArray(const QJsonValue &v, qsizetype n, const QString &what)
{
    if (!v.isArray() || v.toArray().size() != n)
        bad(u"%1 must be an array of %2 numbers"_s.arg(what).arg(n));
    return v.toArray();
}

QStringList stringList(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonArray a = arrayAt(o, key);
    if (a.size() > 1000)
        bad(u"\"%1\" has too many entries"_s.arg(key));
    QStringList out;
    for (const QJsonValue &v : a) {
        if (!v.isString() || v.toString().size() > 256)
            bad(u"\"%1\" must hold short strings"_s.arg(key));
        out.append(v.toString());
    }
    return out;
}

void readConnection(const QJsonObject &o, ConnectionStatus &c)
{
    c.id = smallIntAt(o, "id"_L1, 0);
    c.state = connStateAt(o, "state"_L1);
    c.url = QUrl(stringAt(o, "url"_L1));
    c.localPort = static_cast<quint16>(intAt(o, "localPort"_L1, 0, 65535));
    c.subscriptions = smallIntAt(o, "subscriptions"_L1, 0);
    c.reconnects = smallIntAt(o, "reconnects"_L1, 0);
    c.failedAttempts = smallIntAt(o, "failedAttempts"_L1, 0);
    c.consecutiveFailures = smallIntAt(o, "consecutiveFailures"_L1, 0);
    c.lastCause = causeAt(o, "lastCause"_L1);
    c.lastDetail = stringAt(o, "lastDetail"_L1);
    c.openedAt = timeAt(o, "openedAt"_L1);
    c.nextAttemptAt = timeAt(o, "nextAttemptAt"_L1);
    c.silent = boolAt(o, "silent"_L1);
    c.waitingForBudget = boolAt(o, "waitingForBudget"_L1);
    c.queuedOut = smallIntAt(o, "queuedOut"_L1, 0);
    c.unknownChannel = intAt(o, "unknownChannel"_L1, 0);
    c.oversized = intAt(o, "oversized"_L1, 0);
    const QJsonArray m = fixedArray(o.value("malformed"_L1), Hl::DecodeErrorCount, u"\"malformed\""_s);
    for (qsizetype i = 0; i < m.size(); ++i)
        c.malformed[static_cast<size_t>(i)] = integer(m.at(i), u"\"malformed\""_s, 0);
}

void readConnectionCounters(const QJsonArray &a, ConnectionStatus &c)
{
    c.messagesIn = integer(a.at(1), u"a connection's messages"_s, 0);
    c.bytesIn = integer(a.at(2), u"a connection's bytes"_s, 0);
    c.framesOut = integer(a.at(3), u"a connection's frames out"_s, 0);
    c.rttMs = real(a.at(4), u"a connection's RTT"_s);
    c.lastFrameAgeMs = integer(a.at(5), u"a connection's last frame age"_s);
    c.pingOutstandingMs = integer(a.at(6), u"a connection's ping wait"_s);
    c.usualGapMs = integer(a.at(7), u"a connection's usual gap"_s);
}

void readSubscriptionStruct(const QJsonObject &o, SubscriptionStatus &s)
{
    s.state = subStateAt(o, "state"_L1);
    s.connection = smallIntAt(o, "connection"_L1, -1);
    s.error = stringAt(o, "error"_L1);
    s.attempts = smallIntAt(o, "attempts"_L1, 0);
    s.ackLatencyMs = intAt(o, "ackLatencyMs"_L1);
    s.restores = intAt(o, "restores"_L1, 0);
    s.stale = boolAt(o, "stale"_L1);
    s.consumers = stringList(o, "consumers"_L1);
    s.firstMessageAt = timeAt(o, "firstMessageAt"_L1);
    const QJsonArray i = fixedArray(o.value("integrity"_L1), 4, u"\"integrity\""_s);
    s.integrity.crossedBook = integer(i.at(0), u"\"integrity\""_s, 0);
    s.integrity.timeBackwards = integer(i.at(1), u"\"integrity\""_s, 0);
    s.integrity.duplicateTrade = integer(i.at(2), u"\"integrity\""_s, 0);
    s.integrity.contradicts = integer(i.at(3), u"\"integrity\""_s, 0);
}

void readSubscriptionCounters(const QJsonArray &a, SubscriptionStatus &s, const QDateTime &at)
{
    s.messages = integer(a.at(1), u"a subscription's messages"_s, 0);
    s.bytes = integer(a.at(2), u"a subscription's bytes"_s, 0);
    s.lastAgeMs = integer(a.at(3), u"a subscription's age"_s);
    s.rate1s = real(a.at(4), u"a subscription's rate"_s);
    s.rate10s = real(a.at(5), u"a subscription's rate"_s);
    s.lastMessageAt = s.lastAgeMs >= 0 ? at.addMSecs(-s.lastAgeMs) : QDateTime();
}

void readLatency(const QJsonArray &a, LatencyFigures &l)
{
    const QString what = u"a latency figure"_s;
    l.samples10s = integer(a.at(1), what, 0);
    l.samples5m = integer(a.at(2), what, 0);
    l.negative10s = integer(a.at(3), what, 0);
    l.negative5m = integer(a.at(4), what, 0);
    l.p50Ms = real(a.at(5), what);
    l.p99Ms = real(a.at(6), what);
    l.maxMs = real(a.at(7), what);
    l.p50Ms5m = real(a.at(8), what);
    l.p99Ms5m = real(a.at(9), what);
    l.maxMs5m = real(a.at(10), what);
}

PoolCounters readCounters(const QJsonObject &o)
{
    PoolCounters c;
    c.malformedFrames = intAt(o, "malformedFrames"_L1, 0);
    c.serverErrors = intAt(o, "serverErrors"_L1, 0);
    c.oversizedFrames = intAt(o, "oversizedFrames"_L1, 0);
    c.unroutedFrames = intAt(o, "unroutedFrames"_L1, 0);
    c.unexpectedAcks = intAt(o, "unexpectedAcks"_L1, 0);
    c.outgoingUsed = smallIntAt(o, "outgoingUsed"_L1, 0);
    c.outgoingCapacity = smallIntAt(o, "outgoingCapacity"_L1, 0);
    c.outgoingQueued = smallIntAt(o, "outgoingQueued"_L1, 0);
    c.newConnectionsLastMinute = smallIntAt(o, "newConnectionsLastMinute"_L1, 0);
    c.waitingForConnectionBudget = smallIntAt(o, "waitingForConnectionBudget"_L1, 0);
    c.nextConnectionSlotAt = timeAt(o, "nextConnectionSlotAt"_L1);
    const QJsonObject byKind = objectAt(o, "serverErrorsByKind"_L1);
    if (byKind.size() > 1000)
        bad(u"\"serverErrorsByKind\" has too many kinds"_s);
    for (auto it = byKind.constBegin(); it != byKind.constEnd(); ++it)
        c.serverErrorsByKind.insert(it.key(), integer(it.value(), u"a server error count"_s, 0));
    return c;
}

PoolLimits readLimits(const QJsonObject &o)
{
    PoolLimits l;
    l.subscriptions = smallIntAt(o, "subscriptions"_L1, 0);
    l.users = smallIntAt(o, "users"_L1, 0);
    l.connections = smallIntAt(o, "connections"_L1, 0);
    l.newConnectionsPerMinute = smallIntAt(o, "newConnectionsPerMinute"_L1, 0);
    l.messagesPerMinute = smallIntAt(o, "messagesPerMinute"_L1, 0);
    return l;
}

ConsumerStats readConsumer(const QJsonObject &o)
{
    ConsumerStats c;
    c.name = stringAt(o, "name"_L1, 256);
    const auto policy = dispatchPolicyFromName(stringAt(o, "policy"_L1, 64));
    if (!policy)
        bad(u"a consumer's \"policy\" is unknown"_s);
    c.policy = *policy;
    c.inlineConsumer = boolAt(o, "inline"_L1);
    c.enabled = boolAt(o, "enabled"_L1);
    c.received = intAt(o, "received"_L1, 0);
    c.delivered = intAt(o, "delivered"_L1, 0);
    c.dropped = intAt(o, "dropped"_L1, 0);
    c.coalesced = intAt(o, "coalesced"_L1, 0);
    c.queued = intAt(o, "queued"_L1, 0);
    c.highWater = intAt(o, "highWater"_L1, 0);
    c.syncFallbacks = intAt(o, "syncFallbacks"_L1, 0);
    c.lagP50Us = intAt(o, "lagP50Us"_L1);
    c.lagP99Us = intAt(o, "lagP99Us"_L1);
    c.capacity = intAt(o, "capacity"_L1, 0);
    return c;
}

ReconnectRecord readReconnect(const QJsonObject &o)
{
    ReconnectRecord r;
    r.connection = smallIntAt(o, "connection"_L1, 0);
    r.cause = causeAt(o, "cause"_L1);
    r.detail = stringAt(o, "detail"_L1);
    r.manual = boolAt(o, "manual"_L1);
    r.startedAt = timeAt(o, "startedAt"_L1);
    r.durationMs = intAt(o, "durationMs"_L1);
    r.dataGapMs = intAt(o, "dataGapMs"_L1);
    r.lastFrameAt = timeAt(o, "lastFrameAt"_L1);
    r.restored = smallIntAt(o, "restored"_L1, 0);
    r.total = smallIntAt(o, "total"_L1, 0);
    return r;
}

SessionEvent readEvent(const QJsonValue &v)
{
    if (!v.isObject())
        bad(u"an event must be an object"_s);
    const QJsonObject o = v.toObject();
    SessionEvent e;
    e.seq = intAt(o, "seq"_L1, 0);
    e.at = timeAt(o, "at"_L1);
    e.type = stringAt(o, "type"_L1, 64);
    e.data = objectAt(o, "data"_L1);
    return e;
}

ChartSample readChart(const QJsonValue &v)
{
    if (!v.isObject())
        bad(u"a chart sample must be an object"_s);
    const QJsonObject o = v.toObject();
    ChartSample s;
    s.atMs = intAt(o, "t"_L1, 0);
    const QJsonObject values = objectAt(o, "v"_L1);
    if (values.size() > 10000)
        bad(u"a chart sample has too many series"_s);
    for (auto it = values.constBegin(); it != values.constEnd(); ++it)
        s.values.append({it.key(), real(it.value(), u"a chart value"_s)});
    return s;
}

QList<TypeLatency> readLatencyByType(const QJsonArray &a)
{
    QList<TypeLatency> out;
    for (const QJsonValue &v : a) {
        if (!v.isObject())
            bad(u"\"latencyByType\" must hold objects"_s);
        const QJsonObject o = v.toObject();
        TypeLatency t;
        t.type = stringAt(o, "type"_L1, 64);
        readLatency(fixedArray(o.value("figures"_L1), 11, u"\"figures\""_s), t.figures);
        t.samples = intAt(o, "samples"_L1, 0);
        t.negative = intAt(o, "negative"_L1, 0);
        t.sumSeconds = real(o.value("sumSeconds"_L1), u"\"sumSeconds\""_s);
        out.append(t);
    }
    return out;
}

QList<GatewayClient> readGatewayClients(const QJsonArray &a)
{
    QList<GatewayClient> out;
    for (const QJsonValue &v : a) {
        if (!v.isObject())
            bad(u"\"gatewayClients\" must hold objects"_s);
        const QJsonObject o = v.toObject();
        GatewayClient c;
        c.id = smallIntAt(o, "id"_L1, 0);
        c.name = stringAt(o, "name"_L1, 256);
        c.peer = stringAt(o, "peer"_L1, 256);
        c.subscriptions = smallIntAt(o, "subscriptions"_L1, 0);
        c.framesOut = intAt(o, "framesOut"_L1, 0);
        c.dropped = intAt(o, "dropped"_L1, 0);
        c.queuedBytes = intAt(o, "queuedBytes"_L1, 0);
        out.append(c);
    }
    return out;
}

QJsonArray alertsArray(const QJsonObject &o)
{
    const QJsonArray a = arrayAt(o, "alerts"_L1);
    for (const QJsonValue &v : a) {
        if (!v.isObject())
            bad(u"\"alerts\" must hold objects"_s);
        (void)stringAt(v.toObject(), "text"_L1);
        (void)stringAt(v.toObject(), "rule"_L1, 256);
    }
    return a;
}

void rebuildIndex(State &s)
{
    s.connRow.clear();
    for (qsizetype i = 0; i < s.snapshot.connections.size(); ++i)
        s.connRow.insert(s.snapshot.connections.at(i).id, i);
    s.subRow.clear();
    for (qsizetype i = 0; i < s.subIds.size(); ++i)
        s.subRow.insert(s.subIds.at(i), i);
}

void addEvents(State &s, const QJsonArray &events, Applied *applied)
{
    for (const QJsonValue &v : events) {
        SessionEvent e = readEvent(v);
        if (!s.events.empty() && e.seq <= s.events.back().seq)
            continue; // already had it (a repeat after a re-attach)
        s.events.push_back(std::move(e));
        ++applied->newEvents;
    }
    while (s.events.size() > static_cast<size_t>(MaxEventsKept))
        s.events.pop_front();
}

void addChart(State &s, const QJsonArray &samples, Applied *applied)
{
    for (const QJsonValue &v : samples) {
        ChartSample c = readChart(v);
        if (!s.chart.empty() && c.atMs <= s.chart.back().atMs)
            continue;
        s.chart.push_back(std::move(c));
        ++applied->newChartSamples;
    }
    const qint64 newest = s.chart.empty() ? 0 : s.chart.back().atMs;
    while (!s.chart.empty() && s.chart.front().atMs < newest - ChartHistorySeconds * 1000LL)
        s.chart.pop_front();
}

void upsertReconnects(State &s, const QJsonArray &records)
{
    for (const QJsonValue &v : records) {
        if (!v.isObject())
            bad(u"\"reconnects\" must hold objects"_s);
        ReconnectRecord r = readReconnect(v.toObject());
        bool found = false;
        for (qsizetype i = s.snapshot.reconnects.size() - 1; i >= 0; --i) {
            ReconnectRecord &old = s.snapshot.reconnects[i];
            if (old.connection == r.connection && old.startedAt == r.startedAt) {
                old = r;
                found = true;
                break;
            }
        }
        if (!found)
            s.snapshot.reconnects.append(r);
    }
    constexpr qsizetype MaxReconnects = 1000;
    if (s.snapshot.reconnects.size() > MaxReconnects)
        s.snapshot.reconnects.remove(0, s.snapshot.reconnects.size() - MaxReconnects);
}

void readSubscriptionRows(State &s, const QJsonArray &rows)
{
    for (const QJsonValue &v : rows) {
        if (!v.isObject())
            bad(u"a subscription row must be an object"_s);
        const QJsonObject o = v.toObject();
        const int id = static_cast<int>(intAt(o, "i"_L1, 0, 1 << 30));
        const auto at = s.subRow.constFind(id);
        if (at == s.subRow.cend()) {
            if (!o.contains("subscription"_L1))
                bad(u"subscription %1 is unknown and the row does not say what it is"_s.arg(id));
            if (s.subIds.size() >= MaxRows)
                bad(u"too many subscriptions"_s);
            QString why;
            const auto sub = Hl::Subscription::fromJson(objectAt(o, "subscription"_L1), &why);
            if (!sub)
                bad(u"subscription %1 is not valid: %2"_s.arg(id).arg(why.left(200)));
            SubscriptionStatus st;
            st.subscription = *sub;
            readSubscriptionStruct(o, st);
            s.subRow.insert(id, s.snapshot.subscriptions.size());
            s.subIds.append(id);
            s.snapshot.subscriptions.append(st);
        } else {
            readSubscriptionStruct(o, s.snapshot.subscriptions[*at]);
        }
    }
}

template<typename Fn> void forRowsOf(const QJsonArray &rows, qsizetype width, const QString &what, Fn fn)
{
    for (const QJsonValue &v : rows) {
        const QJsonArray a = fixedArray(v, width, what);
        fn(static_cast<int>(integer(a.at(0), what, 0, 1 << 30)), a);
    }
}

void readSubscriptionFigures(State &s, const QJsonObject &o)
{
    if (o.contains("subCounters"_L1))
        forRowsOf(arrayAt(o, "subCounters"_L1), 6, u"a subscription's counters"_s,
                  [&](int id, const QJsonArray &a) {
                      const auto at = s.subRow.constFind(id);
                      if (at == s.subRow.cend())
                          bad(u"counters for unknown subscription %1"_s.arg(id));
                      readSubscriptionCounters(a, s.snapshot.subscriptions[*at], s.snapshot.at);
                  });
    if (o.contains("subLatency"_L1))
        forRowsOf(arrayAt(o, "subLatency"_L1), 11, u"a subscription's latency"_s,
                  [&](int id, const QJsonArray &a) {
                      const auto at = s.subRow.constFind(id);
                      if (at == s.subRow.cend())
                          bad(u"latency for unknown subscription %1"_s.arg(id));
                      readLatency(a, s.snapshot.subscriptions[*at].latency);
                  });
}

void readConnections(State &s, const QJsonObject &o)
{
    if (o.contains("connections"_L1)) {
        for (const QJsonValue &v : arrayAt(o, "connections"_L1)) {
            if (!v.isObject())
                bad(u"a connection row must be an object"_s);
            ConnectionStatus c;
            const int id = smallIntAt(v.toObject(), "id"_L1, 0);
            const auto at = s.connRow.constFind(id);
            if (at != s.connRow.cend())
                c = s.snapshot.connections.at(*at);
            readConnection(v.toObject(), c);
            if (at != s.connRow.cend()) {
                s.snapshot.connections[*at] = c;
            } else {
                if (s.snapshot.connections.size() >= MaxRows)
                    bad(u"too many connections"_s);
                s.connRow.insert(id, s.snapshot.connections.size());
                s.snapshot.connections.append(c);
            }
        }
    }
    if (o.contains("connRemoved"_L1)) {
        QSet<int> gone;
        for (const QJsonValue &v : arrayAt(o, "connRemoved"_L1))
            gone.insert(static_cast<int>(integer(v, u"a removed connection"_s, 0, 1 << 30)));
        s.snapshot.connections.removeIf([&](const ConnectionStatus &c) { return gone.contains(c.id); });
        rebuildIndex(s);
    }
    if (o.contains("connCounters"_L1))
        forRowsOf(arrayAt(o, "connCounters"_L1), 8, u"a connection's counters"_s,
                  [&](int id, const QJsonArray &a) {
                      const auto at = s.connRow.constFind(id);
                      if (at == s.connRow.cend())
                          bad(u"counters for unknown connection %1"_s.arg(id));
                      readConnectionCounters(a, s.snapshot.connections[*at]);
                  });
}

void readCommon(State &s, const QJsonObject &o, Applied *applied)
{
    if (o.contains("paused"_L1))
        s.snapshot.paused = boolAt(o, "paused"_L1);
    if (o.contains("limits"_L1))
        s.snapshot.limits = readLimits(objectAt(o, "limits"_L1));
    if (o.contains("counters"_L1))
        s.snapshot.counters = readCounters(objectAt(o, "counters"_L1));
    readConnections(s, o);
    if (o.contains("subscriptions"_L1))
        readSubscriptionRows(s, arrayAt(o, "subscriptions"_L1));
    if (o.contains("removed"_L1)) {
        QSet<int> gone;
        for (const QJsonValue &v : arrayAt(o, "removed"_L1)) {
            const int id = static_cast<int>(integer(v, u"a removed subscription"_s, 0, 1 << 30));
            if (!s.subRow.contains(id))
                bad(u"removal of unknown subscription %1"_s.arg(id));
            gone.insert(id);
        }
        QList<SubscriptionStatus> rows;
        QList<int> ids;
        for (qsizetype i = 0; i < s.subIds.size(); ++i) {
            if (gone.contains(s.subIds.at(i)))
                continue;
            rows.append(s.snapshot.subscriptions.at(i));
            ids.append(s.subIds.at(i));
        }
        s.snapshot.subscriptions = rows;
        s.subIds = ids;
        rebuildIndex(s);
    }
    readSubscriptionFigures(s, o);
    if (o.contains("reconnects"_L1))
        upsertReconnects(s, arrayAt(o, "reconnects"_L1));
    if (o.contains("consumers"_L1)) {
        QList<ConsumerStats> consumers;
        for (const QJsonValue &v : arrayAt(o, "consumers"_L1)) {
            if (!v.isObject())
                bad(u"\"consumers\" must hold objects"_s);
            consumers.append(readConsumer(v.toObject()));
        }
        s.consumers = consumers;
    }
    if (o.contains("events"_L1))
        addEvents(s, arrayAt(o, "events"_L1), applied);
    if (o.contains("chart"_L1))
        addChart(s, arrayAt(o, "chart"_L1), applied);
    if (o.contains("alerts"_L1)) {
        s.alerts = alertsArray(o);
        applied->alertsChanged = true;
    }
    if (o.contains("latencyByType"_L1))
        s.snapshot.latencyByType = readLatencyByType(arrayAt(o, "latencyByType"_L1));
    if (o.contains("gatewayClients"_L1))
        s.gatewayClients = readGatewayClients(arrayAt(o, "gatewayClients"_L1));
    if (o.contains("gatewayRunning"_L1))
        s.agent.gatewayRunning = boolAt(o, "gatewayRunning"_L1);
    // Ages move with the agent's clock between the counters that carry them.
    for (SubscriptionStatus &x : s.snapshot.subscriptions)
        if (x.lastMessageAt.isValid())
            x.lastAgeMs = std::max<qint64>(0, x.lastMessageAt.msecsTo(s.snapshot.at));
}

AgentInfo readAgent(const QJsonObject &o)
{
    AgentInfo a;
    a.version = stringAt(o, "version"_L1, 64);
    a.url = stringAt(o, "url"_L1);
    a.startedAt = timeAt(o, "startedAt"_L1);
    a.rateHz = smallIntAt(o, "rateHz"_L1, 1);
    a.controlEnabled = boolAt(o, "control"_L1);
    a.gatewayRunning = boolAt(o, "gateway"_L1);
    return a;
}

} // namespace

bool apply(const QByteArray &message, State &state, Applied *applied, QString *error)
{
    Applied local;
    Applied &out = applied ? *applied : local;
    out = Applied{};
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (message.size() > MaxServerMessageBytes)
        return fail(u"a message of %1 bytes is over the limit of %2"_s.arg(message.size())
                        .arg(MaxServerMessageBytes));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(message, &pe);
    if (pe.error != QJsonParseError::NoError)
        return fail(u"a message is not valid JSON (%1 at byte %2)"_s.arg(pe.errorString()).arg(pe.offset));
    if (!doc.isObject())
        return fail(u"a message is not a JSON object"_s);
    const QJsonObject o = doc.object();
    try {
        const QString type = stringAt(o, "type"_L1, 32);
        out.type = type;
        if (type == "reply"_L1) {
            if (!o.value("id"_L1).isDouble() && !o.value("id"_L1).isString())
                bad(u"a reply has no \"id\""_s);
            (void)boolAt(o, "ok"_L1);
            out.reply = o;
            return true;
        }
        if (type == "error"_L1) {
            out.reply = o;
            return fail(u"the agent says: %1"_s.arg(stringAt(o, "error"_L1, 1000)));
        }
        if (type == "full"_L1) {
            const QJsonValue schema = o.value("schema"_L1);
            if (!schema.isString() || schema.toString() != Schema)
                bad(u"the agent speaks %1, not %2"_s.arg(
                    schema.isString() ? u"\"%1\""_s.arg(schema.toString().left(64)) : u"an unknown schema"_s,
                    QString(Schema)));
            State next;
            next.seq = intAt(o, "seq"_L1, 0);
            next.agent = readAgent(objectAt(o, "agent"_L1));
            next.snapshot.at = timeAt(o, "at"_L1);
            (void)arrayAt(o, "subscriptions"_L1);
            (void)arrayAt(o, "connections"_L1);
            // Events and chart are kept across a re-attach to the same agent when they continue.
            readCommon(next, o, &out);
            next.valid = true;
            out.full = true;
            state = std::move(next);
            return true;
        }
        if (type == "tick"_L1) {
            if (!state.valid)
                bad(u"a change came before the full state"_s);
            State next = state;
            const qint64 seq = intAt(o, "seq"_L1, 0);
            if (seq <= state.seq)
                bad(u"a change out of order (%1 after %2)"_s.arg(seq).arg(state.seq));
            next.seq = seq;
            next.snapshot.at = timeAt(o, "at"_L1);
            readCommon(next, o, &out);
            state = std::move(next);
            return true;
        }
        bad(u"unknown message type \"%1\""_s.arg(type.left(32)));
    } catch (const Bad &b) {
        return fail(b.what);
    }
}

QHash<QString, QList<QPointF>> chartSeries(const State &state)
{
    QHash<QString, QList<QPointF>> out;
    for (const ChartSample &c : state.chart)
        for (const auto &[name, value] : c.values)
            out[name].append(QPointF(static_cast<double>(c.atMs), value));
    return out;
}

} // namespace FeedScope::Live

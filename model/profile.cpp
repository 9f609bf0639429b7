#include "profile.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

/// Reads the members of one JSON object, checking each against what it may be.
class Reader
{
public:
    Reader(const QJsonObject &o, const QString &where, QString *error)
        : m_o(o), m_where(where), m_error(error)
    {}

    bool ok() const { return m_ok; }
    void fail(const QString &why)
    {
        if (m_ok)
            *m_error = why;
        m_ok = false;
    }
    QString path(const char *key) const
    {
        return m_where.isEmpty() ? QString::fromLatin1(key) : m_where + u'.' + QLatin1StringView(key);
    }

    void integer(const char *key, qint64 min, qint64 max, const std::function<void(qint64)> &set)
    {
        m_known.insert(QString::fromLatin1(key));
        if (!m_o.contains(QLatin1StringView(key)))
            return;
        const QJsonValue v = m_o.value(QLatin1StringView(key));
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || d != std::floor(d) || d < static_cast<double>(min) ||
            d > static_cast<double>(max))
            return fail(u"\"%1\" must be a whole number from %2 to %3"_s.arg(path(key)).arg(min).arg(max));
        set(static_cast<qint64>(d));
    }
    void number(const char *key, double min, double max, const std::function<void(double)> &set)
    {
        m_known.insert(QString::fromLatin1(key));
        if (!m_o.contains(QLatin1StringView(key)))
            return;
        const QJsonValue v = m_o.value(QLatin1StringView(key));
        if (!v.isDouble() || v.toDouble() < min || v.toDouble() > max)
            return fail(u"\"%1\" must be a number from %2 to %3"_s.arg(path(key)).arg(min).arg(max));
        set(v.toDouble());
    }
    void string(const char *key, const std::function<bool(const QString &)> &set, const QString &expected)
    {
        m_known.insert(QString::fromLatin1(key));
        if (!m_o.contains(QLatin1StringView(key)))
            return;
        const QJsonValue v = m_o.value(QLatin1StringView(key));
        if (!v.isString() || !set(v.toString()))
            fail(u"\"%1\" must be %2"_s.arg(path(key), expected));
    }
    std::optional<QJsonObject> object(const char *key)
    {
        m_known.insert(QString::fromLatin1(key));
        if (!m_o.contains(QLatin1StringView(key)))
            return std::nullopt;
        const QJsonValue v = m_o.value(QLatin1StringView(key));
        if (!v.isObject()) {
            fail(u"\"%1\" must be an object"_s.arg(path(key)));
            return std::nullopt;
        }
        return v.toObject();
    }
    void ignore(const char *key) { m_known.insert(QString::fromLatin1(key)); }
    /// Call last: any member not read is an error (a typo must not be silently ignored).
    void noOthers()
    {
        for (auto it = m_o.begin(); it != m_o.end(); ++it)
            if (!m_known.contains(it.key()))
                return fail(u"unknown setting \"%1\""_s.arg(m_where.isEmpty() ? it.key()
                                                                              : m_where + u'.' + it.key()));
    }

private:
    QJsonObject m_o;
    QString m_where;
    QString *m_error;
    QSet<QString> m_known;
    bool m_ok = true;
};

// Section "gateway" (issue 14).

QJsonObject gatewayAllToJson(const GatewaySettings &g, bool withToken)
{
    const Gw::GatewayConfig &sc = g.config.server;
    const GatewayHubConfig &hc = g.config.hub;
    auto n = [](qint64 v) { return static_cast<double>(v); };
    QJsonObject o{{u"enabled"_s, g.enabled},
                  {u"bind"_s, sc.bind.toString()},
                  {u"port"_s, static_cast<int>(sc.port)},
                  {u"policy"_s, QString(Gw::nameOf(sc.policy))},
                  {u"queueBytes"_s, n(sc.queueBytes)},
                  {u"maxClients"_s, sc.maxClients},
                  {u"idleS"_s, n(sc.idleTimeout.count() / 1000)},
                  {u"lingerMs"_s, n(hc.linger.count())},
                  {u"maxSubscriptions"_s, sc.maxSubscriptions},
                  {u"maxMessagesPerMinute"_s, sc.maxMessagesPerMinute},
                  {u"maxFrameBytes"_s, n(sc.maxFrameBytes)},
                  {u"threads"_s, g.config.threads},
                  {u"metricsPerClient"_s, g.metricsPerClient}};
    // Like the handshake headers: exports and logs say that a token is set, never what it is.
    if (!sc.token.isEmpty())
        o.insert(u"token"_s, withToken ? QString::fromUtf8(sc.token) : QString());
    return o;
}

/// Only what differs from the defaults; empty when nothing does (no section is written).
QJsonObject gatewaySettingsToJson(const GatewaySettings &g, bool withToken)
{
    const QJsonObject all = gatewayAllToJson(g, withToken),
                      defaults = gatewayAllToJson(GatewaySettings{}, true);
    QJsonObject out;
    for (auto it = all.begin(); it != all.end(); ++it)
        if (defaults.value(it.key()) != it.value())
            out.insert(it.key(), it.value());
    return out;
}

bool gatewaySettingsFromJson(const QJsonObject &json, GatewaySettings *g, QString *error)
{
    Gw::GatewayConfig &sc = g->config.server;
    GatewayHubConfig &hc = g->config.hub;
    Reader q(json, u"gateway"_s, error);
    q.ignore("enabled");
    if (json.contains(u"enabled"_s)) {
        if (!json.value(u"enabled"_s).isBool()) {
            *error = u"\"gateway.enabled\" must be true or false"_s;
            return false;
        }
        g->enabled = json.value(u"enabled"_s).toBool();
    }
    q.string(
        "bind",
        [&sc](const QString &v) {
            const QHostAddress a(v);
            if (a.isNull())
                return false;
            sc.bind = a;
            return true;
        },
        u"an IPv4 or IPv6 address"_s);
    q.integer("port", 0, 65535, [&sc](qint64 v) { sc.port = static_cast<quint16>(v); });
    q.string(
        "token",
        [&sc](const QString &v) {
            sc.token = v.toUtf8(); // empty: an exported profile leaves it out
            return true;
        },
        u"a string"_s);
    q.string(
        "policy",
        [&sc](const QString &v) {
            const auto policy = Gw::slowPolicyFromName(v);
            if (policy)
                sc.policy = *policy;
            return policy.has_value();
        },
        u"one of disconnect, drop-oldest, coalesce-latest"_s);
    q.integer("queueBytes", 4096, 1LL << 32, [&sc](qint64 v) { sc.queueBytes = v; });
    q.integer("maxClients", 1, 100000, [&sc](qint64 v) { sc.maxClients = static_cast<int>(v); });
    q.integer("idleS", 0, 86400, [&sc](qint64 v) { sc.idleTimeout = std::chrono::milliseconds(v * 1000); });
    q.integer("lingerMs", 0, 3600000, [&hc](qint64 v) { hc.linger = std::chrono::milliseconds(v); });
    q.integer("maxSubscriptions", 1, 100000, [&sc](qint64 v) { sc.maxSubscriptions = static_cast<int>(v); });
    q.integer("maxMessagesPerMinute", 1, 10000000,
              [&sc](qint64 v) { sc.maxMessagesPerMinute = static_cast<int>(v); });
    q.integer("maxFrameBytes", 1024, 1LL << 30, [&sc](qint64 v) { sc.maxFrameBytes = v; });
    // Link threads (--gateway-threads); the command line also bounds it by this machine's cores.
    q.integer("threads", 1, 64, [g](qint64 v) { g->config.threads = static_cast<int>(v); });
    q.integer("metricsPerClient", 0, 10000, [g](qint64 v) { g->metricsPerClient = static_cast<int>(v); });
    q.noOthers();
    return q.ok();
}

} // namespace

std::optional<Profile> profileFromJson(const QByteArray &json, QString *error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = u"not valid JSON at offset %1: %2"_s.arg(pe.offset).arg(pe.errorString());
        return std::nullopt;
    }
    if (!doc.isObject()) {
        *error = u"a profile is a JSON object"_s;
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    if (root.value(u"schema"_s).toString() != QLatin1StringView(ProfileSchema)) {
        *error = u"\"schema\" must be \"%1\""_s.arg(QLatin1StringView(ProfileSchema));
        return std::nullopt;
    }
    Profile p;
    PoolConfig &c = p.engine.pool;
    Reader r(root, {}, error);
    r.ignore("schema");
    r.string(
        "url",
        [&p](const QString &s) {
            if (s.isEmpty())
                return true;
            const QUrl u(s, QUrl::StrictMode);
            if (!u.isValid() || (u.scheme() != u"ws"_s && u.scheme() != u"wss"_s) || u.host().isEmpty())
                return false;
            p.url = u;
            return true;
        },
        u"a ws:// or wss:// URL with a host, or empty for the demo feed"_s);
    auto ms = [](std::chrono::milliseconds &field) {
        return [&field](qint64 v) { field = std::chrono::milliseconds(v); };
    };
    if (const auto pool = r.object("pool")) {
        Reader q(*pool, u"pool"_s, error);
        q.integer("maxConnections", 1, 1000, [&c](qint64 v) { c.maxConnections = static_cast<int>(v); });
        q.integer("maxSubscriptionsPerConnection", 1, 100000,
                  [&c](qint64 v) { c.maxSubscriptionsPerConnection = static_cast<int>(v); });
        q.integer("pingIntervalMs", 100, 3600000, ms(c.pingInterval));
        q.integer("staleTimeoutMs", 0, 86400000, ms(c.staleTimeout));
        q.integer("pongTimeoutMs", 100, 3600000, ms(c.pongTimeout));
        q.number("silenceFactor", 0, 1000, [&c](double v) { c.silenceFactor = v; });
        q.integer("silenceMinimumMs", 0, 3600000, ms(c.silenceMinimum));
        q.integer("probeTimeoutMs", 100, 3600000, ms(c.probeTimeout));
        q.integer("connectTimeoutMs", 100, 600000, ms(c.connectTimeout));
        q.integer("backoffInitialMs", 1, 3600000, ms(c.backoffInitial));
        q.integer("backoffMaxMs", 1, 3600000, ms(c.backoffMax));
        q.integer("newConnectionsPerMinute", 1, 100000,
                  [&c](qint64 v) { c.newConnectionsPerMinute = static_cast<int>(v); });
        q.integer("outgoingPerMinute", 10, 10000000, [&c](qint64 v) {
            c.outgoingPerMinute = static_cast<int>(v);
            c.pingReserve = std::clamp(c.outgoingPerMinute / 50, 1, 50);
        });
        q.integer("ackTimeoutMs", 100, 600000, ms(c.ackTimeout));
        q.integer("maxFrameBytes", 1024, 1LL << 30, [&c](qint64 v) { c.maxFrameBytes = v; });
        q.integer("ioThreads", 1, 64, [&c](qint64 v) { c.ioThreads = static_cast<int>(v); });
        q.number("dataStaleFactor", 0.01, 1000, [&c](double v) { c.dataStaleFactor = v; });
        if (const auto headers = q.object("headers")) {
            for (auto it = headers->begin(); it != headers->end(); ++it) {
                if (!it.value().isString() || it.key().isEmpty()) {
                    q.fail(u"\"pool.headers.%1\" must be a string"_s.arg(it.key()));
                    break;
                }
                if (!it.value().toString().isEmpty()) // an exported profile leaves values out
                    c.headers.append({it.key().toUtf8(), it.value().toString().toUtf8()});
            }
        }
        q.noOthers();
        if (!q.ok())
            return std::nullopt;
        if (c.backoffMax < c.backoffInitial) {
            *error = u"\"pool.backoffMaxMs\" must not be below \"pool.backoffInitialMs\""_s;
            return std::nullopt;
        }
        if (c.silenceFactor > 0 && c.silenceFactor < 1) {
            *error = u"\"pool.silenceFactor\" must be 0 (off) or from 1 to 1000"_s;
            return std::nullopt;
        }
        if (c.staleTimeout.count() > 0 && c.staleTimeout <= c.pingInterval) {
            *error = u"\"pool.staleTimeoutMs\" must be longer than \"pool.pingIntervalMs\""_s;
            return std::nullopt;
        }
    }
    if (const auto d = r.object("dispatcher")) {
        Reader q(*d, u"dispatcher"_s, error);
        q.string(
            "policy",
            [&p](const QString &s) {
                const auto policy = dispatchPolicyFromName(s);
                if (policy)
                    p.engine.policy = *policy;
                return policy.has_value();
            },
            u"one of lossless, drop-oldest, drop-newest, coalesce-latest"_s);
        q.integer("queueCapacity", 1, 100000000, [&p](qint64 v) { p.engine.queueCapacity = v; });
        q.integer("threads", 1, 64, [&p](qint64 v) { p.engine.dispatchThreads = static_cast<int>(v); });
        q.integer("inspectorMessages", 1, 100000,
                  [&p](qint64 v) { p.engine.inspector.perSubscription = static_cast<int>(v); });
        q.integer("inspectorSeconds", 0, 86400,
                  [&p](qint64 v) { p.engine.inspector.maxAge = std::chrono::seconds(v); });
        q.noOthers();
        if (!q.ok())
            return std::nullopt;
    }
    if (const auto log = r.object("sessionLog")) {
        Reader q(*log, u"sessionLog"_s, error);
        q.integer("ringEvents", 10, 10000000, [&p](qint64 v) { p.engine.sessionRing = static_cast<int>(v); });
        q.integer("statsEvents", 10, 10000000,
                  [&p](qint64 v) { p.engine.sessionStatsRing = static_cast<int>(v); });
        q.noOthers();
        if (!q.ok())
            return std::nullopt;
    }
    if (const auto ui = r.object("ui")) {
        Reader q(*ui, u"ui"_s, error);
        q.integer("refreshMs", 16, 10000, [&p](qint64 v) { p.uiRefreshMs = static_cast<int>(v); });
        q.noOthers();
        if (!q.ok())
            return std::nullopt;
    }
    r.ignore("alerts");
    if (root.contains(u"alerts"_s)) { // issue 17
        QString why;
        if (!root.value(u"alerts"_s).isObject()) {
            *error = u"\"alerts\" must be an object"_s;
            return std::nullopt;
        }
        if (!alertSettingsFromJson(root.value(u"alerts"_s), &p.alerts, &why, u"alerts."_s)) {
            *error = why;
            return std::nullopt;
        }
        p.engine.alertRules = p.alerts.rules;
    }
    if (const auto gw = r.object("gateway")) { // issue 14
        if (!gatewaySettingsFromJson(*gw, &p.gateway, error))
            return std::nullopt;
    }
    r.ignore("subscriptions");
    if (root.contains(u"subscriptions"_s)) {
        QString why;
        const auto list = Hl::Subscription::listFromJson(
            QJsonDocument(root.value(u"subscriptions"_s).toArray()).toJson(), &why);
        if (!root.value(u"subscriptions"_s).isArray() || !list) {
            *error = u"\"subscriptions\": %1"_s.arg(why.isEmpty() ? u"must be an array"_s : why);
            return std::nullopt;
        }
        p.subscriptions = *list;
    }
    r.noOthers();
    if (!r.ok())
        return std::nullopt;
    return p;
}

std::optional<Profile> readProfile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"cannot read profile %1: %2"_s.arg(path, f.errorString());
        return std::nullopt;
    }
    QString why;
    auto p = profileFromJson(f.readAll(), &why);
    if (!p)
        *error = u"profile %1: %2"_s.arg(path, why);
    return p;
}

namespace {
constexpr auto SavedKey = "Settings/v1/profile";
}

std::optional<Profile> savedProfile(QString *error)
{
    const QByteArray json = QSettings().value(QLatin1StringView(SavedKey)).toByteArray();
    if (json.isEmpty())
        return std::nullopt;
    QString why;
    auto p = profileFromJson(json, &why);
    if (!p)
        *error = u"the saved settings cannot be used (%1); the defaults apply"_s.arg(why);
    return p;
}

void saveProfile(const Profile &p)
{
    QSettings s;
    s.setValue(QLatin1StringView(SavedKey),
               QJsonDocument(profileToJson(p, true)).toJson(QJsonDocument::Compact));
    s.sync();
}

QJsonObject profileToJson(const Profile &p, bool withHeaders)
{
    const PoolConfig &c = p.engine.pool;
    auto n = [](qint64 v) { return static_cast<double>(v); };
    QJsonObject headers;
    for (const auto &[name, value] : c.headers)
        headers.insert(QString::fromUtf8(name),
                       withHeaders ? QJsonValue(QString::fromUtf8(value)) : QJsonValue(u""_s));
    QJsonObject pool{{u"maxConnections"_s, c.maxConnections},
                     {u"maxSubscriptionsPerConnection"_s, c.maxSubscriptionsPerConnection},
                     {u"pingIntervalMs"_s, n(c.pingInterval.count())},
                     {u"staleTimeoutMs"_s, n(c.staleTimeout.count())},
                     {u"pongTimeoutMs"_s, n(c.pongTimeout.count())},
                     {u"silenceFactor"_s, c.silenceFactor},
                     {u"silenceMinimumMs"_s, n(c.silenceMinimum.count())},
                     {u"probeTimeoutMs"_s, n(c.probeTimeout.count())},
                     {u"connectTimeoutMs"_s, n(c.connectTimeout.count())},
                     {u"backoffInitialMs"_s, n(c.backoffInitial.count())},
                     {u"backoffMaxMs"_s, n(c.backoffMax.count())},
                     {u"newConnectionsPerMinute"_s, c.newConnectionsPerMinute},
                     {u"outgoingPerMinute"_s, c.outgoingPerMinute},
                     {u"ackTimeoutMs"_s, n(c.ackTimeout.count())},
                     {u"maxFrameBytes"_s, n(c.maxFrameBytes)},
                     {u"ioThreads"_s, c.ioThreads},
                     {u"dataStaleFactor"_s, c.dataStaleFactor}};
    if (!headers.isEmpty())
        pool.insert(u"headers"_s, headers);
    QJsonObject o{
        {u"schema"_s, QString::fromLatin1(ProfileSchema)},
        {u"url"_s, p.url.isEmpty() ? QString() : p.url.toString()},
        {u"pool"_s, pool},
        {u"dispatcher"_s, QJsonObject{{u"policy"_s, QString(nameOf(p.engine.policy))},
                                      {u"queueCapacity"_s, n(p.engine.queueCapacity)},
                                      {u"threads"_s, p.engine.dispatchThreads},
                                      {u"inspectorMessages"_s, p.engine.inspector.perSubscription},
                                      {u"inspectorSeconds"_s, n(p.engine.inspector.maxAge.count())}}},
        {u"sessionLog"_s,
         QJsonObject{{u"ringEvents"_s, p.engine.sessionRing}, {u"statsEvents"_s, p.engine.sessionStatsRing}}},
        {u"ui"_s, QJsonObject{{u"refreshMs"_s, p.uiRefreshMs}}}};
    if (const QJsonObject alerts = alertSettingsToJson(p.alerts); !alerts.isEmpty())
        o.insert(u"alerts"_s, alerts); // issue 17
    if (const QJsonObject gw = gatewaySettingsToJson(p.gateway, withHeaders); !gw.isEmpty())
        o.insert(u"gateway"_s, gw); // issue 14
    if (!p.subscriptions.isEmpty()) {
        QJsonArray subs;
        for (const Hl::Subscription &s : p.subscriptions)
            subs.append(s.json());
        o.insert(u"subscriptions"_s, subs);
    }
    return o;
}

namespace {

QList<RunOnlyValue> &runOnly()
{
    static QList<RunOnlyValue> values; // set once by app/ before the first window opens
    return values;
}

constexpr const char *RunOnlySections[] = {"pool", "dispatcher", "sessionLog", "ui"};

} // namespace

void setRunOnlyValues(const Profile &user, const Profile &run)
{
    QList<RunOnlyValue> values;
    const QJsonObject u = profileToJson(user, false), r = profileToJson(run, false);
    for (const char *section : RunOnlySections) {
        const QString name = QString::fromLatin1(section);
        const QJsonObject us = u.value(name).toObject(), rs = r.value(name).toObject();
        for (auto it = rs.begin(); it != rs.end(); ++it) {
            if (it.key() != u"headers"_s && us.value(it.key()) != it.value())
                values.append({name, it.key(), us.value(it.key()), it.value()});
        }
    }
    runOnly() = values;
}

void clearRunOnlyValues()
{
    runOnly().clear();
}

QList<RunOnlyValue> runOnlyValues()
{
    return runOnly();
}

Profile withoutRunOnlyValues(const Profile &p, QList<RunOnlyValue> *replaced)
{
    if (replaced)
        replaced->clear();
    if (runOnly().isEmpty())
        return p;
    QJsonObject json = profileToJson(p, true);
    bool changed = false;
    for (const RunOnlyValue &v : std::as_const(runOnly())) {
        QJsonObject section = json.value(v.section).toObject();
        if (section.value(v.key) != v.run)
            continue; // the value shown is not the run's: someone chose it
        section.insert(v.key, v.user);
        json.insert(v.section, section);
        changed = true;
        if (replaced)
            replaced->append(v);
    }
    if (!changed)
        return p;
    QString error;
    auto back = profileFromJson(QJsonDocument(json).toJson(QJsonDocument::Compact), &error);
    return back ? *back : p;
}

} // namespace FeedScope

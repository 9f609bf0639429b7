#include "metrics.h"

#include "engine.h"
#include "gatewayservice.h"
#include "latencywindow.h"
#include "liveserver.h"
#include "report.h"

#include <QHttpServer>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

// ---------------------------------------------------------------------------------------------
// PromWriter

QString PromWriter::escapeLabel(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (QChar c : value) {
        if (c == u'\\')
            out += u"\\\\"_s;
        else if (c == u'"')
            out += u"\\\""_s;
        else if (c == u'\n')
            out += u"\\n"_s;
        else
            out += c;
    }
    return out;
}

QByteArray PromWriter::number(double v)
{
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        return QByteArray::number(static_cast<qint64>(v));
    return QByteArray::number(v, 'g', 15);
}

void PromWriter::family(const char *name, Type type, const char *help)
{
    static constexpr const char *types[] = {"counter", "gauge", "histogram"};
    m_out += "# HELP ";
    m_out += name;
    m_out += ' ';
    m_out += help; // our own texts: no backslash or newline to escape
    m_out += "\n# TYPE ";
    m_out += name;
    m_out += ' ';
    m_out += types[static_cast<int>(type)];
    m_out += '\n';
}

void PromWriter::line(const QByteArray &name, Labels labels, const QString &extraKey,
                      const QString &extraValue, double value)
{
    m_out += name;
    if (labels.size() > 0 || !extraKey.isEmpty()) {
        m_out += '{';
        bool first = true;
        auto add = [&](const QByteArray &k, const QString &v) {
            if (!first)
                m_out += ',';
            first = false;
            m_out += k;
            m_out += "=\"";
            m_out += escapeLabel(v).toUtf8();
            m_out += '"';
        };
        for (const auto &[k, v] : labels)
            add(QByteArray(k), v);
        if (!extraKey.isEmpty())
            add(extraKey.toLatin1(), extraValue);
        m_out += '}';
    }
    m_out += ' ';
    m_out += number(value);
    m_out += '\n';
}

void PromWriter::sample(const char *name, Labels labels, double value)
{
    line(QByteArray(name), labels, {}, {}, value);
}

void PromWriter::histogram(const char *name, Labels labels, const QList<double> &bounds,
                           const QList<qint64> &counts, double sum)
{
    const QByteArray base(name);
    qint64 cumulative = 0;
    for (qsizetype i = 0; i < bounds.size(); ++i) {
        cumulative += counts.value(i);
        line(base + "_bucket", labels, u"le"_s, QString::fromLatin1(number(bounds.at(i))),
             static_cast<double>(cumulative));
    }
    cumulative += counts.value(bounds.size());
    line(base + "_bucket", labels, u"le"_s, u"+Inf"_s, static_cast<double>(cumulative));
    line(base + "_sum", labels, {}, {}, sum);
    line(base + "_count", labels, {}, {}, static_cast<double>(cumulative));
}

// ---------------------------------------------------------------------------------------------
// Data latency and the clock (issue 17)

namespace {

/// The Prometheus buckets (seconds) of the data latency: bounds of the pool's finer histogram
/// (latencywindow.h), so that every count falls in exactly one of them.
constexpr std::array<double, 16> LatencyPromBucketsS{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,   0.5,   1,      2.5,   5,    10,    25,   60};

void renderLatency(PromWriter &w, const PoolSnapshot &s)
{
    using T = PromWriter::Type;
    const QList<double> bounds(LatencyPromBucketsS.cbegin(), LatencyPromBucketsS.cend());
    w.family("feedscope_data_latency_seconds", T::Histogram,
             "Receipt time minus the venue's event time of data frames, by subscription type (frames "
             "stamped ahead of this clock are in feedscope_data_latency_ahead_total instead).");
    for (const TypeLatency &t : s.latencyByType) {
        QList<qint64> counts(bounds.size() + 1, 0);
        for (qsizetype i = 0; i < t.bucketCounts.size(); ++i) {
            const double upper = i < static_cast<qsizetype>(LatencyBoundsUs.size())
                                     ? static_cast<double>(LatencyBoundsUs[static_cast<size_t>(i)]) / 1e6
                                     : std::numeric_limits<double>::infinity();
            const auto at = std::lower_bound(bounds.cbegin(), bounds.cend(), upper - 1e-9);
            counts[at - bounds.cbegin()] += t.bucketCounts.at(i);
        }
        w.histogram("feedscope_data_latency_seconds", {{"type", t.type}}, bounds, counts, t.sumSeconds);
    }
    w.family("feedscope_data_latency_ahead_total", T::Counter,
             "Data frames whose event time was ahead of this machine's clock, by subscription type.");
    for (const TypeLatency &t : s.latencyByType)
        w.sample("feedscope_data_latency_ahead_total", {{"type", t.type}}, static_cast<double>(t.negative));
    w.family("feedscope_clock_synchronised", T::Gauge,
             "1 when the kernel says the system clock is synchronised (adjtimex), else 0.");
    w.sample("feedscope_clock_synchronised", {}, s.clock.known && s.clock.synchronised ? 1 : 0);
    w.family("feedscope_clock_max_error_seconds", T::Gauge,
             "The kernel's maximum error of the system clock (adjtimex maxerror); absent when unknown.");
    if (s.clock.known)
        w.sample("feedscope_clock_max_error_seconds", {}, static_cast<double>(s.clock.maxErrorUs) / 1e6);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// renderMetrics

namespace {

/// Issue 17: one series per rule, 0 when nothing fires (an alert rule can test for absence).
void renderAlerts(PromWriter &w, const MetricsInput &in)
{
    w.family("feedscope_alerts_firing", PromWriter::Type::Gauge,
             "Subjects (subscriptions, connections, ...) an alert rule fires for now.");
    for (const auto &[rule, n] : in.alertsFiring)
        w.sample("feedscope_alerts_firing", {{"rule", rule}}, n);
}

} // namespace

QByteArray renderMetrics(const MetricsInput &in)
{
    using T = PromWriter::Type;
    PromWriter w;
    const PoolSnapshot &s = in.snapshot;
    auto num = [](qint64 v) { return static_cast<double>(v); };

    w.family("feedscope_start_time_seconds", T::Gauge, "Start time of the process, seconds since the epoch.");
    w.sample("feedscope_start_time_seconds", {}, in.startTimeS);
    w.family("feedscope_build_info", T::Gauge, "FeedScope's version.");
    w.sample("feedscope_build_info", {{"version", QStringLiteral(FEEDSCOPE_VERSION)}}, 1);

    // Connections
    w.family("feedscope_connections", T::Gauge, "Connections of the pool by state.");
    for (ConnState st : {ConnState::Idle, ConnState::Connecting, ConnState::Open, ConnState::Closing,
                         ConnState::Backoff, ConnState::Stopped}) {
        int n = 0;
        for (const ConnectionStatus &c : s.connections)
            n += c.state == st;
        w.sample("feedscope_connections", {{"state", QString(nameOf(st))}}, n);
    }
    w.family("feedscope_connection_up", T::Gauge, "1 when the connection is open.");
    for (const ConnectionStatus &c : s.connections)
        w.sample("feedscope_connection_up", {{"connection", QString::number(c.id)}},
                 c.state == ConnState::Open);
    w.family("feedscope_connection_rtt_seconds", T::Gauge, "Last ping round-trip time of the connection.");
    for (const ConnectionStatus &c : s.connections)
        if (c.rttMs >= 0)
            w.sample("feedscope_connection_rtt_seconds", {{"connection", QString::number(c.id)}},
                     c.rttMs / 1000.0);
    w.family("feedscope_connection_messages_received_total", T::Counter,
             "Frames received on the connection.");
    for (const ConnectionStatus &c : s.connections)
        w.sample("feedscope_connection_messages_received_total", {{"connection", QString::number(c.id)}},
                 num(c.messagesIn));
    w.family("feedscope_connection_bytes_received_total", T::Counter, "Bytes received on the connection.");
    for (const ConnectionStatus &c : s.connections)
        w.sample("feedscope_connection_bytes_received_total", {{"connection", QString::number(c.id)}},
                 num(c.bytesIn));
    w.family("feedscope_reconnects_total", T::Counter, "Reconnects by connection and cause.");
    for (const auto &[key, n] : in.reconnects)
        w.sample("feedscope_reconnects_total",
                 {{"connection", QString::number(key.first)}, {"cause", key.second}}, num(n));
    w.family("feedscope_reconnect_duration_seconds", T::Histogram,
             "Down to the last subscription restored, per reconnect.");
    QList<double> rb(ReconnectBucketsS.cbegin(), ReconnectBucketsS.cend());
    QList<qint64> rc(in.reconnectBuckets.cbegin(), in.reconnectBuckets.cend());
    w.histogram("feedscope_reconnect_duration_seconds", {}, rb, rc, in.reconnectSecondsSum);
    w.family("feedscope_new_connections_last_minute", T::Gauge,
             "New connections opened in the last 60 s (the server allows 30).");
    w.sample("feedscope_new_connections_last_minute", {}, s.counters.newConnectionsLastMinute);

    // Subscriptions
    w.family("feedscope_subscriptions", T::Gauge, "Subscriptions by state.");
    for (SubState st : {SubState::Pending, SubState::Active, SubState::Restoring, SubState::Rejected,
                        SubState::Failed, SubState::Unplaceable}) {
        int n = 0;
        for (const SubscriptionStatus &x : s.subscriptions)
            n += x.state == st;
        w.sample("feedscope_subscriptions", {{"state", QString(nameOf(st))}}, n);
    }
    QMap<QString, int> byType;
    int stale = 0;
    for (const SubscriptionStatus &x : s.subscriptions) {
        ++byType[x.subscription.type()];
        stale += x.stale;
    }
    w.family("feedscope_subscriptions_by_type", T::Gauge, "Subscriptions by type.");
    for (auto it = byType.cbegin(); it != byType.cend(); ++it)
        w.sample("feedscope_subscriptions_by_type", {{"type", it.key()}}, it.value());
    w.family("feedscope_stale_subscriptions", T::Gauge,
             "Active subscriptions whose data is older than the cadence of their type allows.");
    w.sample("feedscope_stale_subscriptions", {}, stale);
    w.family("feedscope_data_messages_total", T::Counter, "Data messages routed, by subscription type.");
    const QList<Hl::TypeSpec> &types = Hl::catalogue();
    for (qsizetype i = 0; i < types.size() && i < in.messagesByType.size(); ++i)
        if (in.messagesByType.at(i) > 0 || byType.contains(QLatin1StringView(types.at(i).type)))
            w.sample("feedscope_data_messages_total", {{"type", QString::fromLatin1(types.at(i).type)}},
                     num(in.messagesByType.at(i)));
    if (in.perSubscriptionSeries > 0) {
        // Behind an option and capped: one series per subscription is unbounded cardinality.
        w.family("feedscope_subscription_messages_total", T::Counter, "Data messages of one subscription.");
        int n = 0;
        for (const SubscriptionStatus &x : s.subscriptions) {
            if (n++ >= in.perSubscriptionSeries)
                break;
            w.sample("feedscope_subscription_messages_total",
                     {{"subscription", QString::fromUtf8(x.subscription.canonical())}}, num(x.messages));
        }
        w.family("feedscope_subscription_last_message_age_seconds", T::Gauge,
                 "Age of the last data message of one subscription.");
        n = 0;
        for (const SubscriptionStatus &x : s.subscriptions) {
            if (n++ >= in.perSubscriptionSeries)
                break;
            if (x.lastAgeMs >= 0)
                w.sample("feedscope_subscription_last_message_age_seconds",
                         {{"subscription", QString::fromUtf8(x.subscription.canonical())}},
                         x.lastAgeMs / 1000.0);
        }
    }

    // Dispatcher
    w.family("feedscope_dispatcher_queue_depth", T::Gauge, "Frames waiting in the consumer's queue.");
    for (const ConsumerStats &c : in.dispatcher)
        w.sample("feedscope_dispatcher_queue_depth", {{"consumer", c.name}}, num(c.queued));
    w.family("feedscope_dispatcher_queue_high_water", T::Gauge, "Deepest the consumer's queue has been.");
    for (const ConsumerStats &c : in.dispatcher)
        w.sample("feedscope_dispatcher_queue_high_water", {{"consumer", c.name}}, num(c.highWater));
    w.family("feedscope_dispatcher_queue_capacity", T::Gauge, "Bound of the consumer's queue (0: inline).");
    for (const ConsumerStats &c : in.dispatcher)
        w.sample("feedscope_dispatcher_queue_capacity", {{"consumer", c.name}}, num(c.capacity));
    auto policyOf = [](const ConsumerStats &c) {
        return c.inlineConsumer ? u"inline"_s : QString(nameOf(c.policy));
    };
    const std::pair<const char *, qint64 ConsumerStats::*> counters[] = {
        {"feedscope_dispatcher_received_total", &ConsumerStats::received},
        {"feedscope_dispatcher_delivered_total", &ConsumerStats::delivered},
        {"feedscope_dispatcher_dropped_total", &ConsumerStats::dropped},
        {"feedscope_dispatcher_coalesced_total", &ConsumerStats::coalesced},
        {"feedscope_dispatcher_sync_fallbacks_total", &ConsumerStats::syncFallbacks},
    };
    const char *counterHelp[] = {
        "Frames offered to the consumer.", "Frames the consumer has been given.",
        "Frames dropped by the consumer's policy.",
        "Frames superseded by a newer one of the same subscription (coalesce-latest).",
        "Frames a lossless consumer ran synchronously on the I/O thread (queue full)."};
    for (size_t i = 0; i < std::size(counters); ++i) {
        w.family(counters[i].first, T::Counter, counterHelp[i]);
        for (const ConsumerStats &c : in.dispatcher)
            w.sample(counters[i].first, {{"consumer", c.name}, {"policy", policyOf(c)}},
                     num(c.*(counters[i].second)));
    }
    w.family("feedscope_dispatch_lag_seconds", T::Histogram, "Receive to delivery, per consumer.");
    QList<double> lb;
    for (qint64 us : LagBucketBoundsUs)
        lb.append(static_cast<double>(us) / 1e6);
    for (const ConsumerStats &c : in.dispatcher)
        w.histogram("feedscope_dispatch_lag_seconds", {{"consumer", c.name}}, lb,
                    QList<qint64>(c.lagBuckets.cbegin(), c.lagBuckets.cend()), c.lagSumUs / 1e6);

    // Outgoing budget and errors
    w.family("feedscope_outgoing_budget_used_ratio", T::Gauge,
             "Client frames sent in the last 60 s over the configured budget.");
    w.sample("feedscope_outgoing_budget_used_ratio", {},
             s.counters.outgoingCapacity > 0
                 ? static_cast<double>(s.counters.outgoingUsed) / s.counters.outgoingCapacity
                 : 0.0);
    w.family("feedscope_outgoing_queued", T::Gauge, "Client frames waiting for the outgoing budget.");
    w.sample("feedscope_outgoing_queued", {}, s.counters.outgoingQueued);
    w.family("feedscope_server_errors_total", T::Counter, "Error frames from the server, by kind.");
    for (auto it = s.counters.serverErrorsByKind.cbegin(); it != s.counters.serverErrorsByKind.cend(); ++it)
        w.sample("feedscope_server_errors_total", {{"kind", it.key()}}, num(it.value()));
    w.family("feedscope_malformed_frames_total", T::Counter, "Frames that could not be decoded, by reason.");
    for (int e = 1; e < Hl::DecodeErrorCount; ++e) {
        qint64 n = 0;
        for (const ConnectionStatus &c : s.connections)
            n += c.malformed[static_cast<size_t>(e)];
        w.sample("feedscope_malformed_frames_total",
                 {{"reason", QString(Hl::nameOf(static_cast<Hl::DecodeError>(e)))}}, num(n));
    }
    w.family("feedscope_oversized_frames_total", T::Counter, "Frames larger than the maximum frame size.");
    w.sample("feedscope_oversized_frames_total", {}, num(s.counters.oversizedFrames));
    w.family("feedscope_unrouted_frames_total", T::Counter,
             "Data frames for no subscription of their connection.");
    w.sample("feedscope_unrouted_frames_total", {}, num(s.counters.unroutedFrames));
    renderLatency(w, s);
    renderAlerts(w, in);
    return w.take();
}

// ---------------------------------------------------------------------------------------------
// integrity (issue 17)

namespace {

/// Integrity violations by kind over the run (removed subscriptions included: a true counter), and
/// per subscription and kind where per-subscription series are on (capped like the others).
QByteArray integrityMetrics(const IntegrityCounts &totals, const PoolSnapshot &s, int perSubscriptionSeries)
{
    using T = PromWriter::Type;
    PromWriter w;
    w.family(
        "feedscope_integrity_violations_total", T::Counter,
        "Data frames failing an integrity check, by kind: crossedBook (best bid at or above best ask, or "
        "an empty side), timeBackwards, duplicateTrade, contradicts (another coin, interval or user).");
    for (IntegrityKind k : AllIntegrityKinds)
        w.sample("feedscope_integrity_violations_total", {{"kind", QString(nameOf(k))}},
                 static_cast<double>(countOf(totals, k)));
    if (perSubscriptionSeries > 0) {
        w.family("feedscope_subscription_integrity_violations_total", T::Counter,
                 "Integrity violations of one subscription, by kind.");
        int n = 0;
        for (const SubscriptionStatus &x : s.subscriptions) {
            if (n++ >= perSubscriptionSeries)
                break;
            for (IntegrityKind k : AllIntegrityKinds)
                w.sample("feedscope_subscription_integrity_violations_total",
                         {{"subscription", QString::fromUtf8(x.subscription.canonical())},
                          {"kind", QString(nameOf(k))}},
                         static_cast<double>(countOf(x.integrity, k)));
        }
    }
    return w.take();
}

} // namespace

// ---------------------------------------------------------------------------------------------
// health

Health health(const PoolSnapshot &s)
{
    constexpr int MaxListed = 20;
    QJsonArray badConnections;
    int open = 0;
    for (const ConnectionStatus &c : s.connections) {
        if (c.state == ConnState::Open) {
            ++open;
            continue;
        }
        if (badConnections.size() < MaxListed)
            badConnections.append(QJsonObject{{u"id"_s, c.id},
                                              {u"state"_s, QString(nameOf(c.state))},
                                              {u"lastCause"_s, QString(nameOf(c.lastCause))},
                                              {u"detail"_s, c.lastDetail}});
    }
    QJsonArray badSubs;
    int active = 0;
    for (const SubscriptionStatus &x : s.subscriptions) {
        if (x.state == SubState::Active) {
            ++active;
            continue;
        }
        if (badSubs.size() < MaxListed) {
            QJsonObject o{{u"subscription"_s, QString::fromUtf8(x.subscription.canonical())},
                          {u"state"_s, QString(nameOf(x.state))}};
            if (!x.error.isEmpty())
                o.insert(u"error"_s, x.error);
            badSubs.append(o);
        }
    }
    Health h;
    const auto connTotal = static_cast<int>(s.connections.size());
    const auto subTotal = static_cast<int>(s.subscriptions.size());
    h.healthy = s.at.isValid() && open == connTotal && active == subTotal && connTotal > 0;
    h.body = QJsonObject{
        {u"status"_s, h.healthy ? u"ok"_s : u"unhealthy"_s},
        {u"at"_s, s.at.toString(Qt::ISODateWithMs)},
        {u"connections"_s,
         QJsonObject{{u"open"_s, open}, {u"total"_s, connTotal}, {u"notOpen"_s, badConnections}}},
        {u"subscriptions"_s,
         QJsonObject{{u"active"_s, active}, {u"total"_s, subTotal}, {u"notActive"_s, badSubs}}},
    };
    if (!s.at.isValid())
        h.body.insert(u"reason"_s, u"no snapshot yet"_s);
    else if (connTotal == 0)
        h.body.insert(u"reason"_s, u"no connection"_s);
    return h;
}

Health health(const PoolSnapshot &snapshot, const QList<Alert> &firing)
{
    // Issue 17: the firing alerts are the reasons an operator reads first.
    constexpr int MaxListed = 20;
    Health h = health(snapshot);
    QJsonArray reasons, alerts;
    bool critical = false;
    for (const Alert &a : firing) {
        critical = critical || a.severity == AlertSeverity::Critical;
        if (reasons.size() < MaxListed) {
            reasons.append(a.text);
            alerts.append(a.toJson());
        }
    }
    h.body.insert(u"alertsFiring"_s, static_cast<int>(firing.size()));
    h.body.insert(u"reasons"_s, reasons);
    h.body.insert(u"alerts"_s, alerts);
    if (critical && h.healthy) {
        h.healthy = false;
        h.body.insert(u"status"_s, u"unhealthy"_s);
    }
    return h;
}

// ---------------------------------------------------------------------------------------------
// MetricsServer

MetricsServer::MetricsServer(Engine *engine, QObject *parent)
    : QObject(parent), m_engine(engine), m_http(std::make_unique<QHttpServer>())
{
    m_counts.startTimeS = static_cast<double>(engine->startedAt().toMSecsSinceEpoch()) / 1000.0;
    connect(engine->pool(), &ConnectionPool::reconnectFinished, this, [this](const ReconnectRecord &r) {
        ++m_counts.reconnects[{r.connection, QString(nameOf(r.cause))}];
        if (r.durationMs < 0)
            return;
        const double secs = static_cast<double>(r.durationMs) / 1000.0;
        const auto b = std::lower_bound(ReconnectBucketsS.cbegin(), ReconnectBucketsS.cend(), secs);
        ++m_counts.reconnectBuckets[static_cast<size_t>(b - ReconnectBucketsS.cbegin())];
        m_counts.reconnectSecondsSum += secs;
        ++m_counts.reconnectCount;
    });
    m_http->route(u"/metrics"_s, [this] {
        ++m_scrapes;
        return QHttpServerResponse(
            "text/plain; version=0.0.4; charset=utf-8",
            renderMetrics(input()) +
                integrityMetrics(m_engine->integrityTotals(), m_engine->lastSnapshot(), m_perSubscription) +
                gatewayText());
    });
    m_http->route(u"/healthz"_s, [this] {
        const Health h = health(m_engine->lastSnapshot(), m_engine->alerts().firing());
        return QHttpServerResponse("application/json", QJsonDocument(h.body).toJson(QJsonDocument::Compact),
                                   h.healthy ? QHttpServerResponse::StatusCode::Ok
                                             : QHttpServerResponse::StatusCode::ServiceUnavailable);
    });
    m_http->route(u"/report"_s, [this] {
        const ReportMeta meta{m_engine->startedAt(),
                              m_engine->startedAt().msecsTo(QDateTime::currentDateTimeUtc()),
                              redactedUrl(m_engine->config().pool.url)};
        QJsonObject report = buildReport(m_engine->lastSnapshot(), m_engine->dispatcherFigures(), meta);
        report.insert(u"alerts"_s, buildAlertsReport(m_engine->alerts())); // issue 17
        if (m_gateway)
            report.insert(u"gateway"_s, buildGatewayReport(*m_gateway)); // issue 14
        return QHttpServerResponse(report);
    });
    // Issue 18: WebSocket upgrades (Qt 6.4 hands over every one, whatever its path) go to /live.
    m_live = std::make_unique<LiveServer>(engine);
    m_live->attach(m_http.get());
}

MetricsServer::~MetricsServer() = default;

quint16 MetricsServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    const quint16 got = m_http->listen(address, port);
    if (got == 0 && error)
        *error = u"cannot serve metrics on %1:%2 (the port is taken or not allowed)"_s.arg(address.toString())
                     .arg(port);
    return got;
}

QList<QPair<QHostAddress, quint16>> MetricsServer::listening() const
{
    QList<QPair<QHostAddress, quint16>> out;
    for (const QTcpServer *t : m_http->servers())
        if (t->isListening())
            out.append({t->serverAddress(), t->serverPort()});
    return out;
}

MetricsInput MetricsServer::input() const
{
    MetricsInput in = m_counts;
    in.snapshot = m_engine->lastSnapshot();
    in.dispatcher = m_engine->dispatcherStats();
    in.messagesByType = m_engine->messagesByType();
    in.perSubscriptionSeries = m_perSubscription;
    for (const AlertRule &r : m_engine->alerts().rules()) // issue 17
        in.alertsFiring.append({r.id, m_engine->alerts().subjectsFiring(r.id)});
    return in;
}

// ---------------------------------------------------------------------------------------------
// gateway (issue 14)

void MetricsServer::setGatewayService(GatewayService *gateway, int perClientSeries)
{
    m_gateway = gateway;
    m_perClient = perClientSeries;
}

QByteArray MetricsServer::gatewayText() const
{
    return m_gateway ? renderGatewayMetrics(*m_gateway, m_perClient) : QByteArray();
}

QByteArray renderGatewayMetrics(const GatewayService &gateway, int perClientSeries)
{
    using T = PromWriter::Type;
    auto num = [](qint64 v) { return static_cast<double>(v); };
    PromWriter w;
    const Gw::GatewayServer &server = gateway.server();
    const Gw::GatewayCounters &c = server.counters();
    const GatewayHubCounters &h = gateway.hub().counters();
    const QList<Gw::ClientStats> clients = server.clients();
    w.family("feedscope_gateway_clients", T::Gauge, "Downstream clients connected to the gateway.");
    w.sample("feedscope_gateway_clients", {}, num(clients.size()));
    w.family("feedscope_gateway_max_clients", T::Gauge, "Clients the gateway accepts at most.");
    w.sample("feedscope_gateway_max_clients", {}, gateway.config().server.maxClients);
    w.family("feedscope_gateway_accepted_total", T::Counter, "Client handshakes accepted.");
    w.sample("feedscope_gateway_accepted_total", {}, num(c.accepted));
    w.family("feedscope_gateway_handshakes_refused_total", T::Counter,
             "Client handshakes refused, by HTTP status (401: no or wrong token, 429: at the maximum of "
             "clients).");
    w.sample("feedscope_gateway_handshakes_refused_total", {{"status", u"401"_s}}, num(c.refusedToken));
    w.sample("feedscope_gateway_handshakes_refused_total", {{"status", u"429"_s}}, num(c.refusedFull));
    w.family("feedscope_gateway_disconnects_total", T::Counter, "Clients gone, by reason.");
    for (int r = 0; r < Gw::CloseReasonCount; ++r)
        w.sample("feedscope_gateway_disconnects_total",
                 {{"reason", gatewayReasonKey(static_cast<Gw::CloseReason>(r))}},
                 num(c.closed[static_cast<size_t>(r)]));
    const std::pair<const char *, qint64> totals[] = {
        {"feedscope_gateway_frames_out_total", c.framesOut},
        {"feedscope_gateway_bytes_out_total", c.bytesOut},
        {"feedscope_gateway_dropped_total", c.dropped},
        {"feedscope_gateway_coalesced_total", c.coalesced},
        {"feedscope_gateway_malformed_total", c.malformed},
        {"feedscope_gateway_rate_limited_total", c.rateLimited},
        {"feedscope_gateway_oversized_total", c.oversized},
        {"feedscope_gateway_upstream_subscribes_total", h.upstreamSubscribes},
        {"feedscope_gateway_upstream_unsubscribes_total", h.upstreamUnsubscribes},
        {"feedscope_gateway_late_joins_total", h.lateJoins},
        {"feedscope_gateway_rejections_forwarded_total", h.rejectionsForwarded},
        {"feedscope_gateway_limit_refusals_total", h.limitRefusals},
    };
    const char *totalHelp[] = {
        "Frames handed to the clients' sockets.",
        "Bytes handed to the clients' sockets.",
        "Data frames dropped for slow or closing clients.",
        "Data frames replaced by a newer one of the same subscription (coalesce-latest).",
        "Client frames answered with the venue's parse error (binary included).",
        "Client frames over the per-client message limit.",
        "Client frames over the maximum frame size (closed with 1009).",
        "Subscriptions sent upstream for a first client.",
        "Subscriptions let go upstream after their last client left and the linger.",
        "Clients joining a subscription already active (acknowledged at once from the cache).",
        "Clients told of an upstream rejection or failure.",
        "Subscriptions refused at once: the per-IP subscription or user allowance.",
    };
    for (size_t i = 0; i < std::size(totals); ++i) {
        w.family(totals[i].first, T::Counter, totalHelp[i]);
        w.sample(totals[i].first, {}, num(totals[i].second));
    }
    qint64 queued = 0, queuedMax = 0;
    for (const Gw::ClientStats &st : clients) {
        queued += st.queuedBytes;
        queuedMax = std::max(queuedMax, st.queuedBytes);
    }
    w.family("feedscope_gateway_queue_bytes", T::Gauge, "Bytes queued for the clients, all together.");
    w.sample("feedscope_gateway_queue_bytes", {}, num(queued));
    w.family("feedscope_gateway_queue_max_bytes", T::Gauge, "Bytes queued for the client with the most.");
    w.sample("feedscope_gateway_queue_max_bytes", {}, num(queuedMax));
    w.family("feedscope_gateway_queue_bound_bytes", T::Gauge, "The send queue bound of each client.");
    w.sample("feedscope_gateway_queue_bound_bytes", {}, num(gateway.config().server.queueBytes));
    w.family("feedscope_gateway_upstream_subscriptions", T::Gauge,
             "Upstream subscriptions the gateway holds for its clients (lingering ones included).");
    w.sample("feedscope_gateway_upstream_subscriptions", {}, gateway.upstreamShared());
    w.family("feedscope_gateway_upstream_lingering_subscriptions", T::Gauge,
             "Upstream subscriptions with no client left, kept for the linger.");
    w.sample("feedscope_gateway_upstream_lingering_subscriptions", {}, gateway.upstreamLingering());
    if (perClientSeries > 0 && !clients.isEmpty()) {
        const qsizetype n = std::min<qsizetype>(clients.size(), perClientSeries);
        auto label = [](const Gw::ClientStats &st) { return u"%1 #%2"_s.arg(st.name).arg(st.id); };
        const std::pair<const char *, qint64 Gw::ClientStats::*> perClient[] = {
            {"feedscope_gateway_client_frames_out_total", &Gw::ClientStats::framesOut},
            {"feedscope_gateway_client_bytes_out_total", &Gw::ClientStats::bytesOut},
            {"feedscope_gateway_client_dropped_total", &Gw::ClientStats::dropped},
            {"feedscope_gateway_client_coalesced_total", &Gw::ClientStats::coalesced},
            {"feedscope_gateway_client_malformed_total", &Gw::ClientStats::malformed},
            {"feedscope_gateway_client_rate_limited_total", &Gw::ClientStats::rateLimited},
        };
        const char *perClientHelp[] = {
            "Frames handed to this client's socket.", "Bytes handed to this client's socket.",
            "Data frames dropped for this client.",   "Data frames coalesced for this client.",
            "Malformed frames from this client.",     "Frames of this client over its message limit.",
        };
        for (size_t i = 0; i < std::size(perClient); ++i) {
            w.family(perClient[i].first, T::Counter, perClientHelp[i]);
            for (qsizetype k = 0; k < n; ++k)
                w.sample(perClient[i].first, {{"client", label(clients.at(k))}},
                         num(clients.at(k).*(perClient[i].second)));
        }
        w.family("feedscope_gateway_client_queue_bytes", T::Gauge, "Bytes queued for this client.");
        for (qsizetype k = 0; k < n; ++k)
            w.sample("feedscope_gateway_client_queue_bytes", {{"client", label(clients.at(k))}},
                     num(clients.at(k).queuedBytes));
        w.family("feedscope_gateway_client_subscriptions", T::Gauge, "Subscriptions this client holds.");
        for (qsizetype k = 0; k < n; ++k)
            w.sample("feedscope_gateway_client_subscriptions", {{"client", label(clients.at(k))}},
                     clients.at(k).subscriptions);
    }
    return w.take();
}

} // namespace FeedScope

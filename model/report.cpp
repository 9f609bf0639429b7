#include "report.h"

#include "alerts.h"
#include "gatewayservice.h"
#include "integrity.h"
#include "recording.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

QJsonValue isoOrNull(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(isoUtcMs(t)) : QJsonValue(QJsonValue::Null);
}

/// One limit in force and where it comes from: the venue's own value, FeedScope's default (under
/// the venue's), or a value the configuration set.
QJsonObject limitJson(int value, int venue, int fallback)
{
    const QString source = value == venue ? u"venue"_s : value == fallback ? u"default"_s : u"configured"_s;
    return QJsonObject{{u"value"_s, value}, {u"venue"_s, venue}, {u"source"_s, source}};
}

QJsonObject limitsJson(const PoolLimits &l)
{
    const PoolLimits d = PoolLimits::of(PoolConfig{});
    return QJsonObject{
        {u"subscriptions"_s, limitJson(l.subscriptions, VenueLimits::subscriptions, d.subscriptions)},
        {u"users"_s, limitJson(l.users, VenueLimits::users, d.users)},
        {u"connections"_s, limitJson(l.connections, VenueLimits::connections, d.connections)},
        {u"newConnectionsPerMinute"_s,
         limitJson(l.newConnectionsPerMinute, VenueLimits::newConnectionsPerMinute,
                   d.newConnectionsPerMinute)},
        {u"messagesPerMinute"_s,
         limitJson(l.messagesPerMinute, VenueLimits::messagesPerMinute, d.messagesPerMinute)},
    };
}

QJsonObject integrityJson(const IntegrityCounts &c)
{
    QJsonObject o;
    for (IntegrityKind k : AllIntegrityKinds)
        o.insert(QString(nameOf(k)), static_cast<double>(countOf(c, k)));
    o.insert(u"total"_s, static_cast<double>(c.total()));
    return o;
}

/// Integrity (issue 17): an "integrity" part in every subscription and the totals over them.
void addIntegrity(QJsonObject &report, const PoolSnapshot &snapshot)
{
    QJsonArray subs = report.value(u"subscriptions"_s).toArray();
    IntegrityCounts totals;
    for (qsizetype i = 0; i < subs.size() && i < snapshot.subscriptions.size(); ++i) {
        const IntegrityCounts &c = snapshot.subscriptions.at(i).integrity;
        QJsonObject o = subs.at(i).toObject();
        o.insert(u"integrity"_s, integrityJson(c));
        subs.replace(i, o);
        totals.crossedBook += c.crossedBook;
        totals.timeBackwards += c.timeBackwards;
        totals.duplicateTrade += c.duplicateTrade;
        totals.contradicts += c.contradicts;
    }
    report.insert(u"subscriptions"_s, subs);
    report.insert(u"integrity"_s, integrityJson(totals));
}

QJsonValue msOrNull(double ms)
{
    return ms >= 0 ? QJsonValue(ms) : QJsonValue(QJsonValue::Null);
}

/// Data latency (issue 17): p50/p99/max over 10 s and 5 min (null without samples).
QJsonObject latencyJson(const LatencyFigures &f)
{
    return QJsonObject{
        {u"samples10s"_s, static_cast<double>(f.samples10s)},
        {u"p50Ms"_s, msOrNull(f.p50Ms)},
        {u"p99Ms"_s, msOrNull(f.p99Ms)},
        {u"maxMs"_s, msOrNull(f.maxMs)},
        {u"samples5m"_s, static_cast<double>(f.samples5m)},
        {u"p50Ms5m"_s, msOrNull(f.p50Ms5m)},
        {u"p99Ms5m"_s, msOrNull(f.p99Ms5m)},
        {u"maxMs5m"_s, msOrNull(f.maxMs5m)},
        {u"aheadOfClock5m"_s, static_cast<double>(f.negative5m)},
    };
}

/// Per type: the windows' figures and the run's totals.
QJsonObject latencyByTypeJson(const PoolSnapshot &s)
{
    QJsonObject out;
    for (const TypeLatency &t : s.latencyByType) {
        QJsonObject o = latencyJson(t.figures);
        o.insert(u"samplesTotal"_s, static_cast<double>(t.samples));
        o.insert(u"meanMsTotal"_s, t.samples > 0
                                       ? QJsonValue(t.sumSeconds * 1000.0 / static_cast<double>(t.samples))
                                       : QJsonValue(QJsonValue::Null));
        o.insert(u"aheadOfClockTotal"_s, static_cast<double>(t.negative));
        out.insert(t.type, o);
    }
    return out;
}

/// The kernel's clock discipline beside the latency: nobody should read a clock offset as latency.
QJsonObject clockJson(const ClockSync &c)
{
    return QJsonObject{
        {u"known"_s, c.known},
        {u"synchronised"_s, c.known && c.synchronised},
        {u"maxErrorMs"_s,
         c.known ? QJsonValue(static_cast<double>(c.maxErrorUs) / 1000.0) : QJsonValue(QJsonValue::Null)},
        {u"estimatedErrorMs"_s,
         c.known ? QJsonValue(static_cast<double>(c.estErrorUs) / 1000.0) : QJsonValue(QJsonValue::Null)},
        {u"text"_s, c.text()},
    };
}

} // namespace

QJsonObject buildReport(const PoolSnapshot &snapshot, const DispatcherFigures &dispatcher,
                        const ReportMeta &meta)
{
    QJsonArray subs;
    for (const SubscriptionStatus &s : snapshot.subscriptions) {
        subs.append(QJsonObject{
            {u"subscription"_s, s.subscription.json()},
            {u"key"_s, QString::fromUtf8(s.subscription.canonical())},
            {u"state"_s, QString(nameOf(s.state))},
            {u"error"_s, s.error.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s.error)},
            {u"connection"_s, s.connection >= 0 ? QJsonValue(s.connection) : QJsonValue(QJsonValue::Null)},
            {u"messages"_s, static_cast<double>(s.messages)},
            {u"bytes"_s, static_cast<double>(s.bytes)},
            {u"firstMessageAt"_s, isoOrNull(s.firstMessageAt)},
            {u"lastMessageAt"_s, isoOrNull(s.lastMessageAt)},
            {u"ackLatencyMs"_s, s.ackLatencyMs >= 0 ? QJsonValue(static_cast<double>(s.ackLatencyMs))
                                                    : QJsonValue(QJsonValue::Null)},
            {u"restores"_s, static_cast<double>(s.restores)},
            {u"latency"_s, latencyJson(s.latency)},
        });
    }
    QJsonArray conns;
    for (const ConnectionStatus &c : snapshot.connections) {
        conns.append(QJsonObject{
            {u"id"_s, c.id},
            {u"state"_s, QString(nameOf(c.state))},
            {u"localPort"_s, c.localPort},
            {u"subscriptions"_s, c.subscriptions},
            {u"messagesIn"_s, static_cast<double>(c.messagesIn)},
            {u"bytesIn"_s, static_cast<double>(c.bytesIn)},
            {u"framesOut"_s, static_cast<double>(c.framesOut)},
            {u"reconnects"_s, c.reconnects},
            {u"rttMs"_s, c.rttMs >= 0 ? QJsonValue(c.rttMs) : QJsonValue(QJsonValue::Null)},
            {u"lastCause"_s, QString(nameOf(c.lastCause))},
            {u"waitingFor"_s, c.state == ConnState::Backoff && c.waitingForBudget
                                  ? QJsonValue(u"new-connection budget"_s)
                                  : QJsonValue(QJsonValue::Null)},
            {u"nextAttemptAt"_s,
             c.state == ConnState::Backoff ? isoOrNull(c.nextAttemptAt) : QJsonValue(QJsonValue::Null)},
        });
    }
    QJsonArray reconnects;
    for (const ReconnectRecord &r : snapshot.reconnects) {
        reconnects.append(QJsonObject{
            {u"connection"_s, r.connection},
            {u"cause"_s, QString(nameOf(r.cause))},
            {u"detail"_s, r.detail},
            {u"manual"_s, r.manual},
            {u"startedAt"_s, isoOrNull(r.startedAt)},
            {u"durationMs"_s, r.durationMs >= 0 ? QJsonValue(static_cast<double>(r.durationMs))
                                                : QJsonValue(QJsonValue::Null)},
            {u"dataGapMs"_s,
             r.dataGapMs >= 0 ? QJsonValue(static_cast<double>(r.dataGapMs)) : QJsonValue(QJsonValue::Null)},
            {u"restoredSubscriptions"_s, r.restored},
            {u"totalSubscriptions"_s, r.total},
        });
    }
    QJsonArray consumers;
    for (const ConsumerStats &c : dispatcher.consumers)
        consumers.append(toJson(c));
    QJsonObject byKind;
    for (auto it = snapshot.counters.serverErrorsByKind.cbegin();
         it != snapshot.counters.serverErrorsByKind.cend(); ++it)
        byKind.insert(it.key(), static_cast<double>(it.value()));
    const QJsonObject limits = limitsJson(snapshot.limits);
    QJsonObject waiting{{u"connections"_s, snapshot.counters.waitingForConnectionBudget},
                        {u"nextSlotAt"_s, isoOrNull(snapshot.counters.nextConnectionSlotAt)}};
    if (snapshot.counters.waitingForConnectionBudget > 0 && snapshot.counters.nextConnectionSlotAt.isValid())
        waiting.insert(u"nextSlotInMs"_s,
                       static_cast<double>(
                           std::max<qint64>(0, snapshot.at.msecsTo(snapshot.counters.nextConnectionSlotAt))));
    QJsonObject report{
        {u"schema"_s, u"feedscope.report/1"_s},
        {u"limits"_s, limits},
        {u"waitingForConnectionBudget"_s, waiting},
        {u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)},
        {u"url"_s, meta.url},
        {u"startedAt"_s, isoOrNull(meta.startedAt)},
        {u"durationMs"_s, static_cast<double>(meta.durationMs)},
        {u"subscriptions"_s, subs},
        {u"connections"_s, conns},
        {u"dispatcher"_s, QJsonObject{{u"policy"_s, dispatcher.policy},
                                      {u"received"_s, static_cast<double>(dispatcher.received)},
                                      {u"delivered"_s, static_cast<double>(dispatcher.delivered)},
                                      {u"dropped"_s, static_cast<double>(dispatcher.dropped)},
                                      {u"coalesced"_s, static_cast<double>(dispatcher.coalesced)},
                                      {u"queued"_s, static_cast<double>(dispatcher.queued)},
                                      {u"maxQueueDepth"_s, static_cast<double>(dispatcher.maxQueueDepth)},
                                      {u"consumers"_s, consumers}}},
        {u"reconnects"_s, reconnects},
        {u"latency"_s, latencyByTypeJson(snapshot)},
        {u"clock"_s, clockJson(snapshot.clock)},
        {u"errors"_s,
         QJsonObject{{u"malformedFrames"_s, static_cast<double>(snapshot.counters.malformedFrames)},
                     {u"serverErrors"_s, static_cast<double>(snapshot.counters.serverErrors)},
                     {u"serverErrorsByKind"_s, byKind},
                     {u"oversizedFrames"_s, static_cast<double>(snapshot.counters.oversizedFrames)},
                     {u"unroutedFrames"_s, static_cast<double>(snapshot.counters.unroutedFrames)}}},
    };
    addIntegrity(report, snapshot);
    return report;
}

bool writeJsonAtomically(const QString &path, const QJsonObject &json, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = QJsonDocument(json).toJson(QJsonDocument::Indented);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        file.cancelWriting();
        return false;
    }
    return true;
}

QJsonObject buildAlertsReport(const AlertEngine &alerts, int historyLimit)
{
    QJsonArray rules, firing, history;
    for (const AlertRule &r : alerts.rules())
        rules.append(r.toJson());
    for (const Alert &a : alerts.firing())
        firing.append(a.toJson());
    const QList<Alert> past = alerts.history();
    for (qsizetype i = 0; i < past.size() && i < historyLimit; ++i)
        history.append(past.at(i).toJson());
    return QJsonObject{{u"firingCount"_s, alerts.firingCount()},
                       {u"firing"_s, firing},
                       {u"history"_s, history},
                       {u"historyTotal"_s, static_cast<double>(past.size())},
                       {u"rules"_s, rules}};
}

// ---------------------------------------------------------------------------------------------
// gateway (issue 14)

namespace {

QJsonObject gatewayClientJson(const Gw::ClientStats &c)
{
    auto n = [](qint64 v) { return static_cast<double>(v); };
    const QString host = c.peerAddress.protocol() == QAbstractSocket::IPv6Protocol
                             ? u"[%1]"_s.arg(c.peerAddress.toString())
                             : c.peerAddress.toString();
    QJsonObject o{{u"id"_s, c.id},
                  {u"name"_s, c.name},
                  {u"peer"_s, u"%1:%2"_s.arg(host).arg(c.peerPort)},
                  {u"path"_s, c.path},
                  {u"connectedAt"_s, isoOrNull(c.connectedAt)},
                  {u"subscriptions"_s, c.subscriptions},
                  {u"framesIn"_s, n(c.framesIn)},
                  {u"bytesIn"_s, n(c.bytesIn)},
                  {u"framesOut"_s, n(c.framesOut)},
                  {u"bytesOut"_s, n(c.bytesOut)},
                  {u"dataFramesOut"_s, n(c.dataFramesOut)},
                  {u"queuedFrames"_s, n(c.queuedFrames)},
                  {u"queuedBytes"_s, n(c.queuedBytes)},
                  {u"queueBoundBytes"_s, n(c.queueBoundBytes)},
                  {u"highWaterBytes"_s, n(c.highWaterBytes)},
                  {u"dropped"_s, n(c.dropped)},
                  {u"coalesced"_s, n(c.coalesced)},
                  {u"rateLimited"_s, n(c.rateLimited)},
                  {u"malformed"_s, n(c.malformed)},
                  {u"errorsSent"_s, n(c.errorsSent)},
                  {u"closing"_s, c.closing}};
    if (!c.userAgent.isEmpty())
        o.insert(u"userAgent"_s, c.userAgent);
    if (!c.lastError.isEmpty())
        o.insert(u"lastError"_s, c.lastError);
    return o;
}

} // namespace

QJsonObject buildGatewayReport(const GatewayService &gateway)
{
    auto n = [](qint64 v) { return static_cast<double>(v); };
    const Gw::GatewayConfig &sc = gateway.config().server;
    const GatewayHubConfig &hc = gateway.config().hub;
    const Gw::GatewayCounters &c = gateway.server().counters();
    const GatewayHubCounters &h = gateway.hub().counters();
    QJsonObject closed;
    qint64 closedTotal = 0;
    for (int r = 0; r < Gw::CloseReasonCount; ++r) {
        closed.insert(gatewayReasonKey(static_cast<Gw::CloseReason>(r)), n(c.closed[static_cast<size_t>(r)]));
        closedTotal += c.closed[static_cast<size_t>(r)];
    }
    QJsonArray clients;
    const bool running = gateway.isRunning();
    for (const Gw::ClientStats &st : running ? gateway.server().clients() : gateway.clientsAtStop())
        clients.append(gatewayClientJson(st));
    return QJsonObject{
        {u"url"_s, gateway.urlText()},
        {u"bind"_s, sc.bind.toString()},
        {u"port"_s, static_cast<int>(gateway.server().port())},
        {u"running"_s, running},
        {u"tokenRequired"_s, !sc.token.isEmpty()}, // never the token itself
        {u"policy"_s, QString(Gw::nameOf(sc.policy))},
        {u"limits"_s, QJsonObject{{u"maxClients"_s, sc.maxClients},
                                  {u"queueBytes"_s, n(sc.queueBytes)},
                                  {u"queueFrames"_s, sc.queueFrames},
                                  {u"idleTimeoutMs"_s, n(sc.idleTimeout.count())},
                                  {u"closeGraceMs"_s, n(sc.closeGrace.count())},
                                  {u"maxSubscriptionsPerClient"_s, sc.maxSubscriptions},
                                  {u"maxMessagesPerMinute"_s, sc.maxMessagesPerMinute},
                                  {u"maxFrameBytes"_s, n(sc.maxFrameBytes)},
                                  {u"lingerMs"_s, n(hc.linger.count())},
                                  {u"upstreamMaxSubscriptions"_s, hc.upstreamMaxSubscriptions},
                                  {u"upstreamMaxUsers"_s, hc.upstreamMaxUsers},
                                  {u"maxPostsInFlight"_s, hc.maxPostsInFlight},
                                  {u"threads"_s, gateway.config().threads}}},
        {u"counters"_s, QJsonObject{{u"accepted"_s, n(c.accepted)},
                                    {u"refused"_s, QJsonObject{{u"token"_s, n(c.refusedToken)},
                                                               {u"full"_s, n(c.refusedFull)}}},
                                    {u"disconnects"_s, closed},
                                    {u"disconnectsTotal"_s, n(closedTotal)},
                                    {u"framesOut"_s, n(c.framesOut)},
                                    {u"bytesOut"_s, n(c.bytesOut)},
                                    {u"dropped"_s, n(c.dropped)},
                                    {u"coalesced"_s, n(c.coalesced)},
                                    {u"malformed"_s, n(c.malformed)},
                                    {u"rateLimited"_s, n(c.rateLimited)},
                                    {u"oversized"_s, n(c.oversized)},
                                    {u"upstreamSubscribes"_s, n(h.upstreamSubscribes)},
                                    {u"upstreamUnsubscribes"_s, n(h.upstreamUnsubscribes)},
                                    {u"lingerRescues"_s, n(h.lingerRescues)},
                                    {u"lateJoins"_s, n(h.lateJoins)},
                                    {u"cacheReplays"_s, n(h.cacheReplays)},
                                    {u"deliveries"_s, n(h.deliveries)},
                                    {u"duplicatesSuppressed"_s, n(h.duplicatesSuppressed)},
                                    {u"rejectionsForwarded"_s, n(h.rejectionsForwarded)},
                                    {u"limitRefusals"_s, n(h.limitRefusals)},
                                    {u"postsForwarded"_s, n(h.postsForwarded)},
                                    {u"postsRefused"_s, n(h.postsRefused)},
                                    {u"postsFailed"_s, n(h.postsFailed)},
                                    {u"sessionEventsFolded"_s, n(gateway.eventsFolded())}}},
        {u"upstream"_s,
         QJsonObject{{u"shared"_s, gateway.upstreamShared()}, {u"lingering"_s, gateway.upstreamLingering()}}},
        {u"clientCount"_s, static_cast<int>(clients.size())},
        {u"clients"_s, clients},
    };
}

} // namespace FeedScope

#include "poolcontroller.h"

#include "budget.h"
#include "livesource.h"

#include <QJsonArray>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace FeedScope {

PoolController::PoolController(const EngineConfig &config, QObject *parent)
    : QObject(parent), m_engine(std::make_unique<Engine>(config)),
      m_events(std::min(SessionEventsViewCapacity, config.sessionRing), config.sessionStatsRing)
{
    connect(m_engine.get(), &Engine::snapshotPublished, this, &PoolController::onSnapshot);
    connect(m_engine.get(), &Engine::warning, this, &PoolController::warning);
    connect(&m_engine->sessionLog(), &SessionLog::appended, this,
            [this](const SessionEvent &e) { m_events.enqueue(e); });
}

PoolController::PoolController(std::unique_ptr<LiveSource> source, const EngineConfig &config,
                               QObject *parent)
    : QObject(parent), m_engine(std::make_unique<Engine>(config)),
      m_events(std::min(SessionEventsViewCapacity, config.sessionRing), config.sessionStatsRing),
      m_source(std::move(source))
{
    Q_ASSERT(m_source);
    m_source->setParent(nullptr); // ours (unique_ptr)
    connect(m_engine.get(), &Engine::warning, this, &PoolController::warning);
    connectSource();
}

PoolController::~PoolController()
{
    shutdown(std::chrono::milliseconds(0));
}

bool PoolController::start(QString *error)
{
    if (m_source) { // remote: the engine stays idle, the stream feeds the models
        m_source->attach();
        m_inspectTimer.start();
        return true;
    }
    return m_engine->start(error);
}

PoolSnapshot PoolController::shutdown(std::chrono::milliseconds timeout)
{
    if (m_source) {
        m_inspectTimer.stop();
        m_source->detach();
        const PoolSnapshot last = m_source->lastSnapshot();
        m_engine->shutdown(std::chrono::milliseconds(0));
        return last;
    }
    return m_engine->shutdown(timeout).snapshot;
}

const PoolSnapshot &PoolController::lastSnapshot() const
{
    return m_source ? m_source->lastSnapshot() : m_engine->lastSnapshot();
}

QString PoolController::seriesName(const QString &group, const QString &id, const QString &what)
{
    return group + u'/' + id + u'/' + what;
}

void PoolController::onSnapshot(const PoolSnapshot &s)
{
    m_connections.applySnapshot(s);
    m_subscriptions.applySnapshot(s);
    m_reconnects.applySnapshot(s);
    const qint64 now = s.at.toMSecsSinceEpoch();
    const QList<ConsumerStats> stats = m_engine->dispatcherStats();
    m_dispatcher.applyStats(stats, monotonicMs());
    m_dispatcherSampler.observe(stats);
    m_events.flush();
    if (m_lastSampleMs < 0 || now - m_lastSampleMs >= 1000)
        sample(now);
    Q_EMIT updated();
}

void PoolController::sample(qint64 nowMs)
{
    m_lastSampleMs = nowMs;
    for (int row = 0; row < m_connections.rowCount(); ++row) {
        const ConnectionStatus *c = m_connections.statusAt(row);
        const QString id = QString::number(c->id);
        m_series.add(seriesName(u"conn"_s, id, u"msgs"_s), nowMs,
                     m_connections.index(row, ConnectionsModel::MsgsPerSec).data(RawValueRole).toDouble());
        if (c->rttMs >= 0)
            m_series.add(seriesName(u"conn"_s, id, u"rtt"_s), nowMs, c->rttMs);
    }
    // Peaks and totals over the whole second, not the value at the sampling instant: a flood
    // fills and empties a queue well within a second.
    for (const DispatcherSampler::Sample &d :
         m_dispatcherSampler.take(m_engine->dispatcherStats(), monotonicMs())) {
        if (d.inlineConsumer)
            continue;
        m_series.add(seriesName(u"disp"_s, d.name, u"queue"_s), nowMs, d.peakQueue);
        m_series.add(seriesName(u"disp"_s, d.name, u"drops"_s), nowMs, d.dropsPerSecond);
        m_series.add(seriesName(u"disp"_s, d.name, u"lagP99"_s), nowMs, d.lagP99Ms);
    }
    m_series.prune(nowMs);
    Q_EMIT seriesUpdated();
}

PoolSummary PoolController::summary() const
{
    return summarize(lastSnapshot());
}

qint64 PoolController::droppedTotal() const
{
    qint64 n = 0;
    for (int row = 0; row < m_dispatcher.rowCount(); ++row)
        n += m_dispatcher.statsAt(row)->dropped;
    return n;
}

void PoolController::subscribe(const QList<Hl::Subscription> &subscriptions, const QString &consumer)
{
    if (m_source) { // the agent subscribes on behalf of its "remote" consumer
        for (const Hl::Subscription &s : subscriptions)
            sendControl(m_source->subscribe(s), tr("subscribe %1").arg(QString::fromUtf8(s.canonical())));
        return;
    }
    for (const Hl::Subscription &s : subscriptions)
        m_engine->subscribe(s, consumer);
}

void PoolController::unsubscribe(const QList<Hl::Subscription> &subscriptions)
{
    if (m_source) {
        for (const Hl::Subscription &s : subscriptions)
            sendControl(m_source->unsubscribe(s), tr("unsubscribe %1").arg(QString::fromUtf8(s.canonical())));
        return;
    }
    for (const Hl::Subscription &s : subscriptions)
        m_engine->unsubscribeAll(s);
}

void PoolController::reconnect(const QList<int> &connections)
{
    if (m_source) {
        for (int id : connections)
            sendControl(m_source->reconnect(id), tr("reconnect #%1").arg(id));
        return;
    }
    for (int id : connections)
        m_engine->reconnect(id);
}

void PoolController::reconnectAll()
{
    if (m_source) {
        sendControl(m_source->reconnectAll(), tr("reconnect all"));
        return;
    }
    m_engine->reconnectAll();
}

// ---------------------------------------------------------------------------------------------
// Issue 18: the remote mode (a window attached to an agent's /live stream).

void PoolController::connectSource()
{
    LiveSource *src = m_source.get();
    connect(src, &LiveSource::attached, this, [this] {
        // A full state: everything the window holds is the agent's again (it may have restarted).
        const Live::State &st = m_source->state();
        m_events.reset(QList<SessionEvent>(st.events.cbegin(), st.events.cend()));
        m_lastEventSeq = st.events.empty() ? -1 : st.events.back().seq;
        m_series = TimeSeriesSet();
        m_lastChartMs = -1;
        m_inspectedSeq.clear();
        Q_EMIT sourceStatusChanged();
    });
    connect(src, &LiveSource::snapshot, this, &PoolController::onRemoteSnapshot);
    connect(src, &LiveSource::eventsAppended, this, &PoolController::onRemoteEvents);
    connect(src, &LiveSource::seriesUpdated, this, [this] { onRemoteSeries(false); });
    connect(src, &LiveSource::replied, this, &PoolController::onRemoteReply);
    connect(src, &LiveSource::statusChanged, this, &PoolController::sourceStatusChanged);
    connect(src, &LiveSource::detached, this, &PoolController::sourceStatusChanged);
    m_inspectTimer.setInterval(std::chrono::seconds(1));
    connect(&m_inspectTimer, &QTimer::timeout, this, &PoolController::askInspected);
}

void PoolController::onRemoteSnapshot(const PoolSnapshot &s)
{
    if (m_pauseAwaitedUntilMs > 0 && (s.paused != m_pauseRequested || monotonicMs() > m_pauseAwaitedUntilMs))
        m_pauseAwaitedUntilMs = 0; // the agent's state, from now on
    m_connections.applySnapshot(s);
    m_subscriptions.applySnapshot(s);
    m_reconnects.applySnapshot(s);
    const QList<ConsumerStats> &stats = m_source->state().consumers;
    m_dispatcher.applyStats(stats, monotonicMs());
    m_events.flush();
    // The agent's gateway clients, in the model the Clients tab of a local gateway uses.
    {
        const QList<Live::GatewayClient> &clients = m_source->state().gatewayClients;
        QList<Gw::ClientStats> rows;
        rows.reserve(clients.size());
        for (const Live::GatewayClient &c : clients) {
            Gw::ClientStats g;
            g.id = c.id;
            g.name = c.name;
            const qsizetype colon = c.peer.lastIndexOf(u':');
            g.peerAddress = QHostAddress(colon > 0 ? c.peer.left(colon) : c.peer);
            g.peerPort = colon > 0 ? static_cast<quint16>(c.peer.mid(colon + 1).toUInt()) : 0;
            g.subscriptions = c.subscriptions;
            g.framesOut = c.framesOut;
            g.dataFramesOut = c.framesOut;
            g.dropped = c.dropped;
            g.queuedBytes = c.queuedBytes;
            rows.append(g);
        }
        if (!rows.isEmpty() || m_remoteClients.rowCount() > 0)
            m_remoteClients.applyClients(rows, monotonicMs(), QDateTime::currentDateTimeUtc());
    }
    // The window's alert rules on the agent's figures, once a second as the engine does.
    const qint64 now = monotonicMs();
    if (m_lastAlertsMs < 0 || now - m_lastAlertsMs >= 1000) {
        m_lastAlertsMs = now;
        DispatcherFigures d;
        d.consumers = stats;
        for (const ConsumerStats &c : stats) {
            if (c.name != "inspector"_L1)
                continue;
            d.policy = QString(nameOf(c.policy));
            d.received = c.received;
            d.delivered = c.delivered;
            d.dropped = c.dropped;
            d.coalesced = c.coalesced;
            d.queued = c.queued;
            d.maxQueueDepth = c.highWater;
        }
        if (s.at.isValid())
            m_engine->alerts().evaluate(s, d, now, QDateTime::currentDateTimeUtc());
    }
    Q_EMIT updated();
}

void PoolController::onRemoteEvents(int count)
{
    const std::deque<SessionEvent> &events = m_source->state().events;
    const size_t n = std::min(events.size(), static_cast<size_t>(std::max(0, count)));
    for (size_t i = events.size() - n; i < events.size(); ++i) {
        if (events[i].seq <= m_lastEventSeq)
            continue; // already shown (the full state carried it)
        m_events.enqueue(events[i]);
        m_lastEventSeq = events[i].seq;
    }
    m_events.flush();
}

void PoolController::onRemoteSeries(bool full)
{
    Q_UNUSED(full);
    const std::deque<Live::ChartSample> &chart = m_source->state().chart;
    qint64 latest = m_lastChartMs;
    for (const Live::ChartSample &c : chart) {
        if (c.atMs <= m_lastChartMs)
            continue;
        for (const auto &[name, value] : c.values)
            m_series.add(name, c.atMs, value);
        latest = std::max(latest, c.atMs);
    }
    if (latest == m_lastChartMs && !chart.empty())
        return; // nothing new
    m_lastChartMs = latest;
    m_series.prune(std::max(latest, QDateTime::currentMSecsSinceEpoch()));
    m_lastSampleMs = latest;
    Q_EMIT seriesUpdated();
}

int PoolController::sendControl(int id, const QString &what)
{
    m_pendingControl.insert(id, what);
    return id;
}

void PoolController::onRemoteReply(int id, bool ok, const QString &error, const QJsonObject &result)
{
    if (id == m_inspectRequest) {
        m_inspectRequest = -1;
        if (!ok)
            return;
        const QByteArray key = m_inspectedAsked;
        if (result.value("subscription"_L1).toString().toUtf8() != key)
            return;
        qint64 &seen = m_inspectedSeq[key];
        const qint64 wallNow = QDateTime::currentMSecsSinceEpoch();
        const qint64 monoNow = monotonicNs();
        for (const QJsonValue &v : result.value("messages"_L1).toArray()) {
            const QJsonObject m = v.toObject();
            const qint64 seq = static_cast<qint64>(m.value("seq"_L1).toDouble());
            if (seq <= seen || !m.value("raw"_L1).isString())
                continue;
            seen = seq;
            // Its time of receipt on the agent, as an age (the inspector keeps monotonic stamps).
            const qint64 at = static_cast<qint64>(m.value("at"_L1).toDouble());
            const qint64 ageMs = std::clamp<qint64>(wallNow - at, 0, 300000);
            DataFrame f;
            f.connection = m.value("connection"_L1).toInt();
            f.key = key;
            f.raw = m.value("raw"_L1).toString().toUtf8();
            f.snapshot = m.value("snapshot"_L1).toBool();
            f.receivedNs = monoNow - ageMs * 1000000;
            if (f.receivedNs == 0)
                f.receivedNs = 1;
            m_engine->inspector().record(f, monoNow);
        }
        return;
    }
    const auto it = m_pendingControl.find(id);
    if (it == m_pendingControl.end())
        return;
    const QString what = it.value();
    m_pendingControl.erase(it);
    if (id == m_pauseRequest) {
        m_pauseRequest = -1;
        // Done: the stream shows it within a tick or two (at most 3 s are waited for).
        m_pauseAwaitedUntilMs = ok ? monotonicMs() + 3000 : 0;
    }
    Q_EMIT controlReplied(what, ok, error, result);
}

void PoolController::setInspected(const QByteArray &key)
{
    if (!m_source || key == m_inspected)
        return;
    m_inspected = key;
    askInspected();
}

void PoolController::askInspected()
{
    if (!m_source || m_inspected.isEmpty() || m_inspectRequest >= 0 ||
        m_source->status() != LiveSource::Status::Attached)
        return;
    m_inspectedAsked = m_inspected;
    m_inspectRequest = m_source->inspect(m_inspected, Live::MaxInspectMessages);
}

bool PoolController::poolConnected() const
{
    if (!m_source)
        return m_engine->poolConnected();
    // Asked and not answered yet: what was asked (a toggle does not flip back meanwhile).
    return m_pauseRequest >= 0 || m_pauseAwaitedUntilMs > 0 ? m_pauseRequested
                                                            : !m_source->lastSnapshot().paused;
}

void PoolController::setPoolConnected(bool connected)
{
    if (m_source) {
        m_pauseRequested = connected;
        m_pauseRequest = sendControl(m_source->setPaused(!connected),
                                     connected ? tr("resume the pool") : tr("pause the pool"));
        return;
    }
    m_engine->setPoolConnected(connected);
}

void PoolController::setRemoteRecording(bool on)
{
    if (!m_source)
        return;
    if (on)
        sendControl(m_source->startRecording(), tr("start recording"));
    else
        sendControl(m_source->stopRecording(), tr("stop recording"));
}

bool PoolController::canControl() const
{
    return controlRefusal().isEmpty();
}

QString PoolController::controlRefusal() const
{
    if (!m_source)
        return {};
    if (m_source->status() != LiveSource::Status::Attached)
        return tr("not attached to the agent: %1").arg(m_source->statusText());
    if (!m_source->state().agent.controlEnabled)
        return tr("read-only: the agent needs --control-token to take actions from a window");
    if (!m_source->controlAuthorised()) {
        if (!m_source->hasToken())
            return tr("read-only: attach with the agent's control token (--attach-token) to act on it");
        if (!m_source->authError().isEmpty())
            return tr("read-only: the agent refused the token: %1").arg(m_source->authError());
        return tr("read-only until the agent accepts the control token");
    }
    return {};
}

QList<SessionEvent> PoolController::sessionEventList() const
{
    if (!m_source)
        return m_engine->sessionLog().events();
    const std::deque<SessionEvent> &e = m_source->state().events;
    return QList<SessionEvent>(e.cbegin(), e.cend());
}

QUrl PoolController::poolUrl() const
{
    if (!m_source)
        return m_engine->config().pool.url;
    return QUrl(m_source->state().agent.url);
}

QString PoolController::sourceStatusText() const
{
    return m_source ? m_source->statusText() : QString();
}

bool PoolController::agentHasGateway() const
{
    return m_source &&
           (m_source->state().agent.gatewayRunning || !m_source->state().gatewayClients.isEmpty());
}

void PoolController::disconnectClient(int id, const QString &name)
{
    if (m_source)
        sendControl(m_source->disconnectClient(id),
                    name.isEmpty() ? tr("disconnect gateway client #%1").arg(id)
                                   : tr("disconnect gateway client %1 (#%2)").arg(name).arg(id));
}

QString PoolController::agentName() const
{
    if (!m_source)
        return {};
    const QUrl u = m_source->url();
    return u.port() > 0 ? u"%1:%2"_s.arg(u.host()).arg(u.port()) : u.host();
}

} // namespace FeedScope

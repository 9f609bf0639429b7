#include "poolcontroller.h"

#include "budget.h"

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

PoolController::~PoolController()
{
    shutdown(std::chrono::milliseconds(0));
}

bool PoolController::start(QString *error)
{
    return m_engine->start(error);
}

PoolSnapshot PoolController::shutdown(std::chrono::milliseconds timeout)
{
    return m_engine->shutdown(timeout).snapshot;
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
    return summarize(m_engine->lastSnapshot());
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
    for (const Hl::Subscription &s : subscriptions)
        m_engine->subscribe(s, consumer);
}

void PoolController::unsubscribe(const QList<Hl::Subscription> &subscriptions)
{
    for (const Hl::Subscription &s : subscriptions)
        m_engine->unsubscribeAll(s);
}

void PoolController::reconnect(const QList<int> &connections)
{
    for (int id : connections)
        m_engine->reconnect(id);
}

void PoolController::reconnectAll()
{
    m_engine->reconnectAll();
}

} // namespace FeedScope

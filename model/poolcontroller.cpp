#include "poolcontroller.h"

namespace FeedScope {

PoolController::PoolController(const PoolConfig &config, std::chrono::milliseconds refresh, QObject *parent)
    : QObject(parent), m_host(std::make_unique<PoolHost>(config))
{
    connect(m_host->pool(), &ConnectionPool::snapshotPublished, this, [this](const PoolSnapshot &s) {
        m_last = s;
        m_connections.applySnapshot(s);
        m_subscriptions.applySnapshot(s);
        m_reconnects.applySnapshot(s);
        Q_EMIT updated();
    });
    connect(m_host->pool(), &ConnectionPool::warning, this, &PoolController::warning);
    m_host->setPublishInterval(refresh);
}

PoolController::~PoolController()
{
    shutdown(std::chrono::milliseconds(0));
}

PoolSnapshot PoolController::shutdown(std::chrono::milliseconds timeout)
{
    return m_host->shutdown(timeout);
}

void PoolController::subscribe(const QList<Hl::Subscription> &subscriptions)
{
    for (const Hl::Subscription &s : subscriptions)
        m_host->subscribe(s);
}

void PoolController::unsubscribe(const QList<Hl::Subscription> &subscriptions)
{
    for (const Hl::Subscription &s : subscriptions)
        m_host->unsubscribe(s);
}

void PoolController::reconnect(const QList<int> &connections)
{
    for (int id : connections)
        m_host->reconnect(id);
}

void PoolController::reconnectAll()
{
    m_host->reconnectAll();
}

} // namespace FeedScope

#pragma once

#include "connectionpool.h"
#include "poolmodels.h"

#include <QObject>

#include <memory>

namespace FeedScope {

/// The model layer's face of a running pool: owns the PoolHost and the item models, feeds the
/// models from the pool's snapshots at a fixed rate (default 10 Hz), and takes the user's
/// actions. The GUI connects its signals to these slots; tests do the same.
class PoolController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PoolController)

public:
    explicit PoolController(const PoolConfig &config,
                            std::chrono::milliseconds refresh = std::chrono::milliseconds(100),
                            QObject *parent = nullptr);
    ~PoolController() override;

    ConnectionsModel *connections() { return &m_connections; }
    SubscriptionsModel *subscriptions() { return &m_subscriptions; }
    ReconnectsModel *reconnects() { return &m_reconnects; }
    PoolHost &host() { return *m_host; }
    const PoolSnapshot &lastSnapshot() const { return m_last; }
    PoolSummary summary() const { return summarize(m_last); }
    double messagesPerSecond() const { return m_connections.totalRate(); }
    /// Closes the connections and stops the pool's threads; returns the final snapshot.
    PoolSnapshot shutdown(std::chrono::milliseconds timeout);

public Q_SLOTS:
    void subscribe(const QList<FeedScope::Hl::Subscription> &subscriptions);
    void unsubscribe(const QList<FeedScope::Hl::Subscription> &subscriptions);
    void reconnect(const QList<int> &connections);
    void reconnectAll();

Q_SIGNALS:
    void updated();
    void warning(const QString &text);

private:
    std::unique_ptr<PoolHost> m_host;
    ConnectionsModel m_connections;
    SubscriptionsModel m_subscriptions;
    ReconnectsModel m_reconnects;
    PoolSnapshot m_last;
};

} // namespace FeedScope

#pragma once

#include "chartdata.h"
#include "engine.h"
#include "livemodels.h"
#include "poolmodels.h"

#include <QObject>

#include <memory>

namespace FeedScope {

/// The model layer's face of a running engine for a window: owns the Engine and the item models,
/// feeds the models from the engine's snapshots at a fixed rate (EngineConfig::publishInterval,
/// default 10 Hz) with batched changes, samples the chart series once a second, and takes the
/// user's actions. The GUI connects its signals to these slots; tests do the same.
class PoolController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PoolController)

public:
    explicit PoolController(const EngineConfig &config, QObject *parent = nullptr);
    ~PoolController() override;

    /// Opens the engine's files; false (with @p error) when one cannot be opened.
    bool start(QString *error);

    ConnectionsModel *connections() { return &m_connections; }
    SubscriptionsModel *subscriptions() { return &m_subscriptions; }
    ReconnectsModel *reconnects() { return &m_reconnects; }
    SessionEventsModel *sessionEvents() { return &m_events; }
    DispatcherModel *dispatcher() { return &m_dispatcher; }
    const TimeSeriesSet &series() const { return m_series; }
    Engine &engine() { return *m_engine; }
    PoolHost &host() { return m_engine->host(); }
    const PoolSnapshot &lastSnapshot() const { return m_engine->lastSnapshot(); }
    PoolSummary summary() const;
    double messagesPerSecond() const { return m_connections.totalRate(); }
    qint64 droppedTotal() const;
    /// Closes the connections and stops the pool's threads; returns the final snapshot.
    PoolSnapshot shutdown(std::chrono::milliseconds timeout);

    /// Chart series names: "conn/<id>/msgs", "conn/<id>/rtt", "disp/<consumer>/queue" (the
    /// deepest queue since the previous sample), "disp/<consumer>/drops" (frames dropped since the
    /// previous sample, per second), "disp/<consumer>/lagP99".
    static QString seriesName(const QString &group, const QString &id, const QString &what);

public Q_SLOTS:
    /// Subscribes on behalf of @p consumer (a registry consumer: "user", "demo", a file name).
    void subscribe(const QList<FeedScope::Hl::Subscription> &subscriptions,
                   const QString &consumer = QStringLiteral("user"));
    void unsubscribe(const QList<FeedScope::Hl::Subscription> &subscriptions);
    void reconnect(const QList<int> &connections);
    void reconnectAll();

Q_SIGNALS:
    void updated();
    /// Once a second, after the chart series got their new points.
    void seriesUpdated();
    void warning(const QString &text);

private:
    void onSnapshot(const PoolSnapshot &s);
    void sample(qint64 nowMs);

    std::unique_ptr<Engine> m_engine;
    ConnectionsModel m_connections;
    SubscriptionsModel m_subscriptions;
    ReconnectsModel m_reconnects;
    SessionEventsModel m_events;
    DispatcherModel m_dispatcher;
    TimeSeriesSet m_series;
    DispatcherSampler m_dispatcherSampler; ///< peaks and totals between the once-a-second samples
    qint64 m_lastSampleMs = -1;
};

} // namespace FeedScope

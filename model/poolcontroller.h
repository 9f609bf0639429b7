#pragma once

#include "chartdata.h"
#include "clientsmodel.h"
#include "engine.h"
#include "livemodels.h"
#include "poolmodels.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <memory>

namespace FeedScope {

class LiveSource;

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
    /// Issue 18: a window attached to a remote agent. The models are fed from @p source (taken:
    /// the controller owns it and attaches it in start()), the actions go to the agent as control
    /// requests (answered by controlReplied()). The engine exists but never starts (no pool, no
    /// simulator): the parts of the window that reach it still work on it — the inspector's
    /// store (filled from the agent's inspect replies of the inspected channel), the alert rules
    /// (evaluated here once a second on the agent's snapshots) and the notes of the window's
    /// own actions.
    PoolController(std::unique_ptr<LiveSource> source, const EngineConfig &config, QObject *parent = nullptr);
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
    const PoolSnapshot &lastSnapshot() const;
    PoolSummary summary() const;
    double messagesPerSecond() const { return m_connections.totalRate(); }
    qint64 droppedTotal() const;
    /// Closes the connections and stops the pool's threads; returns the final snapshot.
    PoolSnapshot shutdown(std::chrono::milliseconds timeout);

    /// Chart series names: "conn/<id>/msgs", "conn/<id>/rtt", "disp/<consumer>/queue" (the
    /// deepest queue since the previous sample), "disp/<consumer>/drops" (frames dropped since the
    /// previous sample, per second), "disp/<consumer>/lagP99".
    static QString seriesName(const QString &group, const QString &id, const QString &what);

    // Issue 18: the source of the models (the local engine, or a remote agent).
    /// True when the models show a remote agent (the LiveSource constructor).
    bool isRemote() const { return m_source != nullptr; }
    /// The remote agent's stream; null for a local pool.
    LiveSource *live() const { return m_source.get(); }
    /// Local: the engine's pool connected; remote: the agent's pool not paused.
    bool poolConnected() const;
    /// Local: connects or disconnects the engine's pool; remote: asks the agent to resume or
    /// pause its pool (control).
    void setPoolConnected(bool connected);
    /// Whether the user's actions can act on the pool: always for a local one; for an agent,
    /// only attached, with control on the agent and the token accepted.
    bool canControl() const;
    /// Why canControl() is false, in words for a tooltip (empty when it is true).
    QString controlRefusal() const;
    /// The session's events as a list, oldest first: the engine's log, or the agent's events
    /// the window holds (what an export writes).
    QList<SessionEvent> sessionEventList() const;
    /// The venue URL of the pool (redacted for a remote agent), for exports.
    QUrl poolUrl() const;
    /// Remote: the channel whose last messages the inspector shows (asked of the agent once a
    /// second while attached; the replies go to engine().inspector()). Local: nothing to do.
    void setInspected(const QByteArray &key);
    /// Remote: asks the agent to start or stop recording (the agent names its file).
    void setRemoteRecording(bool on);
    /// "attached to HOST:PORT", "attaching to …", "agent … gone (…): …; trying again in N s".
    QString sourceStatusText() const;
    /// HOST:PORT of the agent (empty for a local pool).
    QString agentName() const;
    /// Remote: the agent's gateway clients (from the stream, once per tick); empty for a local
    /// pool (the window's own gateway has its ClientsView).
    ClientsModel *remoteClients() { return &m_remoteClients; }
    /// Remote: the agent runs a gateway (its clients are in remoteClients()).
    bool agentHasGateway() const;
    /// Remote: asks the agent to disconnect its gateway client @p id (control).
    void disconnectClient(int id, const QString &name = {});

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
    /// Issue 18: the agent answered a control request: @p what in words ("reconnect #3"), @p ok,
    /// and the agent's reason when it refused.
    void controlReplied(const QString &what, bool ok, const QString &error, const QJsonObject &result);
    /// The remote source attached, went away, or is trying again (sourceStatusText() changed).
    void sourceStatusChanged();

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

    // Issue 18: the remote mode.
    void connectSource();
    void onRemoteSnapshot(const PoolSnapshot &s);
    void onRemoteSeries(bool full);
    void onRemoteEvents(int count);
    void onRemoteReply(int id, bool ok, const QString &error, const QJsonObject &result);
    void askInspected();
    int sendControl(int id, const QString &what);
    std::unique_ptr<LiveSource> m_source;
    QHash<int, QString> m_pendingControl; ///< request id → what it asked, in words
    int m_inspectRequest = -1;
    QByteArray m_inspected;
    QByteArray m_inspectedAsked;              ///< the key of the inspect request in flight
    QHash<QByteArray, qint64> m_inspectedSeq; ///< per key: the agent's newest seq recorded
    QTimer m_inspectTimer;
    qint64 m_lastChartMs = -1;
    qint64 m_lastAlertsMs = -1;
    qint64 m_lastEventSeq = -1;
    ClientsModel m_remoteClients;
    int m_pauseRequest = -1;          ///< the pause/resume request in flight
    bool m_pauseRequested = true;     ///< connected (true) or paused, as asked
    qint64 m_pauseAwaitedUntilMs = 0; ///< answered: the stream should show it by then
};

} // namespace FeedScope

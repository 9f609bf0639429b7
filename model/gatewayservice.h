#pragma once

#include "gatewayhub.h"
#include "gatewayserver.h"

#include <QJsonObject>
#include <QObject>
#include <QSet>

#include <chrono>

#include <memory>

namespace FeedScope {

class Engine;

/// What `--gateway-*` and the profile's `gateway` section set (issue 14).
struct GatewayServiceConfig
{
    Gw::GatewayConfig server;
    GatewayHubConfig hub;
    /// --gateway-threads: event-loop threads the clients are sharded over (the sharding itself
    /// is the server's; 1 = all clients on the engine's thread).
    int threads = 1;
};

/// The gateway as a user sets it: `--gateway-*` options, the profile's section "gateway", the
/// window's Settings → Gateway.
struct GatewaySettings
{
    bool enabled = false; ///< a gateway runs (--gateway-port given, or enabled in the profile)
    GatewayServiceConfig config;
    int metricsPerClient = 0; ///< --metrics-per-client N: per-client series for the first N clients
};

/// The raw name of a close reason for files, labels and tooltips: "clientClosed", "slowConsumer", …
QString gatewayReasonKey(Gw::CloseReason r);

/// The gateway as the application runs it, for headless and the window alike: the downstream
/// server and the hub that shares the engine's pool, with their events in the session log and
/// slow-client cuts in the alerts. The engine outlives it. Lives on the engine's thread.
class GatewayService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayService)

public:
    GatewayService(Engine &engine, GatewayServiceConfig config, QObject *parent = nullptr);
    ~GatewayService() override;

    /// Listens; false with @p error (address in use, not loopback without a token, …).
    bool start(QString *error);
    /// Closes every client (1001) and stops listening.
    void stop();
    bool isRunning() const;

    // Added for the application's wiring (headless, report, metrics):
    /// Closes every client (1001) and waits (running the event loop) until they are gone or
    /// @p wait is over; true when every client went away in time.
    bool stopAndWait(std::chrono::milliseconds wait);
    /// ws://ADDR:PORT/ with the actual port (IPv6 in brackets); empty before start().
    QString urlText() const;
    /// The clients connected when stop() was called (the final report lists them).
    const QList<Gw::ClientStats> &clientsAtStop() const { return m_clientsAtStop; }
    /// Session events of the gateway (type "gateway") not written because a client or a scanner
    /// sent too many in a short time; each later event says how many were folded before it.
    qint64 eventsFolded() const { return m_eventsFolded; }
    /// Upstream subscriptions held for clients, and of them those lingering (no client left).
    int upstreamShared() const;
    int upstreamLingering() const;
    /// The session events' type.
    static constexpr QLatin1StringView EventType{"gateway"};

    const GatewayServiceConfig &config() const { return m_cfg; }
    Gw::GatewayServer &server() { return *m_server; }
    const Gw::GatewayServer &server() const { return *m_server; }
    GatewayHub &hub() { return *m_hub; }
    const GatewayHub &hub() const { return *m_hub; }

Q_SIGNALS:
    /// A client connected or went away (the Clients view refreshes its rows at once).
    void clientsChanged();

private:
    /// A bounded budget of session events (token bucket): @p folded counts what was refused.
    struct EventBudget
    {
        double tokens = 0;
        qint64 lastMs = 0;
        qint64 folded = 0;
    };
    bool takeEvent(EventBudget &b, double burst, double perSecond);
    void log(QJsonObject data, EventBudget *budget, double burst, double perSecond);
    void onConnected(const Gw::ClientStats &c);
    void onDisconnected(const Gw::ClientStats &c, Gw::CloseReason reason, int code, const QString &detail);
    void onClientEvent(int client, const QString &what, const QString &detail);
    void onRefused(const QHostAddress &peer, int status, const QString &why);
    void onUpstream(const QString &what, const QByteArray &canonical, const QString &detail);

    Engine &m_engine;
    const GatewayServiceConfig m_cfg;
    std::unique_ptr<Gw::GatewayServer> m_server;
    std::unique_ptr<GatewayHub> m_hub;
    QHash<int, EventBudget> m_budgets; ///< per client
    EventBudget m_refusals;            ///< refused handshakes, all peers together
    EventBudget m_upstreamBudget;      ///< upstream subscribe/unsubscribe churn
    qint64 m_eventsFolded = 0;
    QSet<QByteArray> m_upstream; ///< canonical subscriptions the hub subscribed upstream
    QList<Gw::ClientStats> m_clientsAtStop;
};

} // namespace FeedScope

#pragma once

#include "gatewayhub.h"
#include "gatewayserver.h"

#include <QJsonObject>
#include <QObject>

#include <memory>

namespace FeedScope {

class Engine;

/// What `--gateway-*` and the profile's `gateway` section set (issue 14).
struct GatewayServiceConfig
{
    Gw::GatewayConfig server;
    GatewayHubConfig hub;
};

/// The gateway as a user sets it: `--gateway-*` options, the profile's section "gateway", the
/// window's Settings → Gateway.
struct GatewaySettings
{
    bool enabled = false; ///< a gateway runs (--gateway-port given, or enabled in the profile)
    GatewayServiceConfig config;
    int metricsPerClient = 0; ///< --metrics-per-client N: per-client series for the first N clients
};

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

    const GatewayServiceConfig &config() const { return m_cfg; }
    Gw::GatewayServer &server() { return *m_server; }
    const Gw::GatewayServer &server() const { return *m_server; }
    GatewayHub &hub() { return *m_hub; }
    const GatewayHub &hub() const { return *m_hub; }

Q_SIGNALS:
    /// A client connected or went away (the Clients view refreshes its rows at once).
    void clientsChanged();

private:
    Engine &m_engine;
    const GatewayServiceConfig m_cfg;
    std::unique_ptr<Gw::GatewayServer> m_server;
    std::unique_ptr<GatewayHub> m_hub;
};

} // namespace FeedScope

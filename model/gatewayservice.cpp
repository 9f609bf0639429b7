#include "gatewayservice.h"

#include "engine.h"

namespace FeedScope {

GatewayService::GatewayService(Engine &engine, GatewayServiceConfig config, QObject *parent)
    : QObject(parent), m_engine(engine), m_cfg(std::move(config)),
      m_server(std::make_unique<Gw::GatewayServer>(m_cfg.server)),
      m_hub(std::make_unique<GatewayHub>(engine, *m_server, m_cfg.hub))
{
    connect(m_server.get(), &Gw::GatewayServer::clientConnected, this, &GatewayService::clientsChanged);
    connect(m_server.get(), &Gw::GatewayServer::clientDisconnected, this, &GatewayService::clientsChanged);
}

GatewayService::~GatewayService()
{
    stop();
    m_hub.reset(); // before the server: the hub releases its clients' handles
}

bool GatewayService::start(QString *error)
{
    return m_server->listen(error);
}

void GatewayService::stop()
{
    if (m_server->isListening())
        m_server->close();
}

bool GatewayService::isRunning() const
{
    return m_server->isListening();
}

} // namespace FeedScope

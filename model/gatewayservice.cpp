#include "gatewayservice.h"

#include "budget.h"
#include "engine.h"

#include <QEventLoop>
#include <QMetaEnum>
#include <QThread>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

// Session events per client: a burst (a bot subscribing its whole set at start), then a steady
// allowance; beyond it events are folded (counted, and the next written event says how many).
constexpr double ClientBurst = 200;
constexpr double ClientPerSecond = 5;
// Refused handshakes, all peers together (a scanner, a bot with a wrong token in a loop).
constexpr double RefusalBurst = 20;
constexpr double RefusalPerSecond = 1;
// Upstream life of shared subscriptions (clients churning subscriptions with no linger).
constexpr double UpstreamBurst = 500;
constexpr double UpstreamPerSecond = 20;

QString peerText(const QHostAddress &a, quint16 port)
{
    const QString host =
        a.protocol() == QAbstractSocket::IPv6Protocol ? u"[%1]"_s.arg(a.toString()) : a.toString();
    return port ? u"%1:%2"_s.arg(host).arg(port) : host;
}

/// The server's part of the config, with --gateway-threads (the service's) applied.
Gw::GatewayConfig serverConfig(const GatewayServiceConfig &c)
{
    Gw::GatewayConfig s = c.server;
    // A profile written on a larger machine: at most twice this one's cores.
    s.threads =
        std::clamp(std::max(c.threads, c.server.threads), 1, 2 * std::max(1, QThread::idealThreadCount()));
    return s;
}

} // namespace

QString gatewayReasonKey(Gw::CloseReason r)
{
    // "ClientClosed" → "clientClosed": the raw name in files, labels and tooltips.
    QString key = QString::fromLatin1(QMetaEnum::fromType<Gw::CloseReason>().valueToKey(static_cast<int>(r)));
    if (!key.isEmpty())
        key[0] = key[0].toLower();
    return key;
}

GatewayService::GatewayService(Engine &engine, GatewayServiceConfig config, QObject *parent)
    : QObject(parent), m_engine(engine), m_cfg(std::move(config)),
      m_server(std::make_unique<Gw::GatewayServer>(serverConfig(m_cfg))),
      m_hub(std::make_unique<GatewayHub>(engine, *m_server, m_cfg.hub))
{
    connect(m_server.get(), &Gw::GatewayServer::clientConnected, this, &GatewayService::clientsChanged);
    connect(m_server.get(), &Gw::GatewayServer::clientDisconnected, this, &GatewayService::clientsChanged);
    // Session events and alerts (issue 14): connected after the signals above, so the Clients
    // view and the log see the same order.
    connect(m_server.get(), &Gw::GatewayServer::clientConnected, this, &GatewayService::onConnected);
    connect(m_server.get(), &Gw::GatewayServer::clientDisconnected, this, &GatewayService::onDisconnected);
    connect(m_server.get(), &Gw::GatewayServer::clientEvent, this, &GatewayService::onClientEvent);
    connect(m_server.get(), &Gw::GatewayServer::handshakeRefused, this, &GatewayService::onRefused);
    connect(m_hub.get(), &GatewayHub::upstreamEvent, this, &GatewayService::onUpstream);
    m_refusals.tokens = RefusalBurst;
    m_refusals.lastMs = monotonicMs();
    m_upstreamBudget.tokens = UpstreamBurst;
    m_upstreamBudget.lastMs = m_refusals.lastMs;
}

GatewayService::~GatewayService()
{
    stop();
    m_hub.reset(); // before the server: the hub releases its clients' handles
}

bool GatewayService::start(QString *error)
{
    const bool ok = m_server->listen(error);
    if (ok) {
        QJsonObject d{{u"event"_s, u"listening"_s},
                      {u"url"_s, urlText()},
                      {u"policy"_s, QString(Gw::nameOf(m_cfg.server.policy))},
                      {u"maxClients"_s, m_cfg.server.maxClients},
                      {u"token"_s, !m_cfg.server.token.isEmpty()}}; // whether one is set, never its value
        log(d, nullptr, 0, 0);
    }
    return ok;
}

void GatewayService::stop()
{
    if (m_server->isListening()) {
        m_clientsAtStop = m_server->clients();
        m_server->close();
        log(QJsonObject{{u"event"_s, u"stopped"_s}, {u"clients"_s, static_cast<int>(m_clientsAtStop.size())}},
            nullptr, 0, 0);
    }
}

bool GatewayService::stopAndWait(std::chrono::milliseconds wait)
{
    stop();
    if (m_server->clientCount() == 0)
        return true;
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(m_server.get(), &Gw::GatewayServer::clientDisconnected, &loop, [this, &loop] {
        if (m_server->clientCount() == 0)
            loop.quit();
    });
    timeout.start(wait);
    loop.exec();
    return m_server->clientCount() == 0;
}

bool GatewayService::isRunning() const
{
    return m_server->isListening();
}

QString GatewayService::urlText() const
{
    if (!m_server->isListening() && m_server->port() == 0)
        return {};
    return u"ws://%1/"_s.arg(peerText(m_cfg.server.bind, m_server->port()));
}

int GatewayService::upstreamShared() const
{
    return m_hub->sharedCount();
}

int GatewayService::upstreamLingering() const
{
    int n = 0;
    for (const QByteArray &key : m_upstream)
        n += m_engine.registry().consumersOf(key).contains(u"gateway (linger)"_s) ? 1 : 0;
    return n;
}

bool GatewayService::takeEvent(EventBudget &b, double burst, double perSecond)
{
    const qint64 now = monotonicMs();
    b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.lastMs) / 1000.0 * perSecond);
    b.lastMs = now;
    if (b.tokens < 1) {
        ++b.folded;
        ++m_eventsFolded;
        return false;
    }
    b.tokens -= 1;
    return true;
}

void GatewayService::log(QJsonObject data, EventBudget *budget, double burst, double perSecond)
{
    if (budget) {
        if (!takeEvent(*budget, burst, perSecond))
            return;
        if (budget->folded > 0) {
            data.insert(u"folded"_s, static_cast<double>(budget->folded)); // events not written before it
            budget->folded = 0;
        }
    }
    m_engine.sessionLog().append(QString(EventType), data);
}

void GatewayService::onConnected(const Gw::ClientStats &c)
{
    EventBudget &b = m_budgets[c.id];
    b.tokens = ClientBurst;
    b.lastMs = monotonicMs();
    QJsonObject d{{u"event"_s, u"connect"_s},
                  {u"client"_s, c.id},
                  {u"name"_s, c.name},
                  {u"peer"_s, peerText(c.peerAddress, c.peerPort)},
                  {u"path"_s, c.path}};
    if (!c.userAgent.isEmpty())
        d.insert(u"userAgent"_s, c.userAgent);
    log(d, nullptr, 0, 0);
}

void GatewayService::onDisconnected(const Gw::ClientStats &c, Gw::CloseReason reason, int code,
                                    const QString &detail)
{
    const EventBudget b = m_budgets.take(c.id);
    QJsonObject d{{u"event"_s, u"disconnect"_s},
                  {u"client"_s, c.id},
                  {u"name"_s, c.name},
                  {u"peer"_s, peerText(c.peerAddress, c.peerPort)},
                  {u"reason"_s, gatewayReasonKey(reason)},
                  {u"reasonText"_s, QString(Gw::nameOf(reason))},
                  {u"code"_s, code},
                  {u"detail"_s, detail.left(300)},
                  {u"framesOut"_s, static_cast<double>(c.framesOut)},
                  {u"bytesOut"_s, static_cast<double>(c.bytesOut)},
                  {u"dropped"_s, static_cast<double>(c.dropped)},
                  {u"coalesced"_s, static_cast<double>(c.coalesced)},
                  {u"malformed"_s, static_cast<double>(c.malformed)},
                  {u"rateLimited"_s, static_cast<double>(c.rateLimited)}};
    if (c.connectedAt.isValid())
        d.insert(u"connectedMs"_s,
                 static_cast<double>(c.connectedAt.msecsTo(QDateTime::currentDateTimeUtc())));
    if (b.folded > 0)
        d.insert(u"folded"_s, static_cast<double>(b.folded));
    log(d, nullptr, 0, 0);
    if (reason == Gw::CloseReason::SlowConsumer) // issue 17's GatewaySlowClient rules
        m_engine.alerts().noteSlowClientCut(u"%1 #%2"_s.arg(c.name).arg(c.id), monotonicMs(),
                                            QDateTime::currentDateTimeUtc());
}

void GatewayService::onClientEvent(int client, const QString &what, const QString &detail)
{
    const auto st = m_server->client(client);
    QJsonObject d{{u"event"_s, what}, {u"client"_s, client}, {u"name"_s, st ? st->name : QString()}};
    if (what == u"subscribe"_s || what == u"unsubscribe"_s)
        d.insert(u"subscription"_s, detail);
    else if (what == u"error"_s)
        d.insert(u"text"_s, detail);
    else if (!detail.isEmpty())
        d.insert(u"detail"_s, detail);
    auto it = m_budgets.find(client);
    if (it == m_budgets.end()) { // an event before the connect signal reached us
        it = m_budgets.insert(client, EventBudget{ClientBurst, monotonicMs(), 0});
    }
    log(d, &*it, ClientBurst, ClientPerSecond);
}

void GatewayService::onRefused(const QHostAddress &peer, int status, const QString &why)
{
    // The reason says "no token" or "wrong token", never a token.
    log(QJsonObject{{u"event"_s, u"refused"_s},
                    {u"status"_s, status},
                    {u"peer"_s, peerText(peer, 0)},
                    {u"detail"_s, why}},
        &m_refusals, RefusalBurst, RefusalPerSecond);
}

void GatewayService::onUpstream(const QString &what, const QByteArray &canonical, const QString &detail)
{
    if (what == u"subscribe"_s)
        m_upstream.insert(canonical);
    else if (what == u"unsubscribe"_s || what == u"rejected"_s)
        m_upstream.remove(canonical);
    QJsonObject d{
        {u"event"_s, u"upstream"_s}, {u"action"_s, what}, {u"subscription"_s, QString::fromUtf8(canonical)}};
    if (!detail.isEmpty())
        d.insert(u"detail"_s, detail.left(300));
    log(d, &m_upstreamBudget, UpstreamBurst, UpstreamPerSecond);
}

} // namespace FeedScope

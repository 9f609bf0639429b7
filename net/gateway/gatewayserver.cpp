#include "gatewayserver.h"

#include "gatewayshard.h"
#include "wsframe.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QTcpServer>
#include <QThread>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGateway, "feedscope.gateway")

namespace FeedScope::Gw {

QLatin1StringView nameOf(SlowPolicy p)
{
    switch (p) {
    case SlowPolicy::Disconnect:
        return "disconnect"_L1;
    case SlowPolicy::DropOldest:
        return "drop-oldest"_L1;
    case SlowPolicy::CoalesceLatest:
        return "coalesce-latest"_L1;
    }
    return "?"_L1;
}

std::optional<SlowPolicy> slowPolicyFromName(QStringView name)
{
    for (SlowPolicy p : {SlowPolicy::Disconnect, SlowPolicy::DropOldest, SlowPolicy::CoalesceLatest})
        if (name == nameOf(p))
            return p;
    return std::nullopt;
}

QLatin1StringView nameOf(CloseReason r)
{
    switch (r) {
    case CloseReason::ClientClosed:
        return "client closed"_L1;
    case CloseReason::SlowConsumer:
        return "slow consumer"_L1;
    case CloseReason::Idle:
        return "idle"_L1;
    case CloseReason::TooLarge:
        return "frame too large"_L1;
    case CloseReason::Operator:
        return "disconnected by the operator"_L1;
    case CloseReason::Shutdown:
        return "gateway shutting down"_L1;
    case CloseReason::Aborted:
        return "aborted"_L1;
    }
    return "?"_L1;
}

namespace {

/// The TCP front: each connection becomes an unbuffered QTcpSocket.
class TcpFront final : public QTcpServer
{
public:
    using QTcpServer::QTcpServer;
    std::function<void(qintptr)> onIncoming;

protected:
    void incomingConnection(qintptr descriptor) override { onIncoming(descriptor); }
};

} // namespace

bool tokenMatches(QByteArrayView given, QByteArrayView expected)
{
    // Compare digests: equal length whatever the inputs, so neither the position of the first
    // difference nor the token's length shows in the time taken.
    const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0 && !expected.isEmpty();
}

GatewayServer::GatewayServer(GatewayConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config))
{
    qRegisterMetaType<ClientStats>();
    const int threads = std::clamp(m_cfg.threads, 1, 64);
    if (threads == 1) {
        m_shards.push_back(std::make_unique<LinkShard>(*this, 0, false));
    } else {
        for (int i = 0; i < threads; ++i) {
            auto thread = std::make_unique<QThread>();
            thread->setObjectName(u"gateway links %1"_s.arg(i + 1));
            auto shard = std::make_unique<LinkShard>(*this, i, true);
            shard->moveToThread(thread.get());
            thread->start();
            m_shards.push_back(std::move(shard));
            m_threads.push_back(std::move(thread));
        }
    }
    m_fanout.resize(static_cast<qsizetype>(m_shards.size()));
}

GatewayServer::~GatewayServer()
{
    m_backend = nullptr;
    if (m_tcp)
        m_tcp->close();
    // Every link still open is closed with 1001 (its close frame written now), then every socket
    // goes, each on its own shard's thread; the threads end.
    for (auto &shard : m_shards) {
        LinkShard *s = shard.get();
        auto down = [s] { s->shutdown(); };
        if (m_threads.empty())
            down();
        else
            QMetaObject::invokeMethod(s, down, Qt::BlockingQueuedConnection);
    }
    for (auto &t : m_threads) {
        t->quit();
        t->wait();
    }
    m_shards.clear(); // after their threads: nothing of theirs runs any more
    m_threads.clear();
}

bool GatewayServer::listen(QString *error)
{
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (!m_cfg.bind.isLoopback() && m_cfg.token.isEmpty())
        return fail(u"the gateway binds to %1, which is not loopback: set a token (--gateway-token) so that "
                    u"only your own clients can connect"_s.arg(m_cfg.bind.toString()));
    if (!m_tcp) {
        auto *tcp = new TcpFront(this);
        tcp->onIncoming = [this](qintptr fd) { onIncoming(fd); };
        m_tcp = tcp;
    }
    m_tcp->setMaxPendingConnections(std::max(30, m_cfg.maxClients));
    if (!m_tcp->listen(m_cfg.bind, m_cfg.port))
        return fail(u"cannot listen on %1:%2: %3"_s.arg(m_cfg.bind.toString())
                        .arg(m_cfg.port)
                        .arg(m_tcp->errorString()));
    m_port = m_tcp->serverPort();
    if (!m_threads.empty())
        qCInfo(lcGateway) << "gateway links sharded over" << m_threads.size() << "threads";
    for (auto &shard : m_shards) {
        LinkShard *s = shard.get();
        s->post([s] { s->start(); });
    }
    return true;
}

void GatewayServer::close()
{
    if (m_tcp)
        m_tcp->close();
    for (auto &shard : m_shards) {
        LinkShard *s = shard.get();
        s->post([s] { s->closeAll(); });
    }
}

bool GatewayServer::isListening() const
{
    return m_tcp && m_tcp->isListening();
}

QUrl GatewayServer::url() const
{
    QUrl u;
    u.setScheme(u"ws"_s);
    u.setHost(m_cfg.bind.toString());
    u.setPort(m_port);
    u.setPath(u"/"_s);
    return u;
}

void GatewayServer::onIncoming(qintptr descriptor)
{
    // Accepted here; served by the shard with the fewest sockets (counted at once, so a burst of
    // connections spreads before any shard has seen its share).
    LinkShard *best = m_shards.front().get();
    for (auto &shard : m_shards)
        if (shard->load.load(std::memory_order_relaxed) < best->load.load(std::memory_order_relaxed))
            best = shard.get();
    best->load.fetch_add(1, std::memory_order_relaxed);
    best->post([best, descriptor] { best->adopt(descriptor); });
}

void GatewayServer::toClientShard(int client, std::function<void(LinkShard &)> f)
{
    LinkShard *s = nullptr;
    if (m_threads.empty()) {
        s = m_shards.front().get();
    } else {
        const auto it = m_shardOf.constFind(client);
        if (it == m_shardOf.cend())
            return; // gone (or never known): as a link that no longer exists
        s = m_shards[static_cast<size_t>(*it)].get();
    }
    s->post([s, f = std::move(f)] { f(*s); });
}

void GatewayServer::shardConnected(int shard, const ClientStats &st)
{
    m_shardOf.insert(st.id, shard);
    Q_EMIT clientConnected(st);
}

void GatewayServer::shardDisconnected(const ClientStats &st, CloseReason reason, int code,
                                      const QString &detail)
{
    m_shardOf.remove(st.id);
    if (m_backend)
        m_backend->clientGone(st.id);
    Q_EMIT clientDisconnected(st, reason, code, detail);
}

void GatewayServer::shardSubscribe(int client, const Hl::Subscription &s)
{
    if (m_backend)
        m_backend->clientSubscribe(client, s);
    else
        acknowledge(client, s);
}

void GatewayServer::shardUnsubscribe(int client, const Hl::Subscription &s)
{
    if (m_backend)
        m_backend->clientUnsubscribe(client, s);
}

void GatewayServer::shardPost(int client, qint64 id, const QByteArray &request)
{
    if (m_backend)
        m_backend->clientPost(client, id, request);
    else
        sendText(client, postErrorFrame(id, u"no upstream"_s));
}

bool GatewayServer::disconnectClient(int client, const QString &reason)
{
    if (m_threads.empty()) {
        LinkShard &s = *m_shards.front();
        if (!s.client(client))
            return false;
        s.disconnectClient(client, reason);
        return true;
    }
    if (!m_shardOf.contains(client))
        return false;
    toClientShard(client, [client, reason](LinkShard &s) { s.disconnectClient(client, reason); });
    return true;
}

void GatewayServer::acknowledge(int client, const Hl::Subscription &s)
{
    toClientShard(client, [client, s](LinkShard &sh) { sh.acknowledge(client, s); });
}

void GatewayServer::refuse(int client, const Hl::Subscription &s, const QString &text)
{
    toClientShard(client, [client, s, text](LinkShard &sh) { sh.refuse(client, s, text); });
}

void GatewayServer::sendData(int client, const QByteArray &key, const QByteArray &frame)
{
    const QByteArray wire = Ws::encodeFrame(Ws::Text, frame);
    const QByteArray k = key.isEmpty() ? QByteArray("?") : key;
    toClientShard(client, [client, wire, k](LinkShard &sh) { sh.sendData({client}, k, wire); });
}

void GatewayServer::sendData(const QList<int> &clients, const QByteArray &key, const QByteArray &frame)
{
    if (clients.isEmpty())
        return;
    const QByteArray wire = Ws::encodeFrame(Ws::Text, frame); // once, for every client and shard
    const QByteArray k = key.isEmpty() ? QByteArray("?") : key;
    if (m_threads.empty()) {
        m_shards.front()->sendData(clients, k, wire);
        return;
    }
    // One post per shard, carrying its clients: the shard queues the same bytes to each.
    for (int c : clients) {
        const auto it = m_shardOf.constFind(c);
        if (it != m_shardOf.cend())
            m_fanout[*it].append(c);
    }
    for (qsizetype i = 0; i < m_fanout.size(); ++i) {
        if (m_fanout[i].isEmpty())
            continue;
        LinkShard *s = m_shards[static_cast<size_t>(i)].get();
        s->post([s, list = std::exchange(m_fanout[i], {}), k, wire] { s->sendData(list, k, wire); });
    }
}

void GatewayServer::sendText(int client, const QByteArray &frame)
{
    const QByteArray wire = Ws::encodeFrame(Ws::Text, frame);
    toClientShard(client, [client, wire](LinkShard &sh) { sh.sendText(client, wire); });
}

int GatewayServer::clientCount() const
{
    if (m_threads.empty())
        return m_shards.front()->linkCount();
    return static_cast<int>(m_shardOf.size());
}

QList<int> GatewayServer::clientsPerShard() const
{
    QList<int> out;
    for (const auto &shard : m_shards) {
        const QMutexLocker lock(&shard->mutex());
        out.append(shard->linkCount());
    }
    return out;
}

QList<int> GatewayServer::clientIds() const
{
    QList<int> out;
    for (const auto &shard : m_shards) {
        const QMutexLocker lock(&shard->mutex());
        shard->appendClientIds(out);
    }
    std::sort(out.begin(), out.end());
    return out;
}

QList<ClientStats> GatewayServer::clients() const
{
    return snapshot().clients;
}

void GatewayServer::sumCounters(GatewayCounters &out) const
{
    out = {};
    for (const auto &shard : m_shards) {
        const GatewayCounters &c = shard->counters();
        out.accepted += c.accepted;
        out.refusedToken += c.refusedToken;
        out.refusedFull += c.refusedFull;
        out.framesOut += c.framesOut;
        out.bytesOut += c.bytesOut;
        out.dropped += c.dropped;
        out.coalesced += c.coalesced;
        out.malformed += c.malformed;
        out.rateLimited += c.rateLimited;
        out.oversized += c.oversized;
        for (size_t i = 0; i < out.closed.size(); ++i)
            out.closed[i] += c.closed[i];
    }
}

GatewayServer::Snapshot GatewayServer::snapshot() const
{
    // Every shard held at once (in shard order; a shard never waits on another, nor on this thread).
    std::vector<std::unique_ptr<QMutexLocker<QRecursiveMutex>>> locks;
    locks.reserve(m_shards.size());
    for (const auto &shard : m_shards)
        locks.push_back(std::make_unique<QMutexLocker<QRecursiveMutex>>(&shard->mutex()));
    Snapshot snap;
    for (const auto &shard : m_shards)
        shard->appendClients(snap.clients);
    std::sort(snap.clients.begin(), snap.clients.end(),
              [](const ClientStats &a, const ClientStats &b) { return a.id < b.id; });
    sumCounters(snap.counters);
    return snap;
}

const GatewayCounters &GatewayServer::counters() const
{
    std::vector<std::unique_ptr<QMutexLocker<QRecursiveMutex>>> locks;
    for (const auto &shard : m_shards)
        locks.push_back(std::make_unique<QMutexLocker<QRecursiveMutex>>(&shard->mutex()));
    sumCounters(m_countersView);
    return m_countersView;
}

std::optional<ClientStats> GatewayServer::client(int id) const
{
    for (const auto &shard : m_shards) {
        const QMutexLocker lock(&shard->mutex());
        if (auto st = shard->client(id))
            return st;
    }
    return std::nullopt;
}

QList<Hl::Subscription> GatewayServer::subscriptionsOf(int client) const
{
    for (const auto &shard : m_shards) {
        const QMutexLocker lock(&shard->mutex());
        if (shard->client(client))
            return shard->subscriptionsOf(client);
    }
    return {};
}

bool GatewayServer::holds(int client, const Hl::Subscription &s) const
{
    for (const auto &shard : m_shards) {
        const QMutexLocker lock(&shard->mutex());
        if (shard->holds(client, s))
            return true;
    }
    return false;
}

} // namespace FeedScope::Gw

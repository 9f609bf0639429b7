#pragma once

#include "clientrequest.h"
#include "subscription.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

class QTcpServer;
class QThread;

namespace FeedScope::Gw {
Q_NAMESPACE

/// What a link does with a client that does not read fast enough (its send queue is over the bound).
enum class SlowPolicy : quint8 {
    Disconnect,     ///< close 1008 "slow consumer"; abort if the close is not taken within a grace
    DropOldest,     ///< drop the oldest queued data frames to make room (counted)
    CoalesceLatest, ///< replace the queued frame of the same subscription by the newest (counted)
};
Q_ENUM_NS(SlowPolicy)
QLatin1StringView nameOf(SlowPolicy p);
std::optional<SlowPolicy> slowPolicyFromName(QStringView name);

/// Why a link ended.
enum class CloseReason : quint8 {
    ClientClosed, ///< the client closed, or its socket went away
    SlowConsumer, ///< policy disconnect: over the queue bound
    Idle,         ///< nothing received from the client for GatewayConfig::idleTimeout
    TooLarge,     ///< a frame over GatewayConfig::maxFrameBytes (close 1009)
    Operator,     ///< disconnectClient()
    Shutdown,     ///< the server stopped
    Aborted,      ///< the close handshake was not taken within the grace: socket aborted
};
Q_ENUM_NS(CloseReason)
class LinkShard;
inline constexpr int CloseReasonCount = static_cast<int>(CloseReason::Aborted) + 1;
QLatin1StringView nameOf(CloseReason r);

struct GatewayConfig
{
    QHostAddress bind = QHostAddress::LocalHost;
    quint16 port = 0; ///< 0 = a free port
    /// Clients must send `Authorization: Bearer TOKEN` or `?token=TOKEN`; empty = none. Required
    /// when binding to anything but loopback.
    QByteArray token;
    int maxClients = 256;
    SlowPolicy policy = SlowPolicy::Disconnect;
    qint64 queueBytes = 4 * 1024 * 1024; ///< per client: queued, not yet handed to the socket
    int queueFrames = 20000;
    /// Bytes handed to the socket and not yet written; beyond it frames wait in the queue.
    qint64 socketBudgetBytes = 256 * 1024;
    std::chrono::milliseconds idleTimeout{60000}; ///< 0 = never (the venue: 60 s)
    std::chrono::milliseconds closeGrace{1000};   ///< close frame sent → socket aborted
    std::chrono::milliseconds handshakeTimeout{10000};
    int maxSubscriptions = 1000;     ///< per client
    int maxMessagesPerMinute = 2000; ///< per client, sliding minute
    qint64 maxFrameBytes = 1024 * 1024;
    /// Event-loop threads the links are sharded over (--gateway-threads). 1: every link on the
    /// server's own thread, every call direct. N > 1: N link threads of the server's own, each
    /// serving a share of the links (a new connection goes to the one with the fewest); the
    /// server's thread accepts, runs the backend and answers the readers. Clamped to 1..64.
    int threads = 1;
};

/// One downstream client's figures (the Clients view, the report, metrics).
struct ClientStats
{
    int id = 0;
    QString name; ///< from ?name= or the User-Agent; "client N" without either
    QString userAgent;
    QHostAddress peerAddress;
    quint16 peerPort = 0;
    QString path;
    QDateTime connectedAt;
    int subscriptions = 0;
    qint64 framesIn = 0;
    qint64 bytesIn = 0;
    qint64 framesOut = 0; ///< handed to the socket
    qint64 bytesOut = 0;
    qint64 dataFramesOut = 0;
    qint64 queuedFrames = 0;
    qint64 queuedBytes = 0;
    qint64 queueBoundBytes = 0;
    qint64 highWaterBytes = 0;
    qint64 dropped = 0;   ///< data frames dropped (drop-oldest, or frames for a closing link)
    qint64 coalesced = 0; ///< data frames replaced by a newer one of the same subscription
    qint64 rateLimited = 0;
    qint64 malformed = 0; ///< frames answered with the venue's parse error (binary included)
    qint64 errorsSent = 0;
    QString lastError;
    bool closing = false;
};

struct GatewayCounters
{
    qint64 accepted = 0;
    qint64 refusedToken = 0; ///< HTTP 401
    qint64 refusedFull = 0;  ///< HTTP 429, at maxClients
    qint64 framesOut = 0;
    qint64 bytesOut = 0;
    qint64 dropped = 0;
    qint64 coalesced = 0;
    qint64 malformed = 0;
    qint64 rateLimited = 0;
    qint64 oversized = 0;
    std::array<qint64, CloseReasonCount> closed{};
};

/// What the server asks of the layer that shares the upstream (the hub). Called on the server's
/// thread (synchronously with one thread; with link threads, queued from the client's shard in
/// the order the client sent its requests); the backend answers through GatewayServer's methods.
class GatewayBackend
{
public:
    virtual ~GatewayBackend() = default;
    /// A new subscription of @p client (already checked: not held yet, under the limit). Answer
    /// with acknowledge() or refuse().
    virtual void clientSubscribe(int client, const Hl::Subscription &s) = 0;
    /// @p client let go of @p s (already acknowledged to the client).
    virtual void clientUnsubscribe(int client, const Hl::Subscription &s) = 0;
    /// A post: answer with sendText() carrying the client's own id.
    virtual void clientPost(int client, qint64 id, const QByteArray &request) = 0;
    /// @p client is gone; its subscriptions are released by the backend.
    virtual void clientGone(int client) = 0;
};

/// The gateway's downstream side (seed 004's links): a WebSocket server speaking the venue's
/// protocol to local clients. Each client is a link with a bounded send queue (bytes and frames)
/// written in batches per event-loop turn, a slow-client policy, idle close, close once with a
/// reason, per-client limits in the venue's words, and every event counted. The handshake is
/// read before the upgrade, so a wrong token or a full server is answered with HTTP 401 / 429
/// before any WebSocket exists. Links are QTcpSockets speaking the server side of RFC 6455
/// (wsframe.h): a data frame is encoded once for all its clients, and each link gets one write
/// per event-loop turn. Many links per thread, one timer per thread for all its links; an idle
/// link holds no buffers. With --gateway-threads N > 1 the links are sharded over N threads of
/// their own (LinkShard); the server's thread accepts, runs the backend, and fans a data frame
/// out as one encoded frame per shard. Its readers (clients(), counters(), …) may be called on
/// the server's thread at any time: each reads the shards under their locks.
class GatewayServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayServer)

public:
    explicit GatewayServer(GatewayConfig config = {}, QObject *parent = nullptr);
    ~GatewayServer() override;

    void setBackend(GatewayBackend *backend) { m_backend = backend; }
    const GatewayConfig &config() const { return m_cfg; }

    /// False with @p error when the address cannot be bound, or is not loopback and no token is set.
    bool listen(QString *error = nullptr);
    /// Closes every link (1001 "gateway shutting down") and stops listening.
    void close();
    bool isListening() const;
    quint16 port() const { return m_port; }
    /// ws://ADDR:PORT/
    QUrl url() const;

    // Answers to clients (from the backend).
    void acknowledge(int client, const Hl::Subscription &s);
    /// Sends @p text as an error frame and forgets @p s for @p client.
    void refuse(int client, const Hl::Subscription &s, const QString &text);
    /// A data frame of subscription @p key (canonical) for @p client: queued, policy applied.
    void sendData(int client, const QByteArray &key, const QByteArray &frame);
    /// The same data frame for each of @p clients: the WebSocket frame is encoded once and its
    /// bytes (implicitly shared) queued to every client.
    void sendData(const QList<int> &clients, const QByteArray &key, const QByteArray &frame);
    /// A control frame (post answer, error): queued, never dropped or coalesced.
    void sendText(int client, const QByteArray &frame);
    /// Closes @p client with 1000 and @p reason; false for an unknown client.
    bool disconnectClient(int client, const QString &reason = QStringLiteral("disconnected by the operator"));

    int clientCount() const;
    QList<int> clientIds() const;
    QList<ClientStats> clients() const;
    std::optional<ClientStats> client(int id) const;
    /// Canonical subscriptions @p client holds (acknowledged or waiting).
    QList<Hl::Subscription> subscriptionsOf(int client) const;
    bool holds(int client, const Hl::Subscription &s) const;
    /// Summed over the shards (a copy kept in the server: valid until the next call).
    const GatewayCounters &counters() const;

Q_SIGNALS:
    void clientConnected(const FeedScope::Gw::ClientStats &client);
    /// Once per client. @p code: the close code sent or received (0: none, socket lost).
    void clientDisconnected(const FeedScope::Gw::ClientStats &client, FeedScope::Gw::CloseReason reason,
                            int code, const QString &detail);
    void handshakeRefused(const QHostAddress &peer, int httpStatus, const QString &why);
    /// Session events of a client: "subscribe", "unsubscribe", "error" (a venue error text sent),
    /// "slow" (a slow-client action: detail says which), "rateLimited".
    void clientEvent(int client, const QString &what, const QString &detail);

public:
    // Added for the shards (--gateway-threads):
    /// Link threads actually running (0 when every link runs on the server's thread).
    int threadCount() const { return static_cast<int>(m_threads.size()); }
    /// Links per shard, in shard order (one entry when unthreaded).
    QList<int> clientsPerShard() const;
    /// The clients and the counters taken at one moment (every shard held at once), so that
    /// the counters' totals and the clients' figures agree.
    struct Snapshot
    {
        QList<ClientStats> clients;
        GatewayCounters counters;
    };
    Snapshot snapshot() const;

private:
    friend class LinkShard;

    void onIncoming(qintptr descriptor);
    /// Calls @p f with the shard serving @p client, on that shard's thread; nothing if unknown.
    void toClientShard(int client, std::function<void(LinkShard &)> f);
    void sumCounters(GatewayCounters &out) const;
    // From the shards, on this thread, in the order each shard reported them.
    void shardConnected(int shard, const ClientStats &st);
    void shardDisconnected(const ClientStats &st, CloseReason reason, int code, const QString &detail);
    void shardSubscribe(int client, const Hl::Subscription &s);
    void shardUnsubscribe(int client, const Hl::Subscription &s);
    void shardPost(int client, qint64 id, const QByteArray &request);

    const GatewayConfig m_cfg;
    GatewayBackend *m_backend = nullptr;
    QTcpServer *m_tcp = nullptr;
    quint16 m_port = 0;
    std::vector<std::unique_ptr<LinkShard>> m_shards;
    std::vector<std::unique_ptr<QThread>> m_threads;
    QHash<int, int> m_shardOf;       ///< client → shard, from its connect to its disconnect (this thread)
    std::atomic<int> m_linkCount{0}; ///< links across shards (maxClients)
    std::atomic<int> m_nextId{1};
    mutable GatewayCounters m_countersView;
    QList<QList<int>> m_fanout; ///< sendData's clients per shard (reused)
};

/// Constant-time comparison (the time does not depend on where the inputs differ, nor on
/// @p expected's length).
bool tokenMatches(QByteArrayView given, QByteArrayView expected);

} // namespace FeedScope::Gw

Q_DECLARE_METATYPE(FeedScope::Gw::ClientStats)

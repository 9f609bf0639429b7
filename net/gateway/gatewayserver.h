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
#include <chrono>
#include <map>
#include <memory>
#include <optional>

class QTcpServer;
class QTcpSocket;

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
    /// Worker threads for the links (--gateway-threads). Not implemented yet: every link runs on
    /// the server's own thread whatever the value (measured: one thread serves ~2-4 M deliveries/s
    /// of CPU at 100 clients, see issue 14); values above 1 are accepted and logged.
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
/// thread, synchronously; the backend answers through GatewayServer's methods.
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
/// per event-loop turn. Many links per thread: everything runs on the thread that owns the
/// server, one timer for all links; an idle link holds no buffers.
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

    int clientCount() const { return static_cast<int>(m_links.size()); }
    QList<int> clientIds() const;
    QList<ClientStats> clients() const;
    std::optional<ClientStats> client(int id) const;
    /// Canonical subscriptions @p client holds (acknowledged or waiting).
    QList<Hl::Subscription> subscriptionsOf(int client) const;
    bool holds(int client, const Hl::Subscription &s) const;
    const GatewayCounters &counters() const { return m_counters; }

Q_SIGNALS:
    void clientConnected(const FeedScope::Gw::ClientStats &client);
    /// Once per client. @p code: the close code sent or received (0: none, socket lost).
    void clientDisconnected(const FeedScope::Gw::ClientStats &client, FeedScope::Gw::CloseReason reason,
                            int code, const QString &detail);
    void handshakeRefused(const QHostAddress &peer, int httpStatus, const QString &why);
    /// Session events of a client: "subscribe", "unsubscribe", "error" (a venue error text sent),
    /// "slow" (a slow-client action: detail says which), "rateLimited".
    void clientEvent(int client, const QString &what, const QString &detail);

private:
    struct Link;

    void onTcpConnection();
    void onIncoming(qintptr descriptor);
    void accept(QTcpSocket *socket);
    void inspectHandshake(QTcpSocket *socket);
    void refuseHandshake(QTcpSocket *socket, int status, const QByteArray &statusText, const QString &why);
    void upgrade(QTcpSocket *socket, const QByteArray &key, qsizetype headBytes, const QString &name,
                 const QString &userAgent, const QString &path);
    void onReadable(Link &l);
    void onText(Link &l, const QByteArray &utf8);
    void onBinary(Link &l, const QByteArray &data);
    void onDisconnected(int id);
    /// @p wire: a whole server frame (wsframe.h).
    void enqueue(Link &l, const QByteArray &wire, const QByteArray &key);
    void overBound(Link &l, const QByteArray &key, bool data);
    void closeLink(Link &l, CloseReason reason, int code, const QString &text);
    void markDirty(Link &l);
    void flushDirty();
    void flush(Link &l);
    /// Writes queue[head, end) (@p bytes in all) to the link's socket.
    void writeFrames(Link &l, qsizetype end, qint64 bytes);
    void everyTick();
    void sendError(Link &l, const QString &text);
    ClientStats statsOf(const Link &l) const;
    Link *find(int id) const;

    const GatewayConfig m_cfg;
    GatewayBackend *m_backend = nullptr;
    QTcpServer *m_tcp = nullptr;
    quint16 m_port = 0;
    std::map<int, std::unique_ptr<Link>> m_links;
    QHash<QTcpSocket *, qint64> m_handshaking; ///< sockets before their request head, since (ms)
    QList<int> m_dirty;
    bool m_flushScheduled = false;
    QTimer m_tick{this};
    QElapsedTimer m_clock;
    GatewayCounters m_counters;
    int m_nextId = 1;
};

/// Constant-time comparison (the time does not depend on where the inputs differ, nor on
/// @p expected's length).
bool tokenMatches(QByteArrayView given, QByteArrayView expected);

} // namespace FeedScope::Gw

Q_DECLARE_METATYPE(FeedScope::Gw::ClientStats)

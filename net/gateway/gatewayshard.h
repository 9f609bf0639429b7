#pragma once

#include "gatewayserver.h"
#include "wsframe.h"

#include <QMutex>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>

class QTcpSocket;

namespace FeedScope::Gw {

/// One event loop's share of the gateway's links (--gateway-threads): the links' sockets, their
/// WebSocket framing, send queues, slow-client policy, idle close and close once. A shard takes
/// the raw descriptors the server accepted, reads each request head itself (token, limits), and
/// serves the links it upgraded. It never calls the backend: client requests and events go to
/// the server (GatewayServer::fromShard), which calls the backend on its own thread, and answers
/// come back through post() (one wake-up of the shard for whatever the server sent in a turn).
///
/// Threads: with one thread the shard lives on the server's thread and every call is direct
/// (the behaviour of a server without shards). With more, each shard lives on a QThread of its
/// own; every state it keeps is guarded by mutex(), which the shard holds while it handles an
/// event, so the server's readers (clients(), counters(), …) see a consistent snapshot.
class LinkShard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LinkShard)

public:
    LinkShard(GatewayServer &front, int index, bool threaded);
    ~LinkShard() override;

    int index() const { return m_index; }
    /// Sockets handed to this shard and not yet destroyed (handshakes and links): the server
    /// gives a new connection to the shard with the fewest.
    std::atomic<int> load{0};

    /// Runs @p f on the shard's thread: at once when unthreaded, else in the shard's next wake-up.
    void post(std::function<void()> f);

    // On the shard's thread (through post() when threaded).
    void start();
    void adopt(qintptr descriptor);
    void acknowledge(int client, const Hl::Subscription &s);
    void refuse(int client, const Hl::Subscription &s, const QString &text);
    void sendData(const QList<int> &clients, const QByteArray &key, const QByteArray &wire);
    void sendText(int client, const QByteArray &wire);
    void disconnectClient(int client, const QString &reason);
    /// Closes every link with 1001 (and every socket still in its handshake).
    void closeAll();
    /// Aborts every socket and forgets every link, without signals (the server is going away).
    void teardown();
    /// The server is going away: every open link gets its 1001 close frame (written now), then
    /// teardown().
    void shutdown();

    // From any thread: take mutex() first.
    QRecursiveMutex &mutex() const { return m_mutex; }
    int linkCount() const { return static_cast<int>(m_links.size()); }
    void appendClients(QList<ClientStats> &out) const;
    void appendClientIds(QList<int> &out) const;
    std::optional<ClientStats> client(int id) const;
    QList<Hl::Subscription> subscriptionsOf(int client) const;
    bool holds(int client, const Hl::Subscription &s) const;
    const GatewayCounters &counters() const { return m_counters; }

private:
    struct Link;

    /// Runs @p f on the server's thread: at once when unthreaded, else queued (in order).
    template<class F> void toFront(F &&f);
    void drainInbox();
    void inspectHandshake(QTcpSocket *socket);
    void refuseHandshake(QTcpSocket *socket, int status, const QByteArray &statusText, const QString &why);
    void upgrade(QTcpSocket *socket, const QByteArray &key, qsizetype headBytes, const QString &name,
                 const QString &userAgent, const QString &path);
    void onReadable(Link &l);
    void onText(Link &l, const QByteArray &utf8);
    void onBinary(Link &l, const QByteArray &data);
    void onDisconnected(int id);
    void emitEvent(int client, const QString &what, const QString &detail);
    /// @p wire: a whole server frame (wsframe.h).
    void enqueue(Link &l, const QByteArray &wire, const QByteArray &key);
    void overBound(Link &l, const QByteArray &key, bool data);
    void closeLink(Link &l, CloseReason reason, int code, const QString &text);
    void markDirty(Link &l);
    void flushDirty();
    void flush(Link &l);
    void writeFrames(Link &l, qsizetype end, qint64 bytes);
    void everyTick();
    void sendError(Link &l, const QString &text);
    ClientStats statsOf(const Link &l) const;
    Link *find(int id) const;

    GatewayServer &m_front;
    const GatewayConfig &m_cfg;
    const int m_index;
    const bool m_threaded;
    mutable QRecursiveMutex m_mutex;
    std::map<int, std::unique_ptr<Link>> m_links;
    QSet<QTcpSocket *> m_sockets;              ///< every socket of the shard (they have no parent)
    QHash<QTcpSocket *, qint64> m_handshaking; ///< sockets before their request head, since (ms)
    QList<int> m_dirty;
    bool m_flushScheduled = false;
    bool m_down = false; ///< torn down: nothing more is adopted or reported
    /// Arms the sweep for @p atMs (the shard's clock) unless it is armed for sooner.
    void armTick(qint64 atMs);
    QTimer m_tick{this};
    qint64 m_tickAt = 0;
    bool m_started = false;
    QElapsedTimer m_clock;
    GatewayCounters m_counters;

    QMutex m_inboxMutex;
    std::vector<std::function<void()>> m_inbox;
    bool m_wakePosted = false;
};

} // namespace FeedScope::Gw

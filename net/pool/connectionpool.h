#pragma once

#include "budget.h"
#include "connection.h"
#include "latencywindow.h"
#include "pooltypes.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QRandomGenerator>
#include <QSet>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <map>
#include <memory>

namespace FeedScope {

/// Places subscriptions on connections, keeps each connection's own keys (seed P1-2), restores
/// them after every reconnect with acks matched by canonical form, and accounts for every frame.
/// Lives on the first I/O thread; connections are sharded over all I/O threads and talked to only
/// through queued invocations and signals, so the pool's state is touched by one thread and needs
/// no lock (the seed's lock-order and long-lock-hold bugs cannot happen). Every public slot must
/// run on the pool's thread: PoolHost does that for callers elsewhere.
class ConnectionPool final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionPool)

public:
    ConnectionPool(const PoolConfig &config, QList<QThread *> ioThreads, QObject *parent = nullptr);
    ~ConnectionPool() override;

    const PoolConfig &config() const { return m_cfg; }
    PoolSnapshot snapshot() const;

public Q_SLOTS:
    void subscribe(const FeedScope::Hl::Subscription &subscription);
    void unsubscribe(const FeedScope::Hl::Subscription &subscription);
    void reconnect(int connection);
    void reconnectAll();
    /// Paused: every connection is closed (close frame, cause Paused) and stays down; every
    /// subscription is kept (Restoring) and new ones are placed but not sent. Unpaused: the
    /// connections open again (through the new-connection budget) and restore what they carry,
    /// recorded like any reconnect (manual, cause Paused, outage = the pause).
    void setPaused(bool paused);
    /// Closes every connection with a close frame; emits stopped() when all are down.
    void stop();
    /// Publishes a snapshot every @p interval (0 stops): how the UI is fed, at a fixed rate.
    void setPublishInterval(std::chrono::milliseconds interval);
    /// Sends `{"method":"post","id":ID,"request":REQUEST}` (REQUEST's bytes exactly as given) on
    /// an open connection, through the outgoing message budget; waits for one when none is open
    /// (and opens one when the pool has none). Answered by postAnswered(ID) or postFailed(ID).
    /// @p id must be unique among the posts in flight (PoolHost::post() draws them).
    void post(quint64 id, const QByteArray &request);

Q_SIGNALS:
    void connectionEvent(const FeedScope::ConnectionEvent &event);
    void subscriptionChanged(const FeedScope::SubscriptionStatus &status);
    void subscriptionRemoved(const FeedScope::Hl::Subscription &subscription);
    void reconnectFinished(const FeedScope::ReconnectRecord &record);
    void serverError(int connection, const FeedScope::Hl::ServerError &error);
    void warning(const QString &text);
    /// Data frames routed to subscriptions (DataFrame::key = canonical subscription), batched.
    void routed(const QList<FeedScope::DataFrame> &frames);
    /// Every client frame as it went out on connection @p connection (Connection::frameSent).
    void frameSent(int connection, const QByteArray &frame, qint64 sentNs);
    void stopped();
    void snapshotPublished(const FeedScope::PoolSnapshot &snapshot);
    /// The venue's answer to post @p id: the whole frame as it arrived,
    /// `{"channel":"post","data":{"id":ID,"response":…}}`.
    void postAnswered(quint64 id, const QByteArray &frame);
    /// Post @p id got no answer: the connection carrying it was lost, no answer within
    /// PoolConfig::postTimeout, the pool stopped, or the venue refused it for its in-flight limit
    /// (@p venueLimit; @p reason is then its text "too many pending post requests …").
    void postFailed(quint64 id, const QString &reason, bool venueLimit);

private:
    /// Data latency of one type, every subscription of it together (issue 17).
    struct TypeLatencyRecord
    {
        LatencyWindow window;
        LatencyTotals totals;
        mutable LatencyFigures figures; ///< computed at most once a second
        mutable qint64 figuresSec = -1;
    };
    struct SubRecord
    {
        SubscriptionStatus status;
        /// Data latency (issue 17): allocated at its first sample (shared: QHash values copy).
        std::shared_ptr<LatencyWindow> latency;
        TypeLatencyRecord *typeLatency = nullptr; ///< its type's, with the first sample
        mutable LatencyFigures latencyFigures;    ///< computed at most once a second
        mutable qint64 latencySec = -1;
        /// The first data after a subscribe is a replay without a snapshot flag (trades, bbo): old
        /// times, no latency sample.
        bool skipLatency = false;
        SecondBuckets perSecond;
        qint64 lastMessageMs = -1; ///< monotonic
        qint64 activeSinceMs = -1; ///< monotonic, when it last became active
        qint64 sentAtMs = -1;
        bool unsubscribing = false;
        bool resubscribeAfter = false;
    };
    struct ConnRecord
    {
        Connection *conn = nullptr;
        ConnState state = ConnState::Idle;
        QHash<QByteArray, QByteArray> routes; ///< route key → canonical key
        QHash<QByteArray, QByteArray> byAck;  ///< ack key → canonical key
        bool manual = false;
        int reconnectIndex = -1; ///< in-progress record in m_reconnects
    };

    ConnRecord &createConnection();
    void place(SubRecord &rec, bool restoring);
    void attach(ConnRecord &c, SubRecord &rec, bool restoring);
    void detach(SubRecord &rec);
    void sendSubscribe(ConnRecord &c, SubRecord &rec, Connection::Priority priority);
    void setState(SubRecord &rec, SubState state, const QString &error = {});
    void onConnectionEvent(const ConnectionEvent &e);
    void onData(const QList<DataFrame> &frames);
    void recordLatency(SubRecord &rec, qint64 latencyUs, qint64 nowSec);
    void onControl(int connection, const Hl::Envelope &env);
    void onSubscribeSent(int connection, const QByteArray &ackKey, qint64 atMs);
    void onAck(ConnRecord &c, const Hl::Envelope &env);
    void onServerError(ConnRecord &c, const Hl::ServerError &error);
    void settleRestore(ConnRecord &c, SubRecord &rec);
    void finishRemoval(const QByteArray &key);
    void checkAckTimeouts();
    void retryUnplaceable();
    void maybeIdleClose(int connection);
    SubRecord *byAckKey(ConnRecord &c, const QByteArray &ackKey);
    template<typename F> void onConn(Connection *conn, F &&f);
    // Posts (issue 14): over an open connection, answers matched by id.
    struct PostRecord
    {
        int connection = 0; ///< 0: waiting for an open connection
        QByteArray frame;
        qint64 deadlineMs = 0;
    };
    void sendPost(quint64 id, PostRecord &p);
    void sendWaitingPosts();
    void onPostControl(const Hl::Envelope &env);
    void failPosts(int connection, const QString &reason);
    void checkPostTimeouts();

    const PoolConfig m_cfg;
    QList<QThread *> m_threads;
    std::unique_ptr<SlidingWindowBudget> m_outgoing;
    std::unique_ptr<SlidingWindowBudget> m_newConnections;
    QHash<QByteArray, SubRecord> m_subs; ///< canonical key → record
    std::map<int, ConnRecord> m_conns;
    QList<ReconnectRecord> m_reconnects;
    PoolCounters m_counters;
    QTimer m_ackTimer{this};
    QTimer m_publishTimer{this};
    QRandomGenerator m_rng;
    int m_nextId = 1;
    bool m_stopping = false;
    bool m_paused = false;
    std::map<QString, TypeLatencyRecord> m_typeLatency; ///< by type; nodes stay put
    mutable ClockSync m_clock;                          ///< re-read every few seconds (snapshot())
    mutable qint64 m_clockReadMs = -1;
    std::map<quint64, PostRecord> m_posts; ///< posts in flight, by id
    QTimer m_postTimer{this};
};

/// Runs a ConnectionPool on its own I/O thread(s) and offers a thread-safe API to the thread that
/// owns it (the GUI or the headless main thread). The pool never runs on the caller's thread.
class PoolHost final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PoolHost)

public:
    explicit PoolHost(const PoolConfig &config, QObject *parent = nullptr);
    ~PoolHost() override;

    /// The pool, for connecting to its signals (they arrive queued on the caller's thread).
    ConnectionPool *pool() const { return m_pool; }
    void subscribe(const Hl::Subscription &s);
    void unsubscribe(const Hl::Subscription &s);
    void reconnect(int connection);
    void reconnectAll();
    void setPaused(bool paused);
    void setPublishInterval(std::chrono::milliseconds interval);
    /// ConnectionPool::post() with a fresh id (thread-safe), returned: the pool's postAnswered()
    /// and postFailed() carry it.
    quint64 post(const QByteArray &request);
    /// Blocks until the pool has produced a snapshot.
    PoolSnapshot snapshot() const;
    /// Closes every connection (close frames), waits up to @p timeout, then stops the threads.
    /// Returns the pool's last snapshot, taken after the connections closed.
    PoolSnapshot shutdown(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

private:
    QList<QThread *> m_threads;
    ConnectionPool *m_pool = nullptr;
    std::atomic<quint64> m_nextPostId{1};
};

} // namespace FeedScope

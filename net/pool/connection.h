#pragma once

#include "budget.h"
#include "codec.h"
#include "pooltypes.h"

#include <QObject>
#include <QRandomGenerator>
#include <QTimer>
#include <QWebSocket>
#include <mutex>

#include <atomic>
#include <deque>

namespace FeedScope {

/// One QWebSocket and everything that keeps it honest: states with causes, application ping and
/// RTT, stale (half-open) detection, reconnect with exponential backoff and full jitter gated by
/// the pool-wide new-connection limit, and an outgoing queue drained in batches per event-loop
/// turn through the pool-wide outgoing budget. Lives on one I/O thread; every public slot must
/// be called on that thread (the pool uses QMetaObject::invokeMethod). Reports only through
/// signals, with data frames batched per event-loop turn.
class Connection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Connection)

public:
    enum class Priority : quint8 { Ping, Normal, Restore };

    Connection(int id, const PoolConfig &config, SlidingWindowBudget *outgoing,
               SlidingWindowBudget *newConnections, QObject *parent = nullptr);
    ~Connection() override;

    int id() const { return m_id; }
    /// Thread-safe copy of the current status.
    ConnectionStatus status() const;

public Q_SLOTS:
    /// Idle/Backoff/Stopped → Connecting (a Backoff wait is skipped). No-op while a connect or
    /// close is in flight: one reconnect per connection at a time, whatever the interleaving.
    void open();
    /// Manual reconnect: close with a close frame and reconnect at once (no backoff). Joins an
    /// automatic reconnect already in flight.
    void reconnect(bool manual = true);
    /// Close with a close frame and stay stopped.
    void stop(FeedScope::Cause cause = Cause::Shutdown);
    void enqueue(const QByteArray &frame, FeedScope::Connection::Priority priority,
                 const QByteArray &ackKey = {});
    /// Drops queued subscribe frames of @p ackKey (the subscription was withdrawn before it was sent).
    void dropQueued(const QByteArray &ackKey);

Q_SIGNALS:
    void stateChanged(const FeedScope::ConnectionEvent &event);
    /// Routed later by the pool: DataFrame::key holds the frame's route key here.
    void dataFrames(const QList<FeedScope::DataFrame> &frames);
    /// Acks, error frames, post responses and unknown channels, in arrival order with the data.
    void controlFrame(int connection, const FeedScope::Hl::Envelope &envelope);
    void subscribeSent(int connection, const QByteArray &ackKey, qint64 atMs);
    /// Every client frame as it went out (subscribe, unsubscribe, ping, post), for recorders and
    /// exports that show both directions. @p sentNs is monotonic (budget.h monotonicNs).
    void frameSent(int connection, const QByteArray &frame, qint64 sentNs);

private:
    void setState(ConnState to, Cause cause, const QString &detail = {}, int closeCode = 0);
    void onConnected();
    void onDisconnected();
    void onText(const QString &text);
    void onBinary(const QByteArray &data);
    void onSocketError(QAbstractSocket::SocketError error);
    void fail(Cause cause, const QString &detail); ///< abort now, reconnect
    void scheduleReconnect();
    void flushOut();
    void scheduleFlush(qint64 delayMs);
    void flushBatch();
    void armPing();
    void onPingTimer();
    void onPongTimer();
    void onStaleTimer();
    void onLivenessTick();
    void armPongTimer();
    qint64 silenceThresholdMs() const;
    void clearQueues();
    qint64 backoffDelayMs();

    struct Out
    {
        QByteArray frame;
        QByteArray ackKey;
        bool probe = false; ///< a ping sent because the connection fell silent (fast stall check)
    };
    /// A ping waiting for its pong. Pongs carry no id: they answer the pings in order.
    struct PingInFlight
    {
        qint64 sentNs = 0;
        qint64 deadlineNs = 0;
        bool probe = false;
        bool lateChecked = false; ///< its timer fired late once: the socket was read before judging
    };

    const int m_id;
    const PoolConfig m_cfg;
    SlidingWindowBudget *m_outgoing;
    SlidingWindowBudget *m_newConnections;
    QWebSocket m_socket{QString(), QWebSocketProtocol::VersionLatest, this};
    QTimer m_backoffTimer;
    QTimer m_connectTimer;
    QTimer m_closeTimer;
    QTimer m_pingTimer;
    QTimer m_pongTimer;
    QTimer m_staleTimer;
    QTimer m_livenessTimer; ///< while open, 4 Hz: learns the usual gap between frames, probes silence
    QTimer m_flushTimer;
    QRandomGenerator m_rng;
    Hl::FrameDecoder m_decoder;

    ConnState m_state = ConnState::Idle;
    Cause m_pendingCause = Cause::None; ///< why we are closing/aborting, for the disconnect event
    QString m_pendingDetail;
    bool m_stopAfterClose = false;
    bool m_reconnectNow = false; ///< skip the backoff after this close (manual)
    bool m_socketErrored = false;
    QString m_tlsError; ///< why the last handshake's certificate was refused
    QString m_socketError;
    int m_failures = 0;
    bool m_wasUp = false;
    qint64 m_openedMs = 0;
    qint64 m_attemptTokenMs = -1;         ///< new-connection slot of the attempt in flight
    std::atomic<qint64> m_lastFrameMs{0}; ///< written per frame, read by status() from the pool's thread
    // Per-frame counters: written by the I/O thread, read by status(); atomics, not the status
    // lock, so that a frame costs no lock.
    std::atomic<qint64> m_messagesIn{0};
    std::atomic<qint64> m_bytesIn{0};
    qint64 m_lastSentMs = 0;
    std::deque<PingInFlight> m_pingsInFlight;
    // Fast stall detection, on the I/O thread: the frame rate learnt while the connection is not
    // silent (a moving average per tick), and one probe per silence.
    qint64 m_tickAtMs = 0;
    qint64 m_tickFrames = 0;
    qint64 m_learnFromMs = 0; ///< learning of the rate starts after the opening snapshots
    qint64 m_learnFromFrames = 0;
    double m_frameRate = -1;    ///< frames per second, -1 until learnt
    bool m_probed = false;      ///< a probe went out in this silence; re-armed by the next data frame
    bool m_carriedData = false; ///< a data frame arrived since the socket opened
    std::deque<Out> m_ping, m_normal, m_restore;
    QList<DataFrame> m_batch;
    bool m_batchScheduled = false;

    mutable std::mutex m_statusMutex; ///< std::mutex: visible to ThreadSanitizer
    ConnectionStatus m_status;        ///< guarded by m_statusMutex
    qint64 m_statusPingSinceMs = -1;  ///< guarded: the oldest unanswered ping's send time
    qint64 m_statusSilenceMs = -1;    ///< guarded: silent after this long without a frame (-1: unknown)
};

} // namespace FeedScope

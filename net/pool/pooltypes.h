#pragma once

#include "clocksync.h"
#include "codec.h"
#include "subscription.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QSslCertificate>
#include <QStringList>
#include <QUrl>

#include <array>
#include <chrono>

namespace FeedScope {
Q_NAMESPACE

/// Connection states (issue 3): every transition is an event with a time, a cause and details.
enum class ConnState : quint8 { Idle, Connecting, Open, Closing, Backoff, Stopped };
Q_ENUM_NS(ConnState)

/// Why a connection changed state.
enum class Cause : quint8 {
    None,
    Opened,      ///< handshake done
    CloseFrame,  ///< the server closed with a close frame (code and reason in the details)
    SocketError, ///< TCP/handshake error or connect timeout
    PongTimeout, ///< no pong within pongTimeout of a ping
    Stale,       ///< no frame of any kind within staleTimeout: half-open connection
    Oversized,   ///< a frame larger than maxFrameBytes
    Manual,      ///< the user asked for a reconnect
    Shutdown,    ///< the pool is stopping
    IdleClose,   ///< optional idle auto-close (no subscriptions left)
    Backoff,     ///< waiting before the next attempt
    Retry,       ///< a new attempt starts
    Paused,      ///< the user disconnected the pool (its subscriptions are kept)
    /// Waiting for the pool's new-connection budget (PoolConfig::newConnectionsPerMinute, the
    /// venue's 30 a minute by default): not a failure, the attempt starts when a slot frees.
    ConnectionBudget,
};
Q_ENUM_NS(Cause)

enum class SubState : quint8 { Pending, Active, Restoring, Rejected, Failed, Unplaceable };
Q_ENUM_NS(SubState)

/// @p url for logs, reports and the UI: without user info or query (where tokens live).
QString redactedUrl(const QUrl &url);

QLatin1StringView nameOf(ConnState s);
QLatin1StringView nameOf(Cause c);
QLatin1StringView nameOf(SubState s);

struct PoolConfig
{
    QUrl url;
    int maxConnections = 10;
    int maxSubscriptionsPerConnection = 100;
    std::chrono::milliseconds pingInterval{30000};
    /// ConnectionPool::post(): a post not answered within this fails ("no answer").
    std::chrono::milliseconds postTimeout{30000};
    std::chrono::milliseconds staleTimeout{0}; ///< 0 = 2 × pingInterval + 10 s
    std::chrono::milliseconds pongTimeout{10000};
    std::chrono::milliseconds connectTimeout{10000};
    std::chrono::milliseconds closeTimeout{2000}; ///< close handshake grace before abort
    std::chrono::milliseconds backoffInitial{250};
    std::chrono::milliseconds backoffMax{30000};
    std::chrono::milliseconds stableAfter{60000}; ///< backoff resets after this long open
    int newConnectionsPerMinute = 30;             ///< pool-wide limit on new connections
    int outgoingPerMinute = 1800;                 ///< client frames of any kind, whole pool, sliding 60 s
    int pingReserve = 20;                         ///< frames of the budget only pings may use
    qint64 maxFrameBytes = 16 * 1024 * 1024;
    int restoreBatch = 50;
    std::chrono::milliseconds ackTimeout{10000};
    int maxAttempts = 3;
    std::chrono::milliseconds manualStagger{100}; ///< reconnectAll spreads attempts over n × this
    std::chrono::milliseconds idleClose{
        0}; ///< optional (seed 004): close a connection left without subscriptions
    int ioThreads = 1;
    /// Fast stall detection (issue 15): a busy connection (at least 5 frames a second) whose usual
    /// gap between frames is known and that stays silent for silenceFactor of those gaps (at least
    /// silenceMinimum) is probed with a ping at once; no pong within probeTimeout reconnects it (cause
    /// PongTimeout). 0 = off.
    double silenceFactor = 5;
    std::chrono::milliseconds silenceMinimum{1000};
    std::chrono::milliseconds probeTimeout{2000};
    /// A subscription's data is stale after this many expected intervals of its type in silence.
    double dataStaleFactor = 3;
    /// Extra HTTP headers of the WebSocket handshake (tokens, API keys): sent, never logged,
    /// never written to reports, session logs or exports.
    QList<QPair<QByteArray, QByteArray>> headers;
    /// wss://: certificates trusted besides the system store (a private CA, `--ca-file`).
    QList<QSslCertificate> extraCaCertificates;
    /// wss://: accept any certificate and host name (`--insecure`; warned about everywhere).
    bool insecureTls = false;

    std::chrono::milliseconds effectiveStaleTimeout() const
    {
        return staleTimeout.count() > 0 ? staleTimeout : 2 * pingInterval + std::chrono::milliseconds(10000);
    }
};

struct ConnectionEvent
{
    int connection = 0;
    ConnState from = ConnState::Idle;
    ConnState to = ConnState::Idle;
    Cause cause = Cause::None;
    int closeCode = 0;
    QString detail;
    QDateTime at;
    QDateTime nextAttemptAt; ///< when `to` is Backoff
    QDateTime lastFrameAt;   ///< the last frame received on the socket that is going away
};

struct ConnectionStatus
{
    int id = 0;
    ConnState state = ConnState::Idle;
    QUrl url;
    quint16 localPort = 0;
    int subscriptions = 0;
    qint64 messagesIn = 0; ///< every text/binary frame received
    qint64 bytesIn = 0;
    qint64 framesOut = 0;
    int reconnects = 0;          ///< times it opened again after having been open
    int failedAttempts = 0;      ///< connection attempts that never opened, whole run
    int consecutiveFailures = 0; ///< attempts that never opened since it was last open
    double rttMs = -1; ///< last ping RTT on the current socket; -1 while not open or not yet measured
    Cause lastCause = Cause::None;
    QString lastDetail;
    QDateTime openedAt;
    QDateTime nextAttemptAt;
    qint64 lastFrameAgeMs = -1; ///< while open: since the last frame of any kind; -1 otherwise
    /// Liveness as it happens (issue 15). While open: how long the ping in flight has waited for
    /// its pong (-1: none out), the connection's usual gap between frames (a moving average;
    /// -1 until known, or for a quiet connection) and whether it is silent now: no frame for
    /// PoolConfig::silenceFactor usual gaps (and at least PoolConfig::silenceMinimum).
    qint64 pingOutstandingMs = -1;
    qint64 usualGapMs = -1;
    bool silent = false;
    bool waitingForBudget = false; ///< in Backoff because of the new-connection budget (nextAttemptAt)
    int queuedOut = 0;             ///< frames waiting for the outgoing budget
    std::array<qint64, Hl::DecodeErrorCount> malformed{}; ///< by Hl::DecodeError
    qint64 unknownChannel = 0;
    qint64 oversized = 0;
};

/// Data latency of one subscription (issue 17): receipt time minus the venue's event time, from
/// fixed-bucket histograms (no allocation per frame). -1: no sample in the window. Frames without
/// an event time (candles, allMids, ...) give no sample.
struct LatencyFigures
{
    qint64 samples10s = 0; ///< samples in the last 10 s
    double p50Ms = -1;     ///< last 10 s
    double p99Ms = -1;
    double maxMs = -1;
    qint64 samples5m = 0; ///< samples in the last 5 min
    double p50Ms5m = -1;
    double p99Ms5m = -1;
    double maxMs5m = -1;
    /// Samples whose event time was ahead of the receipt time (our clock behind the venue's, or
    /// the venue's ahead): counted here, in no percentile.
    qint64 negative10s = 0;
    qint64 negative5m = 0;
};

/// Data latency of every subscription of one type together (issue 17), for the Latency tab,
/// metrics, the report and the session log.
struct TypeLatency
{
    QString type;
    LatencyFigures figures;
    /// Over the run, per bucket of LatencyBoundsUs (latencywindow.h; one more: above 60 s).
    QList<qint64> bucketCounts;
    qint64 samples = 0;  ///< over the run, non-negative
    qint64 negative = 0; ///< over the run, event time ahead of the receipt time
    double sumSeconds = 0;
};

/// Integrity violations of one subscription over the run (issue 17): crossed or locked books
/// (best bid >= best ask, or an empty side), its event time going backwards, the same trade
/// (`tid`) twice for a coin, frames whose fields contradict the subscription (another coin,
/// user or interval than the one subscribed).
struct IntegrityCounts
{
    qint64 crossedBook = 0;
    qint64 timeBackwards = 0;
    qint64 duplicateTrade = 0;
    qint64 contradicts = 0;
    qint64 total() const { return crossedBook + timeBackwards + duplicateTrade + contradicts; }
};

struct SubscriptionStatus
{
    Hl::Subscription subscription;
    SubState state = SubState::Pending;
    int connection = -1;
    QString error;
    qint64 messages = 0; ///< data frames routed to it over the whole run, on receipt
    qint64 bytes = 0;
    QDateTime firstMessageAt;
    QDateTime lastMessageAt;
    int attempts = 0;         ///< subscribe requests sent for the current placement
    qint64 ackLatencyMs = -1; ///< last subscribe → ack
    qint64 restores = 0;      ///< times it was re-established after a reconnect
    double rate1s = 0;        ///< messages in the last whole second
    double rate10s = 0;       ///< messages per second over the last ten whole seconds
    qint64 lastAgeMs = -1;    ///< age of the last message at the snapshot (-1: none yet)
    /// Data staleness, the second liveness level beside the connection's pong timeout: active,
    /// of a type with a cadence, and silent for more than PoolConfig::dataStaleFactor expected
    /// intervals.
    bool stale = false;
    QStringList consumers;     ///< who asked for it (filled by the model layer's registry)
    LatencyFigures latency;    ///< filled by the pool, on receipt
    IntegrityCounts integrity; ///< filled by the model layer's integrity checker
};

/// How long @p s may stay silent before its data counts as stale: @p factor expected intervals of
/// its type; 0 when silence is normal (event-driven feeds such as orderUpdates).
qint64 staleAfterMs(const Hl::Subscription &s, double factor);

/// Message counts in whole-second buckets over the last ten seconds: O(1) per message, exact
/// 1 s and 10 s rates at any moment, 96 bytes per subscription.
class SecondBuckets
{
public:
    void add(qint64 nowSec, qint32 n = 1);
    /// Messages per second over the @p seconds whole seconds before @p nowSec.
    double rate(qint64 nowSec, int seconds) const;

private:
    void advance(qint64 nowSec);
    static constexpr int Size = 11;
    std::array<qint32, Size> m_counts{};
    qint64 m_sec = -1;
};

struct ReconnectRecord
{
    int connection = 0;
    Cause cause = Cause::None;
    QString detail;
    bool manual = false;
    QDateTime startedAt;
    qint64 durationMs = -1; ///< down → last subscription settled; -1 while in progress
    /// Last frame received before the drop → last subscription settled: the data the user
    /// missed (for a stale connection it includes the silence before it was detected).
    qint64 dataGapMs = -1;
    QDateTime lastFrameAt;
    int restored = 0;
    int total = 0;
};

struct PoolCounters
{
    qint64 malformedFrames = 0;
    qint64 serverErrors = 0;
    qint64 oversizedFrames = 0;
    qint64 unroutedFrames = 0; ///< data for no subscription of that connection
    qint64 unexpectedAcks = 0;
    int outgoingUsed = 0; ///< frames sent in the last 60 s
    int outgoingCapacity = 0;
    int outgoingQueued = 0;
    int newConnectionsLastMinute = 0;
    /// Connections waiting for the new-connection budget now, and when the next of them may try
    /// (invalid when none waits).
    int waitingForConnectionBudget = 0;
    QDateTime nextConnectionSlotAt;
    QHash<QString, qint64> serverErrorsByKind;
};

/// The venue's per-IP limits (PROTOCOL.md §3).
struct VenueLimits
{
    static constexpr int subscriptions = 1000;
    static constexpr int users = 10;
    static constexpr int connections = 10;
    static constexpr int newConnectionsPerMinute = 30;
    static constexpr int messagesPerMinute = 2000;
};

/// The limits the pool works within (from its PoolConfig), for gauges and reports: each with
/// whether it is the venue's own value or one the configuration changed.
struct PoolLimits
{
    int subscriptions = VenueLimits::subscriptions; ///< maxConnections x maxSubscriptionsPerConnection
    int users = VenueLimits::users;                 ///< not configurable: the venue's
    int connections = VenueLimits::connections;
    int newConnectionsPerMinute = VenueLimits::newConnectionsPerMinute;
    int messagesPerMinute = 1800; ///< the pool's outgoing budget, under the venue's 2000
    static PoolLimits of(const PoolConfig &config);
};

struct PoolSnapshot
{
    QDateTime at;
    QList<ConnectionStatus> connections;
    QList<SubscriptionStatus> subscriptions;
    QList<ReconnectRecord> reconnects;
    PoolCounters counters;
    PoolLimits limits;
    bool paused = false;              ///< the user disconnected the pool
    QList<TypeLatency> latencyByType; ///< types with at least one latency sample, by name
    ClockSync clock;                  ///< the kernel's clock discipline, re-read every few seconds
};

/// One routed data frame, as handed to consumers (dispatcher, recorder, statistics).
struct DataFrame
{
    int connection = 0;
    QByteArray key;        ///< canonical subscription
    QByteArray raw;        ///< the frame's bytes (shared)
    qint64 receivedNs = 0; ///< monotonic receive time
    bool snapshot = false;
    qint64 eventTimeMs = 0; ///< the venue's event time (Hl::Envelope::eventTimeMs), 0: none
};

} // namespace FeedScope

Q_DECLARE_METATYPE(FeedScope::ConnectionEvent)
Q_DECLARE_METATYPE(FeedScope::PoolSnapshot)
Q_DECLARE_METATYPE(FeedScope::DataFrame)

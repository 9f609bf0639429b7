#pragma once

#include "subscription.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QUrl>
#include <QWebSocketServer>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>

class QTcpServer;
class QTcpSocket;
class QWebSocket;

namespace FeedScope {
struct RecordedFrame;
}

namespace FeedScope::Sim {
Q_NAMESPACE

/// The real server's per-client-address limits (PROTOCOL.md §3), each configurable.
struct Limits
{
    int maxConnections = 10;               ///< concurrent; the handshake beyond it is refused (HTTP 429)
    int maxNewConnectionsPerMinute = 30;   ///< accepted handshakes in any sliding 60 s
    int maxSubscriptions = 1000;           ///< "Cannot subscribe to more than N channels."
    int maxSubscriptionsPerConnection = 0; ///< 0 = none; same error text, counted per connection
    int maxUsers = 10;                     ///< "Cannot track more than N total users."
    int maxMessagesPerMinute = 2000;       ///< "Cannot send more than N messages per minute."
    std::chrono::milliseconds idleTimeout{60000}; ///< close after this long without client traffic
};

enum class MalformedKind : quint8 { NotJson, Binary, UnknownChannel, WrongShape, EmptyTrades };
Q_ENUM_NS(MalformedKind)

enum class FaultKind : quint8 {
    Abort, ///< abort connection(s) without a close frame
    Close, ///< close with a given close code and reason
    Stall, ///< stop sending and stop answering pings; the socket stays open
    Unstall,
    Reject,    ///< answer future subscribes of a subscription with "Invalid subscription {…}"
    Malformed, ///< send a malformed frame
    Oversized, ///< send one text frame of N bytes
    Flood,     ///< send N data frames of one subscription as fast as possible
    Restart,   ///< stop listening, drop every connection, listen again on the same port after N ms
    // Integrity faults (issue 17): one frame of a subscription on every connection holding it.
    Crossed,   ///< l2Book/bbo: a book whose best bid is above its best ask
    Backwards, ///< l2Book/bbo/trades: a frame stamped N ms (default 1000) before the previous one
    Duplicate, ///< trades: the last trade sent again (same tid and time)
    Foreign,   ///< trades: a frame that also carries a trade of another coin
    // Event-time faults, from now on for every frame (0 ends them).
    Delay,  ///< event times stamped N ms before sending (frames N ms late)
    Offset, ///< the simulator's clock ahead (positive) or behind (negative) by Fault::offsetMs
};
Q_ENUM_NS(FaultKind)

/// One fault, from the command line (`AT_MS:KIND[:ARGS]`), the control channel (JSON) or code.
struct Fault
{
    FaultKind kind = FaultKind::Abort;
    int connection = -1; ///< simulator connection id; -1 = every connection
    int closeCode = 1000;
    QString reason;
    MalformedKind malformed = MalformedKind::NotJson;
    qint64 amount = 0;   ///< bytes (Oversized), frames (Flood), ms down (Restart), ms (Backwards, Delay)
    qint64 offsetMs = 0; ///< Offset: signed milliseconds
    Hl::Subscription subscription;   ///< Reject, Flood, Crossed, Backwards, Duplicate, Foreign
    std::chrono::milliseconds at{0}; ///< scheduled time after start (command line)

    static Fault make(FaultKind kind, int connection = -1)
    {
        Fault f;
        f.kind = kind;
        f.connection = connection;
        return f;
    }
    /// `AT_MS:KIND[:ARGS]`, e.g. `5000:abort:all`, `8000:close:2:4000`, `9000:stall:1`,
    /// `12000:restart:2000`, `15000:malformed:all:notJson`, `16000:oversized:1:20000000`,
    /// `20000:flood:{"type":"trades","coin":"BTC"}:100000`, `0:reject:{"type":"bbo","coin":"X"}`,
    /// `3000:crossed:{"type":"bbo","coin":"BTC"}`, `3000:backwards:{"type":"l2Book","coin":"ETH"}:500`,
    /// `3000:duplicate:{"type":"trades","coin":"BTC"}`, `0:delay:250`, `0:offset:-1500`.
    static std::optional<Fault> parseSpec(const QString &spec, QString *error);
    /// {"fault":"abort","connection":1} and so on, as sent on the control channel.
    static std::optional<Fault> fromJson(const QJsonObject &object, QString *error);
    /// Text of the command-line grammar, for --help.
    static QString grammar();
};

struct SimulatorConfig
{
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 0; ///< 0 = any free port
    quint64 seed = 1;
    Limits limits;
    double rateScale = 1.0;       ///< multiplies every data rate
    QHash<QString, double> rates; ///< per-type messages per second, overriding the defaults
    std::chrono::milliseconds tick{10};
    QString replayFile; ///< serve this recording instead of synthetic data
    /// The route keys whose subscriptions start the replay; empty: every route key of the
    /// recording (a replayer that knows some of them cannot be subscribed names the others).
    QSet<QByteArray> replayNeeds;
    /// Shift the event times in replayed frames ("time", "statusTimestamp") by how much later
    /// each frame is sent than it was received when recorded, so that data latency reads as it
    /// was recorded, not as the recording's age. Off: the frames go out byte for byte.
    bool replayRetime = false;
    double replaySpeed = 1.0; ///< 1 = as recorded, N = N× faster, 0 = as fast as possible
    std::chrono::milliseconds replayWait{
        5000}; ///< start replay at the latest this long after the first subscribe
    /// Event times stamped this long before sending (frames this late; FaultKind::Delay).
    std::chrono::milliseconds delay{0};
    /// The simulator's clock ahead (positive) or behind (negative) by this much (FaultKind::Offset).
    std::chrono::milliseconds clockOffset{0};
};

/// A local server that speaks Hyperliquid's WebSocket protocol, with the real server's limits and
/// faults on demand. Used by `--demo`, by the tests and by the benchmarks; `feedscope-sim` runs it
/// standalone. Feed connections live at `/ws`; `/control` accepts fault commands as JSON.
class FeedSimulator final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FeedSimulator)

public:
    explicit FeedSimulator(SimulatorConfig config = {}, QObject *parent = nullptr);
    ~FeedSimulator() override;

    bool start(QString *error = nullptr);
    void stop();
    bool isListening() const;
    quint16 port() const { return m_port; }
    QUrl url() const;
    QUrl controlUrl() const;

    struct ConnectionInfo
    {
        int id = 0;
        quint16 peerPort = 0;
        int subscriptions = 0;
        bool stalled = false;
        qint64 requests = 0;
        qint64 dataFrames = 0;
    };
    QList<ConnectionInfo> connections() const;
    /// Canonical subscriptions held by connection @p id.
    QList<Hl::Subscription> subscriptionsOf(int id) const;
    int subscriptionCount() const;
    /// Data frames sent for @p s over the simulator's lifetime, on every connection.
    qint64 dataFramesSent(const Hl::Subscription &s) const;
    qint64 totalDataFramesSent() const { return m_totalDataFrames; }
    /// Subscribe requests received for @p s (acks + errors) over the simulator's lifetime.
    qint64 subscribeRequests(const Hl::Subscription &s) const
    {
        return m_subscribeRequests.value(s.canonical());
    }
    qint64 refusedHandshakes() const { return m_refusedHandshakes; }
    int idOfPeerPort(quint16 peerPort) const;

    /// Stops (resumes) producing synthetic data everywhere, e.g. to let in-flight frames settle.
    void setDataPaused(bool paused);

    /// Where a replay (SimulatorConfig::replayFile) stands.
    struct ReplayProgress
    {
        qint64 sent = 0;       ///< recorded data frames served so far
        qint64 total = 0;      ///< data frames in the recording
        qint64 positionNs = 0; ///< recorded time of the last frame served, since the first
        qint64 durationNs = 0; ///< recorded time of the last frame
        double speed = 1;      ///< 0 = as fast as possible
        bool started = false;  ///< the subscriptions the recording needs are all there (or the wait ran out)
        bool paused = false;
        bool finished = false;
    };
    ReplayProgress replayProgress() const;
    /// Pauses (resumes) the replay where it is; the recorded pacing continues from there.
    void setReplayPaused(bool paused);
    /// 1 = as recorded, N = N× faster, 0 = as fast as possible; takes effect from the next frame.
    void setReplaySpeed(double speed);

    /// Event-time faults in force (SimulatorConfig::delay, clockOffset, or faults since).
    qint64 delayMs() const { return m_delayMs; }
    qint64 clockOffsetMs() const { return m_offsetMs; }
    /// The event time the next synthetic frame gets: the wall clock (never going back, even when
    /// the system clock is stepped), plus the clock offset, less the delay.
    qint64 eventTimeMs();

    /// Runs @p fault now. Returns false (with @p error) when it names a missing connection, or an
    /// integrity fault's subscription that no connection holds (or that cannot be twisted yet).
    bool apply(const Fault &fault, QString *error = nullptr);
    /// Runs @p fault at fault.at after start() (or now, if that time has passed).
    void schedule(const Fault &fault);

Q_SIGNALS:
    void clientConnected(int id);
    void clientDisconnected(int id);
    void requestReceived(int id, const QByteArray &text);
    void subscribed(int id, const QByteArray &canonical);
    void unsubscribed(int id, const QByteArray &canonical);
    void errorSent(int id, const QString &text);
    void handshakeRefused(const QString &reason);
    void listeningChanged(bool listening);
    void replayFinished(qint64 frames);
    /// At most four times a second while a replay runs, and at every change of state.
    void replayProgressed(const FeedScope::Sim::FeedSimulator::ReplayProgress &progress);
    void faultApplied(const QString &description);

private:
    struct Sub;
    struct Client;
    struct AddressState;

    void onTcpConnection();
    void inspectHandshake(QTcpSocket *socket);
    void onWebSocket();
    void onText(Client *c, const QString &text);
    void handleSubscribe(Client *c, const QJsonObject &request, const QString &raw);
    void handleUnsubscribe(Client *c, const QJsonObject &request, const QString &raw);
    void handlePost(Client *c, const QJsonObject &request);
    void handleControl(QWebSocket *socket, const QString &text);
    void dropClient(int id);
    void removeSubscription(Client *c, const QByteArray &ackKey);
    void sendText(Client *c, const QByteArray &frame);
    void sendError(Client *c, const QString &text);
    void sendData(Client *c, Sub &s, qint64 wallMs);
    void onTick();
    void onIdleCheck();
    void flood(const Fault &f);
    void floodStep(const QByteArray &ackKey, int connection, qint64 left);
    bool sendTwisted(const Fault &f, QString *error);
    void retire(const Sub &s);
    void updateTickTimer();
    bool loadReplay(QString *error);
    void startReplay();
    void replayStep();
    void announceReplay(bool force);
    void scheduleReplayStep();
    void rebaseReplay();
    QList<Client *> targets(int id) const;
    AddressState &address(const QHostAddress &a);
    double rateFor(const Hl::Subscription &s) const;
    static QByteArray ackEcho(const Hl::Subscription &s);

    SimulatorConfig m_cfg;
    QTcpServer *m_tcp = nullptr;
    QWebSocketServer m_ws{QStringLiteral("feedscope-sim"), QWebSocketServer::NonSecureMode, this};
    quint16 m_port = 0;
    QElapsedTimer m_clock;
    QTimer m_tick{this};
    QTimer m_idleCheck{this};
    std::map<int, std::unique_ptr<Client>> m_clients;
    QHash<QTcpSocket *, quint16> m_pending; ///< upgrading feed sockets holding a connection slot
    QList<QWebSocket *> m_control;
    QHash<QString, AddressState *> m_addresses;
    QSet<QByteArray> m_rejected; ///< ackKeys answered with "Invalid subscription"
    QHash<QByteArray, qint64> m_sentPerSubscription;
    QHash<QByteArray, qint64> m_subscribeRequests;
    qint64 m_totalDataFrames = 0;
    qint64 m_refusedHandshakes = 0;
    int m_nextId = 1;
    bool m_started = false;
    bool m_dataPaused = false;
    QList<std::shared_ptr<QTimer>> m_scheduled;
    qint64 m_delayMs = 0;
    qint64 m_offsetMs = 0;
    qint64 m_lastWallMs = 0;
    QHash<QByteArray, quint64> m_lastTids; ///< canonical → last trade id of a feed gone away

    // Replay
    struct ReplayFrame
    {
        qint64 ns = 0;     ///< since the first recorded frame
        qint64 wallMs = 0; ///< receive wall time when recorded
        QByteArray frame;
        QByteArray routeKey;
    };
    QList<ReplayFrame> m_replay;
    QSet<QByteArray> m_replayKeys; ///< route keys the recording needs
    qsizetype m_replayPos = -1;    ///< -1 = not started
    qint64 m_replayStartNs = 0;
    qint64 m_replaySent = 0;
    double m_replaySpeed = m_cfg.replaySpeed;
    bool m_replayPaused = false;
    qint64 m_replayAnnouncedNs = 0;
    QTimer m_replayTimer{this};
    QTimer m_replayWait{this};
};

} // namespace FeedScope::Sim

Q_DECLARE_METATYPE(FeedScope::Sim::FeedSimulator::ReplayProgress)

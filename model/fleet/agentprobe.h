#pragma once

#include <QDateTime>
#include <QList>
#include <QNetworkReply>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <deque>
#include <optional>

class QNetworkAccessManager;

namespace FeedScope {

/// Where an agent is: its metrics port's base URL (http or https, no path) and a name.
struct AgentAddress
{
    QUrl base;    ///< http://host:port (https:// when the agent serves TLS)
    QString name; ///< given by the user; empty: host:port

    /// Accepts `http://host:9100`, `https://host:9100`, `ws://host:9100/live`, `wss://…/live`,
    /// `host:9100` (http assumed); anything else (no host, no port, another scheme, a path other
    /// than /, /live, /report, /healthz, /metrics) is refused with @p error saying why.
    static std::optional<AgentAddress> parse(const QString &url, const QString &name, QString *error);
    QString displayName() const;
    QString hostPort() const;
    QUrl liveUrl() const; ///< ws://host:port/live (wss:// for https)
    QUrl endpoint(const QString &path) const;
    friend bool operator==(const AgentAddress &, const AgentAddress &) = default;
};

/// A fleet file: one agent per line, `URL [NAME]` (the name is the rest of the line), `#` starts a
/// comment, blank lines are skipped. Bad lines are reported (`line 3: …`) and the good ones kept.
struct FleetFile
{
    QList<AgentAddress> agents;
    QStringList errors;
};
FleetFile parseFleetText(const QByteArray &text);
/// As parseFleetText() on @p path's content; an unreadable file gives one error and no agent.
FleetFile loadFleetFile(const QString &path);

/// What an agent's `/healthz` says (model/metrics.cpp's health()).
struct AgentHealth
{
    bool healthy = false;
    int connectionsUp = 0;
    int connectionsTotal = 0;
    int subscriptionsActive = 0;
    int subscriptionsTotal = 0;
    QStringList downConnections; ///< "3 (waiting to retry)", at most the 20 the agent lists
    int alertsFiring = 0;
    int criticalAlerts = 0;
    QStringList alertTexts; ///< at most 20
    QString reason;         ///< "no snapshot yet", "no connection"
};
/// Parses a `/healthz` body; a body that is not JSON, not an object or has wrong-typed fields
/// gives std::nullopt and @p error.
std::optional<AgentHealth> parseHealth(const QByteArray &body, QString *error);

/// The counters of an agent's `/metrics` that a fleet row needs (sums over their labels).
struct AgentCounters
{
    double messages = 0;     ///< feedscope_data_messages_total
    double reconnects = 0;   ///< feedscope_reconnects_total
    double dropped = 0;      ///< feedscope_dispatcher_dropped_total
    int gatewayClients = -1; ///< feedscope_gateway_clients; -1: the agent runs no gateway
    double startTimeS = 0;   ///< feedscope_start_time_seconds
    QString version;         ///< feedscope_build_info{version}
};
/// Parses a Prometheus text exposition; a line that is not `name[{labels}] value` or a body
/// without any feedscope_ sample gives std::nullopt and @p error.
std::optional<AgentCounters> parseMetrics(const QByteArray &body, QString *error);

/// One agent's state as the fleet sees it.
struct AgentStatus
{
    enum class Reach : quint8 {
        Unknown,  ///< not polled yet
        Up,       ///< answered with figures
        Down,     ///< no answer (refused, timed out, host unknown)
        BadAnswer ///< answered, but not with something FeedScope understands (or too much)
    };
    Reach reach = Reach::Unknown;
    QDateTime since;         ///< when reach last changed
    QString error;           ///< the last failure (empty while up)
    QDateTime lastSeen;      ///< the last good answer
    bool hasFigures = false; ///< health and counters hold an answer (kept while down: the last known)
    AgentHealth health;
    AgentCounters counters;
    double messagesPerSecond = -1; ///< -1: not known yet (two answers needed)
    qint64 reconnectsLastHour = -1;
    bool reconnectsExact = false; ///< false: counted since watching began (agent up for more than an hour)
    QDateTime watchedSince;
    double dropsRecent = 0;  ///< dropped since the previous answer
    int failures = 0;        ///< consecutive
    qint64 nextPollInMs = 0; ///< after the last poll
    qint64 bytesReceived = 0;
    qint64 polls = 0;
};

/// Polls one agent's `/healthz` and `/metrics` (both small whatever the number of subscriptions,
/// unlike `/report`) with a deadline per request, a size bound and no redirect: the agent is
/// untrusted, so anything odd becomes a BadAnswer with a reason, never a crash or a wait.
class AgentProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AgentProbe)

public:
    static constexpr qint64 DefaultTimeoutMs = 5000;
    static constexpr qint64 DefaultMaxBytes = 4 * 1024 * 1024;
    static constexpr qint64 MaxBackoffMs = 60000;

    /// @p nam nullptr: a manager of its own. The fleet gives every agent its own: Qt 6.4 reads the
    /// HTTP of one manager on one thread, where an agent streaming endless header lines starves
    /// every other agent's request (found by tst_fleet's hostile-headers).
    explicit AgentProbe(const AgentAddress &address, QNetworkAccessManager *nam = nullptr,
                        QObject *parent = nullptr);
    ~AgentProbe() override;

    const AgentAddress &address() const { return m_address; }
    void setAddress(const AgentAddress &a) { m_address = a; }
    const AgentStatus &status() const { return m_status; }
    void setTimeoutMs(qint64 ms) { m_timeoutMs = ms; }
    void setMaxBytes(qint64 bytes) { m_maxBytes = bytes; }
    /// The poll interval; failures back off from it (doubling, at most MaxBackoffMs).
    void setIntervalMs(qint64 ms) { m_intervalMs = ms; }

    bool isBusy() const { return m_reply != nullptr; }
    /// Whether a poll is due at monotonic @p nowMs (not busy, the backoff elapsed).
    bool isDue(qint64 nowMs) const;
    /// Starts a poll (nothing when one runs).
    void poll();

    /// Monotonic milliseconds of this process (relative use only).
    static qint64 nowMs();

Q_SIGNALS:
    void changed();

private:
    void request(const QString &path);
    void finishedOne();
    void fail(AgentStatus::Reach reach, const QString &error);
    void succeed();
    void setReach(AgentStatus::Reach r);

    AgentAddress m_address;
    QNetworkAccessManager *m_nam;
    QPointer<QNetworkReply> m_reply;
    QString m_path;
    QByteArray m_healthBody;
    qint64 m_timeoutMs = DefaultTimeoutMs;
    qint64 m_maxBytes = DefaultMaxBytes;
    qint64 m_intervalMs = 2000;
    qint64 m_lastPollMs = -1;
    qint64 m_lastGoodMs = -1;
    double m_lastMessages = -1;
    double m_lastDropped = -1;
    std::deque<std::pair<qint64, double>> m_reconnectSamples; ///< (monotonic ms, total)
    QString m_abortReason;
    AgentStatus::Reach m_abortReach = AgentStatus::Reach::Down;
    AgentStatus m_status;
};

} // namespace FeedScope

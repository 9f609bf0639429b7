#pragma once

#include "alerts.h"
#include "dispatcher.h"
#include "pooltypes.h"

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <array>
#include <map>
#include <memory>

class QHttpServer;

namespace FeedScope {

class Engine;
class LiveServer; // issue 18: the /live WebSocket on the same port

/// Writes the Prometheus text exposition format (0.0.4): a HELP and a TYPE line once per family,
/// label values escaped (backslash, double quote, newline), histograms with cumulative `le`
/// buckets, `+Inf`, `_sum` and `_count`.
class PromWriter
{
public:
    using Labels = std::initializer_list<std::pair<const char *, QString>>;
    enum class Type { Counter, Gauge, Histogram };

    void family(const char *name, Type type, const char *help);
    void sample(const char *name, Labels labels, double value);
    /// @p bounds ascending upper bounds; @p counts per bucket (not cumulative), one more than
    /// bounds (the last is above every bound).
    void histogram(const char *name, Labels labels, const QList<double> &bounds, const QList<qint64> &counts,
                   double sum);
    QByteArray take() { return std::move(m_out); }

    static QString escapeLabel(const QString &value);
    static QByteArray number(double v);

private:
    void line(const QByteArray &name, Labels labels, const QString &extraKey, const QString &extraValue,
              double value);
    QByteArray m_out;
};

/// Upper bounds (seconds) of the reconnect-duration histogram.
inline constexpr std::array<double, 12> ReconnectBucketsS{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                          1,    2.5,   5,    10,  30,   60};

/// What the endpoint shows, gathered on the engine's thread.
struct MetricsInput
{
    PoolSnapshot snapshot;
    QList<ConsumerStats> dispatcher;
    QList<qint64> messagesByType; ///< catalogue order
    /// Reconnects by (connection, cause) over the run, and the duration histogram.
    std::map<std::pair<int, QString>, qint64> reconnects;
    std::array<qint64, ReconnectBucketsS.size() + 1> reconnectBuckets{};
    double reconnectSecondsSum = 0;
    qint64 reconnectCount = 0;
    int perSubscriptionSeries = 0; ///< 0: none; else at most this many subscriptions get their own series
    double startTimeS = 0;
    /// Issue 17: every rule's id and how many subjects it fires for now (0 when quiet or off).
    QList<QPair<QString, int>> alertsFiring;
};

QByteArray renderMetrics(const MetricsInput &in);

/// `/healthz`: healthy when every connection is open and every subscription active; the body
/// says what is wrong (at most 20 items of each kind are listed, with the totals).
struct Health
{
    bool healthy = false;
    QJsonObject body;
};
Health health(const PoolSnapshot &snapshot);
/// Issue 17: as above, and the firing alerts named in `reasons` (their texts) and `alerts`
/// (their JSON; at most 20 of each, `alertsFiring` the total). A critical alert makes it unhealthy.
Health health(const PoolSnapshot &snapshot, const QList<Alert> &firing);

class GatewayService;

/// The gateway's series (issue 14): clients, frames and bytes out, drops, coalesced, queue bytes
/// (sum and largest), disconnects by reason, refused handshakes by HTTP status, malformed frames,
/// upstream subscriptions (held, lingering); per client (`client="NAME #ID"`) only for the
/// first @p perClientSeries clients.
QByteArray renderGatewayMetrics(const GatewayService &gateway, int perClientSeries);

/// Serves `/metrics`, `/healthz` and `/report` for an Engine, on its thread (Qt HttpServer).
/// Binds to 127.0.0.1 unless told otherwise: the numbers say which feeds a host trades on.
class MetricsServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MetricsServer)

public:
    explicit MetricsServer(Engine *engine, QObject *parent = nullptr);
    ~MetricsServer() override;

    void setPerSubscriptionSeries(int cap) { m_perSubscription = cap; }
    /// Returns the port listened on (useful with port 0), or 0 with @p error set.
    quint16 listen(const QHostAddress &address, quint16 port, QString *error);
    MetricsInput input() const;
    /// Where it listens (empty before listen()).
    QList<QPair<QHostAddress, quint16>> listening() const;
    qint64 scrapes() const { return m_scrapes; }
    /// Issue 14: /metrics also shows @p gateway's series (nullptr: none), /report its section.
    void setGatewayService(GatewayService *gateway, int perClientSeries = 0);
    /// Issue 18: the `/live` WebSocket served on the same port (model/live/liveserver.h).
    LiveServer *live() const { return m_live.get(); }

private:
    QByteArray gatewayText() const;
    QPointer<GatewayService> m_gateway;
    int m_perClient = 0;

    Engine *m_engine;
    std::unique_ptr<QHttpServer> m_http;
    MetricsInput m_counts; ///< the run's reconnect counts and histogram
    int m_perSubscription = 0;
    qint64 m_scrapes = 0;
    std::unique_ptr<LiveServer> m_live; ///< issue 18
};

} // namespace FeedScope

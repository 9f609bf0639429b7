#pragma once

// The `feedscope.live/1` protocol (issue 18): what the agent's /live WebSocket sends and what the
// window's LiveSource reads back into the same types the local engine publishes. Both sides use
// these declarations, so a field cannot drift between them.

#include "dispatcher.h"
#include "pooltypes.h"
#include "sessionlog.h"

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QPointF>
#include <QString>

#include <deque>
#include <optional>

namespace FeedScope::Live {

inline constexpr QLatin1StringView Schema{"feedscope.live/1"};

/// Bounds of what either side accepts: a message larger than these is refused unread.
inline constexpr qint64 MaxClientMessageBytes = 64 * 1024;          ///< window → agent
inline constexpr qint64 MaxServerMessageBytes = 64LL * 1024 * 1024; ///< agent → window
inline constexpr int MaxEventsKept =
    2000; ///< session events a window keeps (and a full state carries at most)
inline constexpr int MaxEventsPerMessage = 500; ///< new events in one tick
inline constexpr int ChartHistorySeconds = 300; ///< the window's charts: the last 5 min
inline constexpr int MaxInspectMessages = 200;  ///< frames one inspect reply carries at most
inline constexpr qint64 MaxInspectBytes = 1024 * 1024;
inline constexpr int MaxRows = 200000; ///< subscriptions or connections one message may name

/// The agent as the stream describes it (the window's title and status bar).
struct AgentInfo
{
    QString version;
    QString url; ///< the venue URL the agent's pool uses, redacted
    QDateTime startedAt;
    int rateHz = 10;
    bool controlEnabled = false; ///< the agent was started with --control-token
    bool gatewayRunning = false;
};

/// One chart sample (once a second): series name → value, names as PoolController::seriesName.
struct ChartSample
{
    qint64 atMs = 0; ///< wall clock, ms since the epoch
    QList<QPair<QString, double>> values;
};

/// A gateway client as the stream carries it (the fleet and Clients views).
struct GatewayClient
{
    int id = 0;
    QString name;
    QString peer;
    int subscriptions = 0;
    qint64 framesOut = 0;
    qint64 dropped = 0;
    qint64 queuedBytes = 0;
};

/// Everything a window knows of an agent: rebuilt from the full state, kept current by ticks.
struct State
{
    bool valid = false; ///< a full state was applied
    qint64 seq = 0;     ///< of the last message applied
    AgentInfo agent;
    PoolSnapshot snapshot;
    QList<ConsumerStats> consumers;
    std::deque<SessionEvent> events; ///< oldest first, at most MaxEventsKept
    std::deque<ChartSample> chart;   ///< oldest first, the last ChartHistorySeconds
    QJsonArray alerts;               ///< firing alerts, each as Alert::toJson()
    QList<GatewayClient> gatewayClients;
    QHash<int, qsizetype> subRow;  ///< the stream's subscription id → row in snapshot.subscriptions
    QHash<int, qsizetype> connRow; ///< connection id → row in snapshot.connections
    QList<int> subIds;             ///< per row of snapshot.subscriptions: its stream id
};

/// What one message from the agent did, for the source's signals.
struct Applied
{
    QString type; ///< full, tick, reply, inspect, error
    bool full = false;
    int newEvents = 0;
    int newChartSamples = 0;
    bool alertsChanged = false;
    QJsonObject reply; ///< for a reply: the whole message
};

/// Parses @p message (one text message from /live) and applies it to @p state. All or nothing:
/// on any error (not JSON, unknown schema, wrong types, an unknown row id, over the bounds)
/// @p state is left exactly as it was and @p error says what was wrong.
bool apply(const QByteArray &message, State &state, Applied *applied, QString *error);

/// Rebuilds the chart history of @p state as points per series (x: wall ms), like TimeSeriesSet.
QHash<QString, QList<QPointF>> chartSeries(const State &state);

// -------------------------------------------------------------------------------------------
// Encoding (the agent's side)

QJsonObject connectionJson(const ConnectionStatus &c);
/// The connection's fields that change every tick (counts, ages, RTT): sent once a second.
QJsonArray connectionCountersJson(const ConnectionStatus &c);
QJsonObject subscriptionStructJson(int id, const SubscriptionStatus &s, bool withKey);
/// Appends `[id,messages,bytes,lastAgeMs,rate1s,rate10s]` to @p out (no allocation per field).
void appendSubscriptionCounters(QByteArray &out, int id, const SubscriptionStatus &s);
void appendSubscriptionLatency(QByteArray &out, int id, const LatencyFigures &l);
QJsonObject countersJson(const PoolCounters &c);
QJsonObject limitsJson(const PoolLimits &l);
QJsonObject consumerJson(const ConsumerStats &c);
QJsonObject reconnectJson(const ReconnectRecord &r);
QJsonObject eventJson(const SessionEvent &e);
QJsonObject chartJson(const ChartSample &s);
QJsonArray latencyByTypeJson(const QList<TypeLatency> &types);

/// Whether the fields a tick sends at once (not the once-a-second counters) are equal.
bool sameStructure(const SubscriptionStatus &a, const SubscriptionStatus &b);
bool sameCounters(const SubscriptionStatus &a, const SubscriptionStatus &b);
bool sameLatency(const LatencyFigures &a, const LatencyFigures &b);

} // namespace FeedScope::Live

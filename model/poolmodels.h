#pragma once

#include "pooltypes.h"

#include <QAbstractTableModel>
#include <QHash>

#include <deque>

namespace FeedScope {

/// Roles shared by FeedScope's item models.
enum ModelRole {
    RawValueRole = Qt::UserRole, ///< the number (or text) that proxies sort on and charts read
    SeverityRole,                ///< a Severity; ui/ maps it to palette colours
    KeyRole,                     ///< the row's identity (connection id or canonical subscription)
    RowSeverityRole,             ///< a Severity: the worst of the row (row tint, icon, problems first)
    FilterTextRole,              ///< extra text a filter matches besides the cells (full user, raw names)
};

/// How healthy a cell looks; colours are chosen in ui/, so the model needs no Qt::Gui.
enum class Severity : quint8 { Neutral, Good, Warning, Bad };

/// Messages per second over the last ~second, from successive cumulative counts.
class RateWindow
{
public:
    void add(qint64 nowMs, qint64 count);
    double perSecond() const;

private:
    std::deque<std::pair<qint64, qint64>> m_samples;
};

/// The status bar's figures, from one snapshot.
struct PoolSummary
{
    int connectionsUp = 0;
    int connectionsTotal = 0;
    int subscriptionsActive = 0;
    int subscriptionsTotal = 0;
    int subscriptionsProblem = 0; ///< rejected, failed or unplaceable
    int subscriptionsStale = 0;   ///< active but their data is late (stale, or on a silent connection)
    int connectionsSilent = 0;    ///< open but silent or waiting for a pong
    int reconnects = 0;
    qint64 malformed = 0;
    qint64 serverErrors = 0;
    int outgoingUsed = 0;
    int outgoingCapacity = 0;
};
PoolSummary summarize(const PoolSnapshot &snapshot);

/// Short human texts for numbers (one place, tested on its own).
namespace Format {
QString rate(double perSecond);
QString bytes(double bytes);
QString duration(qint64 ms);
QString age(qint64 ms);
/// A lag in microseconds ("850 µs", "12.5 ms").
QString micros(qint64 us);
/// A data latency in ms ("0.4 ms", "12.5 ms", "250 ms", "1.25 s"); "—" when negative (no sample).
QString latency(double ms);
/// The tooltip lines of a latency: 10 s and 5 min figures, samples, the clock's error.
QStringList latencyDetails(const LatencyFigures &f, const ClockSync &clock);
/// "1 channel" or "3 channels": @p many holds %1 (English plurals without a translator loaded).
QString plural(qint64 n, const QString &one, const QString &many);
/// Human names of the pool's internal states and causes (the raw name goes in tooltips).
QString connState(ConnState s);
QString cause(Cause c);
QString subState(SubState s);
/// A connection's state as the State cell shows it: "open", "open · silent 7.0 s",
/// "open · awaiting pong 3.2 s", "waiting to retry (3 failed)".
/// @p at the snapshot's time, for countdowns ("next in 12 s"); invalid: none.
QString connectionState(const ConnectionStatus &c, const QDateTime &at = {});
/// A countdown in whole seconds, rounded up.
QString budgetWait(qint64 ms);
/// The reconnects cell: "2", "0 (5 failed)".
QString reconnects(const ConnectionStatus &c);
} // namespace Format

/// A ping unanswered for this long shows as "awaiting pong" (a normal pong takes milliseconds).
constexpr qint64 AwaitingPongShownAfterMs = 1000;
/// Whether @p c looks unhealthy while open: silent, or a ping left unanswered.
bool isSilent(const ConnectionStatus &c);

/// Connections of the pool, one row each, updated from snapshots: batched inserts, one
/// dataChanged per tick.
class ConnectionsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Id,
        State,
        LastFrame,
        Rtt,
        MsgsPerSec,
        KBPerSec,
        Subscriptions,
        Uptime,
        Reconnects,
        NextRetry,
        LastCause,
        Url,
        ColumnCount
    };
    Q_ENUM(Column)

    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void applySnapshot(const PoolSnapshot &snapshot);
    const ConnectionStatus *statusAt(int row) const;
    double totalRate() const;

private:
    struct Row
    {
        ConnectionStatus status;
        RateWindow msgs;
        RateWindow bytes;
    };
    QList<Row> m_rows;
    QHash<int, int> m_index; ///< connection id → row
    QDateTime m_at;
};

/// Subscriptions (channels), one row each.
class SubscriptionsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Type,
        Params,
        State,
        MsgsPerSec,
        Rate10s,
        Total,
        LastAge,
        LatencyP50, ///< data latency (issue 17), last 10 s
        LatencyP99,
        Integrity, ///< integrity violations over the run (issue 17), breakdown in the tooltip
        Connection,
        Consumers,
        AckLatency,
        Error,
        ColumnCount
    };
    Q_ENUM(Column)
    /// p99 above this (10 s) turns the latency cells amber.
    static constexpr double HighLatencyMs = 1000;

    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void applySnapshot(const PoolSnapshot &snapshot);
    const SubscriptionStatus *statusAt(int row) const;
    /// The row of the canonical subscription @p key, or -1.
    int rowOf(const QByteArray &key) const;
    /// Rates and staleness come from the engine (SubscriptionStatus::rate1s, rate10s, stale).
    bool isStale(int row) const;

private:
    struct Row
    {
        SubscriptionStatus status;
        bool connectionSilent = false;        ///< its connection is open but silent
        bool connectionDown = false;          ///< its connection is not open
        bool connectionWaitingBudget = false; ///< ... because it waits for the new-connection budget
    };
    Severity rowSeverity(const Row &r) const;
    QList<Row> m_rows;
    QHash<QByteArray, int> m_index; ///< canonical key → row
    bool m_paused = false;          ///< the user disconnected the pool
    QDateTime m_at;
    ClockSync m_clock; ///< for the latency tooltips
};

/// Data latency per subscription type (issue 17), one row each, from snapshots: the Latency tab's
/// table. Types appear with their first sample.
class LatencyModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Type, P50, P99, Max, P50_5m, P99_5m, Max_5m, Samples10s, Samples5m, Ahead, ColumnCount };
    Q_ENUM(Column)

    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void applySnapshot(const PoolSnapshot &snapshot);
    const TypeLatency *latencyAt(int row) const;
    const ClockSync &clock() const { return m_clock; }

private:
    QList<TypeLatency> m_rows; ///< by type name, as the pool lists them
    ClockSync m_clock;
};

/// Reconnects, newest last; a bounded ring.
class ReconnectsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Time, ConnectionId, Cause, Manual, Outage, DataGap, Restored, Detail, ColumnCount };
    Q_ENUM(Column)

    explicit ReconnectsModel(int capacity = 1000, QObject *parent = nullptr);
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void applySnapshot(const PoolSnapshot &snapshot);

private:
    QList<ReconnectRecord> m_rows;
    int m_capacity;
};

} // namespace FeedScope

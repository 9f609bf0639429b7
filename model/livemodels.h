#pragma once

#include "dispatcher.h"
#include "sessionlog.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QPointF>

#include <deque>

namespace FeedScope {

/// Fixed-window time series for charts: per named series, points (x = wall ms since epoch) no
/// older than the window. Appending is O(1); old points fall off the front.
class TimeSeriesSet
{
public:
    explicit TimeSeriesSet(std::chrono::seconds window = std::chrono::seconds(300)) : m_window(window) {}
    void add(const QString &series, qint64 atMs, double value);
    QList<QPointF> points(const QString &series) const;
    /// Names starting with @p prefix, sorted.
    QStringList names(const QString &prefix = {}) const;
    /// Drops points older than the window before @p nowMs, and series left empty.
    void prune(qint64 nowMs);
    std::chrono::seconds window() const { return m_window; }
    qsizetype pointCount() const;

private:
    std::chrono::seconds m_window;
    QHash<QString, std::deque<QPointF>> m_series;
};

inline constexpr int SessionEventsViewCapacity = 5000;

/// The session's events for a filterable view: a bounded ring fed in batches (insert and evict
/// once per UI tick, never one signal per event). Statistics snapshots count against a smaller
/// bound of their own (the oldest go first), as in the session log: one a second would otherwise
/// fill the whole ring and push out the events a user looks for.
class SessionEventsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Seq, Time, Type, Summary, ColumnCount };
    Q_ENUM(Column)

    explicit SessionEventsModel(int capacity = SessionEventsViewCapacity,
                                int statsCapacity = SessionLog::DefaultStatsCapacity,
                                QObject *parent = nullptr);
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Buffers @p e until the next flush().
    void enqueue(const SessionEvent &e);
    /// Applies what was buffered: one eviction and one insertion at most.
    void flush();
    /// Replaces everything (an imported session).
    void reset(const QList<SessionEvent> &events);
    const SessionEvent *eventAt(int row) const;
    int capacity() const { return m_capacity; }
    int statsCapacity() const { return m_statsCapacity; }

    /// One line saying what happened, for the view and the CSV summary.
    static QString summarize(const SessionEvent &e);

private:
    void eraseRows(size_t first, size_t count);
    void evictStats(size_t count);

    std::deque<SessionEvent> m_rows;
    QList<SessionEvent> m_pending;
    int m_capacity;
    int m_statsCapacity;
    size_t m_statsRows = 0; ///< rows that are statistics snapshots
};

/// One row per dispatcher consumer: queue depth now, high-water, capacity, drops/s,
/// coalesced/s, synchronous fallbacks, dispatch lag p50/p99 and the totals.
class DispatcherModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Name,
        Kind,
        Policy,
        Queue,
        HighWater,
        ReceivedPerSec,
        DropsPerSec,
        CoalescedPerSec,
        SyncFallbacks,
        LagP50,
        LagP99,
        Received,
        Dropped,
        ColumnCount
    };
    Q_ENUM(Column)

    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void applyStats(const QList<ConsumerStats> &stats, qint64 nowMs);
    const ConsumerStats *statsAt(int row) const;
    double dropsPerSecond(int row) const;

private:
    struct Row
    {
        ConsumerStats stats;
        double receivedPerSec = 0, dropsPerSec = 0, coalescedPerSec = 0;
        ConsumerStats base; ///< the counts at the last rate sample
        qint64 baseAtMs = -1;
    };
    QList<Row> m_rows;
};

} // namespace FeedScope

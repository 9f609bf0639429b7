#pragma once

#include "dispatcher.h"
#include "pooltypes.h"

#include <QHash>
#include <QList>
#include <QPointF>
#include <QString>

namespace FeedScope {

/// A linear axis from 0 with "nice" ticks: the step is 1, 2 or 5 × 10^n, the top a multiple of
/// it at or above the data's maximum (31680 → 0…40000 by 10000, not ticks of 31680/23760/15840).
struct NiceScale
{
    double max = 1;
    double step = 0.2;
    int decimals = 1; ///< enough to tell the ticks apart (0 for whole steps)
    int tickCount() const;
};
/// The scale for data whose largest value is @p maxValue, with at most @p maxIntervals steps
/// (at least 2). A maximum of 0 or less gives 0…1.
NiceScale niceScale(double maxValue, int maxIntervals = 6);

/// A base-10 logarithmic axis: whole decades from below @p minPositive to above @p maxValue,
/// at most @p maxDecades of them (the bottom is raised, so one tiny value cannot squash the rest).
struct LogScale
{
    double min = 0.1;
    double max = 10;
};
LogScale logScale(double minPositive, double maxValue, int maxDecades = 6);

/// One reconnect as the reconnect chart draws it: at the time it started (x, wall ms, moved
/// apart from simultaneous ones), the seconds of data the user lost (y: the last frame before the
/// drop → every subscription back; for one still in progress, the gap so far).
struct ReconnectPoint
{
    double xMs = 0;
    double startedMs = 0; ///< the true start, before any spreading
    double gapSeconds = 0;
    double outageMs = -1; ///< down → back; -1 while in progress
    int connection = 0;
    bool manual = false;
    bool inProgress = false;
    QString cause; ///< raw name (pooltypes nameOf)
};
/// The reconnects of @p records that started within @p windowMs before @p nowMs. Points that
/// start within @p minSpacingMs of each other (a kill of every connection) are spread around
/// their mean time, @p minSpacingMs apart in connection order, so each stays visible.
QList<ReconnectPoint> reconnectPoints(const QList<ReconnectRecord> &records, qint64 nowMs, qint64 windowMs,
                                      double minSpacingMs);

/// The dispatcher charts' figures per consumer over each sampling interval, so that a flood that
/// fills and empties a queue between two samples still shows: the queue depth is the peak seen
/// (every observe() tick, the high-water mark when it rose, and the capacity when frames were
/// dropped or delivered synchronously, which happens only at a full queue), the drops the total
/// over the interval per second.
class DispatcherSampler
{
public:
    struct Sample
    {
        QString name;
        bool inlineConsumer = false;
        double peakQueue = 0;
        double dropsPerSecond = 0;
        double lagP99Ms = 0;
    };
    /// At every statistics snapshot (10 Hz): remembers the deepest queue seen.
    void observe(const QList<ConsumerStats> &stats);
    /// Closes the interval at @p nowMs (monotonic) with @p stats and starts the next.
    QList<Sample> take(const QList<ConsumerStats> &stats, qint64 nowMs);

private:
    struct Track
    {
        qint64 peak = 0;
        ConsumerStats base;
        qint64 baseAtMs = -1;
    };
    QHash<QString, Track> m_tracks;
};

} // namespace FeedScope

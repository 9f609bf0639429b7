#include "chartdata.h"

#include <algorithm>
#include <cmath>

namespace FeedScope {

int NiceScale::tickCount() const
{
    return static_cast<int>(std::lround(max / step)) + 1;
}

NiceScale niceScale(double maxValue, int maxIntervals)
{
    maxIntervals = std::max(2, maxIntervals);
    if (!(maxValue > 0) || !std::isfinite(maxValue))
        return {};
    // The smallest 1/2/5 × 10^n step that covers the maximum in at most maxIntervals steps.
    const double mag = std::pow(10.0, std::floor(std::log10(maxValue / maxIntervals)));
    double step = 10 * mag;
    for (const double m : {1.0, 2.0, 5.0}) {
        if (std::ceil(maxValue / (m * mag) - 1e-9) <= maxIntervals) {
            step = m * mag;
            break;
        }
    }
    NiceScale s;
    s.step = step;
    s.max = std::max(1.0, std::ceil(maxValue / step - 1e-9)) * step;
    s.decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    return s;
}

LogScale logScale(double minPositive, double maxValue, int maxDecades)
{
    if (!(maxValue > 0) || !std::isfinite(maxValue))
        return {};
    if (!(minPositive > 0) || minPositive > maxValue)
        minPositive = maxValue;
    LogScale s;
    s.max = std::pow(10.0, std::ceil(std::log10(maxValue) - 1e-9));
    s.min = std::pow(10.0, std::floor(std::log10(minPositive) + 1e-9));
    if (s.min >= s.max)
        s.min = s.max / 10;
    const double widest = std::pow(10.0, std::max(1, maxDecades));
    if (s.max / s.min > widest)
        s.min = s.max / widest;
    return s;
}

QList<ReconnectPoint> reconnectPoints(const QList<ReconnectRecord> &records, qint64 nowMs, qint64 windowMs,
                                      double minSpacingMs)
{
    QList<ReconnectPoint> out;
    const qint64 oldest = nowMs - windowMs;
    for (const ReconnectRecord &r : records) {
        if (!r.startedAt.isValid())
            continue;
        const qint64 started = r.startedAt.toMSecsSinceEpoch();
        if (started < oldest)
            continue;
        ReconnectPoint p;
        p.startedMs = static_cast<double>(started);
        p.xMs = p.startedMs;
        p.connection = r.connection;
        p.manual = r.manual;
        p.cause = QString(nameOf(r.cause));
        p.inProgress = r.durationMs < 0;
        qint64 gapMs = 0;
        if (p.inProgress) {
            const qint64 from = r.lastFrameAt.isValid() ? r.lastFrameAt.toMSecsSinceEpoch() : started;
            gapMs = std::max<qint64>(0, nowMs - from);
        } else {
            p.outageMs = static_cast<double>(r.durationMs);
            gapMs = r.dataGapMs >= 0 ? r.dataGapMs : r.durationMs;
        }
        p.gapSeconds = static_cast<double>(gapMs) / 1000.0;
        out.append(p);
    }
    std::sort(out.begin(), out.end(), [](const ReconnectPoint &a, const ReconnectPoint &b) {
        return a.startedMs != b.startedMs ? a.startedMs < b.startedMs : a.connection < b.connection;
    });
    if (minSpacingMs <= 0)
        return out;
    // Clusters of points closer than the spacing, each centred on its members' mean start and
    // kept inside the window; a cluster that then touches its neighbour merges with it, so no
    // two points end up closer than the spacing (a chain of near reconnects included).
    struct Cluster
    {
        qsizetype first = 0;
        qsizetype count = 0;
        double sum = 0;
        double left = 0;
    };
    const double lo = static_cast<double>(oldest);
    const double hi = static_cast<double>(nowMs);
    auto place = [&](Cluster &c) {
        const double half = static_cast<double>(c.count - 1) / 2 * minSpacingMs;
        const double centre = lo + half <= hi - half
                                  ? std::clamp(c.sum / static_cast<double>(c.count), lo + half, hi - half)
                                  : (lo + hi) / 2;
        c.left = centre - half;
    };
    auto right = [&](const Cluster &c) { return c.left + static_cast<double>(c.count - 1) * minSpacingMs; };
    QList<Cluster> clusters;
    for (qsizetype i = 0; i < out.size(); ++i) {
        Cluster c{i, 1, out[i].startedMs, 0};
        place(c);
        while (!clusters.isEmpty() && right(clusters.constLast()) + minSpacingMs > c.left + 1e-6) {
            const Cluster prev = clusters.takeLast();
            c.first = prev.first;
            c.count += prev.count;
            c.sum += prev.sum;
            place(c);
        }
        clusters.append(c);
    }
    for (const Cluster &c : std::as_const(clusters))
        for (qsizetype k = 0; k < c.count; ++k)
            out[c.first + k].xMs = c.left + static_cast<double>(k) * minSpacingMs;
    return out;
}

void DispatcherSampler::observe(const QList<ConsumerStats> &stats)
{
    for (const ConsumerStats &s : stats) {
        Track &t = m_tracks[s.name];
        t.peak = std::max(t.peak, s.queued);
    }
}

QList<DispatcherSampler::Sample> DispatcherSampler::take(const QList<ConsumerStats> &stats, qint64 nowMs)
{
    QList<Sample> out;
    for (const ConsumerStats &s : stats) {
        Track &t = m_tracks[s.name];
        Sample x;
        x.name = s.name;
        x.inlineConsumer = s.inlineConsumer;
        qint64 peak = std::max(t.peak, s.queued);
        if (t.baseAtMs >= 0) {
            if (s.highWater > t.base.highWater)
                peak = std::max(peak, s.highWater);
            // Frames are dropped (or delivered on the producer's thread) only at a full queue.
            if (s.dropped > t.base.dropped || s.syncFallbacks > t.base.syncFallbacks)
                peak = std::max(peak, s.capacity);
            const double dt = static_cast<double>(nowMs - t.baseAtMs) / 1000.0;
            if (dt > 0)
                x.dropsPerSecond = static_cast<double>(std::max<qint64>(0, s.dropped - t.base.dropped)) / dt;
        } else {
            peak = std::max(peak, s.highWater > 0 && s.dropped > 0 ? s.capacity : qint64(0));
        }
        x.peakQueue = static_cast<double>(peak);
        x.lagP99Ms = s.lagP99Us < 0 ? 0.0 : static_cast<double>(s.lagP99Us) / 1000.0;
        t.peak = 0;
        t.base = s;
        t.baseAtMs = nowMs;
        out.append(x);
    }
    return out;
}

} // namespace FeedScope

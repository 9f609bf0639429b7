#pragma once

#include "pooltypes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace FeedScope {

/// Upper bounds (µs) of the data-latency histogram's buckets (issue 17): log-spaced, ten a decade
/// (1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.3, 8 × 10^n) from 0.1 ms to 60 s, so that the 1-2.5-5
/// bounds Prometheus shows are among them. Bucket i holds (bound[i-1], bound[i]]; the first also
/// holds 0 … 0.1 ms; one more bucket holds everything above 60 s. Negative latencies (the event
/// time is ahead of our clock) are counted apart, never in a bucket.
inline constexpr std::array<std::int64_t, 59> LatencyBoundsUs{
    100,      125,      160,      200,      250,      320,      400,      500,      630,     800,
    1000,     1250,     1600,     2000,     2500,     3200,     4000,     5000,     6300,    8000,
    10000,    12500,    16000,    20000,    25000,    32000,    40000,    50000,    63000,   80000,
    100000,   125000,   160000,   200000,   250000,   320000,   400000,   500000,   630000,  800000,
    1000000,  1250000,  1600000,  2000000,  2500000,  3200000,  4000000,  5000000,  6300000, 8000000,
    10000000, 12500000, 16000000, 20000000, 25000000, 32000000, 40000000, 50000000, 60000000};
inline constexpr int LatencyBucketCount = static_cast<int>(LatencyBoundsUs.size()) + 1;

/// The bucket of a latency of @p us (≥ 0) microseconds: a binary search over 59 bounds.
inline int latencyBucket(std::int64_t us)
{
    return static_cast<int>(std::lower_bound(LatencyBoundsUs.cbegin(), LatencyBoundsUs.cend(), us) -
                            LatencyBoundsUs.cbegin());
}

/// Counts of one stretch of time (a second, or ten).
struct LatencySlot
{
    std::array<std::uint32_t, LatencyBucketCount> counts{};
    std::uint32_t samples = 0;  ///< non-negative samples (those in counts)
    std::uint32_t negative = 0; ///< samples with the event time ahead of the receipt time
    std::int64_t minUs = 0;
    std::int64_t maxUs = 0;
    std::int64_t stamp = std::numeric_limits<std::int64_t>::min(); ///< which second (or ten) it holds

    void reset(std::int64_t at)
    {
        if (samples > 0)
            counts.fill(0);
        samples = 0;
        negative = 0;
        minUs = maxUs = 0;
        stamp = at;
    }
    void add(std::int64_t us)
    {
        if (us < 0) {
            ++negative;
            return;
        }
        ++counts[static_cast<size_t>(latencyBucket(us))];
        minUs = samples == 0 ? us : std::min(minUs, us);
        maxUs = samples == 0 ? us : std::max(maxUs, us);
        ++samples;
    }
};

/// The merged counts of a window, and the percentiles that come out of them.
struct LatencyMerge
{
    std::array<std::uint64_t, LatencyBucketCount> counts{};
    std::uint64_t samples = 0;
    std::uint64_t negative = 0;
    std::int64_t minUs = 0;
    std::int64_t maxUs = 0;

    void add(const LatencySlot &s)
    {
        negative += s.negative;
        if (s.samples == 0)
            return;
        for (size_t i = 0; i < counts.size(); ++i)
            counts[i] += s.counts[i];
        minUs = samples == 0 ? s.minUs : std::min(minUs, s.minUs);
        maxUs = samples == 0 ? s.maxUs : std::max(maxUs, s.maxUs);
        samples += s.samples;
    }
    /// The @p q quantile (0 < q ≤ 1) in ms, -1 without samples: the rank's bucket, linearly
    /// interpolated within its bounds and clamped to the smallest and largest sample seen, so that
    /// samples all of one value (or on bucket bounds) come out exact.
    double quantileMs(double q) const
    {
        if (samples == 0)
            return -1;
        const double rank = std::max(1.0, q * static_cast<double>(samples));
        std::uint64_t below = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
            const std::uint64_t c = counts[i];
            if (c == 0 || static_cast<double>(below + c) < rank) {
                below += c;
                continue;
            }
            const double lower = i == 0 ? 0.0 : static_cast<double>(LatencyBoundsUs[i - 1]);
            const double upper = i < LatencyBoundsUs.size() ? static_cast<double>(LatencyBoundsUs[i])
                                                            : static_cast<double>(maxUs);
            const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(c);
            const double us = std::clamp(lower + (upper - lower) * fraction, static_cast<double>(minUs),
                                         static_cast<double>(maxUs));
            return us / 1000.0;
        }
        return static_cast<double>(maxUs) / 1000.0;
    }
};

/// Data latency of one subscription (or one type) over the last 10 s (ten 1 s slots) and the last
/// 5 min (thirty 10 s slots): fixed arrays, nothing allocated per sample, p50/p99/max at any moment
/// by merging at most 40 slots. Time is whole monotonic seconds, given by the caller.
class LatencyWindow
{
public:
    void add(std::int64_t nowSec, std::int64_t latencyUs)
    {
        slot(m_seconds, nowSec).add(latencyUs);
        slot(m_tens, nowSec / 10).add(latencyUs);
    }

    LatencyFigures figures(std::int64_t nowSec) const
    {
        LatencyMerge short10, long5;
        for (const LatencySlot &s : m_seconds) {
            if (s.stamp > nowSec - static_cast<std::int64_t>(m_seconds.size()) && s.stamp <= nowSec)
                short10.add(s);
        }
        for (const LatencySlot &s : m_tens) {
            if (s.stamp > nowSec / 10 - static_cast<std::int64_t>(m_tens.size()) && s.stamp <= nowSec / 10)
                long5.add(s);
        }
        LatencyFigures f;
        f.samples10s = static_cast<qint64>(short10.samples);
        f.p50Ms = short10.quantileMs(0.5);
        f.p99Ms = short10.quantileMs(0.99);
        f.maxMs = short10.samples ? static_cast<double>(short10.maxUs) / 1000.0 : -1;
        f.samples5m = static_cast<qint64>(long5.samples);
        f.p50Ms5m = long5.quantileMs(0.5);
        f.p99Ms5m = long5.quantileMs(0.99);
        f.maxMs5m = long5.samples ? static_cast<double>(long5.maxUs) / 1000.0 : -1;
        f.negative10s = static_cast<qint64>(short10.negative);
        f.negative5m = static_cast<qint64>(long5.negative);
        return f;
    }

private:
    template<size_t N> static LatencySlot &slot(std::array<LatencySlot, N> &slots, std::int64_t at)
    {
        constexpr auto n = static_cast<std::int64_t>(N);
        LatencySlot &s = slots[static_cast<size_t>(((at % n) + n) % n)];
        if (s.stamp != at)
            s.reset(at);
        return s;
    }
    std::array<LatencySlot, 10> m_seconds{};
    std::array<LatencySlot, 30> m_tens{};
};

/// Run totals of one type for the Prometheus histogram: every sample since the start.
struct LatencyTotals
{
    std::array<qint64, LatencyBucketCount> counts{};
    qint64 samples = 0;
    qint64 negative = 0;
    double sumSeconds = 0;

    void add(std::int64_t latencyUs)
    {
        if (latencyUs < 0) {
            ++negative;
            return;
        }
        ++counts[static_cast<size_t>(latencyBucket(latencyUs))];
        ++samples;
        sumSeconds += static_cast<double>(latencyUs) / 1e6;
    }
};

} // namespace FeedScope

#pragma once

#include <QtGlobal>

#include <mutex>

#include <chrono>
#include <deque>

namespace FeedScope {

/// Monotonic clock shared by the engine (nanoseconds / milliseconds since an arbitrary epoch).
qint64 monotonicNs();
inline qint64 monotonicMs()
{
    return monotonicNs() / 1000000;
}

/// At most `capacity` events in any sliding window (the server counts client frames per
/// minute, and new connections per minute). The last `reserve` slots are kept for callers that
/// may use them (pings), so they are never starved by a burst of subscribes. Thread-safe: one
/// budget is shared by every connection of the pool, on any I/O thread; the lock is held only
/// for a few integer operations and never while calling out.
class SlidingWindowBudget final
{
public:
    SlidingWindowBudget(int capacity, std::chrono::milliseconds window, int reserve = 0);

    bool tryAcquire(bool mayUseReserve, qint64 nowMs);
    /// Gives back the slot taken at @p acquiredAtMs (an attempt the server never saw).
    void release(qint64 acquiredAtMs);
    /// Milliseconds until tryAcquire(mayUseReserve) can succeed (0 = now).
    qint64 msUntilAvailable(bool mayUseReserve, qint64 nowMs) const;
    int used(qint64 nowMs) const;
    int capacity() const { return m_capacity; }

private:
    void prune(qint64 nowMs) const;

    mutable std::mutex m_mutex; ///< std::mutex: visible to ThreadSanitizer (QMutex is not)
    mutable std::deque<qint64> m_times;
    int m_capacity;
    int m_reserve;
    qint64 m_windowMs;
};

} // namespace FeedScope

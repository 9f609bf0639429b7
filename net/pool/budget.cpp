#include "budget.h"

#include <QDeadlineTimer>

#include <algorithm>

namespace FeedScope {

qint64 monotonicNs()
{
    return QDeadlineTimer::current(Qt::PreciseTimer).deadlineNSecs();
}

SlidingWindowBudget::SlidingWindowBudget(int capacity, std::chrono::milliseconds window, int reserve)
    : m_capacity(std::max(1, capacity)), m_reserve(std::clamp(reserve, 0, std::max(0, capacity - 1))),
      m_windowMs(window.count())
{}

void SlidingWindowBudget::prune(qint64 nowMs) const
{
    while (!m_times.empty() && m_times.front() <= nowMs - m_windowMs)
        m_times.pop_front();
}

bool SlidingWindowBudget::tryAcquire(bool mayUseReserve, qint64 nowMs)
{
    std::lock_guard lock(m_mutex);
    prune(nowMs);
    const int limit = mayUseReserve ? m_capacity : m_capacity - m_reserve;
    if (static_cast<int>(m_times.size()) >= limit)
        return false;
    m_times.push_back(nowMs);
    return true;
}

void SlidingWindowBudget::release(qint64 acquiredAtMs)
{
    std::lock_guard lock(m_mutex);
    const auto it = std::find(m_times.rbegin(), m_times.rend(), acquiredAtMs);
    if (it != m_times.rend())
        m_times.erase(std::next(it).base());
}

qint64 SlidingWindowBudget::msUntilAvailable(bool mayUseReserve, qint64 nowMs) const
{
    std::lock_guard lock(m_mutex);
    prune(nowMs);
    const int limit = mayUseReserve ? m_capacity : m_capacity - m_reserve;
    const int excess = static_cast<int>(m_times.size()) - limit;
    if (excess < 0)
        return 0;
    // The slot frees when the (excess)th oldest event leaves the window.
    return std::max<qint64>(1, m_times[static_cast<size_t>(excess)] + m_windowMs - nowMs + 1);
}

int SlidingWindowBudget::used(qint64 nowMs) const
{
    std::lock_guard lock(m_mutex);
    prune(nowMs);
    return static_cast<int>(m_times.size());
}

} // namespace FeedScope

#include "inspector.h"

#include <algorithm>

namespace FeedScope {

MessageInspector::MessageInspector(Limits limits) : m_limits(limits) {}

void MessageInspector::evictOldest(Ring &r)
{
    const qint64 n = r.messages.front().raw.size();
    r.bytes -= n;
    m_bytes -= n;
    r.messages.pop_front();
    ++m_evicted;
}

void MessageInspector::evictAged(Ring &r, qint64 nowNs)
{
    if (m_limits.maxAge.count() <= 0)
        return;
    const qint64 oldest = nowNs - std::chrono::nanoseconds(m_limits.maxAge).count();
    const auto keep = static_cast<size_t>(std::max(1, m_limits.keepLatest));
    while (r.messages.size() > keep && r.messages.front().receivedNs < oldest)
        evictOldest(r);
}

void MessageInspector::record(const DataFrame &frame, qint64 now)
{
    // Wall time of receipt, from the frame's monotonic receive stamp (0: not stamped).
    const qint64 received = frame.receivedNs != 0 ? frame.receivedNs : now;
    const qint64 ageMs = std::max<qint64>(0, (now - received) / 1000000);
    Message m{QDateTime::currentDateTimeUtc().addMSecs(-ageMs), frame.connection, frame.raw, received};
    const qint64 size = frame.raw.size();
    std::lock_guard lock(m_mutex);
    Ring &r = m_rings[frame.key];
    r.messages.push_back(std::move(m));
    r.bytes += size;
    m_bytes += size;
    // The newest message always stays, however large; older ones go first.
    while (r.messages.size() > 1 &&
           (static_cast<int>(r.messages.size()) > m_limits.perSubscription ||
            r.bytes > m_limits.bytesPerSubscription || m_bytes > m_limits.bytesTotal))
        evictOldest(r);
    evictAged(r, now);
}

void MessageInspector::prune(qint64 nowNs)
{
    std::lock_guard lock(m_mutex);
    for (Ring &r : m_rings)
        evictAged(r, nowNs);
}

QList<MessageInspector::Message> MessageInspector::messages(const QByteArray &key) const
{
    std::lock_guard lock(m_mutex);
    QList<Message> out;
    auto it = m_rings.constFind(key);
    if (it == m_rings.constEnd())
        return out;
    out.reserve(static_cast<qsizetype>(it->messages.size()));
    for (const Message &m : it->messages)
        out.append(m);
    return out;
}

void MessageInspector::remove(const QByteArray &key)
{
    std::lock_guard lock(m_mutex);
    auto it = m_rings.find(key);
    if (it == m_rings.end())
        return;
    m_bytes -= it->bytes;
    m_rings.erase(it);
}

qint64 MessageInspector::bytes() const
{
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

qint64 MessageInspector::evicted() const
{
    std::lock_guard lock(m_mutex);
    return m_evicted;
}

} // namespace FeedScope

#pragma once

#include "budget.h"
#include "pooltypes.h"

#include <QHash>

#include <chrono>
#include <deque>
#include <mutex>

namespace FeedScope {

/// The message inspector's store: the last messages of every subscription, bounded in count and
/// in bytes per subscription and in bytes overall, and in age: messages older than maxAge go
/// (like the charts, it covers the last 5 minutes), but the newest keepLatest of a subscription
/// always stay, so a quiet one still shows its last messages. The age bound makes the store reach
/// its steady size within maxAge at any feed rate, instead of filling for as long as its slowest
/// subscription takes to reach the count. Fed by a dispatcher consumer on a worker thread, read
/// by the UI: every method is thread-safe.
class MessageInspector final
{
public:
    struct Limits
    {
        int perSubscription = 200;
        qint64 bytesPerSubscription = 512 * 1024;
        qint64 bytesTotal = 64 * 1024 * 1024;
        std::chrono::seconds maxAge{300}; ///< 0: no age bound
        int keepLatest = 20;
    };
    struct Message
    {
        QDateTime at;
        int connection = 0;
        QByteArray raw;
        qint64 receivedNs = 0; ///< monotonic (budget.h monotonicNs)
    };

    explicit MessageInspector(Limits limits);
    MessageInspector() : MessageInspector(Limits{}) {}

    void record(const DataFrame &frame) { record(frame, monotonicNs()); }
    /// As record(), at monotonic time @p nowNs (tests set the clock: a just-booted machine's
    /// monotonic clock reads only seconds, so "ten minutes ago" cannot be built from it).
    void record(const DataFrame &frame, qint64 nowNs);
    /// The kept messages of @p key (canonical subscription), oldest first.
    QList<Message> messages(const QByteArray &key) const;
    void remove(const QByteArray &key);
    /// Lets the messages past maxAge go (beyond each subscription's keepLatest); record() does
    /// this for the subscription it records, this for the ones that went quiet (once a second).
    void prune(qint64 nowNs);
    qint64 bytes() const;
    /// Messages let go to respect the limits (they were delivered, then aged out).
    qint64 evicted() const;
    Limits limits() const { return m_limits; }

private:
    struct Ring
    {
        std::deque<Message> messages;
        qint64 bytes = 0;
    };
    void evictOldest(Ring &r);
    void evictAged(Ring &r, qint64 nowNs);

    const Limits m_limits;
    mutable std::mutex m_mutex;
    QHash<QByteArray, Ring> m_rings;
    qint64 m_bytes = 0;
    qint64 m_evicted = 0;
};

} // namespace FeedScope

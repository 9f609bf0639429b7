#pragma once

#include "pooltypes.h"

#include <QHash>

#include <deque>
#include <mutex>

namespace FeedScope {

/// The message inspector's store: the last messages of every subscription, bounded in count and
/// in bytes per subscription and in bytes overall. Fed by a dispatcher consumer on a worker
/// thread, read by the UI: every method is thread-safe.
class MessageInspector final
{
public:
    struct Limits
    {
        int perSubscription = 200;
        qint64 bytesPerSubscription = 512 * 1024;
        qint64 bytesTotal = 64 * 1024 * 1024;
    };
    struct Message
    {
        QDateTime at;
        int connection = 0;
        QByteArray raw;
    };

    explicit MessageInspector(Limits limits);
    MessageInspector() : MessageInspector(Limits{}) {}

    void record(const DataFrame &frame);
    /// The kept messages of @p key (canonical subscription), oldest first.
    QList<Message> messages(const QByteArray &key) const;
    void remove(const QByteArray &key);
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

    const Limits m_limits;
    mutable std::mutex m_mutex;
    QHash<QByteArray, Ring> m_rings;
    qint64 m_bytes = 0;
    qint64 m_evicted = 0;
};

} // namespace FeedScope

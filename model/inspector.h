#pragma once

#include "budget.h"
#include "poolmodels.h"
#include "pooltypes.h"

#include <QAbstractListModel>
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
        quint64 seq = 0;       ///< the message's identity: unique in the store, increasing
        bool snapshot = false; ///< the frame said isSnapshot (the replay after a subscribe)
        /// One-line preview (messageSummary), computed on the recording thread for the watched
        /// subscription only; empty for the others (the reader computes it when it needs it).
        QString summary;
    };
    /// What messagesAfter() found.
    struct Update
    {
        QList<Message> added;  ///< kept messages newer than the asked seq, oldest first
        quint64 oldestSeq = 0; ///< the oldest message still kept (0: none)
        int kept = 0;          ///< messages kept for the subscription
        bool known = false;    ///< the store has the subscription (false once removed)
    };

    explicit MessageInspector(Limits limits);
    MessageInspector() : MessageInspector(Limits{}) {}

    void record(const DataFrame &frame) { record(frame, monotonicNs()); }
    /// As record(), at monotonic time @p nowNs (tests set the clock: a just-booted machine's
    /// monotonic clock reads only seconds, so "ten minutes ago" cannot be built from it).
    void record(const DataFrame &frame, qint64 nowNs);
    /// The kept messages of @p key (canonical subscription), oldest first.
    QList<Message> messages(const QByteArray &key) const;
    /// The kept messages of @p key newer than @p afterSeq (0: all), and what is still kept: a
    /// reader that polls takes only what is new (a binary search and the new messages).
    Update messagesAfter(const QByteArray &key, quint64 afterSeq) const;
    /// The subscription a view shows: its messages get their preview while being recorded, off the
    /// GUI thread. Empty: none.
    void setWatched(const QByteArray &key);
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
    QByteArray m_watched;
    quint64 m_nextSeq = 1;
    qint64 m_bytes = 0;
    qint64 m_evicted = 0;
};

/// A one-line preview of a data message for the inspector's list: the values a reader looks for
/// (best bid and ask, trade sizes and prices, candle OHLC, fill counts) or else the first fields
/// of its data. At most about 120 characters; a frame that is not JSON says so.
QString messageSummary(const QByteArray &raw);

/// A human title for a subscription given as canonical JSON: the type, then its parameters in
/// words ("l2Book · BTC · 5 significant figures", "userFills · 0x0d1…ab12"). Text that is not a
/// JSON object comes back as it is.
QString channelTitle(const QByteArray &canonical);

/// A user address shortened for titles: "0x0d1…ab12".
QString shortAddress(const QString &address);

/// The inspector's list: the kept messages of one subscription, newest first (row 0), taken from
/// a MessageInspector by refresh() (once a second, only what is new). A row's identity is its
/// message's seq (KeyRole), so a view keeps its selection by identity while rows arrive above and
/// go below. The pinned message (the one a user selected) stays even after the store let it go.
class InspectorMessagesModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorMessagesModel)

public:
    // Roles: Qt::DisplayRole the preview line ("12:00:01.234 · 412 B · bid 65000 × 0.5 · …"),
    // Qt::ToolTipRole the receipt, connection and full preview, KeyRole the seq (qulonglong),
    // RawValueRole the raw frame (QByteArray).
    explicit InspectorMessagesModel(const MessageInspector *store, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;

    /// Shows @p key's kept messages (a reset); empty: none.
    void setChannel(const QByteArray &key);
    QByteArray channel() const { return m_key; }
    /// Takes the messages recorded since the last call (one insert at the top) and drops the ones
    /// the store let go (except the pinned one). A subscription the store no longer knows (it was
    /// removed) keeps its rows. Returns the number of messages added.
    int refresh();
    /// Keeps the message @p seq in the list after the store lets it go; 0: none.
    void setPinned(quint64 seq) { m_pinned = seq; }
    quint64 pinned() const { return m_pinned; }
    /// The row of message @p seq, or -1.
    int rowOf(quint64 seq) const;
    const MessageInspector::Message *messageAt(int row) const;
    /// Messages kept by the store at the last refresh.
    int keptByStore() const { return m_kept; }

private:
    const MessageInspector *m_store;
    QByteArray m_key;
    mutable std::deque<MessageInspector::Message> m_rows; ///< newest first; summary filled lazily
    quint64 m_newestSeq = 0;
    quint64 m_oldestKept = 0;
    quint64 m_pinned = 0;
    int m_kept = 0;
};

} // namespace FeedScope

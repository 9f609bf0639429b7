#pragma once

#include "dispatcher.h"
#include "pooltypes.h"

#include <QDateTime>
#include <QFile>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <deque>

namespace FeedScope {

class ConnectionPool;

/// One event of a session: a monotonic sequence number, the wall time, a type and its data.
struct SessionEvent
{
    qint64 seq = 0;
    QDateTime at;
    QString type; ///< connection, reconnect, subscription, serverError, warning, stats, manual
    QJsonObject data;
};

inline constexpr auto SessionSchema = "feedscope.session/1";
/// The type of the statistics snapshot events.
inline constexpr QLatin1StringView StatsEventType{"stats"};

/// One line saying what happened (the events view, the CSV export's summary column).
QString summarizeEvent(const SessionEvent &e);

/// The line of @p e in the session JSONL format, with its newline.
QByteArray sessionLine(const SessionEvent &e);

/// The session's events: bounded rings in memory for the UI and, optionally, a JSONL file
/// (a header line with the schema, then one line per event) flushed at least every second,
/// whole lines only, so a crash loses at most the last second. The statistics snapshot ("stats",
/// one a second, ~7 KB each in memory) has a ring of its own, so that it neither pushes the
/// events that matter out nor makes memory grow for hours before the ring is full; the file keeps
/// every snapshot. reopen() starts a new file under the same name (log rotation on SIGHUP). A
/// write error stops the file, is reported, and the number of events that could not be written
/// is kept.
class SessionLog final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionLog)

public:
    static constexpr int DefaultStatsCapacity = 300; ///< five minutes of snapshots, like the charts

    explicit SessionLog(int capacity = 10000, int statsCapacity = DefaultStatsCapacity,
                        QObject *parent = nullptr);
    ~SessionLog() override;

    bool openFile(const QString &path, QString *error);
    bool reopen(QString *error);
    /// Flushes and closes the file; false (with @p error) if anything was lost.
    bool close(QString *error);
    void append(const QString &type, const QJsonObject &data);
    /// Records the pool's events (queued to this object's thread) and a statistics snapshot of
    /// @p host's pool every second.
    void follow(ConnectionPool *pool);
    void statisticsSnapshot(const PoolSnapshot &snapshot, const QList<ConsumerStats> &dispatcher = {});

    /// What is kept in memory, both rings merged in sequence order (exports, tests).
    QList<SessionEvent> events() const;
    /// The events kept in memory that are not statistics snapshots, and the snapshots.
    const std::deque<SessionEvent> &ring() const { return m_events; }
    const std::deque<SessionEvent> &statsRing() const { return m_stats; }
    qint64 lastSeq() const { return m_seq; }
    qint64 unwritten() const { return m_unwritten; }

Q_SIGNALS:
    void appended(const FeedScope::SessionEvent &event);
    void evicted(int count); ///< from either ring
    void fileFailed(const QString &error);

private:
    void flush();

    std::deque<SessionEvent> m_events;
    std::deque<SessionEvent> m_stats;
    int m_capacity;
    int m_statsCapacity;
    qint64 m_seq = 0;
    QFile m_file;
    QByteArray m_buffer;
    QTimer m_flushTimer{this};
    qint64 m_unwritten = 0;
    QString m_error;
};

} // namespace FeedScope

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

/// One line saying what happened (the events view, the CSV export's summary column).
QString summarizeEvent(const SessionEvent &e);

/// The line of @p e in the session JSONL format, with its newline.
QByteArray sessionLine(const SessionEvent &e);

/// The session's events: a bounded ring in memory for the UI and, optionally, a JSONL file
/// (a header line with the schema, then one line per event) flushed at least every second,
/// whole lines only, so a crash loses at most the last second. reopen() starts a new file under
/// the same name (log rotation on SIGHUP). A write error stops the file, is reported, and the
/// number of events that could not be written is kept.
class SessionLog final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionLog)

public:
    explicit SessionLog(int capacity = 10000, QObject *parent = nullptr);
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

    const std::deque<SessionEvent> &events() const { return m_events; }
    qint64 lastSeq() const { return m_seq; }
    qint64 unwritten() const { return m_unwritten; }

Q_SIGNALS:
    void appended(const FeedScope::SessionEvent &event);
    void evicted(int count);
    void fileFailed(const QString &error);

private:
    void flush();

    std::deque<SessionEvent> m_events;
    int m_capacity;
    qint64 m_seq = 0;
    QFile m_file;
    QByteArray m_buffer;
    QTimer m_flushTimer{this};
    qint64 m_unwritten = 0;
    QString m_error;
};

} // namespace FeedScope

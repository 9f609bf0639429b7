#pragma once

#include "pooltypes.h"

#include <QFile>
#include <QObject>
#include <QTimer>

#include <mutex>

namespace FeedScope {

/// Writes received data frames as JSONL (net/recording.h format), replayable by feedscope-sim,
/// and, when asked to, the client's own frames as `"dir":"send"` lines (the replay skips them).
/// Lines are buffered and flushed at least every second, whole lines only, so a crash loses at
/// most the last second. A write error stops recording and is reported, never silently dropped.
class FrameRecorder final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FrameRecorder)

public:
    explicit FrameRecorder(QObject *parent = nullptr);
    ~FrameRecorder() override;

    /// Starts a recording (appending); counts start from zero. A recorder can be opened again
    /// after close().
    bool open(const QString &path, QString *error);
    QString fileName() const;
    void record(const QList<DataFrame> &frames);
    /// A frame the client sent on @p connection at @p sentNs (monotonic) and @p wallTime.
    void recordSent(int connection, const QByteArray &frame, qint64 sentNs, const QDateTime &wallTime);
    /// Flushes and closes; false (with @p error) if anything could not be written.
    bool close(QString *error);
    /// Data frames written (sent frames are counted apart: sentWritten()).
    qint64 written() const;
    qint64 sentWritten() const;
    qint64 lost() const;

Q_SIGNALS:
    void failed(const QString &error);

private:
    void flush();
    void flushLocked();

    mutable std::mutex m_mutex; ///< guards everything below against record() on another thread
    QFile m_file;
    QByteArray m_buffer;
    QTimer m_flushTimer{this};
    qint64 m_written = 0;
    qint64 m_sentWritten = 0;
    qint64 m_lost = 0;
    QString m_error;
    bool m_failedReported = false;
    bool m_active = false; ///< between open() and close(): frames that cannot be written are lost
};

} // namespace FeedScope

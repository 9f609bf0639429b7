#include "recorder.h"

#include "recording.h"

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

FrameRecorder::FrameRecorder(QObject *parent) : QObject(parent)
{
    m_flushTimer.setInterval(1s);
    connect(&m_flushTimer, &QTimer::timeout, this, &FrameRecorder::flush);
}

FrameRecorder::~FrameRecorder()
{
    QString ignored;
    close(&ignored);
}

bool FrameRecorder::open(const QString &path, QString *error)
{
    std::lock_guard lock(m_mutex);
    if (m_active) {
        *error = u"already recording to %1"_s.arg(m_file.fileName());
        return false;
    }
    m_file.setFileName(path);
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        *error = u"cannot record to %1: %2"_s.arg(path, m_file.errorString());
        return false;
    }
    m_active = true;
    m_written = 0;
    m_sentWritten = 0;
    m_lost = 0;
    m_error.clear();
    m_failedReported = false;
    m_flushTimer.start();
    return true;
}

QString FrameRecorder::fileName() const
{
    std::lock_guard lock(m_mutex);
    return m_file.fileName();
}

qint64 FrameRecorder::written() const
{
    std::lock_guard lock(m_mutex);
    return m_written;
}

qint64 FrameRecorder::sentWritten() const
{
    std::lock_guard lock(m_mutex);
    return m_sentWritten;
}

qint64 FrameRecorder::lost() const
{
    std::lock_guard lock(m_mutex);
    return m_lost;
}

void FrameRecorder::record(const QList<DataFrame> &frames)
{
    std::lock_guard lock(m_mutex);
    if (!m_file.isOpen()) {
        if (m_active) // a write failed: the rest of this recording is lost, and counted
            m_lost += frames.size();
        return;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const DataFrame &f : frames)
        m_buffer += toJsonLine({now, f.receivedNs, f.connection, f.raw, false});
    m_written += frames.size();
    if (m_buffer.size() > 4 * 1024 * 1024)
        flushLocked();
}

void FrameRecorder::recordSent(int connection, const QByteArray &frame, qint64 sentNs,
                               const QDateTime &wallTime)
{
    std::lock_guard lock(m_mutex);
    if (!m_file.isOpen()) {
        if (m_active)
            ++m_lost;
        return;
    }
    RecordedFrame f{wallTime, sentNs, connection, frame, false, true};
    m_buffer += toJsonLine(f);
    ++m_sentWritten;
}

void FrameRecorder::flush()
{
    QString failure;
    {
        std::lock_guard lock(m_mutex);
        flushLocked();
        failure = m_error;
    }
    if (!failure.isEmpty() && !m_failedReported) {
        m_failedReported = true;
        m_flushTimer.stop();
        Q_EMIT failed(failure); // outside the lock
    }
}

void FrameRecorder::flushLocked()
{
    if (m_buffer.isEmpty() || !m_file.isOpen())
        return;
    if (m_file.write(m_buffer) != m_buffer.size() || !m_file.flush()) {
        m_error = u"recording to %1 failed: %2"_s.arg(m_file.fileName(), m_file.errorString());
        m_lost += m_buffer.count('\n');
        m_file.close();
    }
    m_buffer.clear();
}

bool FrameRecorder::close(QString *error)
{
    m_flushTimer.stop();
    std::lock_guard lock(m_mutex);
    flushLocked();
    m_file.close();
    m_active = false;
    if (!m_error.isEmpty()) {
        *error = m_error + u" (%1 frames not recorded)"_s.arg(m_lost);
        return false;
    }
    return true;
}

} // namespace FeedScope

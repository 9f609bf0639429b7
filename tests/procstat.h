#pragma once

#include <QDir>
#include <QFile>
#include <QString>

namespace FeedScope::Test {

/// Resident set size of process @p pid (0: this process) in KiB, from /proc; -1 if unknown.
inline qint64 rssKiB(qint64 pid = 0)
{
    QFile f(pid > 0 ? QStringLiteral("/proc/%1/status").arg(pid) : QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

/// Open file descriptors of process @p pid.
inline qsizetype fdCount(qint64 pid)
{
    return QDir(QStringLiteral("/proc/%1/fd").arg(pid))
        .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System)
        .size();
}

} // namespace FeedScope::Test

#pragma once
// The benchmark suite's results file: one JSON line per scenario, appended, with the machine.
#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

namespace FeedScope::Bench {

inline QString cpuModel()
{
    QFile f(QStringLiteral("/proc/cpuinfo"));
    if (f.open(QIODevice::ReadOnly))
        for (const QByteArray &line : f.readAll().split('\n'))
            if (line.startsWith("model name"))
                return QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
    return QStringLiteral("unknown");
}

inline QJsonObject machine()
{
    return QJsonObject{{QStringLiteral("nproc"), QThread::idealThreadCount()},
                       {QStringLiteral("cpu"), cpuModel()}};
}

inline QString machineLine()
{
    return QStringLiteral("machine: %1 cores, %2").arg(QThread::idealThreadCount()).arg(cpuModel());
}

/// Appends @p result (with "bench", "at" and "machine") to @p path; nothing when @p path is empty.
inline bool appendResult(const QString &path, const QString &bench, QJsonObject result)
{
    if (path.isEmpty())
        return true;
    result.insert(QStringLiteral("bench"), bench);
    result.insert(QStringLiteral("at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    result.insert(QStringLiteral("machine"), machine());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Append))
        return false;
    return f.write(QJsonDocument(result).toJson(QJsonDocument::Compact) + '\n') > 0;
}

} // namespace FeedScope::Bench

// The session log: ring, JSONL file with whole lines flushed every second, rotation, full disk.
#include "sessionlog.h"

#include <QFile>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

QList<QJsonObject> readLines(const QString &path)
{
    QFile f(path);
    QList<QJsonObject> out;
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QByteArray all = f.readAll();
    if (!all.isEmpty() && !all.endsWith('\n'))
        return {}; // a partial line: never allowed
    for (const QByteArray &line : all.split('\n'))
        if (!line.isEmpty())
            out.append(QJsonDocument::fromJson(line).object());
    return out;
}

} // namespace

class tst_SessionLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ringEvictsOldest();
    void statsSnapshotsHaveTheirOwnRing();
    void fileHasHeaderAndWholeLines();
    void flushedWithinASecond();
    void reopenForRotation();
    void fullDiskIsReportedAndCounted();
    void unwritablePathIsAnError();

private:
    QTemporaryDir m_dir;
};

void tst_SessionLog::ringEvictsOldest()
{
    SessionLog log(5);
    QSignalSpy evicted(&log, &SessionLog::evicted);
    for (int i = 0; i < 8; ++i)
        log.append(u"warning"_s, QJsonObject{{u"i"_s, i}});
    QCOMPARE(log.events().size(), 5);
    QCOMPARE(log.events().front().seq, 4);
    QCOMPARE(log.events().back().seq, 8);
    QCOMPARE(evicted.size(), 3);
}

void tst_SessionLog::statsSnapshotsHaveTheirOwnRing()
{
    const QString path = m_dir.filePath(u"stats.jsonl"_s);
    SessionLog log(5, 3);
    QString error;
    QVERIFY(log.openFile(path, &error));
    // Forty snapshots with a few events between them: the events stay, the snapshots are the
    // newest three.
    for (int i = 0; i < 40; ++i) {
        log.statisticsSnapshot(PoolSnapshot{});
        if (i % 10 == 0)
            log.append(u"warning"_s, QJsonObject{{u"i"_s, i}});
    }
    QCOMPARE(log.ring().size(), 4u);
    QCOMPARE(log.statsRing().size(), 3u);
    const QList<SessionEvent> all = log.events();
    QCOMPARE(all.size(), 7);
    QVERIFY(std::is_sorted(all.cbegin(), all.cend(),
                           [](const SessionEvent &a, const SessionEvent &b) { return a.seq < b.seq; }));
    QCOMPARE(all.front().type, u"warning"_s);
    QCOMPARE(all.front().data[u"i"_s].toInt(), 0);
    QCOMPARE(all.back().seq, 44);
    QCOMPARE(all.back().type, u"stats"_s);
    QCOMPARE(all[all.size() - 3].seq, 42);
    // The file has every one of them.
    QVERIFY(log.close(&error));
    const QList<QJsonObject> lines = readLines(path);
    QCOMPARE(lines.size(), 1 + 44);
    QCOMPARE(std::count_if(lines.cbegin(), lines.cend(),
                           [](const QJsonObject &o) { return o[u"type"_s].toString() == u"stats"_s; }),
             40);
}

void tst_SessionLog::fileHasHeaderAndWholeLines()
{
    const QString path = m_dir.filePath(u"a.jsonl"_s);
    {
        SessionLog log;
        QString error;
        QVERIFY(log.openFile(path, &error));
        for (int i = 0; i < 100; ++i)
            log.append(i % 2 ? u"connection"_s : u"subscription"_s, QJsonObject{{u"i"_s, i}});
        QVERIFY(log.close(&error));
    }
    const QList<QJsonObject> lines = readLines(path);
    QCOMPARE(lines.size(), 101);
    QCOMPARE(lines[0][u"schema"_s].toString(), u"feedscope.session/1"_s);
    for (int i = 1; i <= 100; ++i) {
        QCOMPARE(lines[i][u"seq"_s].toInt(), i); // monotonic, none missing
        QVERIFY(lines[i][u"t"_s].toString().endsWith(u'Z'));
        QCOMPARE(lines[i][u"data"_s][u"i"_s].toInt(), i - 1);
    }
}

void tst_SessionLog::flushedWithinASecond()
{
    const QString path = m_dir.filePath(u"b.jsonl"_s);
    SessionLog log;
    QString error;
    QVERIFY(log.openFile(path, &error));
    log.append(u"warning"_s, QJsonObject{{u"text"_s, u"hello"_s}});
    // Still running (not closed): the line reaches the file within the flush interval.
    QTRY_COMPARE_WITH_TIMEOUT(readLines(path).size(), 2, 3000);
}

void tst_SessionLog::reopenForRotation()
{
    const QString path = m_dir.filePath(u"c.jsonl"_s);
    const QString rotated = m_dir.filePath(u"c.jsonl.1"_s);
    SessionLog log;
    QString error;
    QVERIFY(log.openFile(path, &error));
    log.append(u"warning"_s, {});
    QVERIFY(QFile::rename(path, rotated)); // what logrotate does, then SIGHUP
    log.append(u"warning"_s, {});
    QVERIFY(log.reopen(&error));
    log.append(u"warning"_s, {});
    QVERIFY(log.close(&error));
    const QList<QJsonObject> old = readLines(rotated);
    const QList<QJsonObject> fresh = readLines(path);
    QCOMPARE(old.size(), 3); // header + the two events before the reopen
    QCOMPARE(fresh.size(), 2);
    QCOMPARE(fresh[0][u"firstSeq"_s].toInt(), 3);
    QCOMPARE(fresh[1][u"seq"_s].toInt(), 3);
}

void tst_SessionLog::fullDiskIsReportedAndCounted()
{
    if (!QFile::exists(u"/dev/full"_s))
        QSKIP("no /dev/full");
    SessionLog log;
    QSignalSpy failed(&log, &SessionLog::fileFailed);
    QString error;
    log.openFile(u"/dev/full"_s, &error); // the header's flush already hits ENOSPC
    for (int i = 0; i < 10; ++i)
        log.append(u"warning"_s, {});
    QVERIFY(!log.close(&error));
    QVERIFY2(error.contains(u"/dev/full"_s), qPrintable(error));
    QVERIFY(failed.size() >= 1);
    QVERIFY(log.unwritten() >= 10);    // nothing vanishes silently
    QCOMPARE(log.events().size(), 10); // the in-memory ring still has everything
}

void tst_SessionLog::unwritablePathIsAnError()
{
    SessionLog log;
    QString error;
    QVERIFY(!log.openFile(u"/proc/feedscope/none.jsonl"_s, &error));
    QVERIFY(error.startsWith(u"cannot write the session log"_s));
}

QTEST_GUILESS_MAIN(tst_SessionLog)
#include "tst_sessionlog.moc"

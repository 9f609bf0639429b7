// The session log: ring, JSONL file with whole lines flushed every second, rotation, full disk.
#include "eventwords.h"
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
    void summaryRendersBooleansAndNumbers();
    void summaryUsesHumanWords_data();
    void summaryUsesHumanWords();

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

void tst_SessionLog::summaryRendersBooleansAndNumbers()
{
    // A successful export is logged as ok=true, not ok=1 or ok=0; counts stay whole numbers.
    SessionLog log;
    log.append(u"manual"_s, QJsonObject{{u"action"_s, u"export"_s},
                                        {u"path"_s, u"/tmp/s.har"_s},
                                        {u"ok"_s, true},
                                        {u"items"_s, 1234567.0}});
    log.append(u"manual"_s, QJsonObject{{u"action"_s, u"export"_s}, {u"ok"_s, false}, {u"ratio"_s, 0.25}});
    log.append(u"manual"_s, QJsonObject{{u"action"_s, u"reconnectAll"_s}});
    const QList<SessionEvent> e = log.events();
    QCOMPARE(summarizeEvent(e[0]), u"You: export items=1234567 ok=true path=/tmp/s.har"_s);
    QCOMPARE(summarizeEvent(e[1]), u"You: export ok=false ratio=0.25"_s);
    QCOMPARE(summarizeEvent(e[2]), u"You: reconnect all"_s);
    QCOMPARE(Words::value(QJsonValue(true)), u"true"_s);
    QCOMPARE(Words::value(QJsonValue(false)), u"false"_s);
    QCOMPARE(Words::value(QJsonValue(3.0)), u"3"_s);
}

void tst_SessionLog::summaryUsesHumanWords_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QJsonObject>("data");
    QTest::addColumn<QString>("summary");
    QTest::addColumn<QString>("raw"); ///< the internal name that must not show
    QTest::addRow("socket error to backoff")
        << u"connection"_s
        << QJsonObject{{u"connection"_s, 2},
                       {u"from"_s, u"open"_s},
                       {u"to"_s, u"backoff"_s},
                       {u"cause"_s, u"socketError"_s},
                       {u"detail"_s, QString()}}
        << u"Connection #2: open → waiting to retry (network error)"_s << u"socketError"_s;
    QTest::addRow("pong timeout") << u"connection"_s
                                  << QJsonObject{{u"connection"_s, 1},
                                                 {u"from"_s, u"open"_s},
                                                 {u"to"_s, u"closing"_s},
                                                 {u"cause"_s, u"pongTimeout"_s},
                                                 {u"detail"_s, u"no pong in 10 s"_s}}
                                  << u"Connection #1: open → closing (no answer to a ping: no pong in 10 s)"_s
                                  << u"pongTimeout"_s;
    QTest::addRow("paused, nothing after it")
        << u"connection"_s
        << QJsonObject{{u"connection"_s, 3},
                       {u"from"_s, u"open"_s},
                       {u"to"_s, u"stopped"_s},
                       {u"cause"_s, u"paused"_s},
                       {u"detail"_s, QString()}}
        << u"Connection #3: open → stopped (you disconnected the pool)"_s << u"paused:"_s;
    QTest::addRow("stale reconnect") << u"reconnect"_s
                                     << QJsonObject{{u"connection"_s, 1},    {u"cause"_s, u"stale"_s},
                                                    {u"manual"_s, false},    {u"outageMs"_s, 2},
                                                    {u"dataGapMs"_s, 24000}, {u"restored"_s, 3},
                                                    {u"total"_s, 3}}
                                     << u"Connection #1 reconnected (went silent); data lost for 24.0 s; "
                                        u"outage 2 ms; 3 of 3 subscriptions "
                                        u"restored"_s
                                     << u"stale"_s;
    QTest::addRow("manual reconnect")
        << u"reconnect"_s << QJsonObject{{u"connection"_s, 4}, {u"cause"_s, u"manual"_s}, {u"manual"_s, true},
                                         {u"outageMs"_s, 5},   {u"restored"_s, 1},        {u"total"_s, 1}}
        << u"Connection #4 reconnected (you asked); outage 5 ms; 1 of 1 subscriptions restored"_s
        << u"manual reconnect"_s;
    QTest::addRow("unplaceable subscription")
        << u"subscription"_s
        << QJsonObject{{u"subscription"_s, uR"({"coin":"BTC","type":"bbo"})"_s},
                       {u"state"_s, u"unplaceable"_s},
                       {u"connection"_s, -1}}
        << uR"({"coin":"BTC","type":"bbo"} → no room on any connection)"_s << u"unplaceable"_s;
    QTest::addRow("server error kind")
        << u"serverError"_s
        << QJsonObject{{u"connection"_s, 2},
                       {u"kind"_s, u"tooManyChannels"_s},
                       {u"text"_s, u"Cannot subscribe to more than 1000 channels."_s}}
        << u"The server on connection #2 said (too many channels): Cannot subscribe to more than 1000 channels."_s
        << u"tooManyChannels"_s;
    QTest::addRow("overflow policy") << u"overflow"_s << QJsonObject{{u"consumer"_s, u"inspector"_s},
                                                                     {u"policy"_s, u"drop-oldest"_s},
                                                                     {u"phase"_s, u"start"_s},
                                                                     {u"dropped"_s, 25538},
                                                                     {u"syncFallbacks"_s, 0},
                                                                     {u"peakDepth"_s, 2000}}
                                     << u"inspector queue (drops the oldest) overflowing: 25538 dropped, 0 "
                                        u"delivered synchronously so far, "
                                        u"peak 2000 queued"_s
                                     << u"drop-oldest"_s;
}

void tst_SessionLog::summaryUsesHumanWords()
{
    QFETCH(QString, type);
    QFETCH(QJsonObject, data);
    QFETCH(QString, summary);
    QFETCH(QString, raw);
    const SessionEvent e{1, QDateTime::currentDateTimeUtc(), type, data};
    QCOMPARE(summarizeEvent(e), summary);
    QVERIFY(!summarizeEvent(e).contains(raw));
}

QTEST_GUILESS_MAIN(tst_SessionLog)
#include "tst_sessionlog.moc"

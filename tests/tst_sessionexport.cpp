// Session export (JSONL, CSV, HAR) and import: round trips, cancel, and failing disks.
#include "sessionexport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

QList<SessionEvent> sampleEvents(int n)
{
    QList<SessionEvent> out;
    const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1790000000123, Qt::UTC);
    for (int i = 0; i < n; ++i) {
        QJsonObject data;
        switch (i % 4) {
        case 0:
            data = {{u"connection"_s, 1 + i % 3},
                    {u"from"_s, u"open"_s},
                    {u"to"_s, u"backoff"_s},
                    {u"cause"_s, u"closeFrame"_s},
                    {u"detail"_s, u"close code 1000: \"bye\", see you\nlater"_s}};
            break;
        case 1:
            data = {{u"subscription"_s, uR"({"coin":"BTC","type":"l2Book"})"_s}, {u"state"_s, u"active"_s}};
            break;
        case 2:
            data = {{u"connection"_s, 2},
                    {u"restored"_s, 12},
                    {u"total"_s, 12},
                    {u"outageMs"_s, 42},
                    {u"cause"_s, u"stale"_s}};
            break;
        default:
            data = {{u"text"_s, u"Invalid subscription {\"coin\":\"X\",\"type\":\"bbo\"}"_s}};
        }
        static const char *types[] = {"connection", "subscription", "reconnect", "serverError"};
        out.append({i + 1, t0.addMSecs(i * 7), QString::fromLatin1(types[i % 4]), data});
    }
    return out;
}

/// A small RFC 4180 reader, to prove the CSV parses back.
QList<QStringList> parseCsv(const QByteArray &bytes)
{
    QList<QStringList> rows;
    QStringList row;
    QByteArray field;
    bool quoted = false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (quoted) {
            if (c == '"' && i + 1 < bytes.size() && bytes[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.append(QString::fromUtf8(field));
            field.clear();
        } else if (c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') {
            row.append(QString::fromUtf8(field));
            field.clear();
            rows.append(row);
            row.clear();
            ++i;
        } else {
            field += c;
        }
    }
    return rows;
}

} // namespace

class tst_SessionExport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void jsonlRoundTrip();
    void csvParsesBack();
    void harHasTheRequiredFields();
    void cancelLeavesNothing();
    void readOnlyLocation();
    void diskFullLeavesNoHalfFile();
    void importRejectsOtherFiles();

private:
    QTemporaryDir m_dir;
};

void tst_SessionExport::jsonlRoundTrip()
{
    const QList<SessionEvent> events = sampleEvents(2500);
    const QString path = m_dir.filePath(u"s.jsonl"_s);
    QList<qint64> progress;
    const ExportResult r =
        exportSession(events, {}, {}, ExportFormat::Jsonl, path, [&](qint64 done, qint64 total) {
            progress.append(done);
            return total == 2500;
        });
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.items, 2500);
    QCOMPARE(progress, (QList<qint64>{1000, 2000, 2500}));
    QString error;
    const auto back = importSessionJsonl(path, &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QCOMPARE(back->size(), events.size());
    for (qsizetype i = 0; i < events.size(); ++i) {
        QCOMPARE(back->at(i).seq, events[i].seq);
        QCOMPARE(back->at(i).at, events[i].at);
        QCOMPARE(back->at(i).type, events[i].type);
        QCOMPARE(back->at(i).data, events[i].data);
    }
}

void tst_SessionExport::csvParsesBack()
{
    const QList<SessionEvent> events = sampleEvents(40);
    const QString path = m_dir.filePath(u"s.csv"_s);
    QVERIFY(exportSession(events, {}, {}, ExportFormat::Csv, path).ok);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QStringList> rows = parseCsv(f.readAll());
    QCOMPARE(rows.size(), 41);
    QCOMPARE(rows[0],
             (QStringList{u"seq"_s, u"time"_s, u"type"_s, u"connection"_s, u"summary"_s, u"data"_s}));
    for (int i = 1; i <= 40; ++i) {
        QCOMPARE(rows[i].size(), 6);
        QCOMPARE(rows[i][0].toLongLong(), events[i - 1].seq);
        QCOMPARE(rows[i][2], events[i - 1].type);
        // The data column holds the event's data exactly, commas, quotes and newlines included.
        QCOMPARE(QJsonDocument::fromJson(rows[i][5].toUtf8()).object(), events[i - 1].data);
    }
    QCOMPARE(rows[1][4], u"#1 open → backoff (closeFrame): close code 1000: \"bye\", see you\nlater"_s);
    QCOMPARE(rows[3][4], u"#2 reconnect after stale: outage 42 ms, 12/12 restored"_s);
    QCOMPARE(csvField(u"a,b"_s), QByteArray("\"a,b\""));
    QCOMPARE(csvField(u"say \"hi\""_s), QByteArray("\"say \"\"hi\"\"\""));
    QCOMPARE(csvField(u"plain"_s), QByteArray("plain"));
}

void tst_SessionExport::harHasTheRequiredFields()
{
    QList<RecordedFrame> frames;
    const QDateTime t0 = QDateTime::currentDateTimeUtc();
    for (int i = 0; i < 30; ++i)
        frames.append({t0.addMSecs(i), i, 1 + i % 2, R"({"channel":"bbo","data":{"coin":"BTC"}})", false});
    const QString path = m_dir.filePath(u"s.har"_s);
    QVERIFY(exportSession({}, frames, QUrl(u"wss://api.hyperliquid.xyz/ws"_s), ExportFormat::Har, path).ok);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QJsonParseError pe;
    const QJsonObject log = QJsonDocument::fromJson(f.readAll(), &pe).object()[u"log"_s].toObject();
    QCOMPARE(pe.error, QJsonParseError::NoError);
    QCOMPARE(log[u"version"_s].toString(), u"1.2"_s);
    QCOMPARE(log[u"creator"_s][u"name"_s].toString(), u"FeedScope"_s);
    const QJsonArray entries = log[u"entries"_s].toArray();
    QCOMPARE(entries.size(), 2); // one per connection
    for (const QJsonValue &e : entries) {
        for (const char *key : {"startedDateTime", "time", "request", "response", "cache", "timings"})
            QVERIFY2(e.toObject().contains(QLatin1StringView(key)), key);
        QCOMPARE(e[u"request"_s][u"url"_s].toString(), u"wss://api.hyperliquid.xyz/ws"_s);
        QCOMPARE(e[u"response"_s][u"status"_s].toInt(), 101);
        QCOMPARE(e[u"_resourceType"_s].toString(), u"websocket"_s);
        const QJsonArray msgs = e[u"_webSocketMessages"_s].toArray();
        QCOMPARE(msgs.size(), 15);
        QCOMPARE(msgs[0][u"type"_s].toString(), u"receive"_s);
        QCOMPARE(msgs[0][u"opcode"_s].toInt(), 1);
        QVERIFY(msgs[0][u"data"_s].toString().startsWith(u"{\"channel\":\"bbo\""_s));
    }
}

void tst_SessionExport::cancelLeavesNothing()
{
    const QString path = m_dir.filePath(u"cancelled.jsonl"_s);
    const ExportResult r = exportSession(sampleEvents(5000), {}, {}, ExportFormat::Jsonl, path,
                                         [](qint64 done, qint64) { return done < 2000; });
    QVERIFY(!r.ok);
    QVERIFY(r.cancelled);
    QVERIFY(!QFile::exists(path));
    QCOMPARE(QDir(m_dir.path()).entryList({u"cancelled*"_s}, QDir::Files),
             QStringList()); // no temporary left
}

void tst_SessionExport::readOnlyLocation()
{
    const ExportResult r =
        exportSession(sampleEvents(10), {}, {}, ExportFormat::Csv, u"/proc/feedscope/export.csv"_s);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.startsWith(u"cannot write /proc/feedscope/export.csv"_s), qPrintable(r.error));
}

void tst_SessionExport::diskFullLeavesNoHalfFile()
{
    // A file-size limit makes writes fail as on a full disk (EFBIG instead of ENOSPC).
    const QString path = m_dir.filePath(u"full.jsonl"_s);
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("previous export\n");
    }
    rlimit saved{};
    getrlimit(RLIMIT_FSIZE, &saved);
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    QVERIFY(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const ExportResult r = exportSession(sampleEvents(20000), {}, {}, ExportFormat::Jsonl, path);
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, oldHandler);
    QVERIFY(!r.ok);
    QVERIFY(!r.cancelled);
    QVERIFY2(r.error.contains(path), qPrintable(r.error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("previous export\n")); // the old file is untouched
    QCOMPARE(QDir(m_dir.path()).entryList({u"full.jsonl?*"_s}, QDir::Files), QStringList());
}

void tst_SessionExport::importRejectsOtherFiles()
{
    const QString path = m_dir.filePath(u"other.jsonl"_s);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"seq\":1,\"t\":\"2026-01-01T00:00:00.000Z\",\"type\":\"x\",\"data\":{}}\n");
    f.close();
    QString error;
    QVERIFY(!importSessionJsonl(path, &error));
    QVERIFY2(error.contains(u"not a FeedScope session"_s), qPrintable(error));
    QVERIFY(!importSessionJsonl(m_dir.filePath(u"missing.jsonl"_s), &error));
    QVERIFY(error.startsWith(u"cannot read"_s));
}

QTEST_GUILESS_MAIN(tst_SessionExport)
#include "tst_sessionexport.moc"

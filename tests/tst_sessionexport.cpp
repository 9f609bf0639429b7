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
    void formatFollowsTheTypedExtension_data();
    void formatFollowsTheTypedExtension();
    void harHasBothDirectionsInTimeOrder();
    void recordingLinesKeepTheirDirection();

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
    // Human words in the summary; the raw names stay in the data column.
    QCOMPARE(rows[1][4], u"Connection #1: open → waiting to retry (the server closed it: close code 1000: "
                         u"\"bye\", see you\nlater)"_s);
    QCOMPARE(rows[3][4], u"Connection #2 reconnected (went silent); outage 42 ms; 12 of 12 subscriptions "
                         u"restored"_s);
    QVERIFY(rows[1][5].contains(u"\"closeFrame\""_s));
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

void tst_SessionExport::formatFollowsTheTypedExtension_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QString>("filter");
    QTest::addColumn<ExportFormat>("format");
    QTest::addColumn<QString>("written");
    const QString jsonl = u"JSONL, lossless (*.jsonl)"_s;
    const QString csv = u"CSV, one row per event (*.csv)"_s;
    const QString har = u"HAR 1.2, for Chrome DevTools (*.har)"_s;
    QTest::addRow("har typed, jsonl filter")
        << u"/tmp/x/s.har"_s << jsonl << ExportFormat::Har << u"/tmp/x/s.har"_s;
    QTest::addRow("csv typed, har filter")
        << u"/tmp/x/s.csv"_s << har << ExportFormat::Csv << u"/tmp/x/s.csv"_s;
    QTest::addRow("jsonl typed, csv filter")
        << u"/tmp/x/s.jsonl"_s << csv << ExportFormat::Jsonl << u"/tmp/x/s.jsonl"_s;
    QTest::addRow("upper-case extension")
        << u"/tmp/x/S.HAR"_s << csv << ExportFormat::Har << u"/tmp/x/S.HAR"_s;
    QTest::addRow("none typed: the filter, extension added")
        << u"/tmp/x/session"_s << har << ExportFormat::Har << u"/tmp/x/session.har"_s;
    QTest::addRow("none typed, csv filter")
        << u"/tmp/x/session"_s << csv << ExportFormat::Csv << u"/tmp/x/session.csv"_s;
    QTest::addRow("unknown extension: the filter's added")
        << u"/tmp/x/notes.txt"_s << csv << ExportFormat::Csv << u"/tmp/x/notes.txt.csv"_s;
    QTest::addRow("dotted directory, no extension")
        << u"/tmp/x.har/session"_s << jsonl << ExportFormat::Jsonl << u"/tmp/x.har/session.jsonl"_s;
    QTest::addRow("neither says: JSONL")
        << u"/tmp/x/session"_s << QString() << ExportFormat::Jsonl << u"/tmp/x/session.jsonl"_s;
    QTest::addRow("hidden file without extension")
        << u"/tmp/x/.har"_s << csv << ExportFormat::Csv << u"/tmp/x/.har.csv"_s;
}

void tst_SessionExport::formatFollowsTheTypedExtension()
{
    QFETCH(QString, typed);
    QFETCH(QString, filter);
    QFETCH(ExportFormat, format);
    QFETCH(QString, written);
    QCOMPARE(exportFormatFor(typed, filter), format);
    QCOMPARE(withExportExtension(typed, format), written);
    // And the file really is in that format: a ".har" typed under the JSONL filter is HAR.
    if (QTest::currentDataTag() == QByteArrayView("har typed, jsonl filter")) {
        const QString path = m_dir.filePath(u"typed.har"_s);
        const ExportFormat f = exportFormatFor(path, filter);
        QVERIFY(exportSession(sampleEvents(3), {}, {}, f, withExportExtension(path, f)).ok);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(file.readAll())[u"log"_s][u"version"_s].toString(), u"1.2"_s);
    }
}

void tst_SessionExport::harHasBothDirectionsInTimeOrder()
{
    // What DevTools shows: the subscribe that went out, then the data, then a ping and its pong,
    // then the unsubscribe, per connection, whatever order the caller passes them in.
    const QDateTime t0 = QDateTime::fromMSecsSinceEpoch(1790000000000, Qt::UTC);
    const QByteArray subscribe = R"({"method":"subscribe","subscription":{"type":"bbo","coin":"BTC"}})";
    const QByteArray data = R"({"channel":"bbo","data":{"coin":"BTC"}})";
    const QByteArray ping = R"({"method":"ping"})";
    const QByteArray pong = R"({"channel":"pong"})";
    const QByteArray unsubscribe = R"({"method":"unsubscribe","subscription":{"type":"bbo","coin":"BTC"}})";
    QList<RecordedFrame> received{{t0.addMSecs(10), 10, 1, data, false, false},
                                  {t0.addMSecs(20), 20, 1, data, false, false},
                                  {t0.addMSecs(40), 40, 1, pong, false, false},
                                  {t0.addMSecs(15), 15, 2, data, false, false}};
    QList<RecordedFrame> sent{{t0, 0, 1, subscribe, false, true},
                              {t0.addMSecs(30), 30, 1, ping, false, true},
                              {t0.addMSecs(50), 50, 1, unsubscribe, false, true},
                              {t0.addMSecs(5), 5, 2, subscribe, false, true}};
    const QString path = m_dir.filePath(u"both.har"_s);
    QVERIFY(
        exportSession({}, received + sent, QUrl(u"wss://api.hyperliquid.xyz/ws"_s), ExportFormat::Har, path)
            .ok);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray entries = QJsonDocument::fromJson(f.readAll())[u"log"_s][u"entries"_s].toArray();
    QCOMPARE(entries.size(), 2);
    auto messagesOf = [&entries](int connection) {
        for (const QJsonValue &e : entries)
            if (e[u"_connection"_s].toInt() == connection)
                return e[u"_webSocketMessages"_s].toArray();
        return QJsonArray();
    };
    const QJsonArray one = messagesOf(1);
    QCOMPARE(one.size(), 6);
    QStringList types, payloads;
    double previous = 0;
    for (const QJsonValue &m : one) {
        types.append(m[u"type"_s].toString());
        payloads.append(m[u"data"_s].toString());
        QVERIFY(m[u"time"_s].toDouble() >= previous);
        previous = m[u"time"_s].toDouble();
    }
    QCOMPARE(types, (QStringList{u"send"_s, u"receive"_s, u"receive"_s, u"send"_s, u"receive"_s, u"send"_s}));
    QCOMPARE(payloads.constFirst(), QString::fromUtf8(subscribe));
    QCOMPARE(payloads.at(3), QString::fromUtf8(ping));
    QCOMPARE(payloads.constLast(), QString::fromUtf8(unsubscribe));
    QCOMPARE(one[0][u"time"_s].toDouble(), 1790000000.0);
    const QJsonArray two = messagesOf(2);
    QCOMPARE(two.size(), 2);
    QCOMPARE(two[0][u"type"_s].toString(), u"send"_s);
    QCOMPARE(two[1][u"type"_s].toString(), u"receive"_s);
    // The entry starts at its first message, the subscribe.
    QCOMPARE(entries[0][u"startedDateTime"_s].toString(), u"2026-09-21T14:13:20.000Z"_s);

    // Wall times taken on different threads can disagree by a millisecond; the monotonic clock
    // that every frame carries decides: the reply comes after its request.
    const QList<RecordedFrame> skewed{{t0.addMSecs(4), 2000000, 1, pong, false, false},
                                      {t0.addMSecs(5), 1500000, 1, ping, false, true}};
    const QString path2 = m_dir.filePath(u"skewed.har"_s);
    QVERIFY(exportSession({}, skewed, {}, ExportFormat::Har, path2).ok);
    QFile f2(path2);
    QVERIFY(f2.open(QIODevice::ReadOnly));
    const QJsonArray msgs =
        QJsonDocument::fromJson(f2.readAll())[u"log"_s][u"entries"_s][0][u"_webSocketMessages"_s].toArray();
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[0][u"type"_s].toString(), u"send"_s);
    QCOMPARE(msgs[1][u"type"_s].toString(), u"receive"_s);
    QCOMPARE(msgs[0][u"time"_s].toDouble(), 1790000000.005);
    QCOMPARE(msgs[1][u"time"_s].toDouble(), 1790000000.0055); // half a millisecond later
}

void tst_SessionExport::recordingLinesKeepTheirDirection()
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(1790000000123, Qt::UTC);
    // A sent frame carries "dir":"send"; a received one has no "dir" (as every older recording).
    const QByteArray sentLine = toJsonLine({t, 7, 3, R"({"method":"ping"})", false, true});
    const QByteArray receivedLine = toJsonLine({t, 8, 3, R"({"channel":"pong"})", false, false});
    QVERIFY(sentLine.contains(R"("dir":"send")"));
    QVERIFY(!receivedLine.contains("dir"));
    const auto sent = parseRecordedLine(sentLine.trimmed());
    QVERIFY(sent);
    QVERIFY(sent->sent);
    QCOMPARE(sent->payload, QByteArray(R"({"method":"ping"})"));
    QCOMPARE(sent->monotonicNs, 7);
    QCOMPARE(sent->connection, 3);
    const auto received = parseRecordedLine(receivedLine.trimmed());
    QVERIFY(received);
    QVERIFY(!received->sent);
    // A line written before the field existed parses as a received frame.
    const auto old =
        parseRecordedLine(R"({"t":"2026-11-21T04:12:33.123Z","ns":123456789,"conn":3,"text":"{}"})");
    QVERIFY(old);
    QVERIFY(!old->sent);
    QVERIFY(
        parseRecordedLine(R"({"t":"2026-11-21T04:12:33.123Z","ns":1,"conn":3,"text":"{}","dir":"receive"})")
            .has_value());
    QString why;
    QVERIFY(!parseRecordedLine(R"({"t":"2026-11-21T04:12:33.123Z","ns":1,"conn":3,"text":"{}","dir":"up"})",
                               &why));
    QVERIFY2(why.contains(u"dir"_s), qPrintable(why));
}

QTEST_GUILESS_MAIN(tst_SessionExport)
#include "tst_sessionexport.moc"

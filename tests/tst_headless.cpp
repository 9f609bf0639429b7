// The headless command line as scripts use it: the real `feedscope` and `feedscope-sim`
// programs, run as processes.
#include "codec.h"
#include "recording.h"
#include "subscription.h"

#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
};

Run run(const QStringList &args, int timeoutMs = 60000)
{
    QProcess p;
    p.start(QStringLiteral(FEEDSCOPE_BIN), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return {};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2,
            QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &content)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QJsonObject readJson(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

const QRegularExpression isoMs(u"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"_s);

} // namespace

class tst_Headless : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void usageErrors_data();
    void usageErrors();
    void helpAndVersion();
    void demoRunWritesReport();
    void dispatchPolicyInReport();
    void sessionLogRecordsTheRun();
    void profileIsTheBaseOptionsOverride();
    void sigtermStopsCleanly();
    void recordingReplaysWithSameCounts();
    void unwritableReportIsFatal();
    void alertsEndToEnd();

private:
    QTemporaryDir m_dir;
};

void tst_Headless::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(QFile::exists(QStringLiteral(FEEDSCOPE_BIN)));
}

void tst_Headless::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    const QString good = writeFile(m_dir, u"good.json"_s, R"([{"type":"trades","coin":"BTC"}])");
    const QString badEntry =
        writeFile(m_dir, u"bad-entry.json"_s,
                  R"([{"type":"trades","coin":"BTC"},{"type":"candle","coin":"BTC","interval":"7m"}])");
    const QString unknownType = writeFile(m_dir, u"unknown.json"_s, R"([{"type":"nope"}])");
    const QString notJson = writeFile(m_dir, u"notjson.json"_s, "[{");
    QTest::addRow("unknown option") << QStringList{u"--headless"_s, u"--frobnicate"_s} << u"Unknown option"_s;
    QTest::addRow("bad number") << QStringList{u"--headless"_s, u"--max-connections"_s, u"ten"_s}
                                << u"--max-connections must be a whole number from 1 to 1000 (got \"ten\")"_s;
    QTest::addRow("out of range") << QStringList{u"--headless"_s, u"--io-threads"_s, u"0"_s}
                                  << u"--io-threads must be a whole number from 1 to 64"_s;
    QTest::addRow("bad policy")
        << QStringList{u"--headless"_s, u"--dispatch-policy"_s, u"yolo"_s}
        << u"--dispatch-policy must be one of lossless, drop-oldest, drop-newest, coalesce-latest"_s;
    QTest::addRow("bad url") << QStringList{u"--headless"_s, u"--url"_s, u"http://x/ws"_s,
                                            u"--subscriptions"_s, good}
                             << u"--url must be a ws:// or wss:// URL"_s;
    QTest::addRow("url without subscriptions")
        << QStringList{u"--headless"_s, u"--url"_s, u"ws://127.0.0.1:1/ws"_s}
        << u"--headless with --url needs --subscriptions FILE"_s;
    QTest::addRow("demo and url") << QStringList{u"--headless"_s, u"--demo"_s, u"--url"_s, u"ws://h/ws"_s}
                                  << u"--demo and --url exclude each other"_s;
    QTest::addRow("missing file") << QStringList{u"--headless"_s, u"--subscriptions"_s,
                                                 m_dir.filePath(u"nope.json"_s)}
                                  << u"cannot read --subscriptions"_s;
    QTest::addRow("bad entry named")
        << QStringList{u"--headless"_s, u"--subscriptions"_s, badEntry}
        << u"entry 1 {\"coin\":\"BTC\",\"interval\":\"7m\",\"type\":\"candle\"}: candle: \"interval\" must be one of"_s;
    QTest::addRow("unknown type") << QStringList{u"--headless"_s, u"--subscriptions"_s, unknownType}
                                  << u"unknown subscription type \"nope\""_s;
    QTest::addRow("not json") << QStringList{u"--headless"_s, u"--subscriptions"_s, notJson}
                              << u"not valid JSON"_s;
    QTest::addRow("stale below ping") << QStringList{u"--headless"_s, u"--ping-interval-ms"_s, u"5000"_s,
                                                     u"--stale-timeout-ms"_s, u"4000"_s}
                                      << u"--stale-timeout-ms must be longer than --ping-interval-ms"_s;
    QTest::addRow("bad demo fault") << QStringList{u"--headless"_s, u"--demo-fault"_s, u"1:explode"_s}
                                    << u"bad fault \"1:explode\""_s;
    QTest::addRow("bad dispatch threads") << QStringList{u"--headless"_s, u"--dispatch-threads"_s, u"0"_s}
                                          << u"--dispatch-threads must be a whole number from 1 to 64"_s;
    QTest::addRow("unreadable ca file")
        << QStringList{u"--headless"_s, u"--ca-file"_s, m_dir.filePath(u"no-ca.pem"_s)}
        << u"cannot read --ca-file"_s;
    QTest::addRow("ca file without a certificate")
        << QStringList{u"--headless"_s, u"--ca-file"_s, notJson} << u"holds no PEM certificate"_s;
    QTest::addRow("positional") << QStringList{u"--headless"_s, u"extra"_s}
                                << u"unexpected argument \"extra\""_s;
    // Issue 17: alert rules and the alert command.
    const QString badRules = writeFile(m_dir, u"bad-rules.json"_s, R"([{"id":"x","kind":"weather"}])");
    const QString badProfileRule =
        writeFile(m_dir, u"bad-alert-profile.json"_s,
                  R"({"schema":"feedscope.profile/1","alerts":{"rules":[{"id":"drops","threshold":-3}]}})");
    QTest::addRow("bad alert rule") << QStringList{u"--headless"_s, u"--alert-rules"_s, badRules}
                                    << u"rules[0]\": alert rule \"x\": unknown \"kind\" \"weather\""_s;
    QTest::addRow("bad alert rule in profile")
        << QStringList{u"--headless"_s, u"--profile"_s, badProfileRule}
        << u"\"alerts.rules[0]\": alert rule \"drops\": \"threshold\" must be a number"_s;
    QTest::addRow("alert command quote")
        << QStringList{u"--headless"_s, u"--alert-command"_s, u"notify \"x"_s}
        << u"--alert-command: the alert command has an unbalanced double quote"_s;
    QTest::addRow("empty alert command")
        << QStringList{u"--headless"_s, u"--alert-command"_s, u" "_s} << u"--alert-command needs a program"_s;
    QTest::addRow("alert command timeout")
        << QStringList{u"--headless"_s, u"--alert-command-timeout-s"_s, u"0"_s}
        << u"--alert-command-timeout-s must be a whole number from 1 to 3600"_s;
}

void tst_Headless::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const QString report = m_dir.filePath(u"should-not-exist.json"_s);
    const Run r = run(args + QStringList{u"--report"_s, report});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(r.err.contains(u"--help"_s));
    QVERIFY(!QFile::exists(report)); // nothing started
}

void tst_Headless::helpAndVersion()
{
    const Run help = run({u"--help"_s});
    QCOMPARE(help.exitCode, 0);
    for (const char *opt : {"--headless", "--demo", "--url", "--subscriptions", "--report", "--duration-s",
                            "--max-connections", "--max-subscriptions-per-connection", "--ping-interval-ms",
                            "--stale-timeout-ms", "--outgoing-rate", "--dispatch-policy", "--queue-capacity",
                            "--io-threads", "--session-log", "--record", "--metrics-port"})
        QVERIFY2(help.out.contains(QLatin1StringView(opt)), opt);
    const Run version = run({u"--version"_s});
    QCOMPARE(version.exitCode, 0);
    QCOMPARE(version.out.trimmed(), u"feedscope " FEEDSCOPE_VERSION ""_s);
}

void tst_Headless::demoRunWritesReport()
{
    const QString subs = writeFile(m_dir, u"demo-subs.json"_s,
                                   R"([{"type":"bbo","coin":"BTC"},{"type":"trades","coin":"ETH"},
                                       {"type":"l2Book","coin":"BTC"},{"type":"l2Book","coin":"BTC","nSigFigs":5},
                                       {"type":"userFills","user":"0xABCDEF0123456789ABCDEF0123456789ABCDEF01"}])");
    const QString report = m_dir.filePath(u"report.json"_s);
    const Run r = run({u"--headless"_s, u"--demo"_s, u"--subscriptions"_s, subs, u"--duration-s"_s, u"3"_s,
                       u"--report"_s, report, u"--demo-fault"_s, u"1200:abort:all"_s});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject rep = readJson(report);
    QCOMPARE(rep[u"schema"_s].toString(), u"feedscope.report/1"_s);
    QCOMPARE(rep[u"version"_s].toString(), QStringLiteral(FEEDSCOPE_VERSION));
    QVERIFY(isoMs.match(rep[u"startedAt"_s].toString()).hasMatch());
    QVERIFY(rep[u"durationMs"_s].toDouble() >= 3000);
    const QJsonArray subsOut = rep[u"subscriptions"_s].toArray();
    QCOMPARE(subsOut.size(), 5);
    double received = 0;
    for (const QJsonValue &v : subsOut) {
        const QJsonObject s = v.toObject();
        QCOMPARE(s[u"state"_s].toString(), u"active"_s);
        QVERIFY(s[u"error"_s].isNull());
        QVERIFY(s[u"connection"_s].toInt() >= 1);
        QVERIFY(s[u"messages"_s].toDouble() > 0);
        QVERIFY(s[u"bytes"_s].toDouble() > s[u"messages"_s].toDouble());
        QVERIFY(isoMs.match(s[u"firstMessageAt"_s].toString()).hasMatch());
        QVERIFY(isoMs.match(s[u"lastMessageAt"_s].toString()).hasMatch());
        // The key is the canonical form: lowercased user, sorted keys.
        QCOMPARE(s[u"key"_s].toString(), QString::fromUtf8(Hl::canonicalJson(s[u"subscription"_s])));
        received += s[u"messages"_s].toDouble();
    }
    QVERIFY(QJsonDocument(rep).toJson().contains("0xabcdef0123456789abcdef0123456789abcdef01"));
    const QJsonObject d = rep[u"dispatcher"_s].toObject();
    QCOMPARE(d[u"policy"_s].toString(), u"lossless"_s);
    QCOMPARE(d[u"received"_s].toDouble(), received);
    QCOMPARE(d[u"received"_s].toDouble(),
             d[u"delivered"_s].toDouble() + d[u"dropped"_s].toDouble() + d[u"coalesced"_s].toDouble());
    const QJsonArray conns = rep[u"connections"_s].toArray();
    QVERIFY(conns.size() >= 2); // the two l2Book BTC cannot share one
    for (const QJsonValue &c : conns) {
        QVERIFY(c[u"localPort"_s].toInt() > 0);
        QCOMPARE(c[u"reconnects"_s].toInt(), 1);
        QVERIFY(c[u"messagesIn"_s].toDouble() > 0);
    }
    const QJsonArray rec = rep[u"reconnects"_s].toArray();
    QCOMPARE(rec.size(), conns.size());
    for (const QJsonValue &x : rec) {
        QCOMPARE(x[u"restoredSubscriptions"_s].toInt(), x[u"totalSubscriptions"_s].toInt());
        QVERIFY(x[u"durationMs"_s].toDouble() >= 0);
        QVERIFY(x[u"dataGapMs"_s].toDouble() >= x[u"durationMs"_s].toDouble());
        QVERIFY(isoMs.match(x[u"startedAt"_s].toString()).hasMatch());
    }
    QCOMPARE(rep[u"errors"_s][u"malformedFrames"_s].toDouble(), 0.0);
}

void tst_Headless::dispatchPolicyInReport()
{
    // A lossy policy with a tiny queue: the identity still holds for every consumer, and the
    // recorder's file has exactly the frames it reports as delivered.
    const QString report = m_dir.filePath(u"policy.json"_s);
    const QString recording = m_dir.filePath(u"policy.jsonl"_s);
    const Run r = run({u"--headless"_s, u"--demo"_s, u"--duration-s"_s, u"2"_s, u"--report"_s, report,
                       u"--dispatch-policy"_s, u"coalesce-latest"_s, u"--queue-capacity"_s, u"2"_s,
                       u"--dispatch-threads"_s, u"1"_s, u"--record"_s, recording});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject rep = readJson(report);
    const QJsonObject d = rep[u"dispatcher"_s].toObject();
    QCOMPARE(d[u"policy"_s].toString(), u"coalesce-latest"_s);
    double routed = 0;
    for (const QJsonValue &v : rep[u"subscriptions"_s].toArray())
        routed += v[u"messages"_s].toDouble();
    QCOMPARE(d[u"received"_s].toDouble(), routed);
    QCOMPARE(d[u"received"_s].toDouble(),
             d[u"delivered"_s].toDouble() + d[u"dropped"_s].toDouble() + d[u"coalesced"_s].toDouble());
    QVERIFY(d[u"maxQueueDepth"_s].toDouble() <= 2);
    const QJsonArray consumers = d[u"consumers"_s].toArray();
    QCOMPARE(consumers.size(), 3); // statistics (inline), inspector and recorder (workers)
    QCOMPARE(consumers[0][u"name"_s].toString(), u"statistics"_s);
    QCOMPARE(consumers[0][u"delivered"_s].toDouble(), routed); // inline: never queued, never dropped
    for (const QJsonValue &c : consumers) {
        QCOMPARE(c[u"received"_s].toDouble(), routed);
        QCOMPARE(c[u"received"_s].toDouble(), c[u"delivered"_s].toDouble() + c[u"dropped"_s].toDouble() +
                                                  c[u"coalesced"_s].toDouble() + c[u"queued"_s].toDouble());
    }
    QFile f(recording);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(consumers[2][u"name"_s].toString(), u"recorder"_s);
    QCOMPARE(static_cast<double>(f.readAll().count('\n')), consumers[2][u"delivered"_s].toDouble());
}

void tst_Headless::profileIsTheBaseOptionsOverride()
{
    const QString profile = writeFile(m_dir, u"profile.json"_s, R"({"schema":"feedscope.profile/1",
        "dispatcher":{"policy":"coalesce-latest","queueCapacity":3},
        "subscriptions":[{"type":"trades","coin":"BTC"},{"type":"bbo","coin":"ETH"}]})");
    const QString report = m_dir.filePath(u"profile-report.json"_s);
    Run r = run({u"--headless"_s, u"--profile"_s, profile, u"--duration-s"_s, u"2"_s, u"--report"_s, report});
    QCOMPARE(r.exitCode, 0);
    QJsonObject rep = readJson(report);
    QCOMPARE(rep[u"dispatcher"_s][u"policy"_s].toString(), u"coalesce-latest"_s); // from the profile
    QCOMPARE(rep[u"subscriptions"_s].toArray().size(), 2); // the profile's, on the demo
    r = run({u"--headless"_s, u"--profile"_s, profile, u"--duration-s"_s, u"1"_s, u"--report"_s, report,
             u"--dispatch-policy"_s, u"drop-newest"_s});
    QCOMPARE(r.exitCode, 0);
    rep = readJson(report);
    QCOMPARE(rep[u"dispatcher"_s][u"policy"_s].toString(), u"drop-newest"_s); // the command line wins
    // A bad profile: a usage error naming the file and the key, nothing started.
    const QString bad = writeFile(m_dir, u"bad-profile.json"_s,
                                  R"({"schema":"feedscope.profile/1","pool":{"pingIntervalMs":-5}})");
    r = run({u"--headless"_s, u"--profile"_s, bad});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(u"bad-profile.json"_s) && r.err.contains(u"pool.pingIntervalMs"_s),
             qPrintable(r.err));
}

void tst_Headless::sessionLogRecordsTheRun()
{
    const QString log = m_dir.filePath(u"session.jsonl"_s);
    const Run r = run({u"--headless"_s, u"--demo"_s, u"--duration-s"_s, u"3"_s, u"--session-log"_s, log,
                       u"--demo-fault"_s, u"1000:abort:all"_s});
    QCOMPARE(r.exitCode, 0);
    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(QJsonDocument::fromJson(lines.first()).object()[u"schema"_s].toString(),
             u"feedscope.session/1"_s);
    QHash<QString, int> types;
    qint64 lastSeq = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QJsonObject e = QJsonDocument::fromJson(lines[i]).object();
        QCOMPARE(e[u"seq"_s].toInteger(), lastSeq + 1);
        lastSeq = e[u"seq"_s].toInteger();
        ++types[e[u"type"_s].toString()];
        if (e[u"type"_s].toString() == u"reconnect"_s)
            QCOMPARE(e[u"data"_s][u"restored"_s].toInt(), e[u"data"_s][u"total"_s].toInt());
        if (e[u"type"_s].toString() == u"connection"_s && e[u"data"_s][u"to"_s].toString() == u"backoff"_s)
            QVERIFY(!e[u"data"_s][u"cause"_s].toString().isEmpty());
    }
    QVERIFY(types.value(u"reconnect"_s) >= 2);  // every connection of the demo pool came back
    QVERIFY(types.value(u"stats"_s) >= 2);      // one statistics snapshot a second
    QCOMPARE(types.value(u"serverError"_s), 1); // the demo's rejected subscription
    QCOMPARE(types.value(u"shutdown"_s), 1);
}

void tst_Headless::sigtermStopsCleanly()
{
    const QString report = m_dir.filePath(u"sigterm.json"_s);
    QProcess p;
    p.start(QStringLiteral(FEEDSCOPE_BIN), {u"--headless"_s, u"--demo"_s, u"--report"_s, report});
    QVERIFY(p.waitForStarted());
    // Wait until it runs (it announces itself on stderr), then ask it to stop.
    QByteArray err;
    QTRY_VERIFY_WITH_TIMEOUT((err += p.readAllStandardError()).contains("headless on"), 10000);
    QTest::qWait(1500);
    ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 0);
    const QJsonObject rep = readJson(report);
    QCOMPARE(rep[u"schema"_s].toString(), u"feedscope.report/1"_s);
    int active = 0, rejected = 0;
    for (const QJsonValue &v : rep[u"subscriptions"_s].toArray()) {
        active += v[u"state"_s].toString() == u"active"_s;
        if (v[u"state"_s].toString() == u"rejected"_s) {
            ++rejected;
            QVERIFY(v[u"error"_s].toString().startsWith(u"Invalid subscription"_s));
        }
    }
    QVERIFY(active >= 45); // the demo set, as it was before shutdown began
    QCOMPARE(rejected, 1); // the demo's deliberately rejected subscription
}

void tst_Headless::recordingReplaysWithSameCounts()
{
    // Record a demo run, replay the file through feedscope-sim, and count the same again.
    const QString subs = writeFile(
        m_dir, u"rec-subs.json"_s,
        R"([{"type":"bbo","coin":"BTC"},{"type":"trades","coin":"SOL"},{"type":"l2Book","coin":"ETH"}])");
    const QString recording = m_dir.filePath(u"rec.jsonl"_s);
    const QString report1 = m_dir.filePath(u"rec-report.json"_s);
    QCOMPARE(run({u"--headless"_s, u"--demo"_s, u"--subscriptions"_s, subs, u"--duration-s"_s, u"2"_s,
                  u"--record"_s, recording, u"--report"_s, report1})
                 .exitCode,
             0);
    QHash<QString, double> recorded;
    for (const QJsonValue &v : readJson(report1)[u"subscriptions"_s].toArray())
        recorded.insert(v[u"key"_s].toString(), v[u"messages"_s].toDouble());
    QFile f(recording);
    QVERIFY(f.open(QIODevice::ReadOnly));
    int lines = 0;
    while (!f.atEnd()) {
        QVERIFY(parseRecordedLine(f.readLine().trimmed()).has_value());
        ++lines;
    }
    double total = 0;
    for (double n : std::as_const(recorded))
        total += n;
    QCOMPARE(lines, static_cast<int>(total));

    QProcess sim;
    sim.start(QStringLiteral(FEEDSCOPE_SIM_BIN),
              {u"--port"_s, u"0"_s, u"--replay"_s, recording, u"--replay-speed"_s, u"max"_s});
    QVERIFY(sim.waitForStarted());
    QVERIFY(sim.waitForReadyRead(10000));
    const QString banner = QString::fromUtf8(sim.readLine());
    const QRegularExpressionMatch m = QRegularExpression(u"listening on (ws://\\S+)"_s).match(banner);
    QVERIFY2(m.hasMatch(), qPrintable(banner));
    const QString report2 = m_dir.filePath(u"replay-report.json"_s);
    const Run r = run({u"--headless"_s, u"--url"_s, m.captured(1), u"--subscriptions"_s, subs,
                       u"--duration-s"_s, u"3"_s, u"--report"_s, report2});
    sim.kill();
    sim.waitForFinished();
    QCOMPARE(r.exitCode, 0);
    for (const QJsonValue &v : readJson(report2)[u"subscriptions"_s].toArray())
        QCOMPARE(v[u"messages"_s].toDouble(), recorded.value(v[u"key"_s].toString()));
}

void tst_Headless::unwritableReportIsFatal()
{
    const Run r = run({u"--headless"_s, u"--demo"_s, u"--duration-s"_s, u"1"_s, u"--report"_s,
                       u"/proc/feedscope-cannot-write/report.json"_s});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(u"cannot write /proc/feedscope-cannot-write/report.json"_s), qPrintable(r.err));
}

namespace {

QByteArray httpGet(quint16 port, const QString &path, int *status = nullptr)
{
    QNetworkAccessManager nam;
    QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(path))));
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    loop.exec();
    if (status)
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return body;
}

} // namespace

// Issue 17: the demo feed rejects one subscription on purpose; a profile's rule on rejected
// subscriptions fires: the session log, /healthz, /metrics, the report and the alert command
// all say so.
void tst_Headless::alertsEndToEnd()
{
    const QString hookOut = m_dir.filePath(u"alert hook.jsonl"_s);
    const QString hook = m_dir.filePath(u"alert-hook.sh"_s);
    {
        QFile f(hook);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\ncat >> \"$1\"\n");
        f.close();
        QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
    }
    const QString profile = writeFile(m_dir, u"alert-profile.json"_s, R"({"schema":"feedscope.profile/1",
        "alerts":{"rules":[{"id":"subscription-rejected","enabled":false},
                           {"id":"feed-refused","kind":"subscriptionRejected","severity":"critical"}],
                  "command":"sh -c \"exit 4\""}})");
    const QString log = m_dir.filePath(u"alerts-session.jsonl"_s);
    const QString report = m_dir.filePath(u"alerts-report.json"_s);
    QProcess p;
    // --alert-command overrides the profile's failing command; quoting keeps the space in the path.
    p.start(QStringLiteral(FEEDSCOPE_BIN),
            {u"--headless"_s, u"--demo"_s, u"--profile"_s, profile, u"--metrics-port"_s, u"0"_s,
             u"--session-log"_s, log, u"--report"_s, report, u"--alert-command"_s,
             u"%1 \"%2\""_s.arg(hook, hookOut)});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    static const QRegularExpression where(u"metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics"_s);
    QRegularExpressionMatch m;
    QTRY_VERIFY_WITH_TIMEOUT((m = where.match(QString::fromUtf8(err += p.readAllStandardError()))).hasMatch(),
                             20000);
    const auto port = static_cast<quint16>(m.captured(1).toUInt());
    QTRY_VERIFY_WITH_TIMEOUT((err += p.readAllStandardError()).contains("alert (feed-refused, critical)"),
                             30000);
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(hookOut) && QFileInfo(hookOut).size() > 0, 20000);

    int status = 0;
    const QJsonObject health = QJsonDocument::fromJson(httpGet(port, u"/healthz"_s, &status)).object();
    QCOMPARE(status, 503);
    QCOMPARE(health[u"alertsFiring"_s].toInt(), 1);
    QVERIFY2(health[u"reasons"_s][0].toString().startsWith(u"DELISTED l2Book rejected by the server"_s),
             QJsonDocument(health).toJson().constData());
    QCOMPARE(health[u"alerts"_s][0][u"rule"_s].toString(), u"feed-refused"_s);
    QVERIFY(health.contains(u"connections"_s)); // the existing fields stay
    const QByteArray metrics = httpGet(port, u"/metrics"_s);
    QVERIFY2(metrics.contains("\nfeedscope_alerts_firing{rule=\"feed-refused\"} 1\n"), metrics.constData());
    QVERIFY(metrics.contains("\nfeedscope_alerts_firing{rule=\"subscription-rejected\"} 0\n"));
    QVERIFY(metrics.contains("\nfeedscope_alerts_firing{rule=\"connection-down\"} 0\n"));

    ::kill(static_cast<pid_t>(p.processId()), SIGTERM);
    QVERIFY(p.waitForFinished(20000));
    QCOMPARE(p.exitCode(), 0);

    QFile hookFile(hookOut);
    QVERIFY(hookFile.open(QIODevice::ReadOnly));
    const QJsonObject sent = QJsonDocument::fromJson(hookFile.readAll().split('\n').first()).object();
    QCOMPARE(sent[u"rule"_s].toString(), u"feed-refused"_s);
    QCOMPARE(sent[u"state"_s].toString(), u"firing"_s);
    QCOMPARE(sent[u"severity"_s].toString(), u"critical"_s);
    QCOMPARE(sent[u"subject"_s].toString(), u"{\"coin\":\"DELISTED\",\"type\":\"l2Book\"}"_s);

    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    int fired = 0, commandFailures = 0;
    for (const QByteArray &line : f.readAll().trimmed().split('\n')) {
        const QJsonObject e = QJsonDocument::fromJson(line).object();
        if (e[u"type"_s].toString() == u"alert"_s && e[u"data"_s][u"phase"_s].toString() == u"fired"_s) {
            ++fired;
            QCOMPARE(e[u"data"_s][u"rule"_s].toString(), u"feed-refused"_s);
        }
        commandFailures += e[u"type"_s].toString() == u"alertCommand"_s;
    }
    QCOMPARE(fired, 1);
    QCOMPARE(commandFailures, 0);
    const QJsonObject rep = readJson(report);
    QCOMPARE(rep[u"alerts"_s][u"firingCount"_s].toInt(), 1);
    QCOMPARE(rep[u"alerts"_s][u"firing"_s][0][u"rule"_s].toString(), u"feed-refused"_s);
}

QTEST_GUILESS_MAIN(tst_Headless)
#include "tst_headless.moc"

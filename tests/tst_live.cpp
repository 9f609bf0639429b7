// Issue 18: the agent's /live stream and remote control, read by LiveSource, against the real
// headless `feedscope` process (and a fake agent for the hostile stream and wss).
#include "agentprocess.h"
#include "engine.h"
#include "fakeagent.h"
#include "liveserver.h"
#include "livesource.h"
#include "livewire.h"
#include "metrics.h"
#include "simulator.h"

#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <csignal>
#include <memory>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

using Agent = Test::LiveAgent;
using Test::getJson;

const SubscriptionStatus *findSub(const PoolSnapshot &s, const QString &key)
{
    for (const SubscriptionStatus &x : s.subscriptions)
        if (QString::fromUtf8(x.subscription.canonical()) == key)
            return &x;
    return nullptr;
}

/// Waits for the reply to request @p id; returns (ok, error).
QPair<bool, QString> waitReply(LiveSource &source, QSignalSpy &spy, int id)
{
    for (int i = 0; i < 100; ++i) {
        for (const QList<QVariant> &args : std::as_const(spy))
            if (args.at(0).toInt() == id)
                return {args.at(1).toBool(), args.at(2).toString()};
        spy.wait(100);
    }
    Q_UNUSED(source);
    return {false, u"(no reply)"_s};
}

// ---------------------------------------------------------------------------------------------
// A fake agent: whatever a test wants it to send.

QByteArray text(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray tick(qint64 seq, qint64 messages)
{
    return text(Test::goodTick(seq, messages));
}

using Test::FakeAgent;
using Test::goodFull;

} // namespace

class tst_Live : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void streamEqualsReportAndReadOnly();
    void killAllShowsAsReconnects();
    void controlNeedsTheToken();
    void agentGoneThenBack();
    void wrongPathAndPlainHttp();
    void hostileStreamKeepsLastGoodState();
    void wssWithTestCa();
    void slowWindowIsHeldBackThenClosed();

private:
    QTemporaryDir m_dir;
};

void tst_Live::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(QFile::exists(QStringLiteral(FEEDSCOPE_BIN)));
}

void tst_Live::streamEqualsReportAndReadOnly()
{
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s}));
    LiveSource source;
    source.setUrl(agent.url());
    QSignalSpy snapshots(&source, &LiveSource::snapshot);
    source.attach();
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 15000);
    QVERIFY(source.state().agent.rateHz == 10);
    QVERIFY(!source.state().agent.controlEnabled);
    // Every subscription settled (the demo has some the venue refuses), then the same rows.
    auto allSettled = [](const PoolSnapshot &s) {
        return !s.subscriptions.isEmpty() && std::none_of(s.subscriptions.cbegin(), s.subscriptions.cend(),
                                                          [](const SubscriptionStatus &x) {
                                                              return x.state == SubState::Pending ||
                                                                     x.state == SubState::Restoring;
                                                          });
    };
    QTRY_VERIFY_WITH_TIMEOUT(allSettled(source.lastSnapshot()), 20000);
    const PoolSnapshot before = source.lastSnapshot();
    const QJsonObject report = getJson(agent.port, u"/report"_s);
    const QJsonArray subs = report.value("subscriptions"_L1).toArray();
    QCOMPARE(before.subscriptions.size(), subs.size());
    QCOMPARE(before.connections.size(), report.value("connections"_L1).toArray().size());
    for (const QJsonValue &v : subs) {
        const QString key = v.toObject().value("key"_L1).toString();
        const SubscriptionStatus *mine = findSub(before, key);
        QVERIFY2(mine, qPrintable(key));
        QCOMPARE(QString(nameOf(mine->state)), v.toObject().value("state"_L1).toString());
        QCOMPARE(mine->connection, v.toObject().value("connection"_L1).toInt(-1));
        // The stream lags the report by at most a second of counts, and catches up with it.
        const qint64 reported = static_cast<qint64>(v.toObject().value("messages"_L1).toDouble());
        QVERIFY2(mine->messages <= reported, qPrintable(key));
    }
    for (const QJsonValue &v : subs) {
        const QString key = v.toObject().value("key"_L1).toString();
        const qint64 reported = static_cast<qint64>(v.toObject().value("messages"_L1).toDouble());
        QTRY_VERIFY2_WITH_TIMEOUT(findSub(source.lastSnapshot(), key)->messages >= reported, qPrintable(key),
                                  10000);
    }
    for (const QJsonValue &v : report.value("connections"_L1).toArray()) {
        const int id = v.toObject().value("id"_L1).toInt();
        QVERIFY(std::any_of(
            before.connections.cbegin(), before.connections.cend(),
            [id](const ConnectionStatus &c) { return c.id == id && c.state == ConnState::Open; }));
    }
    // Chart history and session events came with the full state and keep coming.
    QTRY_VERIFY_WITH_TIMEOUT(source.chart().contains(u"conn/1/msgs"_s), 10000);
    QVERIFY(!source.state().events.empty());
    QVERIFY(snapshots.size() > 1);

    // Read-only: control is refused with the reason, the stream goes on.
    QSignalSpy replies(&source, &LiveSource::replied);
    const auto [ok, why] = waitReply(source, replies, source.reconnectAll());
    QVERIFY(!ok);
    QVERIFY2(why.contains("read-only"_L1), qPrintable(why));
    // Inspect works without a token: the last raw frames of a subscription.
    const QString key = subs.first().toObject().value("key"_L1).toString();
    const int id = source.inspect(key.toUtf8(), 5);
    QTRY_VERIFY(std::any_of(replies.cbegin(), replies.cend(), [id](const QList<QVariant> &a) {
        return a.at(0).toInt() == id && a.at(1).toBool() &&
               !a.at(3).toJsonObject().value("messages"_L1).toArray().isEmpty() &&
               a.at(3).toJsonObject().value("messages"_L1).toArray().size() <= 5;
    }));
    QCOMPARE(source.status(), LiveSource::Status::Attached);
    QCOMPARE(source.messagesRejected(), 0);
}

void tst_Live::killAllShowsAsReconnects()
{
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s, u"--demo-fault"_s, u"4000:abort:all"_s}));
    LiveSource source;
    source.setUrl(agent.url());
    source.attach();
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!source.lastSnapshot().connections.isEmpty(), 10000);
    const qsizetype connections = source.lastSnapshot().connections.size();
    // Every connection dropped and came back: in the stream's reconnects and its session events.
    QTRY_VERIFY_WITH_TIMEOUT(source.lastSnapshot().reconnects.size() >= connections, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(source.lastSnapshot().reconnects.cbegin(),
                                         source.lastSnapshot().reconnects.cend(),
                                         [](const ReconnectRecord &r) { return r.durationMs >= 0; }),
                             20000);
    QSet<int> dropped;
    for (const ReconnectRecord &r : source.lastSnapshot().reconnects) {
        QVERIFY(!r.manual);
        dropped.insert(r.connection);
    }
    QCOMPARE(dropped.size(), connections);
    const auto &events = source.state().events;
    QVERIFY(std::any_of(events.cbegin(), events.cend(),
                        [](const SessionEvent &e) { return e.type == "reconnect"_L1; }));
    const QJsonObject report = getJson(agent.port, u"/report"_s);
    QCOMPARE(report.value("reconnects"_L1).toArray().size(), source.lastSnapshot().reconnects.size());
}

void tst_Live::controlNeedsTheToken()
{
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s, u"--control-token"_s, u"s3cret-token"_s}));
    QVERIFY2(!agent.err.contains("s3cret-token"), "the token is never logged");
    LiveSource without;
    without.setUrl(agent.url());
    without.attach();
    LiveSource wrong;
    wrong.setUrl(agent.url());
    wrong.setToken("not-it");
    wrong.attach();
    LiveSource with;
    with.setUrl(agent.url());
    with.setToken("s3cret-token");
    with.attach();
    QTRY_COMPARE_WITH_TIMEOUT(without.status(), LiveSource::Status::Attached, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(wrong.status(), LiveSource::Status::Attached, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(with.status(), LiveSource::Status::Attached, 15000);
    QVERIFY(with.state().agent.controlEnabled);
    QTRY_VERIFY(with.controlAuthorised());
    QVERIFY(!wrong.controlAuthorised());
    QTRY_VERIFY_WITH_TIMEOUT(!with.lastSnapshot().connections.isEmpty() &&
                                 with.lastSnapshot().connections.constFirst().state == ConnState::Open,
                             15000);
    const int conn = with.lastSnapshot().connections.constFirst().id;

    QSignalSpy r1(&without, &LiveSource::replied);
    auto [ok1, why1] = waitReply(without, r1, without.reconnect(conn));
    QVERIFY(!ok1);
    QVERIFY2(why1.contains("not authorised"_L1), qPrintable(why1));
    QSignalSpy r2(&wrong, &LiveSource::replied);
    auto [ok2, why2] = waitReply(wrong, r2, wrong.reconnect(conn));
    QVERIFY(!ok2);
    QVERIFY2(why2.contains("not authorised"_L1), qPrintable(why2));
    QVERIFY(getJson(agent.port, u"/report"_s).value("reconnects"_L1).toArray().isEmpty());

    QSignalSpy r3(&with, &LiveSource::replied);
    auto [ok3, why3] = waitReply(with, r3, with.reconnect(conn));
    QVERIFY2(ok3, qPrintable(why3));
    // The reconnect happened: in the agent's report, and in the stream.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const QJsonArray rs = getJson(agent.port, u"/report"_s).value("reconnects"_L1).toArray();
            return std::any_of(rs.cbegin(), rs.cend(), [conn](const QJsonValue &v) {
                return v.toObject().value("connection"_L1).toInt() == conn &&
                       v.toObject().value("manual"_L1).toBool();
            });
        }(),
        15000);
    QTRY_VERIFY_WITH_TIMEOUT(!without.lastSnapshot().reconnects.isEmpty() &&
                                 without.lastSnapshot().reconnects.constFirst().manual,
                             10000);
    // Bad requests get their reason, and nothing else happens.
    auto [ok4, why4] = waitReply(with, r3, with.reconnect(9999));
    QVERIFY(!ok4);
    QVERIFY2(why4.contains("no connection 9999"_L1), qPrintable(why4));
    auto [ok5, why5] = waitReply(with, r3, with.disconnectClient(1));
    QVERIFY(!ok5);
    QVERIFY2(why5.contains("no gateway"_L1), qPrintable(why5));
    auto [ok6, why6] =
        waitReply(with, r3, with.request({{u"type"_s, u"control"_s}, {u"action"_s, u"explode"_s}}));
    QVERIFY(!ok6);
    QVERIFY2(why6.contains("unknown action"_L1), qPrintable(why6));
    // Pause and resume: the stream says so.
    auto [ok7, why7] = waitReply(with, r3, with.setPaused(true));
    QVERIFY2(ok7, qPrintable(why7));
    QTRY_VERIFY_WITH_TIMEOUT(without.lastSnapshot().paused, 10000);
    auto [ok8, why8] = waitReply(with, r3, with.setPaused(false));
    QVERIFY2(ok8, qPrintable(why8));
    QTRY_VERIFY_WITH_TIMEOUT(!without.lastSnapshot().paused, 10000);
    // Subscribe and unsubscribe from the window.
    const auto eth = *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"bbo"_s}, {u"coin"_s, u"SOL"_s}});
    auto [ok9, why9] = waitReply(with, r3, with.subscribe(eth));
    QVERIFY2(ok9, qPrintable(why9));
    QTRY_VERIFY_WITH_TIMEOUT(findSub(without.lastSnapshot(), QString::fromUtf8(eth.canonical())), 10000);
    auto [ok10, why10] = waitReply(with, r3, with.unsubscribe(eth));
    QVERIFY2(ok10, qPrintable(why10));
    QTRY_VERIFY_WITH_TIMEOUT(!findSub(without.lastSnapshot(), QString::fromUtf8(eth.canonical())), 10000);
    // Recording on and off: the agent names the file, in its working directory.
    auto [ok11, why11] = waitReply(with, r3, with.startRecording());
    QVERIFY2(ok11, qPrintable(why11));
    auto [ok12, why12] = waitReply(with, r3, with.stopRecording());
    QVERIFY2(ok12, qPrintable(why12));
    QVERIFY2(!agent.err.contains("s3cret-token"), "the token is never logged");
}

void tst_Live::agentGoneThenBack()
{
    auto agent = std::make_unique<Agent>();
    QVERIFY(agent->start({u"--metrics-port"_s, u"0"_s}));
    const quint16 port = agent->port;
    LiveSource source;
    source.setUrl(agent->url());
    source.setBackoff(100, 1000);
    QSignalSpy detached(&source, &LiveSource::detached);
    source.attach();
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!source.lastSnapshot().subscriptions.isEmpty(), 10000);
    const qsizetype subs = source.lastSnapshot().subscriptions.size();
    ::kill(static_cast<pid_t>(agent->process->processId()), SIGKILL);
    agent->process->waitForFinished(10000);
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Retrying, 15000);
    QVERIFY(detached.size() >= 1);
    QVERIFY2(source.statusText().contains("gone"_L1), qPrintable(source.statusText()));
    // The last state is kept while it is away.
    QCOMPARE(source.lastSnapshot().subscriptions.size(), subs);
    QVERIFY(source.attachCount() == 1);
    agent.reset();
    Agent again;
    QVERIFY(again.start({u"--metrics-port"_s, QString::number(port)}));
    QCOMPARE(again.port, port);
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 20000);
    QCOMPARE(source.attachCount(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(source.lastSnapshot().subscriptions.size(), subs, 10000);
}

void tst_Live::wrongPathAndPlainHttp()
{
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s}));
    // A plain GET of /live is told what it is.
    QNetworkAccessManager nam;
    QNetworkReply *r = nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1/live"_s.arg(agent.port))));
    QTRY_VERIFY(r->isFinished());
    QCOMPARE(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 426);
    QVERIFY(r->readAll().contains("WebSocket"));
    r->deleteLater();
    // A browser page (it sends an Origin) may not attach.
    QWebSocket browser(u"http://evil.example"_s);
    QSignalSpy closed(&browser, &QWebSocket::disconnected);
    browser.open(agent.url());
    QVERIFY(closed.wait(10000));
    QVERIFY2(browser.closeReason().contains("browser"_L1), qPrintable(browser.closeReason()));
    // The other routes still answer.
    QCOMPARE(getJson(agent.port, u"/report"_s).value("schema"_L1).toString(), u"feedscope.report/1"_s);
}

void tst_Live::hostileStreamKeepsLastGoodState()
{
    FakeAgent fake;
    QVERIFY(fake.server.listen(QHostAddress::LocalHost, 0));
    fake.onConnect = [](QWebSocket *ws) { ws->sendTextMessage(QString::fromUtf8(text(goodFull(1, 100)))); };
    LiveSource source;
    source.setUrl(fake.url());
    source.setBackoff(50, 200);
    QSignalSpy errors(&source, &LiveSource::protocolError);
    source.attach();
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 10000);
    QCOMPARE(source.lastSnapshot().subscriptions.size(), 1);
    QCOMPARE(source.lastSnapshot().subscriptions.constFirst().messages, 100);
    QWebSocket *ws = fake.last();
    qint64 seq = 2;
    qint64 messages = 100;
    // Each hostile message is refused with a reason, the state stays as it was, and the next
    // good change applies.
    const QList<QPair<QByteArray, QString>> hostile{
        {R"({"type":"tick","seq":)", u"not valid JSON"_s},
        {"[1,2,3]", u"not a JSON object"_s},
        {R"({"type":"tick","seq":99,"at":1,"subCounters":[[7,"many",0,0,0,0]]})", u"must be a number"_s},
        {R"({"type":"tick","seq":99,"at":1,"subCounters":[[8,1,0,0,0,0]]})", u"unknown subscription 8"_s},
        {R"({"type":"tick","seq":99,"at":1,"subscriptions":"all"})", u"must be an array"_s},
        {R"({"type":"tick","seq":99,"at":1,"subscriptions":[{"i":7,"state":"dancing"}]})",
         u"unknown value"_s},
        {R"({"type":"tick","seq":1,"at":1})", u"out of order"_s},
        {R"({"type":"full","schema":"feedscope.live/9","seq":1})", u"feedscope.live/9"_s},
        {R"({"type":"surprise"})", u"unknown message type"_s},
        {R"({"type":"tick","seq":99,"at":1,"subCounters":[[7,1e300,0,0,0,0]]})", u"whole number"_s},
    };
    for (const auto &[message, why] : hostile) {
        const qsizetype before = errors.size();
        ws->sendTextMessage(QString::fromUtf8(message));
        QTRY_COMPARE(errors.size(), before + 1);
        QVERIFY2(errors.constLast().at(0).toString().contains(why),
                 qPrintable(errors.constLast().at(0).toString() + u" / "_s + why));
        QCOMPARE(source.lastSnapshot().subscriptions.size(), 1);
        QCOMPARE(source.lastSnapshot().subscriptions.constFirst().messages, messages);
        messages += 5;
        ws->sendTextMessage(QString::fromUtf8(tick(seq++, messages)));
        QTRY_COMPARE(source.lastSnapshot().subscriptions.constFirst().messages, messages);
        QCOMPARE(source.status(), LiveSource::Status::Attached);
    }
    // Oversized: the socket refuses it unread; the last state is kept and it attaches again.
    QCOMPARE(fake.connections, 1);
    ws->sendTextMessage(QString(static_cast<qsizetype>(Live::MaxServerMessageBytes) + 16, u'x'));
    QTRY_VERIFY_WITH_TIMEOUT(fake.connections >= 2, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(source.status(), LiveSource::Status::Attached, 10000);
    QCOMPARE(source.lastSnapshot().subscriptions.size(), 1);
    // A stream that keeps sending garbage is dropped and attached again, never trusted.
    ws = fake.last();
    const int attaches = source.attachCount();
    for (int i = 0; i < 3; ++i)
        ws->sendTextMessage(u"{\"type\":\"tick\",\"seq\":"_s);
    QTRY_VERIFY_WITH_TIMEOUT(source.attachCount() > attaches, 10000);
    QCOMPARE(source.lastSnapshot().subscriptions.size(), 1);
}

void tst_Live::wssWithTestCa()
{
    const QString openssl = QStandardPaths::findExecutable(u"openssl"_s);
    if (openssl.isEmpty()) {
        if (qEnvironmentVariableIntValue("FEEDSCOPE_REQUIRE_PROMETHEUS") == 1)
            QFAIL("openssl is not installed (packaging/bootstrap.sh test installs it)");
        QSKIP("openssl is not installed");
    }
    auto run = [&](const QStringList &args) {
        QProcess p;
        p.setWorkingDirectory(m_dir.path());
        p.start(openssl, args);
        return p.waitForFinished(60000) && p.exitCode() == 0;
    };
    QVERIFY(run({u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-keyout"_s, u"ca.key"_s,
                 u"-out"_s, u"ca.pem"_s, u"-days"_s, u"2"_s, u"-subj"_s, u"/CN=FeedScope live test CA"_s,
                 u"-addext"_s, u"basicConstraints=critical,CA:TRUE"_s, u"-addext"_s,
                 u"keyUsage=critical,keyCertSign,cRLSign"_s}));
    QFile ext(m_dir.filePath(u"agent.ext"_s));
    QVERIFY(ext.open(QIODevice::WriteOnly));
    ext.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage="
              "serverAuth\n");
    ext.close();
    QVERIFY(run({u"req"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-keyout"_s, u"agent.key"_s, u"-out"_s,
                 u"agent.csr"_s, u"-subj"_s, u"/CN=FeedScope live test agent"_s}));
    QVERIFY(run({u"x509"_s, u"-req"_s, u"-in"_s, u"agent.csr"_s, u"-CA"_s, u"ca.pem"_s, u"-CAkey"_s,
                 u"ca.key"_s, u"-CAcreateserial"_s, u"-out"_s, u"agent.pem"_s, u"-days"_s, u"2"_s,
                 u"-extfile"_s, u"agent.ext"_s}));
    auto read = [&](const QString &name) {
        QFile f(m_dir.filePath(name));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    };
    FakeAgent fake(QWebSocketServer::SecureMode);
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setLocalCertificate(QSslCertificate(read(u"agent.pem"_s)));
    ssl.setPrivateKey(QSslKey(read(u"agent.key"_s), QSsl::Rsa));
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    fake.server.setSslConfiguration(ssl);
    QVERIFY(fake.server.listen(QHostAddress::LocalHost, 0));
    fake.onConnect = [](QWebSocket *ws) { ws->sendTextMessage(QString::fromUtf8(text(goodFull(1, 42)))); };

    // Without the CA: refused, with the reason, nothing attached.
    LiveSource untrusted;
    untrusted.setUrl(fake.url());
    QSignalSpy gone(&untrusted, &LiveSource::detached);
    untrusted.attach();
    QVERIFY(gone.wait(15000));
    QVERIFY(untrusted.status() != LiveSource::Status::Attached);
    QVERIFY(!untrusted.state().valid);
    untrusted.detach();
    // With the CA the test made: attached over wss.
    LiveSource trusted;
    trusted.setUrl(fake.url());
    trusted.setCaCertificates(QSslCertificate::fromData(read(u"ca.pem"_s)));
    trusted.attach();
    QTRY_COMPARE_WITH_TIMEOUT(trusted.status(), LiveSource::Status::Attached, 15000);
    QCOMPARE(trusted.lastSnapshot().subscriptions.constFirst().messages, 42);
}

void tst_Live::slowWindowIsHeldBackThenClosed()
{
    // In process, so the bounds can be lowered: a window that stops reading gets no ticks (they
    // coalesce: nothing queues), is closed when it stays behind, and the others go on.
    Sim::SimulatorConfig sc;
    sc.rateScale = 5;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = std::chrono::milliseconds(100);
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    for (int i = 0; i < 60; ++i)
        engine.subscribe(
            *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"bbo"_s}, {u"coin"_s, u"C%1"_s.arg(i)}}),
            u"test"_s);
    MetricsServer metrics(&engine);
    QString error;
    const quint16 port = metrics.listen(QHostAddress::LocalHost, 0, &error);
    QVERIFY2(port > 0, qPrintable(error));
    metrics.live()->setBackpressure(64 * 1024, 2000);
    QTRY_VERIFY_WITH_TIMEOUT(engine.lastSnapshot().subscriptions.size() == 60, 10000);

    LiveSource reader;
    reader.setUrl(QUrl(u"ws://127.0.0.1:%1/live"_s.arg(port)));
    reader.attach();
    QTRY_COMPARE_WITH_TIMEOUT(reader.status(), LiveSource::Status::Attached, 10000);

    // The slow window: a raw WebSocket whose reader takes nothing more after the handshake.
    QTcpSocket slow;
    slow.setReadBufferSize(4096);
    slow.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(slow.waitForConnected(5000));
    slow.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
    slow.write("GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(metrics.live()->windowCount(), 2, 10000);
    // It asks for full states again and again and never reads them.
    const QByteArray request = R"({"type":"resync","id":1})";
    QByteArray frame;
    frame += char(0x81);
    frame += char(0x80 | request.size());
    frame += QByteArray(4, '\0'); // the mask (zero: the payload as it is)
    frame += request;
    auto slowStats = [&] {
        for (const LiveServer::WindowStats &w : metrics.live()->windows())
            if (w.coalesced > 0)
                return w;
        return LiveServer::WindowStats{};
    };
    // It keeps asking; once the kernel's buffers are full its ticks are held back (counted, not
    // queued), and after the bound it is closed.
    qint64 heldBack = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (int i = 0; i < 5; ++i)
                slow.write(frame);
            heldBack = std::max(heldBack, slowStats().coalesced);
            return metrics.live()->windowCount() == 1;
        }(),
        40000);
    QVERIFY(heldBack > 0);
    QCOMPARE(reader.status(), LiveSource::Status::Attached);
    const qint64 seen = reader.messagesReceived();
    QTRY_VERIFY(reader.messagesReceived() > seen);
    QCOMPARE(reader.messagesRejected(), 0);
    engine.shutdown(std::chrono::milliseconds(1000));
}

QTEST_MAIN(tst_Live)
#include "tst_live.moc"

// The fleet view (issue 18 item 4): real headless demo agents, a dead port and hostile HTTP
// servers polled by the FleetModel; the FleetWindow offscreen.
#include "agentprobe.h"
#include "agentprocess.h"
#include "fleetmodel.h"
#include "fleetwindow.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "simulator.h"
#include "tableproxy.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sys/resource.h>

#include <memory>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

using Test::getJson;
/// A headless demo agent as a process; its metrics port read from its stderr.
struct Agent
{
    std::unique_ptr<QProcess> process = std::make_unique<QProcess>();
    QByteArray err;
    quint16 port = 0;

    void launch(const QStringList &extra = {})
    {
        process->start(QStringLiteral(FEEDSCOPE_BIN),
                       QStringList{u"--headless"_s, u"--demo"_s, u"--metrics-port"_s, u"0"_s} + extra);
    }
    bool waitPort()
    {
        static const QRegularExpression where(u"metrics on http://[0-9.]+:(\\d+)/metrics"_s);
        QRegularExpressionMatch m;
        const bool ok = Test::waitUntil(
            [&] {
                err += process->readAllStandardError();
                m = where.match(QString::fromUtf8(err));
                return m.hasMatch();
            },
            30000);
        if (ok)
            port = static_cast<quint16>(m.captured(1).toUInt());
        return ok;
    }
    QString url() const { return u"http://127.0.0.1:%1"_s.arg(port); }
    void kill()
    {
        if (process->state() != QProcess::NotRunning) {
            process->kill();
            process->waitForFinished(10000);
        }
    }
    ~Agent() { kill(); }
};

/// "up/total" as the fleet row shows them, from an agent's /report.
QPair<QString, QString> reportFigures(quint16 port)
{
    const QJsonObject report = getJson(port, u"/report"_s);
    const QJsonArray conns = report.value("connections"_L1).toArray();
    const QJsonArray subs = report.value("subscriptions"_L1).toArray();
    const auto open = std::count_if(conns.begin(), conns.end(), [](const QJsonValue &v) {
        return v.toObject().value("state"_L1).toString() == u"open"_s;
    });
    const auto active = std::count_if(subs.begin(), subs.end(), [](const QJsonValue &v) {
        return v.toObject().value("state"_L1).toString() == u"active"_s;
    });
    return {u"%1/%2"_s.arg(open).arg(conns.size()), u"%1/%2"_s.arg(active).arg(subs.size())};
}

/// An HTTP "agent" that misbehaves in one way.
class HostileServer : public QObject
{
public:
    /// ... or none: Scripted is a well-behaved agent up for two hours whose reconnect and drop
    /// counters grow with every poll.
    enum class Mode {
        Garbage,
        Huge,
        Slow,
        NotJson,
        WrongTypes,
        BadMetrics,
        Redirect,
        Scripted,
        EndlessHeader
    };

    explicit HostileServer(Mode mode) : m_mode(mode)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                s->setParent(this);
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                connect(s, &QTcpSocket::readyRead, s, [this, s] { onRequest(s); });
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }
    QString url() const { return u"http://127.0.0.1:%1"_s.arg(port()); }

private:
    void onRequest(QTcpSocket *s)
    {
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        if (!buf.contains("\r\n\r\n"))
            return;
        const QByteArray path = buf.split(' ').value(1);
        buf.clear();
        auto answer = [s](const QByteArray &status, const QByteArray &body) {
            s->write("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     QByteArray::number(body.size()) + "\r\n\r\n" + body);
        };
        static const QByteArray goodHealth =
            R"({"status":"ok","connections":{"open":1,"total":1,"notOpen":[]},)"
            R"("subscriptions":{"active":1,"total":1,"notActive":[]},"alertsFiring":0,"alerts":[]})";
        switch (m_mode) {
        case Mode::Garbage:
            s->write("\x16\x03\x01 this is not HTTP at all \xff\xfe\r\n\r\n");
            s->disconnectFromHost();
            break;
        case Mode::Huge: { // no Content-Length: only what arrives can be bounded
            s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[");
            auto *more = new QTimer(s);
            connect(more, &QTimer::timeout, s, [s] {
                if (s->bytesToWrite() < 1 << 20)
                    s->write(QByteArray(256 * 1024, '1') + ',');
            });
            more->start(1);
            break;
        }
        case Mode::Slow: { // headers, then a byte now and then: never complete
            s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
            auto *drip = new QTimer(s);
            connect(drip, &QTimer::timeout, s, [s] { s->write(" "); });
            drip->start(100);
            break;
        }
        case Mode::NotJson:
            answer("200 OK", "<html>hello</html>");
            break;
        case Mode::WrongTypes:
            answer("200 OK", R"({"status":5,"connections":{"open":"all","total":[]},"subscriptions":null})");
            break;
        case Mode::BadMetrics:
            answer("200 OK",
                   path == "/healthz" ? goodHealth : QByteArray("feedscope_data_messages_total{{{ many\n"));
            break;
        case Mode::Scripted:
            if (path == "/healthz") {
                answer("200 OK", goodHealth);
            } else {
                ++m_polls;
                const QByteArray start =
                    QByteArray::number(QDateTime::currentSecsSinceEpoch() - 7200); // up for two hours
                answer("200 OK",
                       "# TYPE feedscope_data_messages_total counter\n"
                       "feedscope_data_messages_total{type=\"trades\"} " +
                           QByteArray::number(m_polls * 100) +
                           "\nfeedscope_reconnects_total{connection=\"1\",cause=\"pongTimeout\"} " +
                           QByteArray::number(10 + m_polls) +
                           "\nfeedscope_dispatcher_dropped_total{consumer=\"c\",policy=\"drop-oldest\"} " +
                           QByteArray::number(m_polls * 5) + "\nfeedscope_start_time_seconds " + start +
                           "\n");
            }
            break;
        case Mode::EndlessHeader: { // header lines that never end, as fast as they go
            s->write("HTTP/1.1 200 OK\r\n");
            auto *more = new QTimer(s);
            connect(more, &QTimer::timeout, s, [s] {
                if (s->bytesToWrite() < 1 << 20)
                    s->write(QByteArray("X-Pad: ") + QByteArray(8000, 'a') + "\r\n");
            });
            more->start(1);
            break;
        }
        case Mode::Redirect:
            s->write("HTTP/1.1 302 Found\r\nLocation: http://example.invalid/\r\nContent-Length: 0\r\n\r\n");
            break;
        }
    }

    Mode m_mode;
    qint64 m_polls = 0;
    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

/// A port nobody listens on (bound, then closed).
quint16 deadPort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    const quint16 p = s.serverPort();
    s.close();
    return p;
}

AgentAddress address(const QString &url, const QString &name)
{
    QString error;
    const std::optional<AgentAddress> a = AgentAddress::parse(url, name, &error);
    if (!a)
        qFatal("bad test address %s: %s", qPrintable(url), qPrintable(error));
    return *a;
}

double cpuSecondsSelf()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

} // namespace

class tst_Fleet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void addresses();
    void fleetFile();
    void parsers();
    void agentsDeadAndHostile();
    void window();
    void persistence();
    void commandLine();
    void mainWindowMenu();
    void countersSinceWatching();
    void benchFifty();
};

void tst_Fleet::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().remove(u"fleet"_s);
}

void tst_Fleet::addresses()
{
    QString error;
    auto a = AgentAddress::parse(u"ws://bot3.example:9100/live"_s, u" bot 3 "_s, &error);
    QVERIFY2(a, qPrintable(error));
    QCOMPARE(a->base, QUrl(u"http://bot3.example:9100"_s));
    QCOMPARE(a->liveUrl(), QUrl(u"ws://bot3.example:9100/live"_s));
    QCOMPARE(a->displayName(), u"bot 3"_s);
    a = AgentAddress::parse(u"https://h:443"_s, {}, &error);
    QVERIFY(a);
    QCOMPARE(a->liveUrl(), QUrl(u"wss://h:443/live"_s));
    QCOMPARE(a->displayName(), u"h:443"_s);
    a = AgentAddress::parse(u"127.0.0.1:9100"_s, {}, &error);
    QVERIFY(a);
    QCOMPARE(a->endpoint(u"/healthz"_s), QUrl(u"http://127.0.0.1:9100/healthz"_s));
    for (const QString &bad : {u""_s, u"ftp://h:1"_s, u"http://h"_s, u"http://h:1/other"_s, u"http://:1"_s,
                               u"http://h:1/?x=1"_s, u"http://u:p@h:1"_s}) {
        error.clear();
        QVERIFY2(!AgentAddress::parse(bad, {}, &error), qPrintable(bad));
        QVERIFY2(!error.isEmpty(), qPrintable(bad));
    }
}

void tst_Fleet::fleetFile()
{
    const FleetFile f = parseFleetText("# production\n"
                                       "http://10.0.0.1:9100  tokyo 1   # the main one\n"
                                       "\n"
                                       "ws://10.0.0.2:9100/live\n"
                                       "ftp://10.0.0.3:9100 nope\n"
                                       "http://10.0.0.1:9100 again\n"
                                       "just-words here\n"
                                       "   https://10.0.0.4:9443\n");
    QCOMPARE(f.agents.size(), 3);
    QCOMPARE(f.agents.at(0).name, u"tokyo 1"_s);
    QCOMPARE(f.agents.at(1).displayName(), u"10.0.0.2:9100"_s);
    QCOMPARE(f.agents.at(2).base, QUrl(u"https://10.0.0.4:9443"_s));
    QCOMPARE(f.errors.size(), 3);
    QVERIFY2(f.errors.at(0).startsWith(u"line 5: "_s), qPrintable(f.errors.at(0)));
    QVERIFY2(f.errors.at(1).startsWith(u"line 6: "_s) && f.errors.at(1).contains(u"already"_s),
             qPrintable(f.errors.at(1)));
    QVERIFY2(f.errors.at(2).startsWith(u"line 7: "_s), qPrintable(f.errors.at(2)));

    const FleetFile missing = loadFleetFile(u"/nonexistent/fleet.txt"_s);
    QVERIFY(missing.agents.isEmpty());
    QCOMPARE(missing.errors.size(), 1);
    QVERIFY(missing.errors.first().contains(u"/nonexistent/fleet.txt"_s));

    // The model adds the good lines and reports the bad ones.
    QTemporaryDir dir;
    QFile file(dir.filePath(u"fleet.txt"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("http://127.0.0.1:1 one\nbad line\n");
    file.close();
    FleetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QStringList errors = model.loadFile(file.fileName());
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(errors.size(), 1);
    QVERIFY(errors.first().startsWith(u"line 2: "_s));
    QVERIFY(model.loadFile(file.fileName()).size() == 1);
    QCOMPARE(model.rowCount(), 1); // listed already: not twice
}

void tst_Fleet::parsers()
{
    QString error;
    const auto h =
        parseHealth(R"({"status":"unhealthy","connections":{"open":2,"total":3,"notOpen":[)"
                    R"({"id":3,"state":"backoff"}]},"subscriptions":{"active":9,"total":10},)"
                    R"("alertsFiring":1,"alerts":[{"severity":"critical","text":"BTC trades stale"}]})",
                    &error);
    QVERIFY2(h, qPrintable(error));
    QCOMPARE(h->connectionsUp, 2);
    QCOMPARE(h->downConnections, QStringList{u"3 (waiting to retry)"_s});
    QCOMPARE(h->criticalAlerts, 1);
    QCOMPARE(h->alertTexts, QStringList{u"BTC trades stale"_s});
    for (
        const QByteArray &bad :
        {QByteArray("not json"), QByteArray("[1,2]"), QByteArray(R"({"status":"ok"})"),
         QByteArray(
             R"({"status":"ok","connections":{"open":-1,"total":1},"subscriptions":{"active":0,"total":0}})"),
         QByteArray(
             R"({"status":"ok","connections":{"open":5,"total":1},"subscriptions":{"active":0,"total":0}})"),
         QByteArray(
             R"({"status":"ok","connections":{"open":1.5,"total":2},"subscriptions":{"active":0,"total":0}})")}) {
        error.clear();
        QVERIFY2(!parseHealth(bad, &error), bad.constData());
        QVERIFY(!error.isEmpty());
    }
    const auto m = parseMetrics("# HELP x\n"
                                "feedscope_data_messages_total{type=\"trades\"} 10\n"
                                "feedscope_data_messages_total{type=\"l2Book\"} 5\n"
                                "feedscope_reconnects_total{connection=\"1\",cause=\"a}b\\\"c\"} 2\n"
                                "feedscope_dispatcher_dropped_total{consumer=\"x\",policy=\"lossless\"} 7\n"
                                "feedscope_gateway_clients 3\n"
                                "feedscope_build_info{version=\"0.1.0\"} 1\n"
                                "feedscope_start_time_seconds 1.7e9\n"
                                "feedscope_data_latency_seconds_bucket{le=\"+Inf\"} +Inf\n",
                                &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->messages, 15.0);
    QCOMPARE(m->reconnects, 2.0);
    QCOMPARE(m->dropped, 7.0);
    QCOMPARE(m->gatewayClients, 3);
    QCOMPARE(m->version, u"0.1.0"_s);
    QVERIFY(!parseMetrics("feedscope_data_messages_total{type=\"x\" 1\n", &error)); // labels not closed
    QVERIFY(!parseMetrics("feedscope_data_messages_total abc\n", &error));
    QVERIFY(!parseMetrics("other_metric 1\n", &error)); // not a FeedScope agent
    QVERIFY(error.contains(u"FeedScope"_s));
}

void tst_Fleet::agentsDeadAndHostile()
{
    Agent alpha, beta;
    // alpha runs a gateway (no client yet) with two subscriptions of its own, one refused; beta none
    QTemporaryDir dir;
    QFile subs(dir.filePath(u"subs.json"_s));
    QVERIFY(subs.open(QIODevice::WriteOnly));
    subs.write(R"([{"type":"trades","coin":"BTC"},{"type":"l2Book","coin":"DELISTED"}])");
    subs.close();
    alpha.launch({u"--gateway-port"_s, u"0"_s, u"--subscriptions"_s, subs.fileName()});
    beta.launch({u"--demo-fault"_s, u"1500:abort:all"_s}); // reconnects to count
    QVERIFY2(alpha.waitPort(), alpha.err.constData());
    QVERIFY2(beta.waitPort(), beta.err.constData());
    using Mode = HostileServer::Mode;
    const QList<std::pair<Mode, QString>> modes{{Mode::Garbage, u"hostile-garbage"_s},
                                                {Mode::Huge, u"hostile-huge"_s},
                                                {Mode::Slow, u"hostile-slow"_s},
                                                {Mode::NotJson, u"hostile-notjson"_s},
                                                {Mode::WrongTypes, u"hostile-wrongtypes"_s},
                                                {Mode::BadMetrics, u"hostile-badmetrics"_s},
                                                {Mode::Redirect, u"hostile-redirect"_s},
                                                {Mode::EndlessHeader, u"hostile-headers"_s}};
    std::vector<std::unique_ptr<HostileServer>> hostile;

    FleetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    TableProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setProblemsFirst(true);
    proxy.sort(FleetModel::Name);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setIntervalMs(300);
    model.setTimeoutMs(1500);
    model.setMaxBytes(256 * 1024);
    QVERIFY(model.addAgent(address(alpha.url(), u"alpha"_s)));
    QVERIFY(model.addAgent(address(u"ws://127.0.0.1:%1/live"_s.arg(beta.port), u"beta"_s)));
    QVERIFY(model.addAgent(address(u"http://127.0.0.1:%1"_s.arg(deadPort()), u"dead"_s)));
    QVERIFY(!model.addAgent(address(alpha.url(), u"alpha again"_s))); // one row per agent
    for (const auto &[mode, name] : modes) {
        hostile.push_back(std::make_unique<HostileServer>(mode));
        QVERIFY(model.addAgent(address(hostile.back()->url(), name)));
    }
    const int alphaRow = 0, betaRow = 1, deadRow = 2;

    // The real agents' rows reach their /report figures.
    for (const auto &[row, agent] : {std::pair{alphaRow, &alpha}, std::pair{betaRow, &beta}}) {
        QVERIFY(Test::waitUntil([&] { return model.status(row).reach == AgentStatus::Reach::Up; }, 20000));
        QPair<QString, QString> want;
        QVERIFY2(
            Test::waitUntil(
                [&] {
                    want = reportFigures(agent->port);
                    return model.index(row, FleetModel::Connections).data().toString() == want.first &&
                           model.index(row, FleetModel::Subscriptions).data().toString() == want.second;
                },
                20000),
            qPrintable(u"%1 %2 vs report %3 %4"_s.arg(
                model.index(row, FleetModel::Connections).data().toString(),
                model.index(row, FleetModel::Subscriptions).data().toString(), want.first, want.second)));
        QVERIFY(Test::waitUntil([&] { return model.status(row).messagesPerSecond > 0; }, 20000));
        QCOMPARE(model.index(row, FleetModel::GatewayClients).data().toString(),
                 row == alphaRow ? u"0"_s : u"\u2014"_s); // beta runs no gateway
        QCOMPARE(model.index(row, 0).data(FleetModel::LiveUrlRole).toUrl(),
                 QUrl(u"ws://127.0.0.1:%1/live"_s.arg(agent->port)));
    }
    // beta's kill-all: its reconnects in the last hour are the report's (the agent runs for less).
    QVERIFY2(Test::waitUntil(
                 [&] {
                     const qsizetype n =
                         getJson(beta.port, u"/report"_s).value("reconnects"_L1).toArray().size();
                     return n > 0 && model.index(betaRow, FleetModel::Reconnects).data().toString() ==
                                         QString::number(n);
                 },
                 20000),
             qPrintable(model.index(betaRow, FleetModel::Reconnects).data().toString()));
    QVERIFY(model.status(betaRow).reconnectsExact);
    // The demo subscribes to one delisted coin: the agent's alert is the row's problem.
    QVERIFY(Test::waitUntil([&] { return model.status(alphaRow).health.alertsFiring > 0; }, 20000));
    QVERIFY2(model.index(alphaRow, FleetModel::Problems).data().toString().contains(u"alert"_s),
             qPrintable(model.index(alphaRow, FleetModel::Problems).data().toString()));

    // The dead one: unreachable, and first (then by name) with every hostile one.
    QVERIFY(Test::waitUntil([&] { return model.status(deadRow).reach == AgentStatus::Reach::Down; }));
    QVERIFY(model.index(deadRow, FleetModel::Reachable).data().toString().startsWith(u"no, since"_s));
    QVERIFY(model.index(deadRow, FleetModel::Problems).data().toString().startsWith(u"unreachable"_s));
    QCOMPARE(model.index(deadRow, FleetModel::Connections).data().toString(), u"\u2014"_s);

    // Every hostile one: a clear error of its own, never a figure.
    const QHash<QString, QString> expected{{u"hostile-garbage"_s, QString()}, // Qt's own words for it
                                           {u"hostile-huge"_s, u"larger than 256 KB"_s},
                                           {u"hostile-slow"_s, u"no complete answer within 1.5 s"_s},
                                           {u"hostile-notjson"_s, u"not JSON"_s},
                                           {u"hostile-wrongtypes"_s, u"wrong type"_s},
                                           {u"hostile-badmetrics"_s, u"not Prometheus text"_s},
                                           {u"hostile-redirect"_s, u"HTTP 302"_s},
                                           {u"hostile-headers"_s, u"no complete answer"_s}};
    for (int row = 3; row < model.rowCount(); ++row) {
        const QString name = model.address(row).name;
        QVERIFY2(Test::waitUntil([&] {
                     const auto r = model.status(row).reach;
                     return r == AgentStatus::Reach::BadAnswer || r == AgentStatus::Reach::Down;
                 }),
                 qPrintable(name));
        const QString error = model.status(row).error;
        QVERIFY2(!error.isEmpty() && error.contains(expected.value(name)),
                 qPrintable(name + u": "_s + error));
        QVERIFY(!model.status(row).hasFigures);
        QCOMPARE(model.index(row, 0).data(RowSeverityRole).value<Severity>(), Severity::Bad);
    }
    // Sorted: the unreachable and bad ones by name ("dead" first), then the real agents.
    QVERIFY(Test::waitUntil([&] {
        return proxy.index(0, FleetModel::Name).data().toString() == u"dead"_s &&
               proxy.index(model.rowCount() - 2, FleetModel::Name).data().toString() == u"alpha"_s &&
               proxy.index(model.rowCount() - 1, FleetModel::Name).data().toString() == u"beta"_s;
    }));
    for (int i = 1; i < model.rowCount() - 2; ++i)
        QVERIFY(proxy.index(i, FleetModel::Name).data().toString().startsWith(u"hostile-"_s));

    // The others keep updating while the hostile ones misbehave.
    const qint64 pollsBefore = model.status(betaRow).polls;
    const QDateTime seenBefore = model.status(betaRow).lastSeen;
    QVERIFY(Test::waitUntil([&] {
        return model.status(betaRow).polls >= pollsBefore + 3 && model.status(betaRow).lastSeen > seenBefore;
    }));
    QCOMPARE(model.status(betaRow).reach, AgentStatus::Reach::Up);

    // An agent killed: its row turns unreachable, keeps its last figures in the tooltip, and sorts up.
    beta.kill();
    QVERIFY(Test::waitUntil([&] { return model.status(betaRow).reach == AgentStatus::Reach::Down; }, 10000));
    QCOMPARE(model.index(betaRow, FleetModel::Rate).data().toString(), u"\u2014"_s);
    QVERIFY(model.index(betaRow, FleetModel::Connections)
                .data(Qt::ToolTipRole)
                .toString()
                .startsWith(u"Last known"_s));
    QVERIFY(Test::waitUntil([&] { return proxy.index(0, FleetModel::Name).data().toString() == u"beta"_s; }));
    QCOMPARE(model.status(alphaRow).reach, AgentStatus::Reach::Up);
    // Backoff: the dead ones are asked less and less often.
    QVERIFY(model.status(deadRow).failures >= 2);
    QVERIFY(model.status(deadRow).nextPollInMs > 300);
}

void tst_Fleet::window()
{
    Agent agent;
    agent.launch();
    QVERIFY2(agent.waitPort(), agent.err.constData());
    FleetWindow w;
    QAbstractItemModelTester tester(w.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    w.model()->setIntervalMs(300);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QString error;
    QVERIFY(!w.addAgent(u"ftp://x:1"_s, {}, &error));
    QVERIFY(error.contains(u"ftp"_s));
    QCOMPARE(w.model()->rowCount(), 0);
    QVERIFY2(w.addAgent(agent.url(), u"zulu"_s, &error), qPrintable(error));
    QVERIFY(w.addAgent(u"127.0.0.1:%1"_s.arg(deadPort()), u"dead"_s, &error));
    QVERIFY(!w.addAgent(agent.url(), {}, &error)); // listed already
    QVERIFY(Test::waitUntil(
        [&] {
            return w.model()->status(0).reach == AgentStatus::Reach::Up &&
                   w.model()->status(1).reach == AgentStatus::Reach::Down;
        },
        20000));
    // The dead agent on top; the status line counts it.
    QVERIFY(Test::waitUntil([&] { return w.proxy()->index(0, 0).data().toString() == u"dead"_s; }));
    QVERIFY2(w.statusText().startsWith(u"2 agents, 1 unreachable"_s), qPrintable(w.statusText()));

    const QUrl live(u"ws://127.0.0.1:%1/live"_s.arg(agent.port));
    QSignalSpy spy(&w, &FleetWindow::attachRequested);
    QTableView *view = w.table();
    const QModelIndex zulu = w.proxy()->index(1, FleetModel::Connections);
    QCOMPARE(zulu.siblingAtColumn(0).data().toString(), u"zulu"_s);
    const QPoint at = view->visualRect(zulu).center();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
    QTRY_COMPARE(spy.size(), 1);
    QCOMPARE(spy.at(0).at(0).toUrl(), live);
    // Enter on the current row, and the Attach button, do the same.
    view->setCurrentIndex(zulu);
    QTest::keyClick(view, Qt::Key_Return);
    QCOMPARE(spy.size(), 2);
    QCOMPARE(spy.at(1).at(0).toUrl(), live);
    QVERIFY(w.attachButton()->isEnabled());
    w.attachButton()->click();
    QCOMPARE(spy.size(), 3);
    QCOMPARE(spy.at(2).at(0).toUrl(), live);

    // Add agent…: a bad URL keeps the dialog open with the reason and what was typed; a good one adds.
    bool sawError = false;
    QTimer::singleShot(0, &w, [&] {
        auto *dialog = qobject_cast<QDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        auto *url = dialog->findChild<QLineEdit *>(u"agentUrl"_s);
        auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        url->setText(u"http://nohost"_s);
        ok->click();
        sawError = dialog->isVisible() && !dialog->findChild<QLabel *>(u"agentError"_s)->text().isEmpty() &&
                   url->text() == u"http://nohost"_s;
        url->setText(u"http://127.0.0.1:6"_s);
        dialog->findChild<QLineEdit *>(u"agentName"_s)->setText(u"by hand"_s);
        ok->click();
    });
    w.addButton()->click();
    QVERIFY(sawError);
    QCOMPARE(w.model()->rowCount(), 3);
    QCOMPARE(w.model()->address(2).name, u"by hand"_s);
    w.model()->removeAgent(2);

    // A fleet file: the good line loads, the bad one is named in the window.
    QTemporaryDir dir;
    QFile file(dir.filePath(u"fleet.txt"_s));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("# two\nhttp://127.0.0.1:2 two\nhttp//broken\n");
    file.close();
    QCOMPARE(w.loadFile(file.fileName()).size(), 1);
    QCOMPARE(w.model()->rowCount(), 3);
    auto *errors = w.findChild<QLabel *>(u"fileErrors"_s);
    QVERIFY(errors && errors->isVisible());
    QVERIFY2(errors->text().contains(u"line 3: "_s), qPrintable(errors->text()));

    // Remove: the current row goes.
    view->setCurrentIndex(w.proxy()->index(0, 0));
    const QString removed = w.proxy()->index(0, 0).data().toString();
    w.removeButton()->click();
    QCOMPARE(w.model()->rowCount(), 2);
    for (int r = 0; r < w.model()->rowCount(); ++r)
        QVERIFY(w.model()->address(r).displayName() != removed);
}

void tst_Fleet::persistence()
{
    QSettings().remove(u"fleet"_s);
    {
        FleetWindow w;
        w.setPersistent(true);
        QCOMPARE(w.model()->rowCount(), 0);
        QString error;
        QVERIFY(w.addAgent(u"http://127.0.0.1:3"_s, u"three"_s, &error));
        QVERIFY(w.addAgent(u"ws://127.0.0.1:4/live"_s, {}, &error));
        w.intervalBox()->setValue(7);
        QCOMPARE(w.model()->intervalMs(), 7000);
        w.model()->removeAgent(w.model()->rowOf(QUrl(u"http://127.0.0.1:4"_s)));
    }
    FleetWindow again;
    QAbstractItemModelTester tester(again.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(again.proxy(), &QAbstractItemModel::rowsInserted);
    again.setPersistent(true);
    QCOMPARE(inserted.size(), 1); // the view hears of the loaded rows
    QCOMPARE(again.model()->rowCount(), 1);
    QCOMPARE(again.model()->address(0).name, u"three"_s);
    QCOMPARE(again.intervalBox()->value(), 7);
    // Not persistent (feedscope --fleet FILE): nothing is saved.
    {
        FleetWindow fileOnly;
        QString error;
        QVERIFY(fileOnly.addAgent(u"http://127.0.0.1:5"_s, {}, &error));
    }
    FleetWindow third;
    third.setPersistent(true);
    QCOMPARE(third.model()->rowCount(), 1);
    QSettings().remove(u"fleet"_s);
}

void tst_Fleet::commandLine()
{
    QProcess p;
    p.start(QStringLiteral(FEEDSCOPE_BIN), {u"--fleet"_s, u"/nonexistent/fleet.txt"_s});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY2(p.readAllStandardError().contains("cannot read --fleet /nonexistent/fleet.txt"),
             "no clear error");
    p.start(QStringLiteral(FEEDSCOPE_BIN), {u"--headless"_s, u"--fleet"_s, u"/dev/null"_s});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 2);
    QVERIFY(p.readAllStandardError().contains("--fleet opens the fleet window alone"));
}

void tst_Fleet::countersSinceWatching()
{
    HostileServer agent(HostileServer::Mode::Scripted);
    FleetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setIntervalMs(200);
    QVERIFY(model.addAgent(address(agent.url(), u"old"_s)));
    // Up for more than an hour: reconnects count from when watching began, and say so.
    QVERIFY(Test::waitUntil(
        [&] { return model.status(0).polls >= 4 && model.status(0).reconnectsLastHour >= 2; }));
    QCOMPARE(model.status(0).reach, AgentStatus::Reach::Up);
    QVERIFY(!model.status(0).reconnectsExact);
    const QString text = model.index(0, FleetModel::Reconnects).data().toString();
    QVERIFY2(QRegularExpression(u"^[0-9]+ since [0-9]{2}:[0-9]{2}$"_s).match(text).hasMatch(),
             qPrintable(text));
    QVERIFY(model.index(0, FleetModel::Reconnects)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(u"more than an hour"_s));
    // Drops growing: a warning with its words, ranked after alerts and down connections.
    QVERIFY2(model.index(0, FleetModel::Problems).data().toString().contains(u"frames dropped just now"_s),
             qPrintable(model.index(0, FleetModel::Problems).data().toString()));
    QCOMPARE(model.index(0, 0).data(RowSeverityRole).value<Severity>(), Severity::Warning);
    QCOMPARE(model.index(0, 0).data(FleetModel::ProblemRankRole).toInt(), 3);
    QVERIFY(model.status(0).messagesPerSecond > 0);
}

void tst_Fleet::mainWindowMenu()
{
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    {
        MainWindow window(&controller);
        QSignalSpy spy(&window, &MainWindow::fleetRequested);
        QAction *fleet = nullptr;
        for (QAction *menu : window.menuBar()->actions())
            if (menu->menu() && menu->text().remove(u'&') == u"File"_s)
                for (QAction *a : menu->menu()->actions())
                    if (a->text().remove(u'&') == u"Fleet\u2026"_s)
                        fleet = a;
        QVERIFY(fleet);
        fleet->trigger();
        QCOMPARE(spy.size(), 1);
    }
    controller.shutdown(std::chrono::milliseconds(1000));
}

/// Not a check: what polling 50 agents costs (FEEDSCOPE_FLEET_BENCH=SECONDS; one agent with
/// FEEDSCOPE_FLEET_BENCH_URL, else a demo agent, reached as 50 loopback addresses 127.0.0.1-50).
void tst_Fleet::benchFifty()
{
    const int seconds = qEnvironmentVariableIntValue("FEEDSCOPE_FLEET_BENCH");
    if (seconds <= 0)
        QSKIP("set FEEDSCOPE_FLEET_BENCH=SECONDS to measure");
    Agent agent;
    quint16 port = static_cast<quint16>(qEnvironmentVariableIntValue("FEEDSCOPE_FLEET_BENCH_PORT"));
    if (port == 0) {
        agent.launch({u"--metrics-bind"_s, u"0.0.0.0"_s});
        QVERIFY(agent.waitPort());
        port = agent.port;
    }
    FleetModel model;
    for (int i = 1; i <= 50; ++i)
        QVERIFY(model.addAgent(address(u"http://127.0.0.%1:%2"_s.arg(i).arg(port), {})));
    QVERIFY(Test::waitUntil(
        [&] {
            for (int r = 0; r < model.rowCount(); ++r)
                if (model.status(r).reach != AgentStatus::Reach::Up)
                    return false;
            return true;
        },
        30000));
    const double cpu0 = cpuSecondsSelf();
    const qint64 bytes0 = model.bytesReceived();
    const qint64 polls0 = model.polls();
    QElapsedTimer t;
    t.start();
    Test::waitUntil([] { return false; }, seconds * 1000);
    const double s = static_cast<double>(t.elapsed()) / 1000.0;
    std::fprintf(
        stderr, "fleet bench: 50 agents every %.1f s: %.1f polls/s, %.0f bytes/s, %.2f%% of a core\n",
        static_cast<double>(model.intervalMs()) / 1000.0, static_cast<double>(model.polls() - polls0) / s,
        static_cast<double>(model.bytesReceived() - bytes0) / s, (cpuSecondsSelf() - cpu0) / s * 100.0);
}

QTEST_MAIN(tst_Fleet)
#include "tst_fleet.moc"

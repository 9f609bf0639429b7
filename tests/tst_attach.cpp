// Issue 18: the real MainWindow attached to a remote agent (`feedscope --headless --demo` on
// 127.0.0.1, or a fake agent for wss and a hostile stream): the same views, fed from /live.
#include "agentprocess.h"
#include "alertsmodel.h"
#include "attachdialog.h"
#include "clientsmodel.h"
#include "fakeagent.h"
#include "livesource.h"
#include "livetableview.h"
#include "livewire.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "remoteclientsview.h"
#include "sessionexport.h"
#include "tableproxy.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QEventLoop>
#include <QFile>
#include <QGroupBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <csignal>
#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

namespace {

using Agent = Test::LiveAgent;
using Test::getJson;

/// The attached window: a LiveSource (quick backoff) in a remote PoolController, the real window.
struct Attached
{
    std::unique_ptr<PoolController> controller;
    std::unique_ptr<MainWindow> window;
    std::unique_ptr<QAbstractItemModelTester> testers[3];

    explicit Attached(const QUrl &url, const QByteArray &token = {}, const QList<QSslCertificate> &ca = {})
    {
        auto source = std::make_unique<LiveSource>();
        source->setUrl(url);
        source->setToken(token);
        source->setCaCertificates(ca);
        source->setBackoff(100, 500);
        EngineConfig cfg;
        cfg.dispatchThreads = 1;
        controller = std::make_unique<PoolController>(std::move(source), cfg);
        testers[0] = std::make_unique<QAbstractItemModelTester>(controller->subscriptions());
        testers[1] = std::make_unique<QAbstractItemModelTester>(controller->connections());
        testers[2] = std::make_unique<QAbstractItemModelTester>(controller->reconnects());
        controller->start(nullptr);
        window = std::make_unique<MainWindow>(controller.get());
        window->setAttached();
        window->show();
    }
    LiveSource *live() const { return controller->live(); }
    bool attached() const { return live()->status() == LiveSource::Status::Attached; }
    /// The Channels table's rows by key (what the user sees, through the proxies).
    QSet<QString> channelKeys() const
    {
        QSet<QString> out;
        QAbstractItemModel *m = window->subscriptionsView()->model();
        for (int r = 0; r < m->rowCount(); ++r)
            out.insert(QString::fromUtf8(m->index(r, 0).data(KeyRole).toByteArray()));
        return out;
    }
    qint64 tableMessages(const QString &key) const
    {
        QAbstractItemModel *m = window->subscriptionsView()->model();
        for (int r = 0; r < m->rowCount(); ++r)
            if (QString::fromUtf8(m->index(r, 0).data(KeyRole).toByteArray()) == key)
                return m->index(r, SubscriptionsModel::Total).data(RawValueRole).toLongLong();
        return -1;
    }
};

bool allSettled(const PoolSnapshot &s)
{
    return !s.subscriptions.isEmpty() &&
           std::none_of(s.subscriptions.cbegin(), s.subscriptions.cend(), [](const SubscriptionStatus &x) {
               return x.state == SubState::Pending || x.state == SubState::Restoring;
           });
}

// A fake agent (tests/fakeagent.h): whatever a test wants it to send.

QString text(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString tick(qint64 seq, qint64 messages)
{
    return text(Test::goodTick(seq, messages));
}

using Test::FakeAgent;
using Test::goodFull;

} // namespace

class tst_Attach : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void readOnlyWindowEqualsTheReport();
    void controlWithTheToken();
    void agentGatewayClients();
    void agentGoneThenBack();
    void wssWithTestCa();
    void hostileStreamLeavesTheWindowWorking();
    void attachDialogRemembersAgents();
    void badAttachValuesExit2();

private:
    QTemporaryDir m_dir;
};

void tst_Attach::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(m_dir.isValid());
    QVERIFY(QFile::exists(QStringLiteral(FEEDSCOPE_BIN)));
}

void tst_Attach::readOnlyWindowEqualsTheReport()
{
    // Read-only (no token), and a kill-all on the agent's simulator 6 s after its start.
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s, u"--demo-fault"_s, u"6000:abort:all"_s}));
    Attached w(agent.url());
    QTRY_VERIFY_WITH_TIMEOUT(w.attached(), 15000);
    QVERIFY2(w.window->windowTitle().contains(u"FeedScope — attached to 127.0.0.1:%1"_s.arg(agent.port)),
             qPrintable(w.window->windowTitle()));
    QVERIFY2(w.window->attachStatus()->text().contains("attached to"_L1),
             qPrintable(w.window->attachStatus()->text()));
    QVERIFY(!w.window->attachBanner()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(allSettled(w.controller->lastSnapshot()), 20000);

    // Channels: the agent's rows, and its counts (the stream lags the report by at most a second).
    const QJsonObject report = getJson(agent.port, u"/report"_s);
    const QJsonArray subs = report.value("subscriptions"_L1).toArray();
    QSet<QString> keys;
    for (const QJsonValue &v : subs)
        keys.insert(v.toObject().value("key"_L1).toString());
    QTRY_COMPARE(w.channelKeys(), keys);
    QCOMPARE(w.window->channelCountText(), u"%1 channels"_s.arg(subs.size()));
    for (const QJsonValue &v : subs) {
        const QString key = v.toObject().value("key"_L1).toString();
        const qint64 reported = static_cast<qint64>(v.toObject().value("messages"_L1).toDouble());
        QTRY_VERIFY2_WITH_TIMEOUT(w.tableMessages(key) >= reported, qPrintable(key), 10000);
    }
    const int connections = static_cast<int>(report.value("connections"_L1).toArray().size());
    QTRY_COMPARE(w.window->connectionsView()->model()->rowCount(), connections);
    // The dispatcher's consumers and the charts from the stream.
    QVERIFY(w.window->dispatcherView()->model()->rowCount() > 0);
    QTRY_VERIFY_WITH_TIMEOUT(!w.controller->series().names(u"conn/"_s).isEmpty(), 10000);
    QVERIFY(w.window->eventsView()->model()->rowCount() > 0);
    // The window's alert rules on the agent's figures: the demo's refused channel fires one.
    QTRY_VERIFY_WITH_TIMEOUT(w.window->alertsModel()->firingCount() > 0, 10000);

    // The kill-all shows in the attached reconnect timeline, as the agent's report has it.
    QTRY_VERIFY_WITH_TIMEOUT(w.window->reconnectsView()->model()->rowCount() >= connections, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(
        w.window->reconnectsView()->model()->rowCount(),
        static_cast<int>(getJson(agent.port, u"/report"_s).value("reconnects"_L1).toArray().size()), 10000);

    // The inspector: the agent's last messages of the selected channel (one that has some).
    QString busy;
    for (const QJsonValue &v : subs)
        if (v.toObject().value("messages"_L1).toDouble() > 0 && busy.isEmpty())
            busy = v.toObject().value("key"_L1).toString();
    QVERIFY(!busy.isEmpty());
    QVERIFY(w.window->selectChannel(busy.toUtf8()));
    QTRY_VERIFY_WITH_TIMEOUT(w.window->inspectorList()->model()->rowCount() > 0, 10000);
    QVERIFY(!w.controller->engine().inspector().messages(busy.toUtf8()).isEmpty());

    // Read-only: the actions are disabled and say why.
    QTRY_VERIFY(!w.window->reconnectAllAction()->isEnabled());
    QVERIFY(!w.window->poolConnectedAction()->isEnabled());
    QVERIFY(!w.window->addSubscriptionsAction()->isEnabled());
    QVERIFY2(w.window->reconnectAllAction()->toolTip().contains("read-only"_L1),
             qPrintable(w.window->reconnectAllAction()->toolTip()));
    // What still asks (a connection's context menu) gets the agent's refusal in the status bar.
    w.controller->reconnect({w.controller->lastSnapshot().connections.constFirst().id});
    QTRY_VERIFY2(w.window->statusBar()->currentMessage().contains("refused"_L1),
                 qPrintable(w.window->statusBar()->currentMessage()));
    QVERIFY2(w.window->statusBar()->currentMessage().contains("read-only"_L1),
             qPrintable(w.window->statusBar()->currentMessage()));

    // Export: the session's events the window holds (the agent's).
    QSignalSpy exported(w.window.get(), &MainWindow::exportFinished);
    const QString path = m_dir.filePath(u"attached.jsonl"_s);
    const int events = static_cast<int>(w.controller->sessionEventList().size());
    QVERIFY(events > 0);
    w.window->exportSession(path, ExportFormat::Jsonl);
    QVERIFY(exported.wait(10000));
    const auto r = exported.constFirst().at(0).value<ExportResult>();
    QVERIFY2(r.ok, qPrintable(r.error));
    QVERIFY(r.items >= events);
    QString error;
    const auto back = importSessionJsonl(path, &error);
    QVERIFY2(back, qPrintable(error));
    QVERIFY(std::any_of(back->cbegin(), back->cend(),
                        [](const SessionEvent &e) { return e.type == "reconnect"_L1; }));
}

void tst_Attach::controlWithTheToken()
{
    Agent agent;
    QVERIFY(agent.start({u"--metrics-port"_s, u"0"_s, u"--control-token"_s, u"s3cret-token"_s}));
    Attached without(agent.url());
    Attached wrong(agent.url(), "not-it");
    Attached with(agent.url(), "s3cret-token");
    QTRY_VERIFY_WITH_TIMEOUT(without.attached() && wrong.attached() && with.attached(), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(allSettled(with.controller->lastSnapshot()), 20000);
    QTRY_VERIFY(with.controller->canControl());
    QTRY_VERIFY(with.window->reconnectAllAction()->isEnabled());
    QVERIFY(with.window->poolConnectedAction()->isEnabled());
    // Without the token, and with a wrong one: disabled, with the reason.
    QTRY_VERIFY(!without.window->reconnectAllAction()->isEnabled());
    QVERIFY2(without.window->reconnectAllAction()->toolTip().contains("control token"_L1),
             qPrintable(without.window->reconnectAllAction()->toolTip()));
    QTRY_VERIFY2(wrong.window->reconnectAllAction()->toolTip().contains("refused the token"_L1),
                 qPrintable(wrong.window->reconnectAllAction()->toolTip()));
    QVERIFY(!wrong.window->reconnectAllAction()->isEnabled());
    QVERIFY(getJson(agent.port, u"/report"_s).value("reconnects"_L1).toArray().isEmpty());

    // With it: Reconnect all happens on the agent (its report), shows in every attached timeline.
    const int connections = static_cast<int>(with.controller->lastSnapshot().connections.size());
    with.window->reconnectAllAction()->trigger();
    QTRY_VERIFY2(with.window->statusBar()->currentMessage().contains("did it: reconnect all"_L1),
                 qPrintable(with.window->statusBar()->currentMessage()));
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const QJsonArray rs = getJson(agent.port, u"/report"_s).value("reconnects"_L1).toArray();
            return rs.size() >= connections && std::all_of(rs.cbegin(), rs.cend(), [](const QJsonValue &v) {
                       return v.toObject().value("manual"_L1).toBool();
                   });
        }(),
        15000);
    QTRY_VERIFY_WITH_TIMEOUT(without.window->reconnectsView()->model()->rowCount() >= connections, 10000);
    // A refusal's reason is shown.
    with.controller->reconnect({9999});
    QTRY_VERIFY2(with.window->statusBar()->currentMessage().contains("no connection 9999"_L1),
                 qPrintable(with.window->statusBar()->currentMessage()));
    // Pause and resume the agent's pool from the window's Connected toggle.
    QTRY_VERIFY(with.window->poolConnectedAction()->isChecked());
    with.window->poolConnectedAction()->toggle();
    QTRY_VERIFY_WITH_TIMEOUT(without.controller->lastSnapshot().paused, 10000);
    QTRY_VERIFY(!without.window->poolConnectedAction()->isChecked());
    QTRY_VERIFY(without.window->summaryText().contains("POOL DISCONNECTED"_L1));
    QTRY_VERIFY(!with.window->poolConnectedAction()->isChecked()); // the agent's state, as it says
    with.window->poolConnectedAction()->toggle();
    QTRY_VERIFY_WITH_TIMEOUT(!without.controller->lastSnapshot().paused, 10000);
    // Subscribe and unsubscribe through the window's own paths.
    const Hl::Subscription sol = sub(R"({"type":"bbo","coin":"SOL"})");
    const QString key = QString::fromUtf8(sol.canonical());
    with.window->addSubscriptions({sol});
    QTRY_VERIFY_WITH_TIMEOUT(without.channelKeys().contains(key), 10000);
    QTRY_VERIFY(with.channelKeys().contains(key));
    QTRY_VERIFY(with.window->selectedSubscriptions().contains(sol)); // the new row is selected
    QTRY_VERIFY(with.window->unsubscribeAction()->isEnabled());
    with.window->unsubscribeAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!without.channelKeys().contains(key), 10000);

    QVERIFY2(!agent.err.contains("s3cret-token"), "the token is never logged");
}

void tst_Attach::agentGatewayClients()
{
    // The agent's gateway clients: a Clients tab; with the token one can be disconnected.
    Agent agent;
    QVERIFY(agent.start(
        {u"--metrics-port"_s, u"0"_s, u"--control-token"_s, u"s3cret-token"_s, u"--gateway-port"_s, u"0"_s}));
    static const QRegularExpression gatewayAt(u"gateway on (ws://127\\.0\\.0\\.1:\\d+\\S*)"_s);
    QRegularExpressionMatch gw;
    for (int i = 0; i < 100 && !(gw = gatewayAt.match(QString::fromUtf8(agent.err))).hasMatch(); ++i) {
        agent.process->waitForReadyRead(100);
        agent.err += agent.process->readAllStandardError();
    }
    QVERIFY2(gw.hasMatch(), agent.err.constData());
    Attached without(agent.url());
    Attached with(agent.url(), "s3cret-token");
    QTRY_VERIFY_WITH_TIMEOUT(without.attached() && with.attached(), 15000);
    QTRY_VERIFY(with.controller->canControl());
    QUrl botUrl(gw.captured(1));
    botUrl.setQuery(u"name=bot-a"_s);
    QWebSocket bot;
    QSignalSpy botGone(&bot, &QWebSocket::disconnected);
    bot.open(botUrl);
    QTRY_COMPARE_WITH_TIMEOUT(bot.state(), QAbstractSocket::ConnectedState, 10000);
    bot.sendTextMessage(
        u"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"trades\",\"coin\":\"BTC\"}}"_s);
    QTRY_VERIFY_WITH_TIMEOUT(with.window->remoteClientsView() && without.window->remoteClientsView(), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(with.controller->remoteClients()->rowCount(), 1, 10000);
    QCOMPARE(with.controller->remoteClients()->index(0, ClientsModel::Name).data().toString(), u"bot-a"_s);
    QTRY_COMPARE(without.window->remoteClientsView()->table()->model()->rowCount(), 1);
    QTableView *clients = with.window->remoteClientsView()->table();
    clients->selectionModel()->setCurrentIndex(
        clients->model()->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QTRY_VERIFY(with.window->remoteClientsView()->disconnectAction()->isEnabled());
    QTableView *theirs = without.window->remoteClientsView()->table();
    theirs->selectionModel()->setCurrentIndex(theirs->model()->index(0, 0),
                                              QItemSelectionModel::ClearAndSelect);
    QVERIFY(!without.window->remoteClientsView()->disconnectAction()->isEnabled());
    QVERIFY(without.window->remoteClientsView()->disconnectAction()->toolTip().contains("read-only"_L1));
    with.window->remoteClientsView()->disconnectAction()->trigger();
    QVERIFY(botGone.wait(10000));
    QTRY_COMPARE_WITH_TIMEOUT(without.controller->remoteClients()->rowCount(), 0, 10000);
}

void tst_Attach::agentGoneThenBack()
{
    auto agent = std::make_unique<Agent>();
    QVERIFY(agent->start({u"--metrics-port"_s, u"0"_s}));
    const quint16 port = agent->port;
    Attached w(agent->url());
    QTRY_VERIFY_WITH_TIMEOUT(w.attached(), 15000);
    QTRY_VERIFY_WITH_TIMEOUT(!w.channelKeys().isEmpty(), 10000);
    const QSet<QString> keys = w.channelKeys();
    ::kill(static_cast<pid_t>(agent->process->processId()), SIGKILL);
    agent->process->waitForFinished(10000);
    // Said clearly: the banner, the status bar, the title; the last state stays.
    QTRY_VERIFY_WITH_TIMEOUT(w.window->attachBanner()->isVisible(), 15000);
    QVERIFY2(w.window->attachBanner()->text().contains("is gone"_L1),
             qPrintable(w.window->attachBanner()->text()));
    QVERIFY2(w.window->attachBanner()->text().contains("last state"_L1),
             qPrintable(w.window->attachBanner()->text()));
    QVERIFY2(w.window->attachStatus()->text().contains("agent gone"_L1),
             qPrintable(w.window->attachStatus()->text()));
    QVERIFY2(w.window->windowTitle().contains("agent gone"_L1), qPrintable(w.window->windowTitle()));
    QCOMPARE(w.channelKeys(), keys);
    auto channelsTitle = [&w] {
        return qobject_cast<QGroupBox *>(w.window->subscriptionsView()->parentWidget())->title();
    };
    QVERIFY2(channelsTitle().contains("last state, not live"_L1), qPrintable(channelsTitle()));
    QVERIFY(!w.window->reconnectAllAction()->isEnabled());
    agent.reset();
    Agent again;
    QVERIFY(again.start({u"--metrics-port"_s, QString::number(port)}));
    QTRY_VERIFY_WITH_TIMEOUT(w.attached(), 20000);
    QTRY_VERIFY(!w.window->attachBanner()->isVisible());
    QVERIFY(!w.window->windowTitle().contains("agent gone"_L1));
    QCOMPARE(channelsTitle(), u"Channels"_s);
    QVERIFY2(w.window->attachStatus()->text().contains("attached to"_L1),
             qPrintable(w.window->attachStatus()->text()));
    QTRY_COMPARE_WITH_TIMEOUT(w.channelKeys(), keys, 10000);
}

void tst_Attach::wssWithTestCa()
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
    QVERIFY(
        run({u"req"_s, u"-x509"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:prime256v1"_s,
             u"-nodes"_s, u"-keyout"_s, u"ca.key"_s, u"-out"_s, u"ca.pem"_s, u"-days"_s, u"2"_s, u"-subj"_s,
             u"/CN=FeedScope attach test CA"_s, u"-addext"_s, u"basicConstraints=critical,CA:TRUE"_s,
             u"-addext"_s, u"keyUsage=critical,keyCertSign,cRLSign"_s}));
    QFile ext(m_dir.filePath(u"agent.ext"_s));
    QVERIFY(ext.open(QIODevice::WriteOnly));
    ext.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage="
              "serverAuth\n");
    ext.close();
    QVERIFY(run({u"req"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:prime256v1"_s,
                 u"-nodes"_s, u"-keyout"_s, u"agent.key"_s, u"-out"_s, u"agent.csr"_s, u"-subj"_s,
                 u"/CN=FeedScope attach test agent"_s}));
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
    ssl.setPrivateKey(QSslKey(read(u"agent.key"_s), QSsl::Ec));
    ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
    fake.server.setSslConfiguration(ssl);
    QVERIFY(fake.server.listen(QHostAddress::LocalHost, 0));
    fake.onConnect = [](QWebSocket *ws) { ws->sendTextMessage(text(goodFull(1, 42))); };

    // Without the CA: not attached, and the window says why.
    {
        Attached untrusted(fake.url());
        QTRY_VERIFY_WITH_TIMEOUT(untrusted.window->attachBanner()->isVisible(), 15000);
        QVERIFY2(untrusted.window->attachBanner()->text().contains("Cannot attach"_L1),
                 qPrintable(untrusted.window->attachBanner()->text()));
        QVERIFY(untrusted.channelKeys().isEmpty());
    }
    // With the CA made here: attached over wss, the agent's channel in the table.
    Attached trusted(fake.url(), {}, QSslCertificate::fromData(read(u"ca.pem"_s)));
    QTRY_VERIFY_WITH_TIMEOUT(trusted.attached(), 15000);
    QTRY_COMPARE(trusted.channelKeys().size(), 1);
    QTRY_COMPARE(trusted.tableMessages(u"{\"coin\":\"BTC\",\"type\":\"trades\"}"_s), 42);
    QVERIFY(trusted.window->windowTitle().contains("attached to 127.0.0.1"_L1));
}

void tst_Attach::hostileStreamLeavesTheWindowWorking()
{
    FakeAgent fake;
    QVERIFY(fake.server.listen(QHostAddress::LocalHost, 0));
    fake.onConnect = [](QWebSocket *ws) { ws->sendTextMessage(text(goodFull(1, 100))); };
    Attached w(fake.url());
    const QString key = u"{\"coin\":\"BTC\",\"type\":\"trades\"}"_s;
    QTRY_VERIFY_WITH_TIMEOUT(w.attached(), 10000);
    QTRY_COMPARE(w.tableMessages(key), 100);
    QWebSocket *ws = fake.last();
    qint64 seq = 2;
    qint64 messages = 100;
    const QList<QByteArray> hostile{
        R"({"type":"tick","seq":)",                                              // truncated
        R"({"type":"tick","seq":99,"at":1,"subCounters":[[7,"many",0,0,0,0]]})", // wrong type
        R"({"type":"tick","seq":99,"at":1,"subscriptions":"all"})",
        R"({"type":"tick","seq":99,"at":1,"subCounters":[[8,1,0,0,0,0]]})", // unknown row
        R"({"type":"full","schema":"feedscope.live/9","seq":1})",
    };
    for (const QByteArray &message : hostile) {
        ws->sendTextMessage(QString::fromUtf8(message));
        messages += 5;
        ws->sendTextMessage(tick(seq++, messages));
        // The bad message changed nothing; the next good one shows.
        QTRY_COMPARE(w.tableMessages(key), messages);
        QCOMPARE(w.channelKeys().size(), 1);
        QVERIFY(w.attached());
        QVERIFY(!w.window->attachBanner()->isVisible());
    }
    QVERIFY(w.live()->messagesRejected() >= hostile.size());
    // Oversized: refused unread, the window keeps the last good state and attaches again.
    ws->sendTextMessage(QString(static_cast<qsizetype>(Live::MaxServerMessageBytes) + 16, u'x'));
    QTRY_VERIFY_WITH_TIMEOUT(fake.connections >= 2, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(w.attached(), 10000);
    QCOMPARE(w.channelKeys().size(), 1);
    QCOMPARE(w.tableMessages(key), 100); // the new full state's count
    // The window is still working: its tables follow the stream.
    fake.last()->sendTextMessage(tick(2, 777));
    QTRY_COMPARE(w.tableMessages(key), 777);
}

void tst_Attach::attachDialogRemembersAgents()
{
    QSettings().remove(u"Attach"_s);
    {
        AttachDialog d;
        QCOMPARE(d.urlBox()->count(), 0);
        d.urlBox()->setEditText(u"http://10.0.0.5:9100"_s);
        d.accept();
        QVERIFY(d.result() != QDialog::Accepted);
        QVERIFY(!d.errorLabel()->isHidden());
        QVERIFY2(d.errorLabel()->text().contains("ws"_L1), qPrintable(d.errorLabel()->text()));
        d.urlBox()->setEditText(u"ws://10.0.0.5:9100"_s);
        d.tokenEdit()->setText(u"t0ken"_s);
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Accepted));
        QCOMPARE(d.url(), QUrl(u"ws://10.0.0.5:9100/live"_s));
        QCOMPARE(d.token(), QByteArray("t0ken"));
    }
    // Remembered, the token not (the box was not ticked).
    QCOMPARE(AttachDialog::recentAgents().size(), 1);
    QVERIFY(AttachDialog::recentAgents().constFirst().token.isEmpty());
    QSettings settings;
    QVERIFY(!settings.value(u"Attach/v1/recent"_s).toList().constFirst().toMap().contains(u"token"_s));
    {
        AttachDialog d;
        QCOMPARE(d.urlBox()->currentText(), u"ws://10.0.0.5:9100/live"_s);
        QVERIFY(d.tokenEdit()->text().isEmpty());
        d.urlBox()->setEditText(u"ws://10.0.0.6:9100/live"_s);
        d.tokenEdit()->setText(u"other"_s);
        d.rememberTokenBox()->setChecked(true);
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Accepted));
    }
    const auto recent = AttachDialog::recentAgents();
    QCOMPARE(recent.size(), 2);
    QCOMPARE(recent.at(0).url, QUrl(u"ws://10.0.0.6:9100/live"_s)); // newest first
    QCOMPARE(recent.at(0).token, QByteArray("other"));
    {
        AttachDialog d; // the remembered agent comes with its token
        QCOMPARE(d.tokenEdit()->text(), u"other"_s);
        QVERIFY(d.rememberTokenBox()->isChecked());
        d.urlBox()->setCurrentIndex(1);
        QVERIFY(d.tokenEdit()->text().isEmpty());
        // A CA file for ws://, and a file that is no certificate: refused with the reason.
        d.caEdit()->setText(QStringLiteral(FEEDSCOPE_BIN));
        QVERIFY(!d.validate());
        QVERIFY2(d.errorLabel()->text().contains("wss"_L1), qPrintable(d.errorLabel()->text()));
    }
    // The window's File menu has the action; it opens the dialog.
    auto source = std::make_unique<LiveSource>();
    source->setUrl(QUrl(u"ws://127.0.0.1:1/live"_s));
    EngineConfig cfg;
    cfg.dispatchThreads = 1;
    PoolController controller(std::move(source), cfg);
    MainWindow window(&controller);
    QVERIFY(window.attachAction());
    QVERIFY(!window.attachAction()->text().isEmpty());
}

void tst_Attach::badAttachValuesExit2()
{
    const QList<QStringList> bad{
        {u"--attach"_s, u"ftp://10.0.0.5:9100"_s},
        {u"--attach"_s, u"ws://"_s},
        {u"--attach"_s, u"10.0.0.5:9100"_s},
        {u"--attach"_s, u"ws://user:pw@10.0.0.5:9100/live"_s},
        {u"--attach-token"_s, u"x"_s},
        {u"--attach"_s, u"ws://127.0.0.1:9100"_s, u"--demo"_s},
        {u"--attach"_s, u"ws://127.0.0.1:9100"_s, u"--url"_s, u"ws://127.0.0.1:1"_s},
        {u"--attach"_s, u"wss://127.0.0.1:9100"_s, u"--attach-ca"_s, m_dir.filePath(u"none.pem"_s)},
        {u"--attach"_s, u"ws://127.0.0.1:9100"_s, u"--attach-token"_s, QString()},
    };
    for (const QStringList &args : bad) {
        QProcess p;
        p.start(QStringLiteral(FEEDSCOPE_BIN), args);
        QVERIFY(p.waitForFinished(20000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 2,
                 qPrintable(args.join(u' ') + u" → "_s + QString::number(p.exitCode()) + u" "_s + err));
        QVERIFY2(err.contains("--attach"_L1), qPrintable(args.join(u' ') + u" → "_s + err));
    }
}

QTEST_MAIN(tst_Attach)
#include "tst_attach.moc"

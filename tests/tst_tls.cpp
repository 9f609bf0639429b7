// wss:// against a local QWebSocketServer in secure mode with certificates made at test time
// (openssl): refused without the CA, accepted with it (--ca-file), refused on a host-name
// mismatch even with the CA, and accepted by --insecure only.
#include "connectionpool.h"
#include "testutil.h"

#include <QFile>
#include <QProcess>
#include <QSslKey>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_Tls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void verification_data();
    void verification();

private:
    bool openssl(const QStringList &args);
    /// A server certificate signed by the test CA for @p san; returns the base file name.
    bool makeServerCert(const QString &name, const QString &san);

    QTemporaryDir m_dir;
    QString m_openssl;
};

bool tst_Tls::openssl(const QStringList &args)
{
    QProcess p;
    p.setWorkingDirectory(m_dir.path());
    p.start(m_openssl, args);
    if (!p.waitForFinished(30000) || p.exitCode() != 0) {
        qWarning("openssl %s: %s", qPrintable(args.join(u' ')), p.readAllStandardError().constData());
        return false;
    }
    return true;
}

bool tst_Tls::makeServerCert(const QString &name, const QString &san)
{
    QFile ext(m_dir.filePath(name + u".ext"_s));
    if (!ext.open(QIODevice::WriteOnly))
        return false;
    ext.write(
        QString(u"subjectAltName="_s + san + u"\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"_s)
            .toUtf8());
    ext.close();
    return openssl({u"req"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-keyout"_s, name + u".key"_s,
                    u"-out"_s, name + u".csr"_s, u"-subj"_s, u"/CN=FeedScope test server"_s}) &&
           openssl({u"x509"_s, u"-req"_s, u"-in"_s, name + u".csr"_s, u"-CA"_s, u"ca.pem"_s, u"-CAkey"_s,
                    u"ca.key"_s, u"-CAcreateserial"_s, u"-out"_s, name + u".pem"_s, u"-days"_s, u"2"_s,
                    u"-extfile"_s, name + u".ext"_s});
}

void tst_Tls::initTestCase()
{
    m_openssl = QStandardPaths::findExecutable(u"openssl"_s);
    if (m_openssl.isEmpty()) {
        if (qEnvironmentVariableIntValue("FEEDSCOPE_REQUIRE_PROMETHEUS") == 1) // CI: everything installed
            QFAIL("openssl is not installed (packaging/bootstrap.sh test installs it)");
        QSKIP("openssl is not installed");
    }
    QVERIFY(m_dir.isValid());
    QVERIFY(openssl({u"req"_s, u"-x509"_s, u"-newkey"_s, u"rsa:2048"_s, u"-nodes"_s, u"-keyout"_s,
                     u"ca.key"_s, u"-out"_s, u"ca.pem"_s, u"-days"_s, u"2"_s, u"-subj"_s,
                     u"/CN=FeedScope test CA"_s, u"-addext"_s, u"basicConstraints=critical,CA:TRUE"_s,
                     u"-addext"_s, u"keyUsage=critical,keyCertSign,cRLSign"_s}));
    QVERIFY(makeServerCert(u"good"_s, u"DNS:localhost,IP:127.0.0.1"_s));
    QVERIFY(makeServerCert(u"other"_s, u"DNS:other.example"_s));
}

void tst_Tls::verification_data()
{
    QTest::addColumn<QString>("serverCert");
    QTest::addColumn<bool>("trustCa");
    QTest::addColumn<bool>("insecure");
    QTest::addColumn<bool>("opens");
    QTest::addColumn<QString>("why");
    QTest::addRow("system store only: refused") << u"good"_s << false << false << false << u"TLS"_s;
    QTest::addRow("with --ca-file: accepted") << u"good"_s << true << false << true << QString();
    QTest::addRow("host name mismatch: refused") << u"other"_s << true << false << false << u"host name"_s;
    QTest::addRow("--insecure: accepted") << u"other"_s << false << true << true << QString();
}

void tst_Tls::verification()
{
    QFETCH(QString, serverCert);
    QFETCH(bool, trustCa);
    QFETCH(bool, insecure);
    QFETCH(bool, opens);
    QFETCH(QString, why);

    QWebSocketServer server(u"tls-test"_s, QWebSocketServer::SecureMode);
    QSslConfiguration tls;
    QFile certFile(m_dir.filePath(serverCert + u".pem"_s)), keyFile(m_dir.filePath(serverCert + u".key"_s));
    QVERIFY(certFile.open(QIODevice::ReadOnly) && keyFile.open(QIODevice::ReadOnly));
    tls.setLocalCertificate(QSslCertificate(&certFile, QSsl::Pem));
    tls.setPrivateKey(QSslKey(&keyFile, QSsl::Rsa, QSsl::Pem));
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    server.setSslConfiguration(tls);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    int accepted = 0;
    connect(&server, &QWebSocketServer::newConnection, this, [&] {
        while (QWebSocket *s = server.nextPendingConnection()) {
            ++accepted;
            connect(s, &QWebSocket::textMessageReceived, s, [s](const QString &m) {
                if (m.contains(u"ping"_s))
                    s->sendTextMessage(u"{\"channel\":\"pong\"}"_s);
            });
            connect(s, &QWebSocket::disconnected, s, &QObject::deleteLater);
        }
    });

    PoolConfig cfg;
    // By address, so that the test needs no name resolution (the certificate carries IP:127.0.0.1).
    cfg.url = QUrl(u"wss://127.0.0.1:%1/ws"_s.arg(server.serverPort()));
    cfg.backoffInitial = 100ms;
    cfg.backoffMax = 200ms;
    cfg.newConnectionsPerMinute = 1000;
    cfg.insecureTls = insecure;
    if (trustCa)
        cfg.extraCaCertificates = QSslCertificate::fromPath(m_dir.filePath(u"ca.pem"_s));
    PoolHost host(cfg);
    host.subscribe(sub(R"({"type":"trades","coin":"BTC"})"));
    auto state = [&host] {
        const PoolSnapshot s = host.snapshot();
        return s.connections.isEmpty() ? ConnectionStatus{} : s.connections.constFirst();
    };
    if (opens) {
        QVERIFY(waitUntil([&] { return state().state == ConnState::Open; }, 10000));
        QVERIFY(accepted >= 1);
    } else {
        // Attempts happen and fail on the certificate; the connection never opens.
        QVERIFY(
            waitUntil([&] { return state().reconnects >= 0 && state().lastDetail.contains(why); }, 10000));
        QVERIFY2(state().lastDetail.contains(u"TLS"_s), qPrintable(state().lastDetail));
        QVERIFY(!waitUntil([&] { return state().state == ConnState::Open; }, 1000));
        QCOMPARE(accepted, 0);
    }
    host.shutdown(1s);
}

QTEST_GUILESS_MAIN(tst_Tls)
#include "tst_tls.moc"

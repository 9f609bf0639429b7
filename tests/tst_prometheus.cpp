// A real Prometheus server (Debian's `prometheus`) scrapes a headless agent running on the demo
// feed; its HTTP API must show FeedScope's series existing and moving: messages increase, and a
// fault from the simulator increments the reconnect counter.
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QWebSocket>

#include <csignal>

using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

namespace {

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

/// The value of an instant query whose result is a single sample; NaN when there is none.
double query(quint16 port, const QString &promql, QByteArray *raw = nullptr)
{
    QNetworkAccessManager nam;
    QUrl url(u"http://127.0.0.1:%1/api/v1/query"_s.arg(port));
    QUrlQuery q;
    q.addQueryItem(u"query"_s, promql);
    url.setQuery(q);
    QNetworkReply *r = nam.get(QNetworkRequest(url));
    if (!waitUntil([r] { return r->isFinished(); }, 10000))
        return std::nan("");
    const QByteArray body = r->readAll();
    r->deleteLater();
    if (raw)
        *raw = body;
    const QJsonArray result = QJsonDocument::fromJson(body)[u"data"_s][u"result"_s].toArray();
    if (result.size() != 1)
        return std::nan("");
    return result[0][u"value"_s][1].toString().toDouble();
}

} // namespace

class tst_Prometheus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void scrapedByARealPrometheus();
    void gatewaySeriesScraped(); // issue 14
};

void tst_Prometheus::scrapedByARealPrometheus()
{
    const QString prometheus = QStandardPaths::findExecutable(u"prometheus"_s);
    if (prometheus.isEmpty()) {
        if (qEnvironmentVariableIntValue("FEEDSCOPE_REQUIRE_PROMETHEUS") == 1)
            QFAIL("prometheus is not installed (packaging/bootstrap.sh test installs it)");
        QSKIP("prometheus is not installed (apt-get install prometheus)");
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());

    // The agent: demo feed, metrics on a free port, every connection killed at 8 s.
    QProcess agent;
    agent.setProcessChannelMode(QProcess::SeparateChannels);
    agent.start(QStringLiteral(FEEDSCOPE_BIN), {u"--headless"_s, u"--demo"_s, u"--metrics-port"_s, u"0"_s,
                                                u"--demo-fault"_s, u"8000:abort:all"_s});
    QVERIFY(agent.waitForStarted());
    QByteArray err;
    static const QRegularExpression where(u"metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics"_s);
    quint16 metricsPort = 0;
    QVERIFY(waitUntil([&] {
        err += agent.readAllStandardError();
        const auto m = where.match(QString::fromUtf8(err));
        if (m.hasMatch())
            metricsPort = static_cast<quint16>(m.captured(1).toUInt());
        return metricsPort > 0;
    }));

    // Prometheus on loopback, scraping the agent every second.
    const quint16 promPort = freePort();
    const QString config = dir.filePath(u"prometheus.yml"_s);
    {
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(u"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: feedscope\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%1']\n"_s.arg(metricsPort)
                    .toUtf8());
    }
    QProcess prom;
    prom.setProcessChannelMode(QProcess::MergedChannels);
    prom.start(prometheus, {u"--config.file="_s + config, u"--storage.tsdb.path="_s + dir.filePath(u"data"_s),
                            u"--web.listen-address=127.0.0.1:%1"_s.arg(promPort)});
    QVERIFY(prom.waitForStarted());
    auto stop = qScopeGuard([&] {
        prom.terminate();
        if (!prom.waitForFinished(10000))
            prom.kill();
        ::kill(static_cast<pid_t>(agent.processId()), SIGTERM);
        if (!agent.waitForFinished(10000))
            agent.kill();
    });

    // Scrapes succeed and the series exist.
    QVERIFY2(waitUntil([&] { return query(promPort, u"up{job=\"feedscope\"}"_s) == 1.0; }, 30000),
             prom.readAll().right(2000).constData());
    QVERIFY(
        waitUntil([&] { return query(promPort, u"feedscope_connections{state=\"open\"}"_s) == 5.0; }, 15000));
    QCOMPARE(query(promPort, u"feedscope_subscriptions{state=\"rejected\"}"_s),
             1.0); // the demo's delisted book
    const double first = query(promPort, u"sum(feedscope_data_messages_total)"_s);
    QVERIFY(first > 0);
    // They move: messages increase from scrape to scrape.
    QVERIFY(
        waitUntil([&] { return query(promPort, u"sum(feedscope_data_messages_total)"_s) > first; }, 15000));
    // The simulator kills every connection at 8 s: the reconnect counter goes up, by cause, and
    // the duration histogram has them.
    QVERIFY(waitUntil([&] { return query(promPort, u"sum(feedscope_reconnects_total)"_s) >= 5.0; }, 30000));
    QVERIFY(waitUntil(
        [&] { return query(promPort, u"sum(feedscope_reconnect_duration_seconds_count)"_s) >= 5.0; }, 15000));
    QByteArray raw;
    query(promPort, u"sum by (cause) (feedscope_reconnects_total)"_s, &raw);
    qInfo("sum by (cause) (feedscope_reconnects_total) -> %s", raw.constData());
    query(promPort, u"rate(feedscope_data_messages_total{type=\"l2Book\"}[5s])"_s, &raw);
    qInfo("rate(feedscope_data_messages_total{type=\"l2Book\"}[5s]) -> %s", raw.constData());
    QVERIFY(
        waitUntil([&] { return query(promPort, u"feedscope_connections{state=\"open\"}"_s) == 5.0; }, 15000));
}

void tst_Prometheus::gatewaySeriesScraped()
{
    // Issue 14: the gateway's series, per client too, through a real Prometheus.
    const QString prometheus = QStandardPaths::findExecutable(u"prometheus"_s);
    if (prometheus.isEmpty()) {
        if (qEnvironmentVariableIntValue("FEEDSCOPE_REQUIRE_PROMETHEUS") == 1)
            QFAIL("prometheus is not installed (packaging/bootstrap.sh test installs it)");
        QSKIP("prometheus is not installed (apt-get install prometheus)");
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QProcess agent;
    agent.setProcessChannelMode(QProcess::SeparateChannels);
    agent.start(QStringLiteral(FEEDSCOPE_BIN),
                {u"--headless"_s, u"--demo"_s, u"--metrics-port"_s, u"0"_s, u"--gateway-port"_s, u"0"_s,
                 u"--metrics-per-client"_s, u"1"_s});
    QVERIFY(agent.waitForStarted());
    QByteArray err;
    static const QRegularExpression metricsAt(u"metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics"_s);
    static const QRegularExpression gatewayAt(u"gateway on ws://127\\.0\\.0\\.1:(\\d+)/"_s);
    quint16 metricsPort = 0, gatewayPort = 0;
    QVERIFY(waitUntil([&] {
        err += agent.readAllStandardError();
        const QString text = QString::fromUtf8(err);
        if (const auto m = metricsAt.match(text); m.hasMatch())
            metricsPort = static_cast<quint16>(m.captured(1).toUInt());
        if (const auto m = gatewayAt.match(text); m.hasMatch())
            gatewayPort = static_cast<quint16>(m.captured(1).toUInt());
        return metricsPort > 0 && gatewayPort > 0;
    }));
    // Two clients; only the first gets series of its own (--metrics-per-client 1).
    QWebSocket first, second;
    first.open(QUrl(u"ws://127.0.0.1:%1/?name=alpha"_s.arg(gatewayPort)));
    second.open(QUrl(u"ws://127.0.0.1:%1/?name=beta"_s.arg(gatewayPort)));
    QVERIFY(waitUntil([&] {
        return first.state() == QAbstractSocket::ConnectedState &&
               second.state() == QAbstractSocket::ConnectedState;
    }));
    first.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}})"_s);
    second.sendTextMessage(uR"({"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}})"_s);

    const quint16 promPort = freePort();
    const QString config = dir.filePath(u"prometheus.yml"_s);
    {
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(u"global:\n  scrape_interval: 1s\n"
                "scrape_configs:\n  - job_name: feedscope\n    static_configs:\n"
                "      - targets: ['127.0.0.1:%1']\n"_s.arg(metricsPort)
                    .toUtf8());
    }
    QProcess prom;
    prom.setProcessChannelMode(QProcess::MergedChannels);
    prom.start(prometheus, {u"--config.file="_s + config, u"--storage.tsdb.path="_s + dir.filePath(u"data"_s),
                            u"--web.listen-address=127.0.0.1:%1"_s.arg(promPort)});
    QVERIFY(prom.waitForStarted());
    auto stop = qScopeGuard([&] {
        prom.terminate();
        if (!prom.waitForFinished(10000))
            prom.kill();
        ::kill(static_cast<pid_t>(agent.processId()), SIGTERM);
        if (!agent.waitForFinished(10000))
            agent.kill();
    });
    QVERIFY2(waitUntil([&] { return query(promPort, u"up{job=\"feedscope\"}"_s) == 1.0; }, 30000),
             prom.readAll().right(2000).constData());
    QVERIFY(waitUntil([&] { return query(promPort, u"feedscope_gateway_clients"_s) == 2.0; }, 15000));
    QVERIFY(waitUntil([&] { return query(promPort, u"feedscope_gateway_upstream_subscriptions"_s) == 1.0; },
                      15000));
    QVERIFY(waitUntil(
        [&] {
            return query(promPort, u"feedscope_gateway_client_frames_out_total{client=\"alpha #1\"}"_s) > 1;
        },
        15000));
    QVERIFY(waitUntil([&] { return query(promPort, u"feedscope_gateway_frames_out_total"_s) > 2; }, 15000));
    QCOMPARE(query(promPort, u"count(feedscope_gateway_client_frames_out_total)"_s), 1.0);
    QCOMPARE(query(promPort, u"feedscope_gateway_disconnects_total{reason=\"slowConsumer\"}"_s), 0.0);
}

QTEST_GUILESS_MAIN(tst_Prometheus)
#include "tst_prometheus.moc"

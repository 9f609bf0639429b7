// The metrics endpoint: the exposition format (escaping, HELP/TYPE, histogram buckets), the
// families a live engine exports, /healthz transitions on a real pool, /report, and loopback-only
// binding by default.
#include "engine.h"
#include "metrics.h"
#include "simulator.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

struct Reply
{
    int status = 0;
    QByteArray body;
    QByteArray contentType;
};

Reply get(const QUrl &url)
{
    QNetworkAccessManager nam;
    QNetworkReply *r = nam.get(QNetworkRequest(url));
    if (!waitUntil([r] { return r->isFinished(); }, 10000))
        return {};
    Reply out{r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), r->readAll(),
              r->header(QNetworkRequest::ContentTypeHeader).toByteArray()};
    r->deleteLater();
    return out;
}

/// The value of the first sample line of @p series (name and labels exactly), or NaN.
double value(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n'))
        if (line.startsWith(QByteArray(series + ' ')))
            return line.mid(series.size() + 1).toDouble();
    return std::nan("");
}

} // namespace

class tst_Metrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exposition();
    void liveEndpoints();
    void loopbackOnlyByDefault();
    void grafanaDashboardUsesRealSeries();
    void alertsInMetricsAndHealth();
    void prometheusRulesUseRealSeries();
};

void tst_Metrics::exposition()
{
    PromWriter w;
    QCOMPARE(PromWriter::escapeLabel(u"a\"b\\c\nd"_s), u"a\\\"b\\\\c\\nd"_s);
    w.family("x_total", PromWriter::Type::Counter, "Things.");
    w.sample("x_total", {{"sub", u"{\"coin\":\"BTC\"}"_s}}, 3);
    w.family("h_seconds", PromWriter::Type::Histogram, "Durations.");
    w.histogram("h_seconds", {{"c", u"a"_s}}, {0.1, 1}, {2, 3, 1}, 4.5);
    const QByteArray out = w.take();
    QCOMPARE(out, QByteArray("# HELP x_total Things.\n"
                             "# TYPE x_total counter\n"
                             "x_total{sub=\"{\\\"coin\\\":\\\"BTC\\\"}\"} 3\n"
                             "# HELP h_seconds Durations.\n"
                             "# TYPE h_seconds histogram\n"
                             "h_seconds_bucket{c=\"a\",le=\"0.1\"} 2\n"
                             "h_seconds_bucket{c=\"a\",le=\"1\"} 5\n"
                             "h_seconds_bucket{c=\"a\",le=\"+Inf\"} 6\n"
                             "h_seconds_sum{c=\"a\"} 4.5\n"
                             "h_seconds_count{c=\"a\"} 6\n"));
    QCOMPARE(PromWriter::number(0.25), "0.25");
    QCOMPARE(PromWriter::number(1e18), "1e+18");

    // A whole rendering: every family has one HELP and one TYPE line, before its samples.
    MetricsInput in;
    in.snapshot.at = QDateTime::currentDateTimeUtc();
    SubscriptionStatus s;
    s.subscription = sub(R"({"type":"l2Book","coin":"BTC","nSigFigs":5})");
    s.state = SubState::Active;
    s.messages = 7;
    in.snapshot.subscriptions = {s, s, s};
    in.snapshot.subscriptions[1].subscription = sub(R"({"type":"trades","coin":"ETH"})");
    in.snapshot.subscriptions[2].subscription = sub(R"({"type":"bbo","coin":"ETH"})");
    in.perSubscriptionSeries = 2; // capped
    in.messagesByType = QList<qint64>(Hl::catalogue().size(), 0);
    in.reconnects[{1, u"pongTimeout"_s}] = 2;
    in.reconnectBuckets[3] = 2; // two in (50 ms, 100 ms]
    in.reconnectSecondsSum = 0.15;
    const QByteArray text = renderMetrics(in);
    QSet<QByteArray> helped, typed;
    QByteArray current;
    for (const QByteArray &line : text.split('\n')) {
        if (line.isEmpty())
            continue;
        if (line.startsWith("# HELP ")) {
            const QByteArray name = line.split(' ').at(2);
            QVERIFY2(!helped.contains(name), name.constData());
            helped.insert(name);
            current = name;
        } else if (line.startsWith("# TYPE ")) {
            const QList<QByteArray> parts = line.split(' ');
            QCOMPARE(parts.at(2), current);
            QVERIFY(QList<QByteArray>({"counter", "gauge", "histogram"}).contains(parts.at(3)));
            typed.insert(parts.at(2));
        } else {
            static const QRegularExpression sampleLine(
                uR"(^([a-z_]+)(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eInfNa]+$)"_s);
            const auto m = sampleLine.match(QString::fromUtf8(line));
            QVERIFY2(m.hasMatch(), line.constData());
            QVERIFY2(m.captured(1).startsWith(QString::fromLatin1(current)), line.constData());
        }
    }
    QCOMPARE(helped, typed);
    QVERIFY(helped.contains("feedscope_dispatch_lag_seconds"));
    QCOMPARE(value(text, "feedscope_subscriptions{state=\"active\"}"), 3.0);
    QCOMPARE(value(text, "feedscope_reconnects_total{connection=\"1\",cause=\"pongTimeout\"}"), 2.0);
    QCOMPARE(value(text, "feedscope_reconnect_duration_seconds_bucket{le=\"0.05\"}"), 0.0);
    QCOMPARE(value(text, "feedscope_reconnect_duration_seconds_bucket{le=\"0.1\"}"), 2.0);
    QCOMPARE(value(text, "feedscope_reconnect_duration_seconds_bucket{le=\"+Inf\"}"), 2.0);
    QCOMPARE(value(text, "feedscope_reconnect_duration_seconds_count"), 2.0);
    QCOMPARE(text.count("feedscope_subscription_messages_total{"), 2); // the cap holds
    const QByteArray escaped =
        "subscription=\"{\\\"coin\\\":\\\"BTC\\\",\\\"nSigFigs\\\":5,\\\"type\\\":\\\"l2Book\\\"}\"";
    QVERIFY2(text.contains(escaped), escaped.constData());
}

void tst_Metrics::liveEndpoints()
{
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.pool.backoffInitial = 300ms;
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    MetricsServer server(&engine);
    QString error;
    const quint16 port = server.listen(QHostAddress::LocalHost, 0, &error);
    QVERIFY2(port > 0, qPrintable(error));
    const QUrl base(u"http://127.0.0.1:%1"_s.arg(port));
    auto url = [&base](const char *path) { return base.resolved(QUrl(QString::fromLatin1(path))); };

    // Before anything is up: unhealthy, and it says why.
    Reply h = get(url("/healthz"));
    QCOMPARE(h.status, 503);
    QCOMPARE(h.contentType, "application/json");
    for (const char *j : {R"({"type":"trades","coin":"BTC"})", R"({"type":"l2Book","coin":"ETH"})"})
        engine.subscribe(sub(j), u"test"_s);
    QVERIFY(waitUntil([&] { return get(url("/healthz")).status == 200; }));
    h = get(url("/healthz"));
    const QJsonObject ok = QJsonDocument::fromJson(h.body).object();
    QCOMPARE(ok[u"status"_s].toString(), u"ok"_s);
    QCOMPARE(ok[u"subscriptions"_s][u"active"_s].toInt(), 2);

    // /metrics moves with the feed.
    Reply m = get(url("/metrics"));
    QCOMPARE(m.status, 200);
    QVERIFY(m.contentType.startsWith("text/plain; version=0.0.4"));
    QCOMPARE(value(m.body, "feedscope_connections{state=\"open\"}"), 1.0);
    QCOMPARE(value(m.body, "feedscope_subscriptions{state=\"active\"}"), 2.0);
    const double before = value(m.body, "feedscope_data_messages_total{type=\"trades\"}");
    QVERIFY(waitUntil([&] {
        return value(get(url("/metrics")).body, "feedscope_data_messages_total{type=\"trades\"}") > before;
    }));
    m = get(url("/metrics"));
    QVERIFY(value(m.body, "feedscope_dispatcher_received_total{consumer=\"inspector\",policy=\"lossless\"}") >
            0);
    QVERIFY(value(m.body, "feedscope_dispatch_lag_seconds_count{consumer=\"inspector\"}") > 0);

    // A subscription the server rejects makes it unhealthy, and the body names it.
    Sim::Fault reject = Sim::Fault::make(Sim::FaultKind::Reject);
    reject.subscription = sub(R"({"type":"bbo","coin":"DELISTED"})");
    QVERIFY(sim.apply(reject));
    engine.subscribe(reject.subscription, u"test"_s);
    // It is unhealthy while the subscription waits for its answer too (pending), so wait for the
    // answer itself.
    QJsonObject bad;
    QVERIFY(waitUntil([&] {
        h = get(url("/healthz"));
        bad = QJsonDocument::fromJson(h.body).object();
        const QJsonArray waiting = bad[u"subscriptions"_s][u"notActive"_s].toArray();
        return h.status == 503 && waiting.size() == 1 && waiting[0][u"state"_s].toString() == u"rejected"_s;
    }));
    QCOMPARE(bad[u"status"_s].toString(), u"unhealthy"_s);
    const QJsonArray notActive = bad[u"subscriptions"_s][u"notActive"_s].toArray();
    QCOMPARE(notActive.size(), 1);
    QVERIFY(notActive[0][u"subscription"_s].toString().contains(u"DELISTED"_s));
    QVERIFY(!notActive[0][u"error"_s].toString().isEmpty());
    engine.unsubscribeAll(reject.subscription);
    QVERIFY(waitUntil([&] { return get(url("/healthz")).status == 200; }));

    // The server goes away for a second and a half: unhealthy while down, a reconnect counted by
    // cause, then healthy again.
    Sim::Fault restart = Sim::Fault::make(Sim::FaultKind::Restart);
    restart.amount = 1500;
    QVERIFY(sim.apply(restart));
    QVERIFY(waitUntil([&] { return get(url("/healthz")).status == 503; }));
    QVERIFY(waitUntil([&] { return get(url("/healthz")).status == 200; }));
    QVERIFY(waitUntil([&] {
        return value(get(url("/metrics")).body, "feedscope_reconnect_duration_seconds_count") == 1.0;
    }));
    m = get(url("/metrics"));
    QVERIFY(m.body.contains("feedscope_reconnects_total{connection=\"1\",cause=\"socketError\"} 1") ||
            m.body.contains("feedscope_reconnects_total{connection=\"1\",cause=\"closeFrame\"} 1"));

    // /report is the live report document; anything else is 404.
    const Reply r = get(url("/report"));
    QCOMPARE(r.status, 200);
    const QJsonObject rep = QJsonDocument::fromJson(r.body).object();
    QCOMPARE(rep[u"schema"_s].toString(), u"feedscope.report/1"_s);
    QCOMPARE(rep[u"subscriptions"_s].toArray().size(), 2);
    QCOMPARE(get(url("/nope")).status, 404);
    QVERIFY(server.scrapes() >= 4);
}

void tst_Metrics::loopbackOnlyByDefault()
{
    EngineConfig cfg;
    cfg.pool.url = QUrl(u"ws://127.0.0.1:1/ws"_s);
    Engine engine(cfg);
    MetricsServer server(&engine);
    const quint16 port = server.listen(QHostAddress::LocalHost, 0, nullptr);
    QVERIFY(port > 0);
    const auto where = server.listening();
    QCOMPARE(where.size(), 1);
    QCOMPARE(where.constFirst().first, QHostAddress(QHostAddress::LocalHost));
    // Reachable on loopback, refused on every other address of this machine.
    QCOMPARE(get(QUrl(u"http://127.0.0.1:%1/healthz"_s.arg(port))).status, 503);
    int others = 0;
    for (const QHostAddress &a : QNetworkInterface::allAddresses()) {
        if (a.isLoopback() || a.protocol() != QAbstractSocket::IPv4Protocol)
            continue;
        ++others;
        QTcpSocket s;
        s.connectToHost(a, port);
        QVERIFY2(!s.waitForConnected(2000), qPrintable(a.toString()));
    }
    if (others == 0)
        qInfo("no non-loopback IPv4 address on this machine: only the bound address was checked");
}

void tst_Metrics::grafanaDashboardUsesRealSeries()
{
    // Every series the shipped dashboard queries is one the endpoint exports.
    QFile f(QStringLiteral(FEEDSCOPE_TESTDATA "/../../packaging/grafana-dashboard.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll());
    QVERIFY(doc.isObject());
    MetricsInput in;
    in.messagesByType = QList<qint64>(Hl::catalogue().size(), 0);
    const QByteArray text = renderMetrics(in);
    static const QRegularExpression name(u"feedscope_[a-z_]+"_s);
    int checked = 0;
    for (const QJsonValue &p : doc[u"panels"_s].toArray()) {
        for (const QJsonValue &t : p[u"targets"_s].toArray()) {
            auto it = name.globalMatch(t[u"expr"_s].toString());
            while (it.hasNext()) {
                QString n = it.next().captured();
                for (const char *suffix : {"_bucket", "_count", "_sum"})
                    if (n.endsWith(QLatin1StringView(suffix)) &&
                        text.contains(
                            QByteArray("# TYPE " + n.chopped(qstrlen(suffix)).toUtf8() + " histogram")))
                        n.chop(qstrlen(suffix));
                QVERIFY2(text.contains(QByteArray("# TYPE " + n.toUtf8() + ' ')), qPrintable(n));
                ++checked;
            }
        }
    }
    QVERIFY(checked >= 15);
}

// Issue 17: feedscope_alerts_firing{rule} for every rule, /healthz names the firing alerts.
void tst_Metrics::alertsInMetricsAndHealth()
{
    MetricsInput in;
    in.snapshot.at = QDateTime::currentDateTimeUtc();
    in.messagesByType = QList<qint64>(Hl::catalogue().size(), 0);
    in.alertsFiring = {{u"connection-down"_s, 0}, {u"subscription-stale"_s, 250}};
    const QByteArray text = renderMetrics(in);
    QCOMPARE(text.count("# TYPE feedscope_alerts_firing gauge\n"), 1);
    QCOMPARE(value(text, "feedscope_alerts_firing{rule=\"connection-down\"}"), 0.0);
    QCOMPARE(value(text, "feedscope_alerts_firing{rule=\"subscription-stale\"}"), 250.0);

    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    ConnectionStatus c;
    c.id = 1;
    c.state = ConnState::Open;
    s.connections = {c};
    QVERIFY(health(s, {}).healthy);
    QCOMPARE(health(s, {}).body[u"alertsFiring"_s].toInt(), 0);
    Alert warning;
    warning.ruleId = u"latency-p99"_s;
    warning.text = u"ETH trades data latency p99 2500 ms (last 10 s)"_s;
    warning.firedAt = s.at;
    Health h = health(s, {warning});
    QVERIFY(h.healthy); // a warning is named, it does not fail the health check
    QCOMPARE(h.body[u"reasons"_s].toArray(), QJsonArray{warning.text});
    QCOMPARE(h.body[u"alerts"_s][0][u"rule"_s].toString(), u"latency-p99"_s);
    QCOMPARE(h.body[u"connections"_s][u"open"_s].toInt(), 1); // the existing fields stay
    Alert critical = warning;
    critical.severity = AlertSeverity::Critical;
    h = health(s, QList<Alert>(30, critical));
    QVERIFY(!h.healthy);
    QCOMPARE(h.body[u"status"_s].toString(), u"unhealthy"_s);
    QCOMPARE(h.body[u"alertsFiring"_s].toInt(), 30);
    QCOMPARE(h.body[u"reasons"_s].toArray().size(), 20); // bounded
}

// Issue 17: packaging/prometheus-alerts.yml queries only series the endpoint exports, and its
// `rule` labels are the agent's own rule ids (promtool checks its syntax and behaviour).
void tst_Metrics::prometheusRulesUseRealSeries()
{
    QFile f(QStringLiteral(FEEDSCOPE_TESTDATA "/../../packaging/prometheus-alerts.yml"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QStringList lines;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (!line.trimmed().startsWith('#'))
            lines.append(QString::fromUtf8(line));
    const QString yml = lines.join(u'\n');
    MetricsInput in;
    in.messagesByType = QList<qint64>(Hl::catalogue().size(), 0);
    for (const AlertRule &r : defaultAlertRules())
        in.alertsFiring.append({r.id, 0});
    const QByteArray text = renderMetrics(in);
    // The latency histogram and the integrity counters are exported by the engine's latency and
    // integrity work of the same issue (other branches): their names are fixed by the issue.
    const QStringList fromOtherWork{u"feedscope_data_latency_seconds"_s,
                                    u"feedscope_integrity_violations_total"_s};
    static const QRegularExpression name(u"feedscope_[a-z_]+"_s);
    int checked = 0;
    for (auto it = name.globalMatch(yml); it.hasNext();) {
        QString n = it.next().captured();
        if (n.endsWith(u"_bucket"_s) &&
            (fromOtherWork.contains(n.chopped(7)) ||
             text.contains(QByteArray("# TYPE " + n.chopped(7).toUtf8() + " histogram"))))
            n.chop(7);
        ++checked;
        if (fromOtherWork.contains(n) && !text.contains(QByteArray("# TYPE " + n.toUtf8() + ' ')))
            continue;
        QVERIFY2(text.contains(QByteArray("# TYPE " + n.toUtf8() + ' ')), qPrintable(n));
    }
    QVERIFY(checked >= 12);
    QSet<QString> ids;
    for (const AlertRule &r : defaultAlertRules())
        ids.insert(r.id);
    static const QRegularExpression ruleLabel(u"\\brule: ([a-z0-9-]+)|rule=\"([a-z0-9-]+)\""_s);
    QSet<QString> used;
    for (auto it = ruleLabel.globalMatch(yml); it.hasNext();) {
        const auto m = it.next();
        const QString id = m.captured(1).isEmpty() ? m.captured(2) : m.captured(1);
        QVERIFY2(ids.contains(id), qPrintable(id));
        used.insert(id);
    }
    QCOMPARE(used, ids); // every agent rule has its fleet counterpart
}

QTEST_GUILESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"

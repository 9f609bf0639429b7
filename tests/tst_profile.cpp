// Profiles (feedscope.profile/1): strict parsing with errors naming the key, round trips, header
// values kept out of exports, and the GUI's saved settings.
#include "profile.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;

class tst_Profile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void roundTrip();
    void errorsNameTheKey_data();
    void errorsNameTheKey();
    void headersStayOutOfExports();
    void savedSettings();
    void fastStallSettings();
    void runOnlyValuesStayOutOfSavedSettings();
    void unreadableFile();
    void alertsSection();
    void gatewaySection();
};

void tst_Profile::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(u"FeedScopeTest"_s);
    QSettings().clear();
}

void tst_Profile::roundTrip()
{
    Profile p;
    p.url = QUrl(u"wss://api.hyperliquid.xyz/ws"_s);
    p.engine.pool.maxConnections = 7;
    p.engine.pool.maxSubscriptionsPerConnection = 40;
    p.engine.pool.pingInterval = std::chrono::milliseconds(15000);
    p.engine.pool.staleTimeout = std::chrono::milliseconds(45000);
    p.engine.pool.backoffMax = std::chrono::milliseconds(5000);
    p.engine.pool.outgoingPerMinute = 1500;
    p.engine.pool.dataStaleFactor = 2.5;
    p.engine.pool.silenceFactor = 4;
    p.engine.pool.silenceMinimum = std::chrono::milliseconds(1500);
    p.engine.pool.probeTimeout = std::chrono::milliseconds(3000);
    p.engine.pool.ioThreads = 2;
    p.engine.policy = DispatchPolicy::CoalesceLatest;
    p.engine.queueCapacity = 500;
    p.engine.dispatchThreads = 3;
    p.engine.sessionRing = 2000;
    p.engine.inspector.maxAge = std::chrono::seconds(90);
    p.engine.sessionStatsRing = 120;
    p.uiRefreshMs = 250;
    p.subscriptions = {sub(R"({"type":"l2Book","coin":"BTC","nSigFigs":5})")};
    QString error;
    const auto back = profileFromJson(QJsonDocument(profileToJson(p, true)).toJson(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->url, p.url);
    QCOMPARE(back->engine.pool.maxConnections, 7);
    QCOMPARE(back->engine.pool.maxSubscriptionsPerConnection, 40);
    QCOMPARE(back->engine.pool.pingInterval.count(), 15000);
    QCOMPARE(back->engine.pool.staleTimeout.count(), 45000);
    QCOMPARE(back->engine.pool.backoffMax.count(), 5000);
    QCOMPARE(back->engine.pool.outgoingPerMinute, 1500);
    QCOMPARE(back->engine.pool.pingReserve, 30);
    QCOMPARE(back->engine.pool.dataStaleFactor, 2.5);
    QCOMPARE(back->engine.pool.silenceFactor, 4.0);
    QCOMPARE(back->engine.pool.silenceMinimum.count(), 1500);
    QCOMPARE(back->engine.pool.probeTimeout.count(), 3000);
    QCOMPARE(back->engine.pool.ioThreads, 2);
    QCOMPARE(back->engine.policy, DispatchPolicy::CoalesceLatest);
    QCOMPARE(back->engine.queueCapacity, 500);
    QCOMPARE(back->engine.dispatchThreads, 3);
    QCOMPARE(back->engine.sessionRing, 2000);
    QCOMPARE(back->engine.inspector.maxAge.count(), 90);
    QCOMPARE(back->engine.sessionStatsRing, 120);
    QCOMPARE(back->uiRefreshMs, 250);
    QCOMPARE(back->subscriptions, p.subscriptions);
    // A minimal profile is the defaults.
    const auto minimal = profileFromJson(R"({"schema":"feedscope.profile/1"})", &error);
    QVERIFY(minimal);
    QVERIFY(minimal->url.isEmpty());
    QCOMPARE(minimal->engine.pool.maxConnections, PoolConfig{}.maxConnections);
}

void tst_Profile::errorsNameTheKey_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::addRow("not json") << QByteArray("{") << u"not valid JSON"_s;
    QTest::addRow("array") << QByteArray("[]") << u"a profile is a JSON object"_s;
    QTest::addRow("schema") << QByteArray(R"({"schema":"x"})")
                            << u"\"schema\" must be \"feedscope.profile/1\""_s;
    QTest::addRow("unknown top") << QByteArray(R"({"schema":"feedscope.profile/1","pol":{}})")
                                 << u"unknown setting \"pol\""_s;
    QTest::addRow("unknown nested") << QByteArray(
                                           R"({"schema":"feedscope.profile/1","pool":{"maxConnection":3}})")
                                    << u"unknown setting \"pool.maxConnection\""_s;
    QTest::addRow("type") << QByteArray(R"({"schema":"feedscope.profile/1","pool":{"maxConnections":"3"}})")
                          << u"\"pool.maxConnections\" must be a whole number from 1 to 1000"_s;
    QTest::addRow("range") << QByteArray(R"({"schema":"feedscope.profile/1","pool":{"maxConnections":0}})")
                           << u"\"pool.maxConnections\" must be a whole number from 1 to 1000"_s;
    QTest::addRow("fraction") << QByteArray(
                                     R"({"schema":"feedscope.profile/1","dispatcher":{"threads":1.5}})")
                              << u"\"dispatcher.threads\" must be a whole number"_s;
    QTest::addRow("policy") << QByteArray(
                                   R"({"schema":"feedscope.profile/1","dispatcher":{"policy":"yolo"}})")
                            << u"\"dispatcher.policy\" must be one of lossless"_s;
    QTest::addRow("url") << QByteArray(R"({"schema":"feedscope.profile/1","url":"http://x"})")
                         << u"\"url\" must be a ws:// or wss:// URL"_s;
    QTest::addRow("backoff")
        << QByteArray(
               R"({"schema":"feedscope.profile/1","pool":{"backoffInitialMs":500,"backoffMaxMs":100}})")
        << u"\"pool.backoffMaxMs\" must not be below"_s;
    QTest::addRow("stats ring") << QByteArray(
                                       R"({"schema":"feedscope.profile/1","sessionLog":{"statsEvents":1}})")
                                << u"\"sessionLog.statsEvents\" must be a whole number from 10"_s;
    QTest::addRow("subscription")
        << QByteArray(R"({"schema":"feedscope.profile/1","subscriptions":[{"type":"nope"}]})")
        << u"\"subscriptions\": entry 0"_s;
    // Issue 17: the alerts section.
    QTest::addRow("alerts type") << QByteArray(R"({"schema":"feedscope.profile/1","alerts":[]})")
                                 << u"\"alerts\" must be an object"_s;
    QTest::addRow("alerts unknown") << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"rule":[]}})")
                                    << u"unknown setting \"alerts.rule\""_s;
    QTest::addRow("alert kind")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"rules":[{"id":"x","kind":"nope"}]}})")
        << u"\"alerts.rules[0]\": alert rule \"x\": unknown \"kind\" \"nope\""_s;
    QTest::addRow("alert without kind")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"rules":[{"id":"mine"}]}})")
        << u"\"alerts.rules[0]\": alert rule \"mine\": \"kind\" is missing"_s;
    QTest::addRow("alert key")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"rules":[{"id":"drops","for":3}]}})")
        << u"\"alerts.rules[0]\": alert rule \"drops\": unknown key \"for\""_s;
    QTest::addRow("alert duplicate")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"rules":[{"id":"a","kind":"drops"},
                        {"id":"a","kind":"integrity"}]}})")
        << u"\"alerts.rules[1]\": the id \"a\" is used twice"_s;
    QTest::addRow("alert command")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"command":["notify"]}})")
        << u"\"alerts.command\" must be a text"_s;
    QTest::addRow("alert timeout")
        << QByteArray(R"({"schema":"feedscope.profile/1","alerts":{"commandTimeoutSeconds":0}})")
        << u"\"alerts.commandTimeoutSeconds\" must be a whole number from 1 to 3600"_s;
}

void tst_Profile::errorsNameTheKey()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    QString error;
    QVERIFY(!profileFromJson(json, &error));
    QVERIFY2(error.contains(message), qPrintable(error));
}

void tst_Profile::headersStayOutOfExports()
{
    Profile p;
    p.engine.pool.headers = {{"Authorization", "Bearer s3cret"}};
    const QByteArray exported = QJsonDocument(profileToJson(p, false)).toJson();
    QVERIFY(exported.contains("Authorization"));
    QVERIFY(!exported.contains("s3cret"));
    QString error;
    const auto back = profileFromJson(exported, &error);
    QVERIFY(back);
    QVERIFY(back->engine.pool.headers.isEmpty()); // an empty value is left out, not sent empty
    const auto full = profileFromJson(QJsonDocument(profileToJson(p, true)).toJson(), &error);
    QCOMPARE(full->engine.pool.headers.size(), 1);
    QCOMPARE(full->engine.pool.headers.constFirst().second, QByteArray("Bearer s3cret"));
}

void tst_Profile::savedSettings()
{
    QString error;
    QVERIFY(!savedProfile(&error));
    QVERIFY(error.isEmpty()); // nothing saved is not an error
    Profile p;
    p.engine.pool.maxConnections = 4;
    p.uiRefreshMs = 200;
    saveProfile(p);
    const auto back = savedProfile(&error);
    QVERIFY(back);
    QCOMPARE(back->engine.pool.maxConnections, 4);
    QCOMPARE(back->uiRefreshMs, 200);
    QSettings().setValue(u"Settings/v1/profile"_s, QByteArray("{broken"));
    QVERIFY(!savedProfile(&error));
    QVERIFY(error.contains(u"the defaults apply"_s));
    QSettings().clear();
}

void tst_Profile::fastStallSettings()
{
    // Beside pingIntervalMs and pongTimeoutMs, under the names the files use.
    const QJsonObject pool = profileToJson(Profile{}, false).value(u"pool"_s).toObject();
    QCOMPARE(pool.value(u"silenceFactor"_s).toDouble(), PoolConfig{}.silenceFactor);
    QCOMPARE(pool.value(u"silenceMinimumMs"_s).toDouble(), 1000.0);
    QCOMPARE(pool.value(u"probeTimeoutMs"_s).toDouble(), 2000.0);
    QString error;
    auto p = profileFromJson(
        R"({"schema":"feedscope.profile/1","pool":{"silenceFactor":0,"silenceMinimumMs":0,"probeTimeoutMs":500}})",
        &error);
    QVERIFY2(p, qPrintable(error));
    QCOMPARE(p->engine.pool.silenceFactor, 0.0); // off
    QCOMPARE(p->engine.pool.silenceMinimum.count(), 0);
    QCOMPARE(p->engine.pool.probeTimeout.count(), 500);
    QVERIFY(!profileFromJson(R"({"schema":"feedscope.profile/1","pool":{"silenceFactor":0.5}})", &error));
    QVERIFY2(error.contains(u"\"pool.silenceFactor\" must be 0 (off) or from 1 to 1000"_s),
             qPrintable(error));
    QVERIFY(!profileFromJson(R"({"schema":"feedscope.profile/1","pool":{"probeTimeoutMs":10}})", &error));
    QVERIFY2(error.contains(u"\"pool.probeTimeoutMs\" must be a whole number from 100"_s), qPrintable(error));
    QVERIFY(!profileFromJson(R"({"schema":"feedscope.profile/1","pool":{"silenceMinimumMs":-1}})", &error));
    QVERIFY(error.contains(u"pool.silenceMinimumMs"_s));
}

void tst_Profile::runOnlyValuesStayOutOfSavedSettings()
{
    // What the demo run does: its own spread over connections, beside the user's settings.
    Profile user;
    user.engine.pool.pingInterval = std::chrono::milliseconds(20000);
    Profile run = user;
    run.url = QUrl(u"ws://127.0.0.1:5555/ws"_s); // the endpoint is not a run-only value
    run.engine.pool.maxSubscriptionsPerConnection = 12;
    setRunOnlyValues(user, run);
    const QList<RunOnlyValue> values = runOnlyValues();
    QCOMPARE(values.size(), 1);
    QCOMPARE(values.constFirst().section, u"pool"_s);
    QCOMPARE(values.constFirst().key, u"maxSubscriptionsPerConnection"_s);
    QCOMPARE(values.constFirst().user.toInt(), 100);
    QCOMPARE(values.constFirst().run.toInt(), 12);
    // What the run shows goes back to the user's value; what someone changed stays.
    Profile shown = run;
    shown.url = QUrl();
    shown.engine.pool.maxConnections = 4;
    QList<RunOnlyValue> replaced;
    Profile back = withoutRunOnlyValues(shown, &replaced);
    QCOMPARE(replaced.size(), 1);
    QCOMPARE(back.engine.pool.maxSubscriptionsPerConnection, 100);
    QCOMPARE(back.engine.pool.maxConnections, 4);
    QCOMPARE(back.engine.pool.pingInterval.count(), 20000);
    shown.engine.pool.maxSubscriptionsPerConnection = 30; // not the run's value: chosen
    QCOMPARE(withoutRunOnlyValues(shown, &replaced).engine.pool.maxSubscriptionsPerConnection, 30);
    QVERIFY(replaced.isEmpty());
    clearRunOnlyValues();
    QVERIFY(runOnlyValues().isEmpty());
    shown.engine.pool.maxSubscriptionsPerConnection = 12;
    QCOMPARE(withoutRunOnlyValues(shown).engine.pool.maxSubscriptionsPerConnection, 12);
}

void tst_Profile::unreadableFile()
{
    QTemporaryDir dir;
    QString error;
    QVERIFY(!readProfile(dir.filePath(u"missing.json"_s), &error));
    QVERIFY(error.startsWith(u"cannot read profile"_s));
    QFile f(dir.filePath(u"bad.json"_s));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"schema":"feedscope.profile/1","ui":{"refreshMs":1}})");
    f.close();
    QVERIFY(!readProfile(f.fileName(), &error));
    QVERIFY(error.contains(u"bad.json"_s) && error.contains(u"ui.refreshMs"_s));
}

void tst_Profile::alertsSection()
{
    QString error;
    // Nothing said: the defaults, and nothing written back.
    const auto plain = profileFromJson(R"({"schema":"feedscope.profile/1"})", &error);
    QVERIFY(plain);
    QCOMPARE(plain->alerts.rules.size(), defaultAlertRules().size());
    QVERIFY(!profileToJson(*plain, true).contains(u"alerts"_s));

    const auto p = profileFromJson(R"({"schema":"feedscope.profile/1","alerts":{
        "rules":[{"id":"connection-down","forSeconds":5},
                 {"id":"drops","enabled":false},
                 {"id":"slow-eth","kind":"latencyP99","threshold":750,"severity":"critical"}],
        "command":"/usr/local/bin/page-oncall --team md","commandTimeoutSeconds":20}})",
                                   &error);
    QVERIFY2(p, qPrintable(error));
    QCOMPARE(p->alerts.rules.size(), defaultAlertRules().size() + 1);
    const auto find = [&p](const QString &id) {
        for (const AlertRule &r : p->alerts.rules)
            if (r.id == id)
                return r;
        return AlertRule{};
    };
    QCOMPARE(find(u"connection-down"_s).kind, AlertKind::ConnectionDown); // a default, by its id
    QCOMPARE(find(u"connection-down"_s).forSeconds, 5);
    QCOMPARE(find(u"connection-down"_s).clearSeconds, 10); // the rest keeps the default
    QVERIFY(!find(u"drops"_s).enabled);
    QCOMPARE(find(u"slow-eth"_s).threshold, 750.0);
    QCOMPARE(find(u"slow-eth"_s).severity, AlertSeverity::Critical);
    QCOMPARE(find(u"slow-eth"_s).forSeconds, 60); // the latency kind's default
    QCOMPARE(p->alerts.command, u"/usr/local/bin/page-oncall --team md"_s);
    QCOMPARE(p->alerts.commandTimeoutS, 20);
    QCOMPARE(p->engine.alertRules.size(), p->alerts.rules.size()); // what the engine starts with

    // Written back: only what differs from the defaults; read again: the same.
    const QJsonObject json = profileToJson(*p, false);
    QCOMPARE(json[u"alerts"_s][u"rules"_s].toArray().size(), 3);
    const auto back = profileFromJson(QJsonDocument(json).toJson(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->alerts.rules.size(), p->alerts.rules.size());
    for (qsizetype i = 0; i < p->alerts.rules.size(); ++i)
        QCOMPARE(back->alerts.rules.at(i).toJson(), p->alerts.rules.at(i).toJson());
    QCOMPARE(back->alerts.command, p->alerts.command);
    QCOMPARE(back->alerts.commandTimeoutS, 20);
}

void tst_Profile::gatewaySection()
{
    // Issue 14. Nothing said: the defaults (no gateway), and nothing written back.
    QString error;
    const auto plain = profileFromJson(R"({"schema":"feedscope.profile/1"})", &error);
    QVERIFY(plain);
    QVERIFY(!plain->gateway.enabled);
    QVERIFY(!profileToJson(*plain, true).contains(u"gateway"_s));

    const auto p = profileFromJson(R"({"schema":"feedscope.profile/1","gateway":{
        "enabled":true,"bind":"0.0.0.0","port":8765,"token":"t0ken","policy":"coalesce-latest",
        "queueBytes":65536,"maxClients":12,"idleS":0,"lingerMs":250,"maxSubscriptions":50,
        "maxMessagesPerMinute":600,"maxFrameBytes":4096,"threads":1,"metricsPerClient":7}})",
                                   &error);
    QVERIFY2(p, qPrintable(error));
    const Gw::GatewayConfig &sc = p->gateway.config.server;
    QVERIFY(p->gateway.enabled);
    QCOMPARE(sc.bind, QHostAddress(u"0.0.0.0"_s));
    QCOMPARE(sc.port, 8765);
    QCOMPARE(sc.token, QByteArray("t0ken"));
    QCOMPARE(sc.policy, Gw::SlowPolicy::CoalesceLatest);
    QCOMPARE(sc.queueBytes, 65536);
    QCOMPARE(sc.maxClients, 12);
    QCOMPARE(sc.idleTimeout.count(), 0);
    QCOMPARE(p->gateway.config.hub.linger.count(), 250);
    QCOMPARE(sc.maxSubscriptions, 50);
    QCOMPARE(sc.maxMessagesPerMinute, 600);
    QCOMPARE(sc.maxFrameBytes, 4096);
    QCOMPARE(p->gateway.config.threads, 1);
    QCOMPARE(p->gateway.metricsPerClient, 7);

    // Saved (with secrets): the same again. Exported: the token's value is left out.
    const auto back = profileFromJson(QJsonDocument(profileToJson(*p, true)).toJson(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(profileToJson(*back, true), profileToJson(*p, true));
    QCOMPARE(back->gateway.config.server.token, QByteArray("t0ken"));
    const QByteArray exported = QJsonDocument(profileToJson(*p, false)).toJson();
    QVERIFY(!exported.contains("t0ken"));
    const auto reread = profileFromJson(exported, &error);
    QVERIFY2(reread, qPrintable(error));
    QVERIFY(reread->gateway.config.server.token.isEmpty());
    QCOMPARE(reread->gateway.config.server.maxClients, 12);

    // Only what differs from the defaults is written.
    GatewaySettings one;
    one.enabled = true;
    Profile q;
    q.gateway = one;
    QCOMPARE(profileToJson(q, true).value(u"gateway"_s).toObject(), QJsonObject({{u"enabled"_s, true}}));

    // Strict: unknown keys, wrong types, bad values name the key.
    const std::pair<const char *, const char *> bad[] = {
        {R"({"enabled":"yes"})", "gateway.enabled"},    {R"({"bind":"host.example"})", "gateway.bind"},
        {R"({"port":70000})", "gateway.port"},          {R"({"policy":"yolo"})", "gateway.policy"},
        {R"({"queueBytes":10})", "gateway.queueBytes"}, {R"({"threads":0})", "gateway.threads"},
        {R"({"threads":65})", "gateway.threads"},       {R"({"tokn":"x"})", "gateway.tokn"},
    };
    for (const auto &[json, key] : bad) {
        error.clear();
        const QByteArray doc = R"({"schema":"feedscope.profile/1","gateway":)" + QByteArray(json) + '}';
        QVERIFY2(!profileFromJson(doc, &error), json);
        QVERIFY2(error.contains(QLatin1StringView(key)), qPrintable(error));
    }
    QVERIFY(!profileFromJson(R"({"schema":"feedscope.profile/1","gateway":[]})", &error));
    QVERIFY(error.contains(u"\"gateway\" must be an object"_s));
}

QTEST_GUILESS_MAIN(tst_Profile)
#include "tst_profile.moc"

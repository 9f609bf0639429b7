// The alert engine (issue 17): every kind fires once after its delay and resolves once after its
// clear time (hysteresis) on hand-made snapshots with a driven clock; caps, rules from JSON.

#include "alertcommand.h"
#include "alerts.h"
#include "sessionlog.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace FeedScope;
using FeedScope::Test::sub;

namespace {

/// A driven clock: monotonic ms from an arbitrary small origin (never "uptime minus something")
/// and a wall clock that moves with it.
struct Clock
{
    qint64 ms = 5000;
    QDateTime wall() const { return QDateTime(QDate(2026, 3, 1), QTime(12, 0), Qt::UTC).addMSecs(ms - 5000); }
    void advance(qint64 d) { ms += d; }
};

AlertRule only(AlertKind kind)
{
    for (const AlertRule &r : defaultAlertRules())
        if (r.kind == kind)
            return r;
    return {};
}

SubscriptionStatus subStatus(const QByteArray &json, SubState state = SubState::Active)
{
    SubscriptionStatus s;
    s.subscription = sub(json);
    s.state = state;
    s.connection = 1;
    return s;
}

struct Harness
{
    AlertEngine engine;
    Clock clock;
    PoolSnapshot snap;
    DispatcherFigures disp;
    QSignalSpy fired{&engine, &AlertEngine::fired};
    QSignalSpy resolved{&engine, &AlertEngine::resolved};
    QSignalSpy updated{&engine, &AlertEngine::updated};

    explicit Harness(const AlertRule &rule) { engine.setRules({rule}); }
    /// Evaluates once a second (as the engine does) for @p seconds.
    void run(int seconds)
    {
        for (int i = 0; i < seconds; ++i) {
            clock.advance(1000);
            snap.at = clock.wall();
            engine.evaluate(snap, disp, clock.ms, clock.wall());
        }
    }
    Alert lastFired() const { return fired.isEmpty() ? Alert{} : fired.last().at(0).value<Alert>(); }
};

QList<SessionEvent> eventsOf(const SessionLog &log, const QString &type)
{
    QList<SessionEvent> out;
    for (const SessionEvent &e : log.events())
        if (e.type == type)
            out.append(e);
    return out;
}

Alert hostileAlert(const QString &marker)
{
    Alert a;
    a.seq = 7;
    a.ruleId = u"subscription-rejected"_s;
    a.kind = AlertKind::SubscriptionRejected;
    a.severity = AlertSeverity::Critical;
    a.subject = u"{\"coin\":\"$(touch %1)\",\"type\":\"trades\"}"_s.arg(marker);
    a.text = u"he said \"hi\" 'there'\nsecond line; $(touch %1) `touch %1` && rm -rf %1 | cat \\ \t €"_s.arg(
        marker);
    a.value = 1;
    a.firedAt = QDateTime(QDate(2026, 3, 1), QTime(12, 0), Qt::UTC);
    return a;
}

bool writeScript(const QString &path, const QByteArray &body)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write("#!/bin/sh\n" + body);
    f.close();
    return f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
}

} // namespace

class TestAlerts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsCoverEveryKind()
    {
        const QList<AlertRule> rules = defaultAlertRules();
        QCOMPARE(rules.size(), AlertKindCount);
        QSet<QString> ids;
        QSet<int> kinds;
        for (const AlertRule &r : rules) {
            QVERIFY(r.enabled);
            QVERIFY(!r.describe().isEmpty());
            ids.insert(r.id);
            kinds.insert(static_cast<int>(r.kind));
            AlertRule back;
            QString error;
            QVERIFY2(AlertRule::fromJson(r.toJson(), &back, &error), qPrintable(error));
            QCOMPARE(back.toJson(), r.toJson());
            AlertKind k{};
            QVERIFY(alertKindFromName(nameOf(r.kind), &k));
            QCOMPARE(k, r.kind);
        }
        QCOMPARE(ids.size(), AlertKindCount);
        QCOMPARE(kinds.size(), AlertKindCount);
        QCOMPARE(only(AlertKind::ConnectionDown).describe(), u"A connection down for more than 30 s"_s);
        QCOMPARE(only(AlertKind::ReconnectStorm).describe(), u"More than 5 reconnects in 10 min"_s);
        QCOMPARE(only(AlertKind::LatencyP99).threshold, 2000.0);
        QCOMPARE(only(AlertKind::BudgetUse).threshold, 80.0);
        AlertEngine e;
        QCOMPARE(e.rules().size(), AlertKindCount); // on out of the box
    }

    void ruleFromJson_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("errorPart"); // empty: valid
        QTest::newRow("minimal") << QByteArray(R"({"id":"s","kind":"subscriptionStale"})") << QString();
        QTest::newRow("full") << QByteArray(R"({"id":"lat.fast","kind":"latencyP99","threshold":500,
            "forSeconds":5,"clearSeconds":3,"windowMinutes":2,"severity":"critical","enabled":false})")
                              << QString();
        QTest::newRow("no id") << QByteArray(R"({"kind":"drops"})") << u"\"id\""_s;
        QTest::newRow("empty id") << QByteArray(R"({"id":" ","kind":"drops"})") << u"\"id\""_s;
        QTest::newRow("bad id") << QByteArray(R"({"id":"a b","kind":"drops"})") << u"\"id\""_s;
        QTest::newRow("no kind") << QByteArray(R"({"id":"x"})") << u"\"kind\""_s;
        QTest::newRow("unknown kind") << QByteArray(R"({"id":"x","kind":"weather"})") << u"weather"_s;
        QTest::newRow("unknown key") << QByteArray(R"({"id":"x","kind":"drops","treshold":1})")
                                     << u"treshold"_s;
        QTest::newRow("negative") << QByteArray(R"({"id":"x","kind":"drops","threshold":-1})")
                                  << u"\"threshold\""_s;
        QTest::newRow("text threshold")
            << QByteArray(R"({"id":"x","kind":"drops","threshold":"5"})") << u"\"threshold\""_s;
        QTest::newRow("percent") << QByteArray(R"({"id":"x","kind":"budgetUse","threshold":150})")
                                 << u"\"threshold\""_s;
        QTest::newRow("fraction") << QByteArray(R"({"id":"x","kind":"drops","forSeconds":1.5})")
                                  << u"\"forSeconds\""_s;
        QTest::newRow("window 0") << QByteArray(R"({"id":"x","kind":"drops","windowMinutes":0})")
                                  << u"\"windowMinutes\""_s;
        QTest::newRow("severity") << QByteArray(R"({"id":"x","kind":"drops","severity":"loud"})")
                                  << u"\"severity\""_s;
        QTest::newRow("enabled") << QByteArray(R"({"id":"x","kind":"drops","enabled":"yes"})")
                                 << u"\"enabled\""_s;
    }
    void ruleFromJson()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, errorPart);
        AlertRule r;
        r.id = u"untouched"_s;
        QString error;
        const bool ok = AlertRule::fromJson(QJsonDocument::fromJson(json).object(), &r, &error);
        if (errorPart.isEmpty()) {
            QVERIFY2(ok, qPrintable(error));
        } else {
            QVERIFY(!ok);
            QVERIFY2(error.contains(errorPart), qPrintable(error));
            QCOMPARE(r.id, u"untouched"_s); // nothing lost on bad input
        }
    }

    void ruleFromJsonKeepsKindDefaults()
    {
        AlertRule r;
        QString error;
        QVERIFY(AlertRule::fromJson(QJsonObject{{u"id"_s, u"d"_s}, {u"kind"_s, u"connectionDown"_s}}, &r,
                                    &error));
        QCOMPARE(r.forSeconds, 30);
        QCOMPARE(r.severity, AlertSeverity::Critical);
        QVERIFY(AlertRule::fromJson(QJsonDocument::fromJson(R"({"id":"l","kind":"latencyP99","threshold":500,
            "forSeconds":5,"clearSeconds":3,"windowMinutes":2,"severity":"critical","enabled":false})")
                                        .object(),
                                    &r, &error));
        QCOMPARE(r.threshold, 500.0);
        QCOMPARE(r.forSeconds, 5);
        QCOMPARE(r.clearSeconds, 3);
        QCOMPARE(r.windowMinutes, 2);
        QVERIFY(!r.enabled);
        QCOMPARE(r.severity, AlertSeverity::Critical);
    }

    void staleFiresOnceAndResolvesWithHysteresis()
    {
        AlertRule rule = only(AlertKind::SubscriptionStale); // 30 s, clear 10 s
        Harness h(rule);
        SubscriptionStatus eth = subStatus(R"({"type":"l2Book","coin":"ETH"})");
        SubscriptionStatus btc = subStatus(R"({"type":"trades","coin":"BTC"})");
        h.snap.subscriptions = {eth, btc};
        h.run(5);
        h.snap.subscriptions[0].stale = true;
        h.snap.subscriptions[0].lastAgeMs = 12000;
        h.run(30);
        QCOMPARE(h.fired.size(), 0); // not yet: 29 s of 30
        h.snap.subscriptions[0].lastAgeMs = 42000;
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        Alert a = h.lastFired();
        QCOMPARE(a.ruleId, rule.id);
        QCOMPARE(a.subject, QString::fromUtf8(eth.subscription.canonical()));
        QCOMPARE(a.text, u"ETH l2Book data stale: nothing for 42 s"_s);
        QCOMPARE(a.value, 42.0);
        QCOMPARE(a.firedAt, h.clock.wall());
        QVERIFY(a.firing());
        QCOMPARE(h.engine.firingCount(), 1);
        QCOMPARE(h.engine.firingCount(rule.id), 1);
        QCOMPARE(h.engine.firing().constFirst().seq, a.seq);

        // Its value follows while firing, at most one update per evaluation.
        h.snap.subscriptions[0].lastAgeMs = 50000;
        h.run(1);
        QCOMPARE(h.updated.size(), 1);
        QCOMPARE(h.engine.firing().constFirst().value, 50.0);
        h.run(1);
        QCOMPARE(h.updated.size(), 1); // unchanged: no signal

        // Flapping: false for less than the clear time, again and again, never re-fires nor resolves.
        for (int i = 0; i < 10; ++i) {
            h.snap.subscriptions[0].stale = false;
            h.run(9);
            h.snap.subscriptions[0].stale = true;
            h.run(1);
        }
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.resolved.size(), 0);

        h.snap.subscriptions[0].stale = false;
        h.run(10);
        QCOMPARE(h.resolved.size(), 0);
        h.run(1);
        QCOMPARE(h.resolved.size(), 1);
        const Alert r = h.resolved.last().at(0).value<Alert>();
        QCOMPARE(r.seq, a.seq);
        QVERIFY(!r.firing());
        QCOMPARE(r.resolvedAt, h.clock.wall());
        QCOMPARE(h.engine.firingCount(), 0);
        QCOMPARE(h.engine.history().size(), 1);
        QCOMPARE(h.engine.history().constFirst().seq, a.seq);
        h.run(60);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.resolved.size(), 1);

        // A condition that never holds for the whole delay never fires.
        for (int i = 0; i < 5; ++i) {
            h.snap.subscriptions[1].stale = true;
            h.run(20);
            h.snap.subscriptions[1].stale = false;
            h.run(1);
        }
        QCOMPARE(h.fired.size(), 1);
    }

    void stalePausedOrNotActiveDoesNotCount()
    {
        Harness h(only(AlertKind::SubscriptionStale));
        SubscriptionStatus s = subStatus(R"({"type":"bbo","coin":"SOL"})");
        s.stale = true;
        h.snap.subscriptions = {s};
        h.snap.paused = true; // the user disconnected the pool: not an incident
        h.run(60);
        QCOMPARE(h.fired.size(), 0);
        h.snap.paused = false;
        h.run(31);
        QCOMPARE(h.fired.size(), 1);
    }

    void notActiveCountsHowLong()
    {
        Harness h(only(AlertKind::SubscriptionNotActive)); // 60 s
        h.snap.subscriptions = {subStatus(R"({"type":"trades","coin":"ETH"})", SubState::Restoring)};
        h.run(60);
        QCOMPARE(h.fired.size(), 0);
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.lastFired().value, 60.0); // held since the first evaluation that saw it
        QVERIFY2(h.lastFired().text.startsWith(u"ETH trades not active for 60 s ("_s),
                 qPrintable(h.lastFired().text));
        h.run(5);
        QCOMPARE(h.engine.firing().constFirst().value, 65.0);
        h.snap.subscriptions[0].state = SubState::Active;
        h.run(11);
        QCOMPARE(h.resolved.size(), 1);
    }

    void rejectedFiresAtOnce()
    {
        Harness h(only(AlertKind::SubscriptionRejected));
        SubscriptionStatus s = subStatus(R"({"type":"l2Book","coin":"NOPE"})", SubState::Rejected);
        s.error = u"Invalid subscription"_s;
        SubscriptionStatus f = subStatus(R"({"type":"trades","coin":"NOPE"})", SubState::Failed);
        h.snap.subscriptions = {s, f};
        h.run(1);
        QCOMPARE(h.fired.size(), 2);
        QStringList texts;
        for (const auto &args : std::as_const(h.fired))
            texts.append(args.at(0).value<Alert>().text);
        texts.sort();
        QCOMPARE(texts, (QStringList{u"NOPE l2Book rejected by the server: Invalid subscription"_s,
                                     u"NOPE trades failed"_s}));
        QCOMPARE(h.engine.firing().constFirst().severity, AlertSeverity::Critical);
        // The user removes one: gone from the snapshot, resolved at once (hysteresis is for
        // values that flap, not for what no longer exists).
        h.snap.subscriptions.removeFirst();
        h.run(1);
        QCOMPARE(h.resolved.size(), 1);
        QCOMPARE(h.resolved.last().at(0).value<Alert>().subject,
                 QString::fromUtf8(s.subscription.canonical()));
        // The other one recovers while it stays: it resolves after the clear time only.
        h.snap.subscriptions[0].state = SubState::Active;
        h.run(9);
        QCOMPARE(h.resolved.size(), 1);
        h.run(2);
        QCOMPARE(h.resolved.size(), 2);
    }

    void connectionDown()
    {
        Harness h(only(AlertKind::ConnectionDown)); // 30 s
        ConnectionStatus open;
        open.id = 1;
        open.state = ConnState::Open;
        ConnectionStatus down = open;
        down.id = 2;
        down.state = ConnState::Backoff;
        down.lastCause = Cause::SocketError;
        ConnectionStatus idle = open; // an idle connection without subscriptions is not down
        idle.id = 3;
        idle.state = ConnState::Idle;
        h.snap.connections = {open, down, idle};
        h.run(30);
        QCOMPARE(h.fired.size(), 0);
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        const Alert a = h.lastFired();
        QCOMPARE(a.subject, u"connection 2"_s);
        QCOMPARE(a.value, 30.0);
        QVERIFY2(a.text.startsWith(u"connection 2 down for 30 s"_s), qPrintable(a.text));
        h.snap.connections[1].state = ConnState::Connecting; // still down: same alert
        h.run(5);
        QCOMPARE(h.fired.size(), 1);
        h.snap.connections[1].state = ConnState::Open;
        h.run(11);
        QCOMPARE(h.resolved.size(), 1);
        // A connection that goes away while down (closed for good) resolves at once.
        h.snap.connections[1].state = ConnState::Backoff;
        h.run(31);
        QCOMPARE(h.fired.size(), 2);
        h.snap.connections.removeAt(1);
        h.run(1);
        QCOMPARE(h.resolved.size(), 2);
    }

    void reconnectStorm()
    {
        AlertRule rule = only(AlertKind::ReconnectStorm); // > 5 in 10 min
        Harness h(rule);
        h.run(1);
        auto reconnect = [&](int connection) {
            ReconnectRecord r;
            r.connection = connection;
            r.startedAt = h.clock.wall();
            h.snap.reconnects.append(r);
        };
        for (int i = 0; i < 5; ++i) {
            reconnect(i % 2 + 1);
            h.run(30);
        }
        QCOMPARE(h.fired.size(), 0); // 5 is not more than 5
        reconnect(4);
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        const Alert a = h.lastFired();
        QCOMPARE(a.subject, u"pool"_s);
        QCOMPARE(a.value, 6.0);
        QCOMPARE(a.text, u"6 reconnects in the last 10 min (connections 1, 2, 4)"_s);
        // The oldest ones leave the window: 10 min after the first, 5 are left, then the clear time.
        h.run(600 - 150 - 1);
        QCOMPARE(h.resolved.size(), 0);
        h.run(61);
        QCOMPARE(h.resolved.size(), 1);
        QCOMPARE(h.fired.size(), 1);
    }

    void reconnectsOlderThanTheWindowAtFirstSightDoNotCount()
    {
        Harness h(only(AlertKind::ReconnectStorm));
        for (int i = 0; i < 10; ++i) {
            ReconnectRecord r;
            r.connection = 1;
            r.startedAt = h.clock.wall().addSecs(-3600 + i); // an hour ago, by the wall clock
            h.snap.reconnects.append(r);
        }
        h.run(5);
        QCOMPARE(h.fired.size(), 0);
    }

    void dropsInTheWindow()
    {
        Harness h(only(AlertKind::Drops)); // any drop in 5 min, clear 60 s
        ConsumerStats chart;
        chart.name = u"chart"_s;
        chart.dropped = 100; // before the engine watched: does not count
        ConsumerStats insp;
        insp.name = u"inspector"_s;
        h.disp.consumers = {insp, chart};
        h.run(10);
        QCOMPARE(h.fired.size(), 0);
        h.disp.consumers[1].dropped = 130;
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.lastFired().subject, u"chart"_s);
        QCOMPARE(h.lastFired().value, 30.0);
        QCOMPARE(h.lastFired().text, u"consumer \"chart\" dropped 30 messages in the last 5 min"_s);
        h.run(60);
        h.disp.consumers[1].dropped = 135;
        h.run(1);
        QCOMPARE(h.engine.firing().constFirst().value, 35.0);
        // 5 min after the last drop the window is empty; 60 s later it resolves.
        h.run(299);
        QCOMPARE(h.resolved.size(), 0);
        h.run(61);
        QCOMPARE(h.resolved.size(), 1);
        QCOMPARE(h.fired.size(), 1);
    }

    void latencyP99()
    {
        Harness h(only(AlertKind::LatencyP99)); // > 2000 ms for 60 s
        SubscriptionStatus s = subStatus(R"({"type":"trades","coin":"ETH"})");
        s.latency.p99Ms = 2500;
        SubscriptionStatus none = subStatus(R"({"type":"candle","coin":"ETH","interval":"1m"})");
        h.snap.subscriptions = {s, none}; // p99 -1: no sample, never fires
        h.run(60);
        QCOMPARE(h.fired.size(), 0);
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.lastFired().value, 2500.0);
        QCOMPARE(h.lastFired().text, u"ETH trades data latency p99 2500 ms (last 10 s)"_s);
        h.snap.subscriptions[0].latency.p99Ms = 2000; // at the threshold is not above it
        h.run(31);
        QCOMPARE(h.resolved.size(), 1);
    }

    void integrityViolationsInTheWindow()
    {
        Harness h(only(AlertKind::Integrity)); // any in 10 min, clear 60 s
        SubscriptionStatus s = subStatus(R"({"type":"l2Book","coin":"BTC"})");
        h.snap.subscriptions = {s, subStatus(R"({"type":"trades","coin":"BTC"})")};
        h.run(3);
        h.snap.subscriptions[0].integrity.crossedBook = 2;
        h.snap.subscriptions[0].integrity.timeBackwards = 1;
        h.run(1);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.lastFired().value, 3.0);
        QVERIFY2(h.lastFired().text.startsWith(u"BTC l2Book: 3 integrity violations in the last 10 min"_s),
                 qPrintable(h.lastFired().text));
        QVERIFY(h.lastFired().text.contains(u"crossed or locked book 2"_s));
        h.run(599);
        QCOMPARE(h.resolved.size(), 0);
        h.run(61);
        QCOMPARE(h.resolved.size(), 1);
    }

    void budgetUse()
    {
        Harness h(only(AlertKind::BudgetUse)); // > 80 % for 10 s
        h.engine.setNewConnectionLimit(10);
        h.snap.counters.outgoingCapacity = 1800;
        h.snap.counters.outgoingUsed = 1440; // 80 %: not above
        h.snap.counters.newConnectionsLastMinute = 9;
        h.run(20);
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.lastFired().subject, u"new-connection budget"_s);
        QCOMPARE(h.lastFired().value, 90.0);
        h.snap.counters.outgoingUsed = 1700;
        h.run(11);
        QCOMPARE(h.fired.size(), 2);
        QCOMPARE(h.lastFired().subject, u"outgoing budget"_s);
        QCOMPARE(h.lastFired().value, 94.0);
        QCOMPARE(h.engine.subjectsFiring(only(AlertKind::BudgetUse).id), 2);
    }

    void gatewaySlowClient()
    {
        AlertRule rule = only(AlertKind::GatewaySlowClient); // clear 300 s
        Harness h(rule);
        h.run(1);
        h.engine.noteSlowClientCut(u"127.0.0.1:4711"_s, h.clock.ms, h.clock.wall());
        QCOMPARE(h.fired.size(), 1); // at once
        QCOMPARE(h.lastFired().subject, u"127.0.0.1:4711"_s);
        h.run(100);
        h.engine.noteSlowClientCut(u"127.0.0.1:4711"_s, h.clock.ms, h.clock.wall());
        QCOMPARE(h.fired.size(), 1);
        QCOMPARE(h.engine.firing().constFirst().value, 2.0);
        h.run(299);
        QCOMPARE(h.resolved.size(), 0);
        h.run(400);
        QCOMPARE(h.resolved.size(), 1);
    }

    void capsFiringPerRuleWithOneSummary()
    {
        AlertRule rule = only(AlertKind::SubscriptionStale);
        rule.forSeconds = 0;
        Harness h(rule);
        h.engine.setMaxFiringPerRule(100);
        for (int i = 0; i < 1000; ++i) {
            SubscriptionStatus s = subStatus(u"{\"type\":\"trades\",\"coin\":\"C%1\"}"_s.arg(i).toUtf8());
            s.stale = true;
            h.snap.subscriptions.append(s);
        }
        h.run(1);
        QCOMPARE(h.fired.size(), 101); // 100 and one summary
        QCOMPARE(h.engine.firingCount(rule.id), 101);
        QCOMPARE(h.engine.subjectsFiring(rule.id), 1000);
        const QList<Alert> firing = h.engine.firing();
        const auto summary = std::find_if(firing.cbegin(), firing.cend(),
                                          [](const Alert &a) { return a.subject == u"+more"_s; });
        QVERIFY(summary != firing.cend());
        QCOMPARE(summary->value, 900.0);
        QVERIFY2(summary->text.startsWith(u"and 900 more: "_s), qPrintable(summary->text));
        h.run(5);
        QCOMPARE(h.fired.size(), 101); // no re-fire, no flood
        // Half of them recover: the summary's count follows.
        for (int i = 0; i < 500; ++i)
            h.snap.subscriptions[i].stale = false;
        h.run(11);
        QCOMPARE(h.engine.subjectsFiring(rule.id), 500);
        for (SubscriptionStatus &s : h.snap.subscriptions)
            s.stale = false;
        h.run(11);
        QCOMPARE(h.engine.firingCount(), 0);
        QCOMPARE(h.resolved.size(), h.fired.size());
    }

    void historyIsBounded()
    {
        AlertRule rule = only(AlertKind::SubscriptionRejected);
        rule.clearSeconds = 0;
        Harness h(rule);
        h.engine.setHistoryCapacity(5);
        SubscriptionStatus s = subStatus(R"({"type":"trades","coin":"X"})", SubState::Rejected);
        for (int i = 0; i < 20; ++i) {
            h.snap.subscriptions = {s};
            h.run(1);
            h.snap.subscriptions.clear();
            h.run(1);
        }
        QCOMPARE(h.fired.size(), 20);
        QCOMPARE(h.resolved.size(), 20);
        const QList<Alert> history = h.engine.history();
        QCOMPARE(history.size(), 5);
        QVERIFY(history.at(0).seq > history.at(4).seq); // newest first
        QCOMPARE(history.at(0).seq, h.lastFired().seq);
    }

    void removingOrDisablingARuleResolvesItsAlerts()
    {
        AlertRule rule = only(AlertKind::SubscriptionRejected);
        Harness h(rule);
        h.snap.subscriptions = {subStatus(R"({"type":"trades","coin":"X"})", SubState::Rejected)};
        h.run(1);
        QCOMPARE(h.engine.firingCount(), 1);
        AlertRule off = rule;
        off.enabled = false;
        h.engine.setRules({off});
        QCOMPARE(h.resolved.size(), 1);
        QCOMPARE(h.engine.firingCount(), 0);
        h.run(5);
        QCOMPARE(h.fired.size(), 1);
        h.engine.setRules({rule}); // on again: fires again, a new alert
        h.run(1);
        QCOMPARE(h.fired.size(), 2);
        h.engine.setRules({});
        QCOMPARE(h.resolved.size(), 2);
    }

    void alertJson()
    {
        Harness h(only(AlertKind::SubscriptionRejected));
        SubscriptionStatus s = subStatus(R"({"type":"trades","coin":"X"})", SubState::Rejected);
        s.error = u"bad \"coin\"\nsecond line"_s;
        h.snap.subscriptions = {s};
        h.run(1);
        const QJsonObject j = h.lastFired().toJson();
        QCOMPARE(j.value(u"rule"_s).toString(), u"subscription-rejected"_s);
        QCOMPARE(j.value(u"kind"_s).toString(), u"subscriptionRejected"_s);
        QCOMPARE(j.value(u"severity"_s).toString(), u"critical"_s);
        QCOMPARE(j.value(u"state"_s).toString(), u"firing"_s);
        QCOMPARE(j.value(u"subject"_s).toString(), QString::fromUtf8(s.subscription.canonical()));
        QCOMPARE(j.value(u"text"_s).toString(),
                 u"X trades rejected by the server: bad \"coin\"\nsecond line"_s);
        QCOMPARE(j.value(u"firedAt"_s).toString(), u"2026-03-01T12:00:01.000Z"_s);
        QVERIFY(!j.contains(u"resolvedAt"_s));
    }

    void commandGetsTheAlertIntactWithoutAShell()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString script = dir.filePath(u"save alert.sh"_s); // a space: quoting groups it
        const QString out = dir.filePath(u"out file.json"_s);
        const QString marker = dir.filePath(u"X"_s);
        QVERIFY(writeScript(
            script,
            "cat > \"$1\"\nprintf '%s' \"$FEEDSCOPE_ALERT_STATE $FEEDSCOPE_ALERT_RULE\" > \"$1.env\"\n"));
        SessionLog log;
        AlertCommand cmd;
        cmd.setSessionLog(&log);
        QString error;
        QVERIFY2(cmd.setCommand(u"\"%1\" \"%2\""_s.arg(script, out), &error), qPrintable(error));
        QCOMPARE(cmd.program(), script);
        QCOMPARE(cmd.arguments(), QStringList{out});
        QSignalSpy done(&cmd, &AlertCommand::finished);
        const Alert a = hostileAlert(marker);
        cmd.run(a);
        QVERIFY(cmd.waitForIdle(20000));
        QCOMPARE(done.size(), 1);
        QCOMPARE(done.at(0).at(1).toString(), QString()); // no error
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QCOMPARE(bytes, QJsonDocument(a.toJson()).toJson(QJsonDocument::Compact) + '\n');
        const QJsonObject back = QJsonDocument::fromJson(bytes).object();
        QCOMPARE(back.value(u"text"_s).toString(), a.text);
        QCOMPARE(back.value(u"subject"_s).toString(), a.subject);
        QVERIFY(!QFile::exists(marker)); // nothing ran the $(...) or the backticks
        QFile env(out + u".env"_s);
        QVERIFY(env.open(QIODevice::ReadOnly));
        QCOMPARE(env.readAll(), QByteArray("firing subscription-rejected"));
        QCOMPARE(cmd.counts().succeeded, 1);
        QCOMPARE(cmd.counts().failed, 0);
        QVERIFY(eventsOf(log, u"alertCommand"_s).isEmpty());
    }

    void commandThatHangsIsKilled()
    {
        SessionLog log;
        AlertCommand cmd;
        cmd.setSessionLog(&log);
        AlertCommand::Limits limits;
        limits.timeoutMs = 300;
        cmd.setLimits(limits);
        QString error;
        QVERIFY(cmd.setCommand(u"sleep 600"_s, &error));
        cmd.run(hostileAlert(u"unused"_s));
        QVERIFY(cmd.waitForIdle(30000));
        QCOMPARE(cmd.counts().timedOut, 1);
        QCOMPARE(cmd.counts().failed, 1);
        const QList<SessionEvent> ev = eventsOf(log, u"alertCommand"_s);
        QCOMPARE(ev.size(), 1);
        QVERIFY2(ev.at(0).data.value(u"error"_s).toString().contains(u"killed"_s),
                 qPrintable(ev.at(0).data.value(u"error"_s).toString()));
        QCOMPARE(ev.at(0).data.value(u"rule"_s).toString(), u"subscription-rejected"_s);
        QVERIFY(summarizeEvent(ev.at(0)).startsWith(
            u"The alert command failed (no answer within 0.3 s: killed)"_s));
    }

    void commandThatDoesNotExistOrFailsIsLogged()
    {
        SessionLog log;
        AlertCommand cmd;
        cmd.setSessionLog(&log);
        QString error;
        QVERIFY(cmd.setCommand(u"/nonexistent/feedscope-alert-hook --page"_s, &error));
        cmd.run(hostileAlert(u"unused"_s));
        QVERIFY(cmd.waitForIdle(20000));
        QCOMPARE(cmd.counts().failed, 1);
        QList<SessionEvent> ev = eventsOf(log, u"alertCommand"_s);
        QCOMPARE(ev.size(), 1);
        QVERIFY2(ev.at(0)
                     .data.value(u"error"_s)
                     .toString()
                     .startsWith(u"cannot start /nonexistent/feedscope-alert-hook"_s),
                 qPrintable(ev.at(0).data.value(u"error"_s).toString()));

        QVERIFY(cmd.setCommand(u"sh -c \"echo oops >&2; exit 3\""_s, &error));
        cmd.run(hostileAlert(u"unused"_s));
        QVERIFY(cmd.waitForIdle(20000));
        QCOMPARE(cmd.counts().failed, 2);
        ev = eventsOf(log, u"alertCommand"_s);
        QCOMPARE(ev.size(), 2);
        QCOMPARE(ev.at(1).data.value(u"error"_s).toString(), u"sh exited with code 3"_s);
        QCOMPARE(ev.at(1).data.value(u"exitCode"_s).toInt(), 3);
        QCOMPARE(ev.at(1).data.value(u"stderr"_s).toString(), u"oops\n"_s);
    }

    void commandLineErrors()
    {
        AlertCommand cmd;
        QString error;
        QVERIFY(!cmd.setCommand(u""_s, &error));
        QVERIFY(error.contains(u"empty"_s));
        QVERIFY(!cmd.setCommand(u"   "_s, &error));
        QVERIFY(!cmd.setCommand(u"notify \"unterminated"_s, &error));
        QVERIFY(error.contains(u"quote"_s));
    }

    void commandQueueIsBounded()
    {
        SessionLog log;
        AlertCommand cmd;
        cmd.setSessionLog(&log);
        AlertCommand::Limits limits;
        limits.timeoutMs = 200;
        limits.maxRunning = 1;
        limits.maxQueued = 2;
        cmd.setLimits(limits);
        QString error;
        QVERIFY(cmd.setCommand(u"sleep 600"_s, &error));
        for (int i = 0; i < 6; ++i)
            cmd.run(hostileAlert(u"unused"_s));
        QCOMPARE(cmd.running(), 1);
        QCOMPARE(cmd.queued(), 2);
        QCOMPARE(cmd.counts().dropped, 3);
        QVERIFY(cmd.waitForIdle(30000));
        QCOMPARE(cmd.counts().started, 3);
        QCOMPARE(cmd.counts().timedOut, 3);
        int dropLines = 0;
        for (const SessionEvent &e : eventsOf(log, u"alertCommand"_s))
            dropLines += e.data.value(u"error"_s).toString().startsWith(u"too many alerts"_s) ? 1 : 0;
        QCOMPARE(dropLines, 2); // the first drop, then one sum: not one line per alert
    }

    void commandFollowsTheEngine()
    {
        QTemporaryDir dir;
        const QString script = dir.filePath(u"append.sh"_s);
        const QString out = dir.filePath(u"alerts.jsonl"_s);
        QVERIFY(writeScript(script, "cat >> \"$1\"\n"));
        AlertRule rule = only(AlertKind::SubscriptionRejected);
        rule.clearSeconds = 0;
        Harness h(rule);
        AlertCommand cmd;
        QString error;
        QVERIFY(cmd.setCommand(u"%1 %2"_s.arg(script, out), &error));
        cmd.follow(&h.engine);
        h.snap.subscriptions = {subStatus(R"({"type":"trades","coin":"X"})", SubState::Rejected)};
        h.run(1);
        QVERIFY(cmd.waitForIdle(20000));
        h.snap.subscriptions.clear();
        h.run(1);
        QVERIFY(cmd.waitForIdle(20000));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        QCOMPARE(lines.size(), 3); // two lines and the empty rest
        QCOMPARE(QJsonDocument::fromJson(lines.at(0)).object().value(u"state"_s).toString(), u"firing"_s);
        QCOMPARE(QJsonDocument::fromJson(lines.at(1)).object().value(u"state"_s).toString(), u"resolved"_s);
    }
};

QTEST_GUILESS_MAIN(TestAlerts)
#include "tst_alerts.moc"

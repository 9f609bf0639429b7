// Issue 18 item 5: a recording played through the same pipeline. A real session against the
// simulator is recorded (as the headless agent records: data frames only, so the replay reads
// the subscriptions back from the route keys, and as the window records: with the subscribe
// requests), then served by the simulator behind a real pool: every subscription gets exactly
// the recording's frames; pause holds the replay where it is; the window shows the replay's bar.
#include "engine.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "replay.h"
#include "replaybar.h"
#include "replaysession.h"
#include "simulator.h"
#include "testutil.h"

#include <QAction>
#include <QFile>
#include <QProgressBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_Replay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void subscriptionsFromRouteKeys();
    void eventTimesMove();
    void badRecordings();
    void replayGivesTheRecordedCounts_data();
    void replayGivesTheRecordedCounts();
    void pauseHoldsTheReplay();
    void windowShowsTheReplay();

private:
    /// Moves every receive time and event time of the recording at @p path an hour back.
    static void ageByAnHour(const QString &path)
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray out;
        while (!f.atEnd()) {
            std::optional<RecordedFrame> r = parseRecordedLine(f.readLine().trimmed());
            QVERIFY(r);
            r->wallTime = r->wallTime.addSecs(-3600);
            r->payload = Sim::retimedFrame(r->payload, -3600 * 1000);
            out += toJsonLine(*r);
        }
        f.close();
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QCOMPARE(f.write(out), out.size());
    }
    /// Records a session of @p subs against the simulator until each has @p frames frames.
    void record(const QString &path, bool withSentFrames, int frames);
    static const SubscriptionStatus *statusOf(const PoolSnapshot &s, const Hl::Subscription &sub)
    {
        for (const SubscriptionStatus &st : s.subscriptions)
            if (st.subscription.canonical() == sub.canonical())
                return &st;
        return nullptr;
    }
    QTemporaryDir m_dir;
    const QList<Hl::Subscription> m_subs{
        sub(R"({"type":"trades","coin":"BTC"})"), sub(R"({"type":"l2Book","coin":"ETH"})"),
        sub(R"({"type":"bbo","coin":"SOL"})"), sub(R"({"type":"candle","coin":"BTC","interval":"1m"})")};
};

void tst_Replay::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void tst_Replay::record(const QString &path, bool withSentFrames, int frames)
{
    Sim::SimulatorConfig sc;
    sc.rateScale = 10;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = 50ms;
    cfg.recordFile = path;
    cfg.recordSentFrames = withSentFrames;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    for (const Hl::Subscription &s : m_subs)
        engine.subscribe(s, u"test"_s);
    QVERIFY(waitUntil(
        [&] {
            for (const Hl::Subscription &s : m_subs) {
                const SubscriptionStatus *st = statusOf(engine.lastSnapshot(), s);
                if (!st || st->messages < frames)
                    return false;
            }
            return true;
        },
        30000));
    const Engine::Final last = engine.shutdown(2s);
    QVERIFY2(last.errors.isEmpty(), qPrintable(last.errors.join(u"; "_s)));
}

void tst_Replay::subscriptionsFromRouteKeys()
{
    using Sim::subscriptionFromRouteKey;
    for (const Hl::Subscription &s : m_subs) {
        const auto back = subscriptionFromRouteKey(s.routeKey());
        QVERIFY2(back, s.routeKey().constData());
        QCOMPARE(back->routeKey(), s.routeKey());
    }
    const auto user =
        sub(R"({"type":"clearinghouseState","user":"0x0D1D9635D0640821d15e323ac8AdADfA9c111414"})");
    QCOMPARE(subscriptionFromRouteKey(user.routeKey())->canonical(), user.canonical());
    QVERIFY(!subscriptionFromRouteKey("notification"));     // the user is not in its data
    QVERIFY(!subscriptionFromRouteKey("noSuchType|BTC"));   // unknown type
    QVERIFY(!subscriptionFromRouteKey("trades|BTC|extra")); // more fields than the route
    QVERIFY(!subscriptionFromRouteKey(""));
    QVERIFY(!subscriptionFromRouteKey("trades|")); // the coin is required
}

void tst_Replay::eventTimesMove()
{
    using Sim::retimedFrame;
    const QByteArray trades =
        R"({"channel":"trades","data":[{"coin":"BTC","px":"97520.4","time":1796147702714,"tid":100000832655804},)"
        R"({"coin":"BTC","px":"1796147702714","time":1796147702800,"tid":100000832655805}]})";
    QCOMPARE(retimedFrame(trades, -1000),
             QByteArray(R"({"channel":"trades","data":[{"coin":"BTC","px":"97520.4","time":1796147701714,)"
                        R"("tid":100000832655804},{"coin":"BTC","px":"1796147702714","time":1796147701800,)"
                        R"("tid":100000832655805}]})")); // a price that looks like a time is a string: kept
    const QByteArray order =
        R"({"channel":"orderUpdates","data":[{"status":"open","statusTimestamp":1796147702714}]})";
    QCOMPARE(retimedFrame(order, 5),
             QByteArray(
                 R"({"channel":"orderUpdates","data":[{"status":"open","statusTimestamp":1796147702719}]})"));
    // Not event times: short numbers (a candle's interval count), none at all, a key at the end.
    const QByteArray small = R"({"channel":"x","data":{"time":12345}})";
    QCOMPARE(retimedFrame(small, 1000), small);
    const QByteArray mids = R"({"channel":"allMids","data":{"mids":{"BTC":"97506.4"}}})";
    QCOMPARE(retimedFrame(mids, 1000), mids);
    const QByteArray cut = R"({"channel":"bbo","data":{"time":)";
    QCOMPARE(retimedFrame(cut, 1000), cut);
}

void tst_Replay::badRecordings()
{
    QString error;
    QVERIFY(!Sim::summarizeRecording(m_dir.filePath(u"missing.jsonl"_s), &error));
    QVERIFY2(error.contains(u"cannot open recording"_s), qPrintable(error));

    const QString garbage = m_dir.filePath(u"garbage.jsonl"_s);
    {
        QFile f(garbage);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            "{\"conn\":1,\"ns\":1,\"t\":\"2026-12-01T00:00:00.000Z\",\"text\":\"{}\"}\nnot json at all\n");
    }
    QVERIFY(!Sim::summarizeRecording(garbage, &error));
    QVERIFY2(error.contains(u"line 2"_s), qPrintable(error));

    const QString empty = m_dir.filePath(u"nodata.jsonl"_s);
    {
        QFile f(empty);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"conn\":1,\"ns\":1,\"t\":\"2026-12-01T00:00:00.000Z\",\"text\":\"{\\\"channel\\\":"
                "\\\"pong\\\"}\"}\n");
    }
    QVERIFY(!Sim::summarizeRecording(empty, &error));
    QVERIFY2(error.contains(u"no data frames"_s), qPrintable(error));

    ReplaySession session(garbage, 0);
    QVERIFY(!session.start(&error));
    QVERIFY2(error.contains(u"line 2"_s), qPrintable(error));

    QCOMPARE(ReplaySession::speedFromName(u"max"), 0.0);
    QCOMPARE(ReplaySession::speedFromName(u"10"), 10.0);
    QVERIFY(!ReplaySession::speedFromName(u"fast"));
    QVERIFY(!ReplaySession::speedFromName(u"0"));
    QVERIFY(!ReplaySession::speedFromName(u"-1"));
}

void tst_Replay::replayGivesTheRecordedCounts_data()
{
    QTest::addColumn<bool>("withSentFrames");
    QTest::newRow("headless recording (frames only)") << false;
    QTest::newRow("window recording (with subscribe requests)") << true;
}

void tst_Replay::replayGivesTheRecordedCounts()
{
    QFETCH(bool, withSentFrames);
    const QString path = m_dir.filePath(withSentFrames ? u"window.jsonl"_s : u"headless.jsonl"_s);
    record(path, withSentFrames, 30);
    if (QTest::currentTestFailed())
        return;
    ageByAnHour(path);

    QString error;
    const std::optional<Sim::RecordingSummary> rec = Sim::summarizeRecording(path, &error);
    QVERIFY2(rec, qPrintable(error));
    QCOMPARE(rec->subscriptionsFromData, !withSentFrames);
    QCOMPARE(rec->subscriptions.size(), m_subs.size());
    for (const Hl::Subscription &s : m_subs)
        QVERIFY(rec->framesPerRouteKey.value(s.routeKey()) >= 30);

    ReplaySession session(path, 0); // as fast as possible
    QSignalSpy finished(&session, &ReplaySession::finished);
    QVERIFY2(session.start(&error), qPrintable(error));
    EngineConfig cfg;
    cfg.pool.url = session.url();
    cfg.publishInterval = 50ms;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    for (const Hl::Subscription &s : rec->subscriptions)
        engine.subscribe(s, u"replay"_s);
    QVERIFY(finished.wait(30000));
    QCOMPARE(session.progress().sent, rec->dataFrames);
    for (const Hl::Subscription &s : rec->subscriptions) {
        const qint64 want = rec->framesPerRouteKey.value(s.routeKey());
        QTRY_COMPARE_WITH_TIMEOUT(
            statusOf(engine.lastSnapshot(), s) ? statusOf(engine.lastSnapshot(), s)->messages : -1, want,
            10000);
    }
    engine.shutdown(2s);
}

void tst_Replay::pauseHoldsTheReplay()
{
    const QString path = m_dir.filePath(u"pause.jsonl"_s);
    record(path, false, 20);
    if (QTest::currentTestFailed())
        return;
    ReplaySession session(path, 1);
    QString error;
    QVERIFY2(session.start(&error), qPrintable(error));
    session.setPaused(true);
    QSignalSpy progressed(&session, &ReplaySession::progressed);
    EngineConfig cfg;
    cfg.pool.url = session.url();
    cfg.publishInterval = 50ms;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    for (const Hl::Subscription &s : session.summary().subscriptions)
        engine.subscribe(s, u"replay"_s);
    // Every subscription acknowledged: the replay starts, paused.
    QTRY_VERIFY_WITH_TIMEOUT(session.progress().started, 15000);
    QVERIFY(session.progress().paused);
    QCOMPARE(session.progress().sent, 0);
    // Ten snapshots later, still nothing served or received.
    QSignalSpy snapshots(&engine, &Engine::snapshotPublished);
    QTRY_VERIFY(snapshots.count() >= 10);
    QCOMPARE(session.progress().sent, 0);
    for (const Hl::Subscription &s : session.summary().subscriptions)
        QCOMPARE(statusOf(engine.lastSnapshot(), s)->messages, 0);

    session.setSpeed(0);
    session.setPaused(false);
    QSignalSpy finished(&session, &ReplaySession::finished);
    QVERIFY(finished.wait(30000));
    QCOMPARE(session.progress().sent, session.summary().dataFrames);
    QVERIFY(!session.progress().paused);
    engine.shutdown(2s);
}

void tst_Replay::windowShowsTheReplay()
{
    const QString path = m_dir.filePath(u"window-replay.jsonl"_s);
    record(path, true, 10);
    if (QTest::currentTestFailed())
        return;
    ReplaySession session(path, 0);
    QString error;
    QVERIFY2(session.start(&error), qPrintable(error));
    EngineConfig cfg;
    cfg.pool.url = session.url();
    cfg.publishInterval = 50ms;
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    MainWindow window(&controller);
    window.setReplay(&session);
    window.show();
    auto *bar = window.findChild<ReplayBar *>();
    QVERIFY(bar);
    QVERIFY(bar->isVisible());
    controller.subscribe(session.summary().subscriptions, u"replay"_s);
    QTRY_VERIFY_WITH_TIMEOUT(bar->statusText().contains(u"finished"_s), 30000);
    QCOMPARE(bar->progressBar()->value(), bar->progressBar()->maximum());
    QVERIFY(!bar->pauseAction()->isEnabled()); // nothing left to pause
    QVERIFY2(bar->statusText().contains(QLocale().toString(session.summary().dataFrames)),
             qPrintable(bar->statusText()));
    QTRY_VERIFY2(window.windowTitle().contains(u"replay of window-replay.jsonl"_s),
                 qPrintable(window.windowTitle()));
    QTRY_COMPARE(controller.summary().subscriptionsActive,
                 static_cast<int>(session.summary().subscriptions.size()));
    controller.shutdown(1s);
}

QTEST_MAIN(tst_Replay)
#include "tst_replay.moc"

// The engine the GUI and the headless agent share, against a real simulator: registry consumers
// in the snapshots, per-type totals, the inspector's last messages, manual actions and overflow
// episodes as session events.
#include "engine.h"
#include "recording.h"
#include "simulator.h"
#include "testutil.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <thread>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_Engine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void consumersTotalsAndInspector();
    void overflowEpisodeIsASessionEvent();
    void recordingSwitchedOnAndOff();
    void shutdownEndsTheWorkers();

private:
    static QList<SessionEvent> eventsOf(Engine &e, const QString &type)
    {
        QList<SessionEvent> out;
        for (const SessionEvent &ev : e.sessionLog().events())
            if (ev.type == type)
                out.append(ev);
        return out;
    }
};

void tst_Engine::consumersTotalsAndInspector()
{
    Sim::SimulatorConfig sc;
    sc.rateScale = 10;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = 50ms;
    cfg.inspector.perSubscription = 7;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"ETH"})");
    const auto hChart = engine.subscribe(trades, u"chart"_s);
    engine.subscribe(trades, u"alerts"_s);
    engine.subscribe(book, u"chart"_s);
    auto stateOf = [&engine](const Hl::Subscription &s) -> const SubscriptionStatus * {
        for (const SubscriptionStatus &st : engine.lastSnapshot().subscriptions)
            if (st.subscription.canonical() == s.canonical())
                return &st;
        return nullptr;
    };
    QVERIFY(waitUntil([&] {
        const auto *t = stateOf(trades);
        const auto *b = stateOf(book);
        return t && b && t->state == SubState::Active && b->state == SubState::Active && t->messages >= 10 &&
               b->messages >= 8;
    }));
    QCOMPARE(stateOf(trades)->consumers, (QStringList{u"alerts"_s, u"chart"_s}));
    QCOMPARE(sim.subscribeRequests(trades), 1); // two consumers, one server subscription

    // Per-type totals from the inline statistics consumer.
    const QList<qint64> byType = engine.messagesByType();
    const auto typeIndex = [](const Hl::Subscription &s) { return s.spec() - Hl::catalogue().constData(); };
    QVERIFY(byType.at(typeIndex(trades)) >= 10);
    QVERIFY(byType.at(typeIndex(book)) >= 8);
    QCOMPARE(byType.at(typeIndex(sub(R"({"type":"bbo","coin":"BTC"})"))), 0);

    // The inspector keeps the last 7 messages of each, oldest first.
    QVERIFY(waitUntil([&] { return engine.inspector().messages(book.canonical()).size() == 7; }));
    const auto msgs = engine.inspector().messages(book.canonical());
    for (const auto &m : msgs) {
        QVERIFY(m.raw.contains("\"channel\":\"l2Book\""));
        QVERIFY(m.at <= QDateTime::currentDateTimeUtc());
    }

    // One consumer lets go: the subscription stays; Unsubscribe: it goes, and so do its messages.
    QVERIFY(engine.release(hChart));
    QVERIFY(waitUntil([&] { return stateOf(trades)->consumers == QStringList{u"alerts"_s}; }));
    engine.unsubscribeAll(trades);
    QVERIFY(waitUntil([&] { return stateOf(trades) == nullptr; }));
    QVERIFY(waitUntil([&] { return engine.inspector().messages(trades.canonical()).isEmpty(); }));
    engine.reconnectAll();
    const QList<SessionEvent> manual = eventsOf(engine, u"manual"_s);
    QCOMPARE(manual.size(), 2);
    QCOMPARE(manual.at(0).data[u"action"_s].toString(), u"unsubscribe"_s);
    QCOMPARE(manual.at(1).data[u"action"_s].toString(), u"reconnectAll"_s);
    // A statistics event every second, with the dispatcher's consumers.
    QVERIFY(waitUntil([&] { return !eventsOf(engine, u"stats"_s).isEmpty(); }, 3000));
    QCOMPARE(eventsOf(engine, u"stats"_s).constLast().data[u"dispatcher"_s].toArray().size(), 2);
    const Engine::Final f = engine.shutdown(2s);
    QVERIFY(f.drained);
    QCOMPARE(f.dispatcher.received, f.routed);
    QCOMPARE(f.dispatcher.received, f.dispatcher.delivered + f.dispatcher.dropped + f.dispatcher.coalesced);
}

void tst_Engine::overflowEpisodeIsASessionEvent()
{
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.policy = DispatchPolicy::DropNewest;
    cfg.queueCapacity = 1; // any batch of two frames overflows the inspector's queue
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    QSignalSpy overflow(&engine, &Engine::overflow);
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    engine.subscribe(trades, u"test"_s);
    QVERIFY(waitUntil([&] {
        return sim.subscriptionCount() == 1 && !engine.lastSnapshot().subscriptions.isEmpty() &&
               engine.lastSnapshot().subscriptions.constFirst().state == SubState::Active;
    }));
    Sim::Fault flood = Sim::Fault::make(Sim::FaultKind::Flood);
    flood.subscription = trades;
    flood.amount = 20000;
    QVERIFY(sim.apply(flood));
    // Start, then (a quiet second later) end: two session events with the episode's figures.
    QVERIFY(waitUntil([&] { return eventsOf(engine, u"overflow"_s).size() >= 2; }, 15000));
    const QList<SessionEvent> e = eventsOf(engine, u"overflow"_s);
    QCOMPARE(e.at(0).data[u"phase"_s].toString(), u"start"_s);
    QCOMPARE(e.at(0).data[u"consumer"_s].toString(), u"inspector"_s);
    QCOMPARE(e.at(0).data[u"policy"_s].toString(), u"drop-newest"_s);
    QCOMPARE(e.at(1).data[u"phase"_s].toString(), u"end"_s);
    QVERIFY(e.at(1).data[u"dropped"_s].toDouble() >= e.at(0).data[u"dropped"_s].toDouble());
    QVERIFY(e.at(1).data[u"dropped"_s].toDouble() > 0);
    QVERIFY(e.at(1).data[u"durationMs"_s].toDouble() >= 0);
    QCOMPARE(overflow.size(), 2);
    // Whatever was dropped, the counter identity is exact.
    const Engine::Final f = engine.shutdown(2s);
    QCOMPARE(f.dispatcher.received, f.routed);
    QCOMPARE(f.dispatcher.received, f.dispatcher.delivered + f.dispatcher.dropped + f.dispatcher.coalesced);
    QCOMPARE(f.dispatcher.dropped, static_cast<qint64>(e.at(1).data[u"dropped"_s].toDouble()));
}

namespace {
QList<QByteArray> fileLines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> out = f.readAll().split('\n');
    if (!out.isEmpty() && out.constLast().isEmpty())
        out.removeLast();
    return out;
}
} // namespace

void tst_Engine::recordingSwitchedOnAndOff()
{
    Sim::SimulatorConfig sc;
    sc.rateScale = 20;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    QTemporaryDir dir;
    const QString path = dir.filePath(u"frames.jsonl"_s);

    // Without a recorder (the headless agent without --record) there is nothing to switch on.
    {
        EngineConfig plain;
        plain.pool.url = sim.url();
        Engine e(plain);
        QVERIFY(e.start(nullptr));
        QString error;
        QVERIFY(!e.startRecording(path, &error));
        QVERIFY(error.contains(u"without a recorder"_s));
        e.shutdown(1s);
    }

    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = 50ms;
    cfg.recordingSwitchable = true;
    Engine engine(cfg);
    QVERIFY(engine.start(nullptr));
    QSignalSpy changed(&engine, &Engine::recordingChanged);
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    engine.subscribe(trades, u"test"_s);
    auto statistics = [&engine] { return engine.dispatcherStats().at(0).received; };
    auto recorder = [&engine] { return engine.dispatcherStats().at(2); };
    QVERIFY(waitUntil([&] { return statistics() >= 10; }));
    // Off: the consumer is there but takes nothing.
    QCOMPARE(recorder().name, u"recorder"_s);
    QVERIFY(!recorder().enabled);
    QCOMPARE(recorder().received, 0);
    QCOMPARE(engine.recording(), Engine::Recording::Off);

    // A file that cannot be written: a clear error, still off.
    QString error;
    QVERIFY(!engine.startRecording(dir.filePath(u"missing/dir/x.jsonl"_s), &error));
    QVERIFY2(error.contains(u"cannot record to"_s), qPrintable(error));
    QCOMPARE(engine.recording(), Engine::Recording::Off);

    // On: frames go to the file; off: every frame taken is written, then the file is closed.
    QVERIFY2(engine.startRecording(path, &error), qPrintable(error));
    QCOMPARE(engine.recording(), Engine::Recording::On);
    QVERIFY(!engine.startRecording(path, &error)); // one at a time
    const qint64 before = statistics();
    QVERIFY(waitUntil([&] { return statistics() >= before + 20; }));
    engine.stopRecording();
    QCOMPARE(engine.recording(), Engine::Recording::Finishing);
    QVERIFY(waitUntil([&] { return changed.size() == 2; }));
    QCOMPARE(changed.at(0).at(0).toBool(), true);
    QCOMPARE(changed.at(1).at(0).toBool(), false);
    QCOMPARE(changed.at(1).at(1).toString(), path);
    const qint64 first = changed.at(1).at(2).toLongLong();
    QVERIFY(first >= 20);
    QCOMPARE(engine.recording(), Engine::Recording::Off);
    QCOMPARE(recorder().received, first); // the recorder took exactly what it wrote
    QCOMPARE(recorder().delivered, first);
    QList<QByteArray> lines = fileLines(path);
    QCOMPARE(lines.size(), first);
    for (const QByteArray &line : lines) {
        const auto f = parseRecordedLine(line);
        QVERIFY(f);
        QVERIFY(f->payload.contains("\"channel\":\"trades\""));
    }

    // Frames keep flowing; nothing more is recorded.
    const qint64 after = statistics();
    QVERIFY(waitUntil([&] { return statistics() >= after + 10; }));
    QCOMPARE(recorder().received, first);
    QCOMPARE(fileLines(path).size(), first);

    // Again into the same file: appended.
    QVERIFY(engine.startRecording(path, &error));
    const qint64 again = statistics();
    QVERIFY(waitUntil([&] { return statistics() >= again + 10; }));
    engine.stopRecording();
    QVERIFY(waitUntil([&] { return changed.size() == 4; }));
    const qint64 second = changed.at(3).at(2).toLongLong();
    QCOMPARE(fileLines(path).size(), first + second);

    // Both recordings are in the session log, with the frame counts.
    QStringList actions;
    for (const SessionEvent &ev : eventsOf(engine, u"manual"_s))
        actions.append(ev.data[u"action"_s].toString());
    QCOMPARE(actions, (QStringList{u"recording started"_s, u"recording stopped"_s, u"recording started"_s,
                                   u"recording stopped"_s}));
    QCOMPARE(eventsOf(engine, u"manual"_s).at(1).data[u"frames"_s].toInteger(), first);
    engine.shutdown(1s);
}

void tst_Engine::shutdownEndsTheWorkers()
{
    // A worker consumer far behind when the engine shuts down: shutdown gives the queues their
    // drain time, then ends the workers, so none still runs a callback into members being destroyed
    // (the inspector's worker once corrupted the heap this way).
    Sim::SimulatorConfig sc;
    sc.rateScale = 20;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.queueCapacity = 100000;
    std::atomic<bool> inCallback{false};
    std::atomic<int> calls{0};
    auto engine = std::make_unique<Engine>(cfg);
    engine->addConsumer(
        u"slow"_s,
        [&](const DataFrame &) {
            inCallback = true;
            ++calls;
            std::this_thread::sleep_for(200ms); // a consumer slower than the feed: it falls behind
            inCallback = false;
        },
        false);
    QVERIFY(engine->start(nullptr));
    engine->subscribe(sub(R"({"type":"trades","coin":"BTC"})"), u"test"_s);
    engine->subscribe(sub(R"({"type":"l2Book","coin":"BTC"})"), u"test"_s);
    QVERIFY(waitUntil([&] { return calls.load() >= 2 && engine->dispatcherFigures().queued > 0; }));
    const Engine::Final f = engine->shutdown(0ms);
    QVERIFY(!f.drained); // far behind: the drain time was not enough
    QVERIFY(!inCallback.load());
    const int after = calls.load();
    engine.reset();
    QCOMPARE(calls.load(), after);
}

QTEST_GUILESS_MAIN(tst_Engine)
#include "tst_engine.moc"

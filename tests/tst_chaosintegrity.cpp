// The Chaos menu's data faults (issue 17) in the real main window (offscreen) over a real pool and
// simulator: each entry asks for its fault in the demo feed's control format, and applied as
// app/ applies it, the fault lands as one integrity violation of the right subscription and kind;
// the delay and clock-offset entries switch on and off.
#include "mainwindow.h"
#include "poolcontroller.h"
#include "simulator.h"
#include "testutil.h"

#include <QAction>
#include <QApplication>
#include <QMenu>
#include <QSignalSpy>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_ChaosIntegrity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void dataFaultsFromTheChaosMenu();
};

void tst_ChaosIntegrity::dataFaultsFromTheChaosMenu()
{
    Sim::SimulatorConfig sc;
    sc.rateScale = 10;
    Sim::FeedSimulator sim(sc);
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.publishInterval = 50ms;
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    MainWindow window(&controller);
    window.setDemoMode(true);
    window.show();
    // As app/ carries a Chaos request out on the demo feed.
    QStringList errors;
    connect(&window, &MainWindow::chaosFaultRequested, &sim, [&](const QJsonObject &j) {
        QString error;
        const auto f = Sim::Fault::fromJson(j, &error);
        if (!f || !sim.apply(*f, &error))
            errors.append(error);
    });
    const auto bbo = sub(R"({"type":"bbo","coin":"BTC"})");
    const auto book = sub(R"({"type":"l2Book","coin":"BTC"})");
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    controller.subscribe({bbo, book, trades}, u"demo"_s);
    auto stateOf = [&](const Hl::Subscription &s) {
        for (const SubscriptionStatus &st : controller.lastSnapshot().subscriptions)
            if (st.subscription == s)
                return st;
        return SubscriptionStatus{};
    };
    QVERIFY(waitUntil([&] {
        return stateOf(bbo).messages >= 2 && stateOf(book).messages >= 1 && stateOf(trades).messages >= 2;
    }));
    auto action = [&](const char *name) { return window.findChild<QAction *>(QString::fromLatin1(name)); };
    for (const char *name :
         {"chaos-crossed", "chaos-backwards", "chaos-duplicate", "chaos-delay", "chaos-offset"}) {
        QAction *a = action(name);
        QVERIFY2(a, name);
        QVERIFY(!a->text().isEmpty() && !a->toolTip().isEmpty());
    }

    action("chaos-crossed")->trigger();
    QVERIFY(waitUntil([&] { return stateOf(bbo).integrity.crossedBook == 1; }));
    action("chaos-backwards")->trigger();
    QVERIFY(waitUntil([&] { return stateOf(book).integrity.timeBackwards == 1; }));
    action("chaos-duplicate")->trigger();
    QVERIFY(waitUntil([&] { return stateOf(trades).integrity.duplicateTrade == 1; }));
    QCOMPARE(stateOf(bbo).integrity.total(), 1);
    QCOMPARE(stateOf(book).integrity.total(), 1);
    QCOMPARE(stateOf(trades).integrity.total(), 1);

    QSignalSpy requested(&window, &MainWindow::chaosFaultRequested);
    action("chaos-delay")->setChecked(true);
    QCOMPARE(sim.delayMs(), 500);
    action("chaos-delay")->setChecked(false);
    QCOMPARE(sim.delayMs(), 0);
    action("chaos-offset")->setChecked(true);
    QCOMPARE(sim.clockOffsetMs(), 2000);
    action("chaos-offset")->setChecked(false);
    QCOMPARE(sim.clockOffsetMs(), 0);
    QCOMPARE(requested.size(), 4);
    QCOMPARE(requested.at(0).at(0).toJsonObject().value(u"fault"_s).toString(), u"delay"_s);
    QVERIFY(errors.isEmpty());
    controller.shutdown(1s);
}

QTEST_MAIN(tst_ChaosIntegrity)
#include "tst_chaosintegrity.moc"

// GUI event-loop lag: the real main window (offscreen) over the real engine and the demo feed
// (simulator on its own thread), measured by a 16 ms probe timer's lateness, at the demo's rate
// (1x), at about 10 k msg/s, and under a flood; against the same window with no network (its
// models fed by nothing) in the same process. Also the process's RSS at the start and end of each
// phase, to see memory stay flat.
//
//   bench_gui [--seconds N] [--smoke]
#include "budget.h"
#include "demoserver.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "procstat.h"
#include "results.h"
#include "simfeed.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

struct Lag
{
    double p50 = 0, p99 = 0, max = 0;
    qint64 samples = 0;
};

/// Runs the event loop for @p ms with a 16 ms probe; returns how late each tick was.
Lag probe(int ms, const std::function<void()> &everySecond = {})
{
    std::vector<qint64> lateUs;
    QTimer t;
    t.setTimerType(Qt::PreciseTimer);
    t.setInterval(16);
    qint64 expected = monotonicNs() + 16'000'000;
    QObject::connect(&t, &QTimer::timeout, [&] {
        const qint64 now = monotonicNs();
        lateUs.push_back(std::max<qint64>(0, (now - expected) / 1000));
        expected = now + 16'000'000;
    });
    QTimer second;
    second.setInterval(1000);
    if (everySecond)
        QObject::connect(&second, &QTimer::timeout, everySecond);
    t.start();
    second.start();
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
    Lag l;
    if (lateUs.empty())
        return l;
    std::sort(lateUs.begin(), lateUs.end());
    auto at = [&](double q) {
        return static_cast<double>(
                   lateUs[std::min(lateUs.size() - 1, static_cast<size_t>(q * lateUs.size()))]) /
               1000.0;
    };
    l.p50 = at(0.5);
    l.p99 = at(0.99);
    l.max = static_cast<double>(lateUs.back()) / 1000.0;
    l.samples = static_cast<qint64>(lateUs.size());
    return l;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool smoke = args.contains(u"--smoke"_s);
    int seconds = smoke ? 2 : 10;
    if (const auto i = args.indexOf(u"--seconds"_s); i > 0 && i + 1 < args.size())
        seconds = args.at(i + 1).toInt();
    const int ms = seconds * 1000;

    std::printf("GUI event-loop lag (16 ms probe, offscreen main window), %d s per phase\n\n", seconds);
    std::printf("%-34s %9s %9s %9s %9s %10s %10s\n", "phase", "msg/s", "p50 ms", "p99 ms", "max ms",
                "RSS KiB", "RSS delta");
    bool ok = true;
    QString results;
    if (const auto i = args.indexOf(u"--results"_s); i > 0 && i + 1 < args.size())
        results = args.at(i + 1);
    auto row = [&results, seconds](const char *name, double rate, const Lag &l, qint64 rssStart,
                                   qint64 rssEnd) {
        std::printf("%-34s %9.0f %9.2f %9.2f %9.2f %10lld %10lld\n", name, rate, l.p50, l.p99, l.max,
                    static_cast<long long>(rssEnd), static_cast<long long>(rssEnd - rssStart));
        Bench::appendResult(results, u"bench_gui"_s,
                            {{u"scenario"_s, u"gui_lag"_s},
                             {u"mode"_s, QString::fromLatin1(name)},
                             {u"rate"_s, rate},
                             {u"secs"_s, seconds},
                             {u"p50_us"_s, l.p50 * 1000},
                             {u"p99_us"_s, l.p99 * 1000},
                             {u"max_us"_s, l.max * 1000},
                             {u"rss_kib"_s, rssEnd}});
    };

    // Baseline: the same window, no network (the controller points at a closed port).
    {
        EngineConfig ec;
        ec.pool.url = QUrl(u"ws://127.0.0.1:1/ws"_s);
        ec.pool.backoffInitial = 60s;
        PoolController controller(ec);
        controller.start(nullptr);
        MainWindow window(&controller);
        window.resize(1500, 950);
        window.show();
        const qint64 r0 = rssKiB();
        const Lag l = probe(ms);
        row("baseline: window, no network", 0, l, r0, rssKiB());
        ok &= l.samples > 0;
    }

    struct Phase
    {
        const char *name;
        double rateScale;
        bool flood;
    };
    // The demo feed carries ~75 msg/s at 1x: 135x is ~10 k msg/s.
    const Phase phases[] = {{"demo feed 1x", 1, false},
                            {"demo feed ~10 k msg/s (135x)", 135, false},
                            {"demo 1x + flood of one channel", 1, true}};
    for (const Phase &p : phases) {
        Sim::SimulatorConfig sc;
        sc.rateScale = p.rateScale;
        DemoServer demo(sc);
        EngineConfig ec;
        QString error;
        if (!demo.startDemo({}, &ec.pool, &error)) {
            std::fprintf(stderr, "bench_gui: %s\n", qPrintable(error));
            return 1;
        }
        PoolController controller(ec);
        controller.start(nullptr);
        MainWindow window(&controller);
        window.resize(1500, 950);
        window.show();
        window.tabs()->setCurrentIndex(1); // the throughput charts are live
        controller.subscribe(Sim::demoSubscriptions(), u"demo"_s);
        // Warm up: every subscription placed and flowing.
        probe(1500);
        auto floodOnce = [&demo] {
            Sim::Fault f = Sim::Fault::make(Sim::FaultKind::Flood, -1);
            f.subscription =
                *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"trades"_s}, {u"coin"_s, u"BTC"_s}});
            f.amount = 50000;
            demo.apply(f);
        };
        if (p.flood)
            floodOnce();
        const qint64 before = [&] {
            qint64 n = 0;
            for (const ConnectionStatus &c : controller.lastSnapshot().connections)
                n += c.messagesIn;
            return n;
        }();
        QElapsedTimer clock;
        clock.start();
        const qint64 r0 = rssKiB();
        const Lag l = probe(ms, p.flood ? std::function<void()>(floodOnce) : std::function<void()>());
        qint64 after = 0;
        for (const ConnectionStatus &c : controller.lastSnapshot().connections)
            after += c.messagesIn;
        const double rate =
            static_cast<double>(after - before) / (static_cast<double>(clock.elapsed()) / 1000.0);
        row(p.name, rate, l, r0, rssKiB());
        ok &= l.samples > 0 && after > before;
        controller.shutdown(1s);
    }
    std::printf("\nGoal (issue 5): p99 <= 16 ms at 10 k msg/s, <= 50 ms under a flood.\n");
    if (!ok) {
        std::fprintf(stderr, "bench_gui: a phase measured nothing (no probe ticks or no messages)\n");
        return 1;
    }
    return 0;
}

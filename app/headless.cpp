#include "headless.h"

#include "cli.h"
#include "connectionpool.h"
#include "demoserver.h"
#include "recorder.h"
#include "report.h"
#include "simfeed.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace Qt::StringLiterals;

namespace FeedScope {

int runHeadless(const Options &o, qint64 startedMonotonicMs)
{
    const QDateTime startedAt = QDateTime::currentDateTimeUtc().addMSecs(startedMonotonicMs - monotonicMs());
    PoolConfig cfg = o.pool;
    std::unique_ptr<DemoServer> demo;
    if (o.demo) {
        demo = std::make_unique<DemoServer>(Sim::SimulatorConfig{});
        QString error;
        if (!demo->startDemo(o.demoFaults, &cfg, &error)) {
            std::fprintf(stderr, "feedscope: the demo feed did not start: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
    }

    std::unique_ptr<FrameRecorder> recorder;
    if (!o.recordFile.isEmpty()) {
        recorder = std::make_unique<FrameRecorder>();
        QString error;
        if (!recorder->open(o.recordFile, &error)) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
    }

    PoolHost host(cfg);
    qint64 delivered = 0;
    QObject::connect(host.pool(), &ConnectionPool::routed, qApp,
                     [&delivered, &recorder](const QList<DataFrame> &f) {
                         delivered += f.size();
                         if (recorder)
                             recorder->record(f);
                     });
    QObject::connect(host.pool(), &ConnectionPool::warning, qApp, [](const QString &w) {
        std::fprintf(stderr, "feedscope: warning: %s\n", qPrintable(w));
    });
    for (const Hl::Subscription &s : o.subscriptions)
        host.subscribe(s);

    bool finished = false;
    int exitCode = Cli::ExitOk;
    auto finish = [&] {
        if (finished)
            return;
        finished = true;
        // States as they were just before shutdown began; counts after the last frame landed.
        const PoolSnapshot before = host.snapshot();
        PoolSnapshot last = host.shutdown(std::chrono::milliseconds(2000));
        QCoreApplication::processEvents(); // deliver the routed batches still queued to this thread
        QHash<QByteArray, SubState> states;
        for (const SubscriptionStatus &s : before.subscriptions)
            states.insert(s.subscription.canonical(), s.state);
        qint64 received = 0;
        for (SubscriptionStatus &s : last.subscriptions) {
            s.state = states.value(s.subscription.canonical(), s.state);
            received += s.messages;
        }
        last.connections = before.connections;
        DispatcherFigures d;
        d.policy = o.dispatchPolicy;
        d.received = received;
        d.delivered = delivered;
        if (recorder) {
            QString error;
            if (!recorder->close(&error)) {
                std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
                exitCode = Cli::ExitFatal;
            }
        }
        if (!o.reportFile.isEmpty()) {
            ReportMeta meta{startedAt, monotonicMs() - startedMonotonicMs, cfg.url.toString()};
            QString error;
            if (!writeJsonAtomically(o.reportFile, buildReport(last, d, meta), &error)) {
                std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
                exitCode = Cli::ExitFatal;
            }
        }
        QCoreApplication::exit(exitCode);
    };

    UnixSignals unixSignals;
    QObject::connect(&unixSignals, &UnixSignals::terminate, qApp, finish);
    if (o.durationS > 0) {
        const qint64 left = o.durationS * 1000 - (monotonicMs() - startedMonotonicMs);
        // Precise: a coarse timer may fire up to 5 % early, and the duration is a contract.
        QTimer::singleShot(std::chrono::milliseconds(std::max<qint64>(0, left)), Qt::PreciseTimer, qApp,
                           finish);
    }
    std::fprintf(stderr, "feedscope: headless on %s with %lld subscriptions\n",
                 qPrintable(cfg.url.toString()), static_cast<long long>(o.subscriptions.size()));
    return QCoreApplication::exec();
}

} // namespace FeedScope

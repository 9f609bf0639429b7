#include "headless.h"

#include "cli.h"
#include "connectionpool.h"
#include "demoserver.h"
#include "dispatcher.h"
#include "recorder.h"
#include "report.h"
#include "sessionlog.h"
#include "simfeed.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QJsonObject>
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

    // The dispatcher runs on the pool's thread (it never blocks there: worker consumers have
    // bounded queues with the chosen policy). "pipeline" carries the report's figures; the
    // recorder is a worker consumer with the same policy.
    Dispatcher dispatcher(o.dispatchThreads);
    const DispatchPolicy policy = dispatchPolicyFromName(o.dispatchPolicy).value_or(DispatchPolicy::Lossless);
    const int pipeline = dispatcher.addWorker(
        u"pipeline"_s, [](const DataFrame &) {}, policy, o.queueCapacity);
    if (recorder)
        dispatcher.addWorker(
            u"recorder"_s, [r = recorder.get()](const DataFrame &f) { r->record({f}); }, policy,
            o.queueCapacity);
    PoolHost host(cfg);
    QObject::connect(
        host.pool(), &ConnectionPool::routed, host.pool(),
        [&dispatcher](const QList<DataFrame> &frames) { dispatcher.dispatch(frames); }, Qt::DirectConnection);
    QObject::connect(host.pool(), &ConnectionPool::warning, qApp, [](const QString &w) {
        std::fprintf(stderr, "feedscope: warning: %s\n", qPrintable(w));
    });
    std::unique_ptr<SessionLog> sessionLog;
    if (!o.sessionLogFile.isEmpty()) {
        sessionLog = std::make_unique<SessionLog>();
        QString error;
        if (!sessionLog->openFile(o.sessionLogFile, &error)) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
        QObject::connect(sessionLog.get(), &SessionLog::fileFailed, qApp,
                         [](const QString &e) { std::fprintf(stderr, "feedscope: %s\n", qPrintable(e)); });
        sessionLog->follow(host.pool());
        QObject::connect(host.pool(), &ConnectionPool::snapshotPublished, sessionLog.get(),
                         &SessionLog::statisticsSnapshot);
        host.setPublishInterval(std::chrono::seconds(1)); // a statistics snapshot every second
    }
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
        const bool drained = dispatcher.drain(2000);
        QCoreApplication::processEvents(); // the pool's last events, queued to this thread
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
        d.consumers = dispatcher.stats();
        const ConsumerStats &p = d.consumers.at(pipeline);
        d.received = p.received;
        d.delivered = p.delivered;
        d.dropped = p.dropped + p.queued; // anything still queued after the drain is counted as dropped
        d.coalesced = p.coalesced;
        d.maxQueueDepth = p.highWater;
        if (!drained || p.received != received)
            std::fprintf(stderr, "feedscope: dispatcher %s: %lld routed, %lld received by the pipeline\n",
                         drained ? "complete" : "not drained", static_cast<long long>(received),
                         static_cast<long long>(p.received));
        if (sessionLog) {
            QString error;
            sessionLog->append(u"shutdown"_s, QJsonObject{{u"received"_s, static_cast<double>(received)}});
            if (!sessionLog->close(&error)) {
                std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
                exitCode = Cli::ExitFatal;
            }
        }
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
    QObject::connect(&unixSignals, &UnixSignals::hangup, qApp, [&sessionLog] {
        QString error;
        if (sessionLog && !sessionLog->reopen(&error)) // log rotation
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
    });
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

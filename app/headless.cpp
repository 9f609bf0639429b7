#include "headless.h"

#include "alertcommand.h"
#include "cli.h"
#include "demoserver.h"
#include "engine.h"
#include "gatewayservice.h"
#include "liveserver.h"
#include "metrics.h"
#include "report.h"
#include "simfeed.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QFileInfo>
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

    EngineConfig ec = engineConfig(o);
    ec.pool = cfg;
    ec.publishInterval = std::chrono::seconds(1); // nobody watches live: a statistics tick is enough
    // Issue 18: a remote window may switch recording on and off (the agent names the file).
    if (!o.controlToken.isEmpty() && o.metricsPort >= 0) {
        ec.recordingSwitchable = true;
        ec.recordSentFrames = ec.recordSentFrames.value_or(false);
    }
    Engine engine(ec);
    QString startError;
    if (!engine.start(&startError)) {
        std::fprintf(stderr, "feedscope: %s\n", qPrintable(startError));
        return Cli::ExitFatal;
    }
    QObject::connect(&engine, &Engine::warning, QCoreApplication::instance(), [](const QString &w) {
        std::fprintf(stderr, "feedscope: warning: %s\n", qPrintable(w));
    });
    // Issue 17: alerts to stderr (the journal) and, with --alert-command, to a program.
    QObject::connect(&engine.alerts(), &AlertEngine::fired, QCoreApplication::instance(), [](const Alert &a) {
        std::fprintf(stderr, "feedscope: alert (%s, %s): %s\n", qPrintable(a.ruleId),
                     a.severity == AlertSeverity::Critical ? "critical" : "warning", qPrintable(a.text));
    });
    QObject::connect(&engine.alerts(), &AlertEngine::resolved, QCoreApplication::instance(),
                     [](const Alert &a) {
                         std::fprintf(stderr, "feedscope: alert resolved (%s): %s\n", qPrintable(a.ruleId),
                                      qPrintable(a.text));
                     });
    std::unique_ptr<AlertCommand> alertCommand;
    if (!o.alerts.command.isEmpty()) {
        alertCommand = std::make_unique<AlertCommand>();
        QString error;
        if (!alertCommand->setCommand(o.alerts.command, &error)) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
            return Cli::ExitUsage;
        }
        AlertCommand::Limits limits;
        limits.timeoutMs = o.alerts.commandTimeoutS * 1000;
        alertCommand->setLimits(limits);
        alertCommand->setSessionLog(&engine.sessionLog());
        alertCommand->follow(&engine.alerts());
        QObject::connect(alertCommand.get(), &AlertCommand::finished, QCoreApplication::instance(),
                         [](const Alert &, const QString &why, const QByteArray &, const QByteArray &) {
                             if (!why.isEmpty())
                                 std::fprintf(stderr, "feedscope: alert command failed: %s\n",
                                              qPrintable(why));
                         });
    }
    std::unique_ptr<MetricsServer> metrics;
    if (o.metricsPort >= 0) {
        metrics = std::make_unique<MetricsServer>(&engine);
        metrics->setPerSubscriptionSeries(o.metricsPerSubscription);
        // Issue 18: /live on the same port, read-only unless a control token is set.
        metrics->live()->setControlToken(o.controlToken);
        metrics->live()->setRateHz(o.liveRateHz);
        if (!o.recordFile.isEmpty())
            metrics->live()->setRecordingDirectory(QFileInfo(o.recordFile).absolutePath());
        QString error;
        const quint16 port = metrics->listen(o.metricsBind, static_cast<quint16>(o.metricsPort), &error);
        if (port == 0) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
        // The actual port (with --metrics-port 0) for scripts and tests to read.
        std::fprintf(stderr, "feedscope: metrics on http://%s:%u/metrics\n",
                     qPrintable(o.metricsBind.protocol() == QAbstractSocket::IPv6Protocol
                                    ? u"[%1]"_s.arg(o.metricsBind.toString())
                                    : o.metricsBind.toString()),
                     port);
        std::fprintf(stderr, "feedscope: live stream on ws://%s:%u/live (%s)\n",
                     qPrintable(o.metricsBind.protocol() == QAbstractSocket::IPv6Protocol
                                    ? u"[%1]"_s.arg(o.metricsBind.toString())
                                    : o.metricsBind.toString()),
                     port, o.controlToken.isEmpty() ? "read-only" : "control with the token");
    }
    // Issue 14: the gateway, after the engine (its hub shares the engine's pool).
    std::unique_ptr<GatewayService> gateway;
    if (o.gateway.enabled) {
        gateway = std::make_unique<GatewayService>(engine, o.gateway.config);
        QString error;
        if (!gateway->start(&error)) {
            std::fprintf(stderr, "feedscope: the gateway did not start: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
        if (metrics) {
            metrics->setGatewayService(gateway.get(), o.gateway.metricsPerClient);
            metrics->live()->setGateway(gateway.get()); // issue 18: /live shows and controls its clients
        }
        // The actual port (with --gateway-port 0) for scripts and tests to read.
        std::fprintf(stderr, "feedscope: gateway on %s\n", qPrintable(gateway->urlText()));
        QObject::connect(&gateway->server(), &Gw::GatewayServer::clientDisconnected,
                         QCoreApplication::instance(),
                         [](const Gw::ClientStats &c, Gw::CloseReason r, int code, const QString &) {
                             if (r == Gw::CloseReason::SlowConsumer)
                                 std::fprintf(stderr, "feedscope: gateway: client %s #%d cut as slow (%d)\n",
                                              qPrintable(c.name), c.id, code);
                         });
    }
    const QString consumer = o.subscriptionsFile.isEmpty() ? u"demo"_s : u"subscriptions-file"_s;
    for (const Hl::Subscription &s : o.subscriptions)
        engine.subscribe(s, consumer);

    bool finished = false;
    int exitCode = Cli::ExitOk;
    auto finish = [&] {
        if (finished)
            return;
        finished = true;
        QJsonObject gatewayReport;
        if (gateway) { // issue 14: clients get 1001 before the engine shuts down
            if (!gateway->stopAndWait(gateway->config().server.closeGrace + std::chrono::milliseconds(500)))
                std::fprintf(stderr, "feedscope: gateway: %d client(s) did not take the close in time\n",
                             gateway->server().clientCount());
            gatewayReport = buildGatewayReport(*gateway);
            if (metrics)
                metrics->setGatewayService(nullptr, 0);
            gateway.reset(); // before the engine shuts down: the hub releases its handles
        }
        if (alertCommand && !alertCommand->waitForIdle(5000)) // the last alerts still go out, briefly
            std::fprintf(stderr, "feedscope: %d alert command(s) still running at exit: killed\n",
                         alertCommand->running());
        const Engine::Final last = engine.shutdown(std::chrono::milliseconds(2000));
        const DispatcherFigures &d = last.dispatcher;
        if (!last.drained || d.received != last.routed)
            std::fprintf(stderr, "feedscope: dispatcher %s: %lld routed, %lld received by the inspector\n",
                         last.drained ? "complete" : "not drained", static_cast<long long>(last.routed),
                         static_cast<long long>(d.received));
        for (const QString &e : last.errors) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(e));
            exitCode = Cli::ExitFatal;
        }
        if (!o.reportFile.isEmpty()) {
            ReportMeta meta{startedAt, monotonicMs() - startedMonotonicMs, redactedUrl(cfg.url)};
            QString error;
            QJsonObject report = buildReport(last.snapshot, d, meta);
            report.insert(u"alerts"_s, buildAlertsReport(engine.alerts())); // issue 17
            if (o.gateway.enabled)
                report.insert(u"gateway"_s, gatewayReport); // issue 14
            if (!writeJsonAtomically(o.reportFile, report, &error)) {
                std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
                exitCode = Cli::ExitFatal;
            }
        }
        QCoreApplication::exit(exitCode);
    };

    UnixSignals unixSignals;
    QObject::connect(&unixSignals, &UnixSignals::terminate, QCoreApplication::instance(), finish);
    QObject::connect(&unixSignals, &UnixSignals::hangup, QCoreApplication::instance(), [&engine, &o] {
        QString error;
        if (!o.sessionLogFile.isEmpty() && !engine.sessionLog().reopen(&error)) // log rotation
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
    });
    if (o.durationS > 0) {
        const qint64 left = o.durationS * 1000 - (monotonicMs() - startedMonotonicMs);
        // Precise: a coarse timer may fire up to 5 % early, and the duration is a contract.
        QTimer::singleShot(std::chrono::milliseconds(std::max<qint64>(0, left)), Qt::PreciseTimer,
                           QCoreApplication::instance(), finish);
    }
    std::fprintf(stderr, "feedscope: headless on %s with %lld subscriptions\n",
                 qPrintable(redactedUrl(cfg.url)), static_cast<long long>(o.subscriptions.size()));
    return QCoreApplication::exec();
}

} // namespace FeedScope

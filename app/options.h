#pragma once

#include "engine.h"
#include "pooltypes.h"
#include "profile.h"
#include "subscription.h"

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace FeedScope {

/// The command line, parsed and validated; read-only after parsing.
struct Options
{
    bool headless = false;
    bool demo = false;
    PoolConfig pool;
    QString subscriptionsFile;
    QList<Hl::Subscription> subscriptions;
    QString reportFile;
    qint64 durationS = 0; ///< 0 = until SIGINT/SIGTERM
    QString dispatchPolicy = QStringLiteral("lossless");
    qint64 queueCapacity = 10000;
    int dispatchThreads = 2; ///< --dispatch-threads, else FEEDSCOPE_DISPATCH_THREADS, else 2
    QString recordFile;
    /// Issue 18: --replay FILE plays a recording through the pool (the simulator serves it);
    /// --replay-speed: 1 = as recorded, N = N× faster, 0 = as fast as possible.
    QString replayFile;
    double replaySpeed = 1;
    QString sessionLogFile;
    int metricsPort = -1; ///< -1: no metrics endpoint
    QHostAddress metricsBind{QHostAddress::LocalHost};
    int metricsPerSubscription = 0;
    QStringList demoFaults; ///< simulator fault specs for --demo
    QString profileFile;    ///< --profile
    MessageInspector::Limits inspector;
    int sessionRing = 10000;                                 ///< session events kept in memory
    int sessionStatsRing = SessionLog::DefaultStatsCapacity; ///< of them statistics snapshots
    int uiRefreshMs = 100;
    QString screenshotFile; ///< GUI: save a picture of the window and quit
    qint64 screenshotDelayMs = 5000;
    /// Issue 17: the alert rules (profile section "alerts", or --alert-rules FILE), the command
    /// the headless agent runs for every fired/resolved alert (--alert-command) and its limit.
    AlertSettings alerts;
    /// Issue 14: the gateway (--gateway-port, --gateway-bind, --gateway-token, …, or the
    /// profile's section "gateway").
    GatewaySettings gateway;
    QString alertRulesFile;
    /// Issue 18: --control-token (or $FEEDSCOPE_CONTROL_TOKEN): remote control over /live; empty:
    /// read-only. Never logged. --live-rate-hz: changes a second on the stream.
    QByteArray controlToken;
    int liveRateHz = 10;
    /// Issue 18: --attach URL opens the window on a remote agent's /live stream (no local pool,
    /// no simulator); --attach-token (or $FEEDSCOPE_CONTROL_TOKEN) for control, --attach-ca FILE
    /// for a wss:// agent whose certificate a private CA signed. Empty URL: a local pool.
    QUrl attachUrl;
    QByteArray attachToken;
    QString attachCaFile;
    /// Issue 18: --fleet FILE opens the fleet view alone (no pool) with the agents of FILE.
    QString fleetFile;
};

/// Takes @p profile's settings as the base the command line then overrides.
void applyProfile(const Profile &profile, Options *o);

/// The engine's settings from the command line (pool, dispatcher, inspector, files).
EngineConfig engineConfig(const Options &o);

/// Parses @p arguments. On a usage error returns nullopt with @p error set; when --help or
/// --version was asked returns nullopt with @p exitNow set (the text is already printed).
/// @p base (the GUI's saved settings) applies when no --profile is given.
std::optional<Options> parseOptions(const QStringList &arguments, QString *error, bool *exitNow,
                                    const Profile *base = nullptr);

} // namespace FeedScope

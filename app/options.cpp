#include "options.h"

#include "alertcommand.h"
#include "cli.h"
#include "simfeed.h"
#include "simulator.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslCertificate>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace FeedScope {

std::optional<Options> parseOptions(const QStringList &arguments, QString *error, bool *exitNow,
                                    const Profile *base)
{
    *exitNow = false;
    QCommandLineParser p;
    p.setApplicationDescription(u"FeedScope: a live monitor for pools of WebSocket market-data subscriptions "
                                u"(Hyperliquid). Without --url it runs on its embedded demo feed."_s);
    p.addHelpOption();
    p.addVersionOption();
    p.addOptions({
        {u"headless"_s, u"Run without a window; write --report at the end."_s},
        {u"demo"_s, u"Use the embedded simulated feed (the default when no --url is given)."_s},
        {u"url"_s, u"WebSocket endpoint, ws:// or wss:// (e.g. wss://api.hyperliquid.xyz/ws)."_s, u"url"_s},
        {u"subscriptions"_s, u"JSON array of Hyperliquid subscription objects."_s, u"file"_s},
        {u"ca-file"_s, u"wss://: also trust the CA certificate(s) in this PEM file (a private CA)."_s,
         u"file"_s},
        {u"insecure"_s, u"wss://: do NOT verify certificates or host names (testing only; warned about)."_s},
        {u"profile"_s, u"Settings (feedscope.profile/1 JSON); the options given here override it."_s,
         u"file"_s},
        {u"report"_s, u"Write the run's report (JSON) here at the end."_s, u"file"_s},
        {u"duration-s"_s, u"Stop after N seconds from start (headless; default: until SIGINT/SIGTERM)."_s,
         u"n"_s},
        {u"max-connections"_s, u"Connections in the pool (default 10)."_s, u"n"_s},
        {u"max-subscriptions-per-connection"_s, u"Subscriptions per connection (default 100)."_s, u"n"_s},
        {u"ping-interval-ms"_s, u"Application ping interval when the link is quiet (default 30000)."_s,
         u"n"_s},
        {u"stale-timeout-ms"_s, u"Reconnect after this long without any frame (default 2 x ping + 10000)."_s,
         u"n"_s},
        {u"silence-factor"_s,
         u"Probe a connection with a ping once it is silent for this many of its usual gaps between "
         u"frames (default 5; 0: off)."_s,
         u"x"_s},
        {u"silence-minimum-ms"_s,
         u"Probe only after at least this much silence, however short the usual gap (default 1000)."_s,
         u"n"_s},
        {u"probe-timeout-ms"_s,
         u"Reconnect a probed connection when no pong comes within this (default 2000)."_s, u"n"_s},
        {u"data-stale-factor"_s,
         u"A subscription's data is stale after this many expected intervals of its type (default 3)."_s,
         u"x"_s},
        {u"outgoing-rate"_s,
         u"Client frames per minute, whole pool (default 1800; the server allows 2000)."_s, u"n"_s},
        {u"dispatch-policy"_s, u"lossless, drop-oldest, drop-newest or coalesce-latest (default lossless)."_s,
         u"policy"_s},
        {u"queue-capacity"_s, u"Bounded queue per worker consumer (default 10000)."_s, u"n"_s},
        {u"dispatch-threads"_s,
         u"Worker threads of the dispatcher (default $FEEDSCOPE_DISPATCH_THREADS or 2)."_s, u"n"_s},
        {u"io-threads"_s, u"Event-loop threads the connections are sharded over (default 1)."_s, u"n"_s},
        {u"session-log"_s, u"Append the session's events to this JSONL file."_s, u"file"_s},
        {u"record"_s, u"Record every received data frame to this JSONL file (replayable by feedscope-sim)."_s,
         u"file"_s},
        {u"metrics-port"_s,
         u"Serve /metrics (Prometheus), /healthz and /report on this port (0: any free one)."_s, u"n"_s},
        {u"metrics-bind"_s, u"Address the metrics endpoint listens on (default 127.0.0.1)."_s, u"address"_s},
        {u"metrics-per-subscription"_s,
         u"Also export one series per subscription, for at most N subscriptions (default 0: none)."_s,
         u"n"_s},
        {u"screenshot"_s, u"GUI: save a PNG of the main window after --screenshot-delay-ms, then quit."_s,
         u"file"_s},
        {u"screenshot-delay-ms"_s,
         u"Delay before --screenshot (default 5000; up to a day, so a long run ends with one)."_s, u"n"_s},
        {u"demo-fault"_s,
         u"With --demo: schedule a simulator fault, AT_MS:KIND[:ARGS] (see feedscope-sim --help)."_s,
         u"spec"_s},
        {u"alert-command"_s,
         u"Headless: run this program for every alert that fires or resolves, the alert as JSON on its "
         u"stdin (split into program and arguments; never run through a shell)."_s,
         u"command"_s},
        {u"alert-command-timeout-s"_s, u"Kill the alert command after this many seconds (default 10)."_s,
         u"n"_s},
        {u"alert-rules"_s,
         u"Alert rules (JSON: a list of rules, or the profile's \"alerts\" object); replaces the profile's."_s,
         u"file"_s},
        // Issue 18: the /live stream's control and rate.
        {u"control-token"_s,
         u"Allow remote control (reconnect, pause, subscribe, ...) over /live to windows that send this "
         u"token (default $FEEDSCOPE_CONTROL_TOKEN; without either, /live is read-only)."_s,
         u"token"_s},
        {u"live-rate-hz"_s, u"Changes a second on the /live stream (1 to 50, default 10)."_s, u"n"_s},
    });
    if (!p.parse(arguments)) {
        *error = p.errorText();
        return std::nullopt;
    }
    if (p.isSet(u"help"_s)) {
        std::fputs(qPrintable(p.helpText()), stdout);
        *exitNow = true;
        return std::nullopt;
    }
    if (p.isSet(u"version"_s)) {
        std::printf("feedscope %s\n", FEEDSCOPE_VERSION);
        *exitNow = true;
        return std::nullopt;
    }
    if (!p.positionalArguments().isEmpty()) {
        *error = u"unexpected argument \"%1\""_s.arg(p.positionalArguments().constFirst());
        return std::nullopt;
    }

    Options o;
    if (p.isSet(u"profile"_s)) {
        const auto profile = readProfile(p.value(u"profile"_s), error);
        if (!profile)
            return std::nullopt;
        o.profileFile = p.value(u"profile"_s);
        applyProfile(*profile, &o);
    } else if (base) {
        applyProfile(*base, &o);
    }
    o.headless = p.isSet(u"headless"_s);
    o.demo = p.isSet(u"demo"_s) || (!p.isSet(u"url"_s) && o.pool.url.isEmpty());
    if (p.isSet(u"demo"_s) && p.isSet(u"url"_s)) {
        *error = u"--demo and --url exclude each other"_s;
        return std::nullopt;
    }
    if (p.isSet(u"url"_s)) {
        const QUrl url(p.value(u"url"_s), QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"ws"_s && url.scheme() != u"wss"_s) || url.host().isEmpty()) {
            *error = u"--url must be a ws:// or wss:// URL with a host (got \"%1\")"_s.arg(p.value(u"url"_s));
            return std::nullopt;
        }
        o.pool.url = url;
    }

    // Defaults, or the profile's values: the options given on the command line override them.
    const auto maxConn = Cli::intOption(p, u"max-connections"_s, o.pool.maxConnections, 1, 1000, error);
    const auto perConn = Cli::intOption(p, u"max-subscriptions-per-connection"_s,
                                        o.pool.maxSubscriptionsPerConnection, 1, 100000, error);
    const auto ping =
        Cli::intOption(p, u"ping-interval-ms"_s, o.pool.pingInterval.count(), 100, 3600000, error);
    const auto stale =
        Cli::intOption(p, u"stale-timeout-ms"_s, o.pool.staleTimeout.count(), 0, 86400000, error);
    const auto rate = Cli::intOption(p, u"outgoing-rate"_s, o.pool.outgoingPerMinute, 10, 10000000, error);
    const auto capacity = Cli::intOption(p, u"queue-capacity"_s, o.queueCapacity, 1, 100000000, error);
    const auto threads = Cli::intOption(p, u"io-threads"_s, o.pool.ioThreads, 1, 64, error);
    qint64 dispatchDefault = o.dispatchThreads;
    if (const QByteArray env = qgetenv("FEEDSCOPE_DISPATCH_THREADS"); !env.isEmpty()) {
        bool ok = false;
        dispatchDefault = env.toLongLong(&ok);
        if (!ok || dispatchDefault < 1 || dispatchDefault > 64) {
            *error = u"FEEDSCOPE_DISPATCH_THREADS must be a whole number from 1 to 64 (got \"%1\")"_s.arg(
                QString::fromLocal8Bit(env));
            return std::nullopt;
        }
    }
    const auto dispatchThreads = Cli::intOption(p, u"dispatch-threads"_s, dispatchDefault, 1, 64, error);
    const auto duration = Cli::intOption(p, u"duration-s"_s, 0, 1, 365LL * 86400, error);
    const auto metrics = Cli::intOption(p, u"metrics-port"_s, -1, 0, 65535, error);
    const auto shotDelay = Cli::intOption(p, u"screenshot-delay-ms"_s, 5000, 0, 86400000, error);
    const auto perSubMetrics = Cli::intOption(p, u"metrics-per-subscription"_s, 0, 0, 10000, error);
    const auto staleFactor =
        Cli::doubleOption(p, u"data-stale-factor"_s, o.pool.dataStaleFactor, 0.01, 1000, error);
    const auto silenceFactor =
        Cli::doubleOption(p, u"silence-factor"_s, o.pool.silenceFactor, 0, 1000, error);
    const auto silenceMinimum =
        Cli::intOption(p, u"silence-minimum-ms"_s, o.pool.silenceMinimum.count(), 0, 3600000, error);
    const auto probeTimeout =
        Cli::intOption(p, u"probe-timeout-ms"_s, o.pool.probeTimeout.count(), 100, 3600000, error);
    if (!maxConn || !perConn || !ping || !stale || !rate || !capacity || !threads || !duration || !metrics ||
        !shotDelay || !dispatchThreads || !staleFactor || !perSubMetrics || !silenceFactor ||
        !silenceMinimum || !probeTimeout)
        return std::nullopt;
    if (*silenceFactor > 0 && *silenceFactor < 1) {
        *error = u"--silence-factor must be 0 (off) or from 1 to 1000 (got \"%1\")"_s.arg(
            p.value(u"silence-factor"_s));
        return std::nullopt;
    }
    o.pool.silenceFactor = *silenceFactor;
    o.pool.silenceMinimum = std::chrono::milliseconds(*silenceMinimum);
    o.pool.probeTimeout = std::chrono::milliseconds(*probeTimeout);
    o.pool.dataStaleFactor = *staleFactor;
    o.dispatchThreads = static_cast<int>(*dispatchThreads);
    o.screenshotFile = p.value(u"screenshot"_s);
    o.screenshotDelayMs = *shotDelay;
    o.pool.maxConnections = static_cast<int>(*maxConn);
    o.pool.maxSubscriptionsPerConnection = static_cast<int>(*perConn);
    o.pool.pingInterval = std::chrono::milliseconds(*ping);
    o.pool.staleTimeout = std::chrono::milliseconds(*stale);
    if (p.isSet(u"stale-timeout-ms"_s) && *stale <= *ping) {
        *error =
            u"--stale-timeout-ms must be longer than --ping-interval-ms (a quiet link sees only pongs)"_s;
        return std::nullopt;
    }
    o.pool.outgoingPerMinute = static_cast<int>(*rate);
    o.pool.pingReserve = std::clamp(o.pool.outgoingPerMinute / 50, 1, 50);
    o.pool.ioThreads = static_cast<int>(*threads);
    o.queueCapacity = *capacity;
    o.durationS = *duration;
    o.metricsPort = static_cast<int>(*metrics);

    if (p.isSet(u"dispatch-policy"_s)) {
        static const QStringList policies{u"lossless"_s, u"drop-oldest"_s, u"drop-newest"_s,
                                          u"coalesce-latest"_s};
        o.dispatchPolicy = p.value(u"dispatch-policy"_s);
        if (!policies.contains(o.dispatchPolicy)) {
            *error = u"--dispatch-policy must be one of %1 (got \"%2\")"_s.arg(policies.join(u", "_s),
                                                                               o.dispatchPolicy);
            return std::nullopt;
        }
    }
    o.reportFile = p.value(u"report"_s);
    o.recordFile = p.value(u"record"_s);
    o.sessionLogFile = p.value(u"session-log"_s);
    o.metricsPerSubscription = static_cast<int>(*perSubMetrics);
    if (p.isSet(u"metrics-bind"_s)) {
        if (o.metricsPort < 0) {
            *error = u"--metrics-bind needs --metrics-port"_s;
            return std::nullopt;
        }
        o.metricsBind = QHostAddress(p.value(u"metrics-bind"_s));
        if (o.metricsBind.isNull()) {
            *error = u"--metrics-bind must be an IPv4 or IPv6 address (got \"%1\")"_s.arg(
                p.value(u"metrics-bind"_s));
            return std::nullopt;
        }
    }
    if (p.isSet(u"ca-file"_s)) {
        const QString path = p.value(u"ca-file"_s);
        if (!QFileInfo(path).isReadable()) {
            *error = u"cannot read --ca-file %1"_s.arg(path);
            return std::nullopt;
        }
        o.pool.extraCaCertificates =
            QSslCertificate::fromPath(path, QSsl::Pem, QSslCertificate::PatternSyntax::FixedString);
        if (o.pool.extraCaCertificates.isEmpty()) {
            *error = u"--ca-file %1 holds no PEM certificate"_s.arg(path);
            return std::nullopt;
        }
    }
    o.pool.insecureTls = p.isSet(u"insecure"_s);
    if (p.isSet(u"demo-fault"_s) && !o.demo) {
        *error = u"--demo-fault needs the demo feed"_s;
        return std::nullopt;
    }
    for (const QString &spec : p.values(u"demo-fault"_s)) {
        if (!Sim::Fault::parseSpec(spec, error))
            return std::nullopt;
        o.demoFaults.append(spec);
    }

    if (p.isSet(u"alert-rules"_s)) { // issue 17
        o.alertRulesFile = p.value(u"alert-rules"_s);
        QFile f(o.alertRulesFile);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = u"cannot read --alert-rules %1: %2"_s.arg(o.alertRulesFile, f.errorString());
            return std::nullopt;
        }
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
        QString why;
        AlertSettings fromFile;
        if (pe.error != QJsonParseError::NoError) {
            *error = u"--alert-rules %1: not valid JSON at offset %2: %3"_s.arg(o.alertRulesFile)
                         .arg(pe.offset)
                         .arg(pe.errorString());
            return std::nullopt;
        }
        if (!alertSettingsFromJson(doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object()),
                                   &fromFile, &why)) {
            *error = u"--alert-rules %1: %2"_s.arg(o.alertRulesFile, why);
            return std::nullopt;
        }
        o.alerts.rules = fromFile.rules;
        if (!fromFile.command.isEmpty())
            o.alerts.command = fromFile.command;
        if (fromFile.commandTimeoutS != AlertSettings{}.commandTimeoutS)
            o.alerts.commandTimeoutS = fromFile.commandTimeoutS;
    }
    if (p.isSet(u"alert-command"_s)) {
        o.alerts.command = p.value(u"alert-command"_s).trimmed();
    }
    if (!o.alerts.command.isEmpty()) {
        AlertCommand probe;
        QString why;
        if (!probe.setCommand(o.alerts.command, &why)) {
            *error = u"--alert-command: %1"_s.arg(why);
            return std::nullopt;
        }
    } else if (p.isSet(u"alert-command"_s)) {
        *error = u"--alert-command needs a program (and its arguments)"_s;
        return std::nullopt;
    }
    if (const auto t =
            Cli::intOption(p, u"alert-command-timeout-s"_s, o.alerts.commandTimeoutS, 1, 3600, error))
        o.alerts.commandTimeoutS = static_cast<int>(*t);
    else
        return std::nullopt;

    // Issue 18: the /live stream's control token (never logged) and rate.
    o.controlToken = p.isSet(u"control-token"_s) ? p.value(u"control-token"_s).toUtf8()
                                                 : qgetenv("FEEDSCOPE_CONTROL_TOKEN");
    if (p.isSet(u"control-token"_s) && o.controlToken.isEmpty()) {
        *error = u"--control-token must not be empty"_s;
        return std::nullopt;
    }
    if (const auto hz = Cli::intOption(p, u"live-rate-hz"_s, o.liveRateHz, 1, 50, error))
        o.liveRateHz = static_cast<int>(*hz);
    else
        return std::nullopt;

    o.subscriptionsFile = p.value(u"subscriptions"_s);
    if (!o.subscriptionsFile.isEmpty()) {
        QFile f(o.subscriptionsFile);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = u"cannot read --subscriptions %1: %2"_s.arg(o.subscriptionsFile, f.errorString());
            return std::nullopt;
        }
        QString why;
        const auto list = Hl::Subscription::listFromJson(f.readAll(), &why);
        if (!list) {
            *error = u"--subscriptions %1: %2"_s.arg(o.subscriptionsFile, why);
            return std::nullopt;
        }
        o.subscriptions = *list;
    } else if (!o.subscriptions.isEmpty()) {
        // from the profile
    } else if (o.demo) {
        o.subscriptions = Sim::demoSubscriptions();
    } else if (o.headless) {
        *error = u"--headless with --url needs --subscriptions FILE"_s;
        return std::nullopt;
    }
    return o;
}

void applyProfile(const Profile &profile, Options *o)
{
    o->pool = profile.engine.pool;
    o->pool.url = profile.url;
    o->dispatchPolicy = QString(nameOf(profile.engine.policy));
    o->queueCapacity = profile.engine.queueCapacity;
    o->dispatchThreads = profile.engine.dispatchThreads;
    o->inspector = profile.engine.inspector;
    o->sessionRing = profile.engine.sessionRing;
    o->sessionStatsRing = profile.engine.sessionStatsRing;
    o->uiRefreshMs = profile.uiRefreshMs;
    o->subscriptions = profile.subscriptions;
    o->alerts = profile.alerts;
}

EngineConfig engineConfig(const Options &o)
{
    EngineConfig ec;
    ec.inspector = o.inspector;
    ec.sessionRing = o.sessionRing;
    ec.sessionStatsRing = o.sessionStatsRing;
    ec.pool = o.pool;
    ec.policy = dispatchPolicyFromName(o.dispatchPolicy).value_or(DispatchPolicy::Lossless);
    ec.queueCapacity = o.queueCapacity;
    ec.dispatchThreads = o.dispatchThreads;
    ec.recordFile = o.recordFile;
    ec.sessionLogFile = o.sessionLogFile;
    ec.alertRules = o.alerts.rules;
    return ec;
}

} // namespace FeedScope

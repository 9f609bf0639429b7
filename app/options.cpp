#include "options.h"

#include "alertcommand.h"
#include "cli.h"
#include "livesource.h"
#include "replaysession.h"
#include "simfeed.h"
#include "simulator.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QThread>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

// Issue 14: the gateway's options, listed together under a heading of --help.
const QList<QCommandLineOption> &gatewayOptions()
{
    static const QList<QCommandLineOption> options{
        {u"gateway-port"_s,
         u"Run the gateway: your bots connect to ws://BIND:N/ instead of the venue and share FeedScope's "
         u"pool (0: any free port). --subscriptions becomes optional."_s,
         u"n"_s},
        {u"gateway-bind"_s, u"Address the gateway listens on (default 127.0.0.1; others need a token)."_s,
         u"address"_s},
        {u"gateway-token"_s,
         u"Clients must send \"Authorization: Bearer T\" or ?token=T (default $FEEDSCOPE_GATEWAY_TOKEN; "
         u"prefer the variable: a command line is visible to other users)."_s,
         u"token"_s},
        {u"gateway-policy"_s,
         u"A client that does not read fast enough: disconnect, drop-oldest or coalesce-latest (default "
         u"disconnect)."_s,
         u"policy"_s},
        {u"gateway-queue-bytes"_s, u"Send queue bound per client (default 4194304)."_s, u"n"_s},
        {u"gateway-max-clients"_s, u"Clients at most; more are refused with HTTP 429 (default 256)."_s,
         u"n"_s},
        {u"gateway-idle-s"_s, u"Close a client that sends nothing for N seconds (default 60; 0: never)."_s,
         u"n"_s},
        {u"gateway-linger-ms"_s,
         u"Keep a subscription upstream this long after its last client left (default 5000)."_s, u"n"_s},
        {u"gateway-max-subscriptions"_s, u"Subscriptions per client (default 1000)."_s, u"n"_s},
        {u"gateway-max-messages"_s, u"Messages per client and minute (default 2000)."_s, u"n"_s},
        {u"gateway-max-frame-bytes"_s,
         u"Largest frame a client may send (default 1048576; larger: close 1009)."_s, u"n"_s},
        {u"gateway-threads"_s,
         u"Threads the gateway's clients are sharded over (default 1: the links share the engine's event "
         u"loop; 2 or more: link threads of their own, at most twice the cores)."_s,
         u"n"_s},
        {u"metrics-per-client"_s,
         u"Also export one series per gateway client, for at most N clients (default 0: none)."_s, u"n"_s},
    };
    return options;
}

/// The help text with the gateway's options under a heading of their own.
QString groupedHelp(const QCommandLineParser &p)
{
    QString text = p.helpText();
    const qsizetype at = text.indexOf(u"\n  --gateway-port"_s);
    if (at >= 0)
        text.insert(at + 1, u"\nGateway (your bots connect to FeedScope instead of the venue):\n"_s);
    return text;
}

/// --gateway-*: the gateway's settings over the profile's. False with @p error naming the option.
bool parseGatewayOptions(const QCommandLineParser &p, Options *o, QString *error)
{
    GatewaySettings &g = o->gateway;
    Gw::GatewayConfig &sc = g.config.server;
    GatewayHubConfig &hc = g.config.hub;
    const auto port = Cli::intOption(p, u"gateway-port"_s, -1, 0, 65535, error);
    if (!port)
        return false;
    if (*port >= 0) {
        g.enabled = true;
        sc.port = static_cast<quint16>(*port);
    }
    if (!g.enabled) {
        for (const QCommandLineOption &opt : gatewayOptions()) {
            const QString name = opt.names().constFirst();
            if (name != u"gateway-port"_s && p.isSet(name)) {
                *error = u"--%1 needs --gateway-port (or a profile with the gateway enabled)"_s.arg(name);
                return false;
            }
        }
        return true;
    }
    if (p.isSet(u"gateway-bind"_s)) {
        const QString v = p.value(u"gateway-bind"_s).trimmed();
        QHostAddress a = v == u"localhost"_s ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(v);
        if (a.isNull()) {
            *error = u"--gateway-bind must be an IPv4 or IPv6 address (got \"%1\")"_s.arg(v);
            return false;
        }
        sc.bind = a;
    }
    if (p.isSet(u"gateway-token"_s)) {
        sc.token = p.value(u"gateway-token"_s).toUtf8();
        if (sc.token.isEmpty()) {
            *error = u"--gateway-token must not be empty"_s;
            return false;
        }
    } else if (const QByteArray env = qgetenv("FEEDSCOPE_GATEWAY_TOKEN"); !env.isEmpty()) {
        sc.token = env;
    }
    if (p.isSet(u"gateway-policy"_s)) {
        const QString v = p.value(u"gateway-policy"_s);
        const auto policy = Gw::slowPolicyFromName(v);
        if (!policy) {
            *error =
                u"--gateway-policy must be one of disconnect, drop-oldest, coalesce-latest (got \"%1\")"_s
                    .arg(v);
            return false;
        }
        sc.policy = *policy;
    }
    const auto queueBytes =
        Cli::intOption(p, u"gateway-queue-bytes"_s, sc.queueBytes, 4096, 1LL << 32, error);
    const auto maxClients = Cli::intOption(p, u"gateway-max-clients"_s, sc.maxClients, 1, 100000, error);
    const auto idle = Cli::intOption(p, u"gateway-idle-s"_s, sc.idleTimeout.count() / 1000, 0, 86400, error);
    const auto linger = Cli::intOption(p, u"gateway-linger-ms"_s, hc.linger.count(), 0, 3600000, error);
    const auto maxSubs =
        Cli::intOption(p, u"gateway-max-subscriptions"_s, sc.maxSubscriptions, 1, 100000, error);
    const auto maxMessages =
        Cli::intOption(p, u"gateway-max-messages"_s, sc.maxMessagesPerMinute, 1, 10000000, error);
    const auto maxFrame =
        Cli::intOption(p, u"gateway-max-frame-bytes"_s, sc.maxFrameBytes, 1024, 1LL << 30, error);
    const auto threads = Cli::intOption(p, u"gateway-threads"_s, g.config.threads, 1, 64, error);
    if (const int most = 2 * std::max(1, QThread::idealThreadCount()); threads && *threads > most) {
        // More link threads than twice the cores only adds switches: refused, not clamped.
        *error =
            u"--gateway-threads: at most %1 on this machine (twice its %2 cores)"_s.arg(most).arg(most / 2);
        return false;
    }
    const auto perClient = Cli::intOption(p, u"metrics-per-client"_s, g.metricsPerClient, 0, 10000, error);
    if (!queueBytes || !maxClients || !idle || !linger || !maxSubs || !maxMessages || !maxFrame || !threads ||
        !perClient)
        return false;
    sc.queueBytes = *queueBytes;
    sc.maxClients = static_cast<int>(*maxClients);
    if (p.isSet(u"gateway-idle-s"_s))
        sc.idleTimeout = std::chrono::milliseconds(*idle * 1000);
    hc.linger = std::chrono::milliseconds(*linger);
    sc.maxSubscriptions = static_cast<int>(*maxSubs);
    sc.maxMessagesPerMinute = static_cast<int>(*maxMessages);
    sc.maxFrameBytes = *maxFrame;
    g.config.threads = static_cast<int>(*threads);
    g.metricsPerClient = static_cast<int>(*perClient);
    if (!sc.bind.isLoopback() && sc.token.isEmpty()) {
        *error =
            u"the gateway would listen on %1, which is not loopback, without a token: set "
            u"--gateway-token or FEEDSCOPE_GATEWAY_TOKEN so that only your own clients can connect"_s.arg(
                sc.bind.toString());
        return false;
    }
    return true;
}

/// Issue 18: --attach, --attach-token, --attach-ca. False with @p error naming the option.
bool parseAttachOptions(const QCommandLineParser &p, Options *o, QString *error)
{
    if (!p.isSet(u"attach"_s)) {
        for (const QString &name : {u"attach-token"_s, u"attach-ca"_s})
            if (p.isSet(name)) {
                *error = u"--%1 needs --attach URL"_s.arg(name);
                return false;
            }
        return true;
    }
    const QString given = p.value(u"attach"_s);
    for (const QString &other : {u"headless"_s, u"demo"_s, u"url"_s, u"replay"_s, u"subscriptions"_s}) {
        if (p.isSet(other)) {
            *error = u"--attach shows a remote agent: it excludes --%1"_s.arg(other);
            return false;
        }
    }
    QString why;
    const std::optional<QUrl> url = LiveSource::parseAgentUrl(given, &why);
    if (!url) {
        *error = u"--attach \"%1\": %2"_s.arg(given, why);
        return false;
    }
    o->attachUrl = *url;
    if (p.isSet(u"attach-token"_s)) {
        o->attachToken = p.value(u"attach-token"_s).toUtf8();
        if (o->attachToken.isEmpty()) {
            *error = u"--attach-token must not be empty"_s;
            return false;
        }
    } else {
        o->attachToken = qgetenv("FEEDSCOPE_CONTROL_TOKEN");
    }
    if (p.isSet(u"attach-ca"_s)) {
        o->attachCaFile = p.value(u"attach-ca"_s);
        QFile f(o->attachCaFile);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = u"cannot read --attach-ca %1: %2"_s.arg(o->attachCaFile, f.errorString());
            return false;
        }
        if (QSslCertificate::fromData(f.readAll(), QSsl::Pem).isEmpty()) {
            *error = u"--attach-ca %1 holds no PEM certificate"_s.arg(o->attachCaFile);
            return false;
        }
        if (url->scheme() != u"wss"_s) {
            *error = u"--attach-ca is for a wss:// agent (got %1)"_s.arg(given);
            return false;
        }
    }
    o->demo = false; // no local pool, no simulator
    o->subscriptions.clear();
    o->gateway.enabled = false;
    return true;
}

} // namespace

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
        {u"replay"_s,
         u"Play a --record file through the pool, the simulator serving it (instead of --url or --demo)."_s,
         u"file"_s},
        {u"replay-speed"_s,
         u"With --replay: 1 = as recorded, N = N times faster, max = as fast as possible."_s, u"x"_s, u"1"_s},
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
        // Issue 18: the window attached to a remote agent.
        {u"attach"_s,
         u"GUI: show a remote agent (its --metrics-port), ws://HOST:PORT/live or wss://…, instead of a "
         u"local pool."_s,
         u"url"_s},
        {u"attach-token"_s,
         u"With --attach: the agent's --control-token, for reconnect, pause, subscribe… from the window "
         u"(default $FEEDSCOPE_CONTROL_TOKEN; without it the window is read-only)."_s,
         u"token"_s},
        {u"attach-ca"_s, u"With --attach wss://: also trust the CA certificate(s) in this PEM file."_s,
         u"file"_s},
        // Issue 18: the fleet view.
        {u"fleet"_s,
         u"GUI: open the fleet view alone, listing the agents of this file: one per line, the URL of its "
         u"metrics port (http://host:9100) then an optional name; # starts a comment."_s,
         u"file"_s},
    });
    p.addOptions(gatewayOptions()); // issue 14
    if (!p.parse(arguments)) {
        *error = p.errorText();
        return std::nullopt;
    }
    if (p.isSet(u"help"_s)) {
        std::fputs(qPrintable(groupedHelp(p)), stdout);
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
    if (p.isSet(u"replay"_s)) {
        if (p.isSet(u"url"_s) || p.isSet(u"demo"_s)) {
            *error = u"--replay excludes --url and --demo"_s;
            return std::nullopt;
        }
        o.demo = false;
        o.replayFile = p.value(u"replay"_s);
        const std::optional<double> speed = ReplaySession::speedFromName(p.value(u"replay-speed"_s));
        if (!speed) {
            *error = u"--replay-speed must be max or a factor from 0.001 to 1000000 (got \"%1\")"_s.arg(
                p.value(u"replay-speed"_s));
            return std::nullopt;
        }
        o.replaySpeed = *speed;
    } else if (p.isSet(u"replay-speed"_s)) {
        *error = u"--replay-speed needs --replay FILE"_s;
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

    if (!parseGatewayOptions(p, &o, error)) // issue 14
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

    // Issue 18: --fleet FILE (the window only; its bad lines are shown there, the good ones load).
    if (p.isSet(u"fleet"_s)) {
        if (o.headless || p.isSet(u"url"_s) || p.isSet(u"demo"_s) || p.isSet(u"replay"_s) ||
            p.isSet(u"attach"_s)) {
            *error = u"--fleet opens the fleet window alone: it excludes --headless, --url, --demo, --replay "
                     u"and --attach"_s;
            return std::nullopt;
        }
        QFile f(p.value(u"fleet"_s));
        if (!f.open(QIODevice::ReadOnly)) {
            *error = u"cannot read --fleet %1: %2"_s.arg(p.value(u"fleet"_s), f.errorString());
            return std::nullopt;
        }
        o.fleetFile = p.value(u"fleet"_s);
    }

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
    } else if (!o.replayFile.isEmpty()) {
        // What the recorded session subscribed to (read again when the replay starts).
        const std::optional<Sim::RecordingSummary> rec = Sim::summarizeRecording(o.replayFile, error);
        if (!rec)
            return std::nullopt;
        if (rec->subscriptions.isEmpty()) {
            *error = u"--replay %1: no subscription can be made from its frames (%2): give them with "
                     u"--subscriptions FILE"_s.arg(o.replayFile, rec->unrecoverable.join(u", "_s));
            return std::nullopt;
        }
        o.subscriptions = rec->subscriptions;
    } else if (o.gateway.enabled) {
        // issue 14: the gateway's clients bring their subscriptions
    } else if (o.demo) {
        o.subscriptions = Sim::demoSubscriptions();
    } else if (o.headless) {
        *error = u"--headless with --url needs --subscriptions FILE"_s;
        return std::nullopt;
    }
    if (!parseAttachOptions(p, &o, error)) // issue 18
        return std::nullopt;
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
    o->gateway = profile.gateway; // issue 14
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

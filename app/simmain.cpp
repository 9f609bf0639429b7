// feedscope-sim: the embedded Hyperliquid-like feed as a standalone server.
#include "cli.h"
#include "simulator.h"
#include "subscription.h"
#include "unixsignals.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

QString epilog()
{
    QString types;
    for (const Hl::TypeSpec &t : Hl::catalogue())
        types += (types.isEmpty() ? u""_s : u", "_s) + QString::fromLatin1(t.type);
    return u"\nFeed connections: ws://ADDR:PORT/ws (any path but /control). Control connections:\n"
           u"ws://ADDR:PORT/control take JSON commands, e.g. {\"fault\":\"abort\",\"connection\":1},\n"
           u"{\"fault\":\"stall\",\"connection\":2}, {\"fault\":\"restart\",\"amount\":2000}, "
           u"{\"fault\":\"status\"}, "
           u"{\"fault\":\"crossed\",\"subscription\":{\"type\":\"bbo\",\"coin\":\"BTC\"}},\n"
           u"{\"fault\":\"delay\",\"amount\":250}, {\"fault\":\"offset\",\"ms\":-1500}.\n\n"
           u"Faults (--fault, repeatable): "_s +
           Sim::Fault::grammar() + u"\n\nSubscription types: "_s + types +
           u" (webData2 is refused like the real server does).\n\nReplay: --replay FILE serves a recording "
           u"written by "
           u"`feedscope --record FILE` (JSONL, one received frame per line) instead of synthetic data, to "
           u"the "
           u"connections subscribed to each frame's subscription, once they are all subscribed (or 5 s after "
           u"the "
           u"first subscribe).\n"_s;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"feedscope-sim"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(FEEDSCOPE_VERSION));

    QCommandLineParser p;
    p.setApplicationDescription(u"A local server speaking Hyperliquid's WebSocket protocol, with the real "
                                u"server's limits and faults on demand."_s);
    p.addHelpOption();
    p.addVersionOption();
    p.addOptions({
        {u"bind"_s, u"Address to listen on (default 127.0.0.1)."_s, u"addr"_s, u"127.0.0.1"_s},
        {u"port"_s, u"Port to listen on; 0 picks a free one (default 8765)."_s, u"n"_s, u"8765"_s},
        {u"seed"_s, u"Seed of the synthetic data (default 1)."_s, u"n"_s, u"1"_s},
        {u"rate-scale"_s, u"Multiply every data rate by X (default 1)."_s, u"x"_s, u"1"_s},
        {u"rate"_s, u"Messages per second of one type, e.g. bbo=20 (repeatable)."_s, u"type=r"_s},
        {u"tick-ms"_s, u"Data generation tick in ms (default 10)."_s, u"n"_s, u"10"_s},
        {u"max-connections"_s, u"Concurrent connections per client address (default 10)."_s, u"n"_s, u"10"_s},
        {u"max-new-connections-per-minute"_s, u"New connections per minute per address (default 30)."_s,
         u"n"_s, u"30"_s},
        {u"max-subscriptions"_s, u"Subscriptions per address (default 1000)."_s, u"n"_s, u"1000"_s},
        {u"max-users"_s, u"Distinct users per address (default 10)."_s, u"n"_s, u"10"_s},
        {u"max-messages-per-minute"_s, u"Client messages per minute per address (default 2000)."_s, u"n"_s,
         u"2000"_s},
        {u"idle-timeout-ms"_s,
         u"Close a connection after this long without client traffic (default 60000)."_s, u"n"_s, u"60000"_s},
        {u"fault"_s, u"Schedule a fault, AT_MS:KIND[:ARGS] (repeatable; grammar below)."_s, u"spec"_s},
        {u"delay-ms"_s,
         u"Stamp every frame's event time N ms before it is sent: frames arrive N ms late (default 0)."_s,
         u"n"_s, u"0"_s},
        {u"clock-offset-ms"_s,
         u"Run the simulator's clock N ms ahead of this machine's (negative: behind; default 0)."_s, u"n"_s,
         u"0"_s},
        {u"replay"_s, u"Serve this recording instead of synthetic data."_s, u"file"_s},
        {u"replay-speed"_s,
         u"Replay speed: 1 = as recorded, N = N times faster, max = as fast as possible."_s, u"x"_s, u"1"_s},
        {u"verbose"_s, u"Print connections, subscriptions and faults as they happen."_s},
    });
    p.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsOptions);
    if (!p.parse(app.arguments()))
        return Cli::usageError(p.errorText());
    if (p.isSet(u"help"_s)) {
        std::fputs(qPrintable(p.helpText() + epilog()), stdout);
        return Cli::ExitOk;
    }
    if (p.isSet(u"version"_s)) {
        p.showVersion();
    }
    if (!p.positionalArguments().isEmpty())
        return Cli::usageError(u"unexpected argument \"%1\""_s.arg(p.positionalArguments().constFirst()));

    Sim::SimulatorConfig cfg;
    QString error;
    if (!cfg.address.setAddress(p.value(u"bind"_s)))
        return Cli::usageError(u"--bind must be an IP address (got \"%1\")"_s.arg(p.value(u"bind"_s)));
    const auto port = Cli::intOption(p, u"port"_s, 8765, 0, 65535, &error);
    const auto seed = Cli::intOption(p, u"seed"_s, 1, 0, std::numeric_limits<qint64>::max(), &error);
    const auto scale = Cli::doubleOption(p, u"rate-scale"_s, 1, 0, 1e6, &error);
    const auto tick = Cli::intOption(p, u"tick-ms"_s, 10, 1, 1000, &error);
    const auto maxConn = Cli::intOption(p, u"max-connections"_s, 10, 1, 100000, &error);
    const auto maxNew = Cli::intOption(p, u"max-new-connections-per-minute"_s, 30, 1, 1000000, &error);
    const auto maxSubs = Cli::intOption(p, u"max-subscriptions"_s, 1000, 1, 10000000, &error);
    const auto maxUsers = Cli::intOption(p, u"max-users"_s, 10, 1, 1000000, &error);
    const auto maxMsgs = Cli::intOption(p, u"max-messages-per-minute"_s, 2000, 1, 100000000, &error);
    const auto idle = Cli::intOption(p, u"idle-timeout-ms"_s, 60000, 1, 86400000, &error);
    if (!port || !seed || !scale || !tick || !maxConn || !maxNew || !maxSubs || !maxUsers || !maxMsgs ||
        !idle)
        return Cli::usageError(error);
    const auto delay = Cli::intOption(p, u"delay-ms"_s, 0, 0, 86400000, &error);
    const auto offset = Cli::intOption(p, u"clock-offset-ms"_s, 0, -86400000, 86400000, &error);
    if (!delay || !offset)
        return Cli::usageError(error);
    cfg.delay = std::chrono::milliseconds(*delay);
    cfg.clockOffset = std::chrono::milliseconds(*offset);
    cfg.port = static_cast<quint16>(*port);
    cfg.seed = static_cast<quint64>(*seed);
    cfg.rateScale = *scale;
    cfg.tick = std::chrono::milliseconds(*tick);
    cfg.limits.maxConnections = static_cast<int>(*maxConn);
    cfg.limits.maxNewConnectionsPerMinute = static_cast<int>(*maxNew);
    cfg.limits.maxSubscriptions = static_cast<int>(*maxSubs);
    cfg.limits.maxUsers = static_cast<int>(*maxUsers);
    cfg.limits.maxMessagesPerMinute = static_cast<int>(*maxMsgs);
    cfg.limits.idleTimeout = std::chrono::milliseconds(*idle);
    for (const QString &r : p.values(u"rate"_s)) {
        const QStringList kv = r.split(u'=');
        bool ok = false;
        const double v = kv.value(1).toDouble(&ok);
        if (kv.size() != 2 || !Hl::findType(kv[0]) || !ok || v < 0)
            return Cli::usageError(
                u"--rate must be TYPE=MESSAGES_PER_SECOND with a known type (got \"%1\")"_s.arg(r));
        cfg.rates.insert(kv[0], v);
    }
    if (p.isSet(u"replay"_s)) {
        cfg.replayFile = p.value(u"replay"_s);
        const QString speed = p.value(u"replay-speed"_s);
        if (speed == u"max"_s) {
            cfg.replaySpeed = 0;
        } else {
            const auto s = Cli::doubleOption(p, u"replay-speed"_s, 1, 0.001, 1e6, &error);
            if (!s)
                return Cli::usageError(error + u" or \"max\""_s);
            cfg.replaySpeed = *s;
        }
    }
    QList<Sim::Fault> faults;
    for (const QString &spec : p.values(u"fault"_s)) {
        const auto f = Sim::Fault::parseSpec(spec, &error);
        if (!f)
            return Cli::usageError(error);
        faults.append(*f);
    }

    Sim::FeedSimulator sim(cfg);
    for (const Sim::Fault &f : std::as_const(faults))
        sim.schedule(f);
    if (!sim.start(&error)) {
        std::fprintf(stderr, "feedscope-sim: %s\n", qPrintable(error));
        return Cli::ExitFatal;
    }
    QTextStream out(stdout);
    out << "feedscope-sim listening on " << sim.url().toString()
        << " (control: " << sim.controlUrl().toString() << ")" << Qt::endl;
    if (p.isSet(u"verbose"_s)) {
        QObject::connect(&sim, &Sim::FeedSimulator::clientConnected, &app,
                         [&out](int id) { out << "connection " << id << " open" << Qt::endl; });
        QObject::connect(&sim, &Sim::FeedSimulator::clientDisconnected, &app,
                         [&out](int id) { out << "connection " << id << " closed" << Qt::endl; });
        QObject::connect(&sim, &Sim::FeedSimulator::subscribed, &app, [&out](int id, const QByteArray &s) {
            out << "connection " << id << " subscribed " << s << Qt::endl;
        });
        QObject::connect(&sim, &Sim::FeedSimulator::errorSent, &app, [&out](int id, const QString &t) {
            out << "connection " << id << " error: " << t << Qt::endl;
        });
        QObject::connect(&sim, &Sim::FeedSimulator::faultApplied, &app,
                         [&out](const QString &d) { out << "fault: " << d << Qt::endl; });
        QObject::connect(&sim, &Sim::FeedSimulator::handshakeRefused, &app,
                         [&out](const QString &why) { out << "refused handshake: " << why << Qt::endl; });
    }
    QObject::connect(&sim, &Sim::FeedSimulator::replayFinished, &app,
                     [&out](qint64 n) { out << "replay finished: " << n << " frames" << Qt::endl; });
    UnixSignals unixSignals;
    QObject::connect(&unixSignals, &UnixSignals::terminate, &app, [&sim] {
        sim.stop();
        QCoreApplication::quit();
    });
    return app.exec();
}

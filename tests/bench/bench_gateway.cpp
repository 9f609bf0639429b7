// The gateway's benchmarks (issue 14 "Measure"). The gateway runs in this process exactly as the
// application runs it (Engine: pool, codec, registry, dispatcher with its built-in consumers;
// GatewayService: the downstream server and the hub), so this process's CPU is the gateway's.
// The feed and the clients are other processes (feedscope-gwpeer: a broadcasting feed, and an
// epoll client multiplexing many raw WebSocket clients on one thread), so neither shares the
// gateway's loop nor its CPU figure. Every figure is printed beside a baseline measured in the
// same invocation, runs interleaved and repeated, medians taken:
//   latency    the same clients straight on the feed vs through the gateway: paced trades at
//              1 k and 10 k msg/s, 1 and 10 clients; p50 / p99 / p99.9 of receive time - the
//              send time the feed stamped in the frame, and the difference
//   fanout     one upstream flood of trades to 1, 10 and 100 clients: deliveries/s counted at
//              the clients, the gateway's CPU µs per delivery; baseline: the feed writing the
//              same flood to the same clients directly (what the clients can take)
//   scale      100, 1 000 and 10 000 idle clients with 2 subscriptions each: RSS per client and
//              idle CPU at 10 000 against the idle CPU without them
//   isolation  10 clients at 10 k msg/s, one stops reading: the other nine's latency against a
//              run without the stalled client, per slow-client policy
//
//   bench_gateway [--smoke] [--quick] [--only latency|fanout|scale|isolation] [--threads N]
//                 [--results FILE]
// --smoke: short runs of every scenario; fails only when a client does not receive exactly what
// was sent (counts, order, no gap, no repeat, the hub's deliveries), never on speed.
#include "engine.h"
#include "gatewayservice.h"
#include "memorytuning.h"
#include "procstat.h"
#include "results.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTimer>

#include <QDir>
#include <QLoggingCategory>

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <memory>

using namespace FeedScope;
using FeedScope::Test::fdCount;
using FeedScope::Test::rssKiB;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

bool g_smoke = false;
bool g_quick = false;
int g_threads = 0;      ///< --threads: GatewayConfig::threads where the gateway has it
int g_scaleOnly = 0;    ///< --scale-clients N: the scale scenario with N clients only
bool g_nodelay = false; ///< --nodelay: TCP_NODELAY on the gateway's client sockets (a diagnosis)
QString g_results;
int g_failures = 0;

double cpuUsSelf()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/// Sets GatewayConfig::threads (the sharded gateway) when this build's gateway has the member.
template<typename Config> bool setGatewayThreads(Config &c, int n)
{
    if constexpr (requires { c.threads; }) {
        if (n > 0)
            c.threads = n;
        return true;
    } else {
        (void)c;
        (void)n;
        return false;
    }
}

/// Bytes the allocator has handed out and not taken back (every arena, mmapped chunks included).
qint64 heapInUseBytes()
{
    const struct mallinfo2 m = mallinfo2();
    return static_cast<qint64>(m.uordblks + m.hblkhd);
}

/// Runs the event loop (the gateway's) until @p pred holds or @p timeoutMs passes.
template<typename Pred> bool waitUntil(Pred pred, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!pred()) {
        if (deadline.hasExpired())
            return false;
        QEventLoop loop;
        QTimer::singleShot(20, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

/// Runs the event loop for @p ms with a single wake-up (the idle windows).
void idleFor(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

/// Sets TCP_NODELAY on every connected socket of this process whose local port is @p port (the
/// gateway's client sockets): what the gateway measures once it sets QAbstractSocket::LowDelayOption
/// on them. Returns how many sockets it set.
int setNoDelayOn(int port)
{
    int n = 0;
    const QStringList fds =
        QDir(u"/proc/self/fd"_s).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System);
    for (const QString &name : fds) {
        const int fd = name.toInt();
        sockaddr_in local{}, peer{};
        socklen_t len = sizeof local, plen = sizeof peer;
        if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) != 0 || local.sin_family != AF_INET ||
            ntohs(local.sin_port) != port || getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &plen) != 0)
            continue;
        const int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
            ++n;
    }
    return n;
}

// --- the peers --------------------------------------------------------------------------------

/// A feedscope-gwpeer process: lines on stdout (JSON events, or "PORT n" / "DONE n k").
class Peer
{
public:
    bool start(const QStringList &args, QString *error)
    {
        m_proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QObject::connect(&m_proc, &QProcess::readyReadStandardOutput, &m_proc, [this] {
            while (m_proc.canReadLine())
                m_lines.append(m_proc.readLine().trimmed());
        });
        m_proc.start(QStringLiteral(FEEDSCOPE_GWPEER_BIN), args);
        if (!m_proc.waitForStarted(10000)) {
            *error = u"feedscope-gwpeer did not start: "_s + m_proc.errorString();
            return false;
        }
        return true;
    }
    ~Peer()
    {
        if (m_proc.state() == QProcess::NotRunning)
            return;
        m_proc.write("quit\n");
        if (!waitUntil([this] { return m_proc.state() == QProcess::NotRunning; }, 5000))
            m_proc.kill();
        m_proc.waitForFinished(3000);
    }
    void send(const QByteArray &line) { m_proc.write(line + '\n'); }
    qint64 pid() const { return m_proc.processId(); }
    bool running() const { return m_proc.state() == QProcess::Running; }
    /// The first line from @p from on that starts with @p prefix.
    std::optional<QByteArray> line(const QByteArray &prefix, qsizetype *from = nullptr) const
    {
        for (qsizetype i = from ? *from : 0; i < m_lines.size(); ++i)
            if (m_lines.at(i).startsWith(prefix)) {
                if (from)
                    *from = i + 1;
                return m_lines.at(i);
            }
        return std::nullopt;
    }
    std::optional<QByteArray> waitLine(const QByteArray &prefix, int timeoutMs, qsizetype *from = nullptr)
    {
        std::optional<QByteArray> got;
        waitUntil(
            [&] {
                qsizetype at = from ? *from : 0;
                got = line(prefix, &at);
                if (got && from)
                    *from = at;
                return got.has_value() || !running();
            },
            timeoutMs);
        return got;
    }
    /// The JSON event {"ev":EV,...} (clients).
    std::optional<QJsonObject> waitEvent(const char *ev, int timeoutMs, qsizetype *from = nullptr)
    {
        const auto l = waitLine("{\"ev\":\"" + QByteArray(ev) + '"', timeoutMs, from);
        if (!l)
            return std::nullopt;
        return QJsonDocument::fromJson(*l).object();
    }

private:
    QProcess m_proc;
    QList<QByteArray> m_lines;
};

/// The feed: gwpeer feed, listening; the stream starts with go().
struct Feed
{
    Peer peer;
    int port = 0;
    bool start(const QString &mode, double rate, qint64 messages, QString *error)
    {
        if (!peer.start({u"feed"_s, u"--mode"_s, mode, u"--rate"_s, QString::number(rate), u"--messages"_s,
                         QString::number(messages)},
                        error))
            return false;
        const auto l = peer.waitLine("PORT ", 10000);
        if (!l) {
            *error = u"the feed printed no port"_s;
            return false;
        }
        port = l->mid(5).toInt();
        return port > 0;
    }
    void go() { peer.send("go"); }
};

/// The gateway as the application runs it, on the feed.
struct Gateway
{
    std::unique_ptr<Engine> engine;
    std::unique_ptr<GatewayService> service;

    bool start(int feedPort, Gw::GatewayConfig g, QString *error)
    {
        EngineConfig cfg;
        cfg.pool.url = QUrl(u"ws://127.0.0.1:%1/ws"_s.arg(feedPort));
        engine = std::make_unique<Engine>(cfg);
        if (!engine->start(error))
            return false;
        GatewayServiceConfig sc;
        sc.server = std::move(g);
        setGatewayThreads(sc.server, g_threads);
        service = std::make_unique<GatewayService>(*engine, sc);
        return service->start(error);
    }
    int port() const { return service->server().port(); }
    ~Gateway()
    {
        service.reset();
        if (engine)
            engine->shutdown(2s);
    }
};

QStringList clientArgs(int port, int clients, const QStringList &subs)
{
    QStringList a{u"client"_s, u"--port"_s, QString::number(port), u"--clients"_s, QString::number(clients)};
    for (const QString &s : subs)
        a << u"--sub"_s << s;
    return a;
}

const QString kTradesBtc = uR"({"type":"trades","coin":"BTC"})"_s;

// --- one stream run -----------------------------------------------------------------------------

struct StreamSpec
{
    QString mode = u"paced"_s; ///< paced | flood
    double rate = 1000;
    qint64 messages = 1000;
    int clients = 1;
    bool gateway = false;
    bool stall = false;   ///< one more client that stops reading
    bool nodelay = false; ///< TCP_NODELAY on the gateway's client sockets (also with --nodelay)
    qint64 warmup = 0;
    Gw::GatewayConfig gw;
};

struct StreamResult
{
    bool ok = false;
    QString error;
    QJsonObject done;        ///< the clients' summary
    double gatewayCpuUs = 0; ///< this process, from the stream's start to the last frame
    Gw::GatewayCounters counters;
    GatewayHubCounters hub;
    qint64 frames() const { return done.value(u"frames"_s).toInteger(); }
    qint64 p(const char *k) const { return done.value(QLatin1StringView(k)).toInteger(-1); }
    double secs() const
    {
        return static_cast<double>(done.value(u"last_ns"_s).toInteger() -
                                   done.value(u"first_ns"_s).toInteger()) /
               1e9;
    }
    double deliveriesPerSec() const { return secs() > 0 ? static_cast<double>(frames()) / secs() : 0; }
};

StreamResult runStream(const StreamSpec &sp)
{
    StreamResult r;
    Feed feed;
    QString error;
    auto fail = [&](const QString &why) {
        r.error = why;
        return r;
    };
    if (!feed.start(sp.mode, sp.rate, sp.messages, &error))
        return fail(error);
    Gateway gw;
    if (sp.gateway) {
        Gw::GatewayConfig g = sp.gw;
        g.maxClients = std::max(g.maxClients, sp.clients + 10);
        if (!gw.start(feed.port, g, &error))
            return fail(u"gateway: "_s + error);
    }
    const int total = sp.clients + (sp.stall ? 1 : 0);
    QStringList args = clientArgs(sp.gateway ? gw.port() : feed.port, total, {kTradesBtc});
    args << u"--expect"_s << QString::number(sp.messages) << u"--warmup"_s << QString::number(sp.warmup);
    if (sp.stall)
        args << u"--stall"_s << u"--rcvbuf"_s << u"16384"_s;
    Peer clients;
    if (!clients.start(args, &error))
        return fail(error);
    const auto ready = clients.waitEvent("ready", 60000);
    if (!ready || ready->value(u"open"_s).toInt() != total)
        return fail(u"clients not ready: %1"_s.arg(
            ready ? QString::fromUtf8(QJsonDocument(*ready).toJson(QJsonDocument::Compact))
                  : u"timed out"_s));
    if (sp.gateway && (sp.nodelay || g_nodelay) && setNoDelayOn(gw.port()) != total)
        return fail(u"--nodelay: not every client socket found"_s);
    const double cpu0 = cpuUsSelf();
    feed.go();
    const double streamSecs = sp.mode == u"paced"_s ? static_cast<double>(sp.messages) / sp.rate : 0;
    const int timeout = static_cast<int>((3 * streamSecs + 120) * 1000);
    auto done = clients.waitEvent("done", timeout);
    r.gatewayCpuUs = cpuUsSelf() - cpu0;
    if (!done) {
        clients.send("stop");
        done = clients.waitEvent("done", 10000);
    }
    if (sp.gateway) {
        r.counters = gw.service->server().counters();
        r.hub = gw.service->hub().counters();
    }
    if (!done)
        return fail(u"the clients gave no summary"_s);
    r.done = *done;
    const auto fed = feed.peer.waitLine("DONE ", 10000);
    // Exact delivery: every reading client got every frame, once, in order.
    QStringList wrong;
    if (r.done.value(u"min_frames"_s).toInteger() != sp.messages ||
        r.done.value(u"max_frames"_s).toInteger() != sp.messages)
        wrong << u"frames per client %1..%2 of %3"_s.arg(r.done.value(u"min_frames"_s).toInteger())
                     .arg(r.done.value(u"max_frames"_s).toInteger())
                     .arg(sp.messages);
    if (r.done.value(u"frames"_s).toInteger() != sp.messages * sp.clients)
        wrong << u"%1 frames at the clients, %2 sent"_s.arg(r.done.value(u"frames"_s).toInteger())
                     .arg(sp.messages * sp.clients);
    for (const char *k : {"gaps", "disorder", "errors", "failed"})
        if (const qint64 v = r.done.value(QLatin1StringView(k)).toInteger(); v != 0)
            wrong << u"%1 %2"_s.arg(v).arg(QLatin1StringView(k));
    if (!fed || fed->split(' ').value(1).toLongLong() != sp.messages)
        wrong << u"the feed did not finish its stream"_s;
    else if (fed->split(' ').value(2).toInt() != (sp.gateway ? 1 : total))
        wrong << u"the feed streamed to %1 connections"_s.arg(fed->split(' ').value(2).toInt());
    if (sp.gateway && !sp.stall && r.hub.deliveries != r.frames())
        wrong << u"the hub delivered %1, the clients received %2"_s.arg(r.hub.deliveries).arg(r.frames());
    if (const QString e = r.done.value(u"error"_s).toString(); !e.isEmpty())
        wrong << e;
    r.ok = wrong.isEmpty();
    r.error = wrong.join(u"; "_s);
    return r;
}

// --- statistics and output ----------------------------------------------------------------------

double median(QList<double> v)
{
    if (v.isEmpty())
        return -1;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v.at(v.size() / 2) : (v.at(v.size() / 2 - 1) + v.at(v.size() / 2)) / 2;
}

/// The median over the successful runs of @p f.
template<typename F> double medianOf(const QList<StreamResult> &runs, F f)
{
    QList<double> v;
    for (const StreamResult &r : runs)
        if (r.ok)
            v.append(f(r));
    return median(v);
}

QString us(double v)
{
    if (v < 0)
        return u"-"_s;
    return v >= 10000 ? u"%1 ms"_s.arg(v / 1000.0, 0, 'f', 1) : u"%1 µs"_s.arg(v, 0, 'f', 0);
}

/// Prints and counts the failed runs.
void report(const QString &what, const QList<StreamResult> &runs)
{
    for (const StreamResult &r : runs)
        if (!r.ok) {
            ++g_failures;
            std::printf("  FAILED (%s): %s\n", qPrintable(what), qPrintable(r.error));
        }
}

int repeats()
{
    return g_smoke || g_quick ? 1 : 3;
}

struct Goal
{
    QString what;
    double value;
    double target;
    bool atLeast;
    QString unit;
};
QList<Goal> g_goals;

// --- 1. added latency -----------------------------------------------------------------------------

void benchLatency()
{
    // The third variant, a diagnosis: the gateway with TCP_NODELAY set on its client sockets (what
    // the gateway measures once it sets QAbstractSocket::LowDelayOption itself). Left out when
    // --nodelay applies it to every gateway run.
    const bool diagnose = !g_nodelay && !g_smoke;
    std::printf(
        "\n1. added latency: paced trades, the same clients straight on the feed and through the "
        "gateway\n   (receive - send time stamped by the feed; median of %d interleaved runs each%s)\n",
        repeats(), diagnose ? "; nodelay: the gateway with TCP_NODELAY on its client sockets" : "");
    std::printf("  %6s %7s | %9s %9s %9s | %9s %9s %9s | %9s %7s %10s", "msg/s", "clients", "direct p50",
                "p99", "p99.9", "gw p50", "p99", "p99.9", "Δ p99", "gw/dir", "CPU µs/f");
    if (diagnose)
        std::printf(" | %9s %9s %9s %9s", "nodelay p50", "p99", "p99.9", "Δ p99");
    std::printf("\n");
    const double secs = g_smoke ? 0.3 : g_quick ? 2 : 5;
    for (double rate : {1000.0, 10000.0}) {
        for (int clients : {1, 10}) {
            StreamSpec sp;
            sp.rate = rate;
            sp.messages = static_cast<qint64>(rate * secs);
            sp.clients = clients;
            sp.warmup = g_smoke ? 0 : static_cast<qint64>(rate * 0.1);
            enum Variant { Direct, Gw, GwNoDelay };
            QList<Variant> order{Direct, Gw};
            if (diagnose)
                order.append(GwNoDelay);
            std::array<QList<StreamResult>, 3> runs;
            for (int rep = 0; rep < repeats(); ++rep) {
                for (Variant v : order) {
                    sp.gateway = v != Direct;
                    sp.nodelay = v == GwNoDelay;
                    runs[static_cast<size_t>(v)].append(runStream(sp));
                }
                std::rotate(order.begin(), order.begin() + 1, order.end()); // each goes first in turn
            }
            auto m = [&runs](Variant v, const char *k) {
                return medianOf(runs[static_cast<size_t>(v)],
                                [k](const StreamResult &r) { return static_cast<double>(r.p(k)); });
            };
            const double d50 = m(Direct, "p50_us"), d99 = m(Direct, "p99_us"), d999 = m(Direct, "p999_us");
            const double g50 = m(Gw, "p50_us"), g99 = m(Gw, "p99_us"), g999 = m(Gw, "p999_us");
            const double n50 = m(GwNoDelay, "p50_us"), n99 = m(GwNoDelay, "p99_us"),
                         n999 = m(GwNoDelay, "p999_us");
            const double cpu = medianOf(runs[Gw], [](const StreamResult &r) {
                return r.gatewayCpuUs / static_cast<double>(std::max<qint64>(1, r.frames()));
            });
            auto diff = [](double a, double b) {
                return a >= 0 && b >= 0 ? u"%1 µs"_s.arg(a - b, 0, 'f', 0) : u"-"_s;
            };
            std::printf("  %6.0f %7d | %9s %9s %9s | %9s %9s %9s | %9s %6.2fx %10.1f", rate, clients,
                        qPrintable(us(d50)), qPrintable(us(d99)), qPrintable(us(d999)), qPrintable(us(g50)),
                        qPrintable(us(g99)), qPrintable(us(g999)), qPrintable(diff(g99, d99)),
                        d99 > 0 ? g99 / d99 : 0.0, cpu);
            if (diagnose)
                std::printf(" | %9s %9s %9s %9s", qPrintable(us(n50)), qPrintable(us(n99)),
                            qPrintable(us(n999)), qPrintable(diff(n99, d99)));
            std::printf("\n");
            report(u"latency %1 msg/s, %2 clients"_s.arg(rate).arg(clients), runs[0] + runs[1] + runs[2]);
            QJsonObject row{{u"scenario"_s, u"latency"_s},  {u"rate"_s, rate},
                            {u"clients"_s, clients},        {u"runs"_s, repeats()},
                            {u"direct_p50_us"_s, d50},      {u"direct_p99_us"_s, d99},
                            {u"direct_p999_us"_s, d999},    {u"gateway_p50_us"_s, g50},
                            {u"gateway_p99_us"_s, g99},     {u"gateway_p999_us"_s, g999},
                            {u"added_p99_us"_s, g99 - d99}, {u"gateway_cpu_us_per_frame"_s, cpu},
                            {u"nodelay"_s, g_nodelay},      {u"threads"_s, g_threads}};
            if (diagnose) {
                row.insert(u"gateway_nodelay_p50_us"_s, n50);
                row.insert(u"gateway_nodelay_p99_us"_s, n99);
                row.insert(u"gateway_nodelay_p999_us"_s, n999);
            }
            Bench::appendResult(g_results, u"bench_gateway"_s, row);
            if (rate == 10000.0 && clients == 10 && d99 >= 0 && g99 >= 0) {
                g_goals.append({u"latency 10 k msg/s, 10 clients: gateway p99 - direct p99"_s, g99 - d99, 200,
                                false, u" µs"_s});
                if (diagnose && n99 >= 0)
                    g_goals.append(
                        {u"  the same with TCP_NODELAY (diagnosis)"_s, n99 - d99, 200, false, u" µs"_s});
            }
        }
    }
}

// --- 2. fan-out -----------------------------------------------------------------------------------

void benchFanout()
{
    std::printf(
        "\n2. fan-out: one upstream flood of trades to every client (deliveries/s counted at the "
        "clients;\n   baseline: the feed writing the same flood to the same clients directly; median of "
        "%d)\n",
        repeats());
    std::printf("  %7s %9s | %14s | %14s %8s %14s %12s\n", "clients", "frames", "direct deliv/s",
                "gw deliv/s", "gw/dir", "gw CPU µs/deliv", "gw vs 1 cl.");
    double perClientAt1 = 0;
    for (int clients : {1, 10, 100}) {
        const qint64 full = clients == 1 ? 300000 : clients == 10 ? 100000 : 20000;
        const qint64 messages = g_smoke ? std::max<qint64>(200, full / 100) : g_quick ? full / 4 : full;
        StreamSpec sp;
        sp.mode = u"flood"_s;
        sp.messages = messages;
        sp.clients = clients;
        sp.warmup = messages; // no latency samples: a flood's latency is its queue
        // A flood is faster than any fan-out: bounds that hold the whole flood, so that the figure
        // is the gateway's throughput and not its slow-client policy.
        sp.gw.queueBytes = qint64{4} * 1024 * 1024 * 1024;
        sp.gw.queueFrames = 100'000'000;
        QList<StreamResult> direct, gateway;
        for (int rep = 0; rep < repeats(); ++rep)
            for (bool viaGw : rep % 2 ? QList<bool>{true, false} : QList<bool>{false, true}) {
                sp.gateway = viaGw;
                (viaGw ? gateway : direct).append(runStream(sp));
            }
        const double d = medianOf(direct, [](const StreamResult &r) { return r.deliveriesPerSec(); });
        const double g = medianOf(gateway, [](const StreamResult &r) { return r.deliveriesPerSec(); });
        const double cpu = medianOf(gateway, [](const StreamResult &r) {
            return r.gatewayCpuUs / static_cast<double>(std::max<qint64>(1, r.frames()));
        });
        if (clients == 1)
            perClientAt1 = g;
        std::printf("  %7d %9lld | %14.0f | %14.0f %7.2fx %14.2f %11.2fx\n", clients,
                    static_cast<long long>(messages), d, g, d > 0 ? g / d : 0.0, cpu,
                    perClientAt1 > 0 ? g / perClientAt1 : 0.0);
        report(u"fan-out %1 clients"_s.arg(clients), direct + gateway);
        Bench::appendResult(g_results, u"bench_gateway"_s,
                            {{u"scenario"_s, u"fanout"_s},
                             {u"clients"_s, clients},
                             {u"frames"_s, messages},
                             {u"runs"_s, repeats()},
                             {u"direct_deliveries_per_s"_s, d},
                             {u"gateway_deliveries_per_s"_s, g},
                             {u"gateway_cpu_us_per_delivery"_s, cpu},
                             {u"threads"_s, g_threads}});
        if (clients == 100)
            g_goals.append({u"fan-out 100 clients: deliveries/s"_s, g, 1e6, true, u""_s});
    }
}

// --- 3. scale -------------------------------------------------------------------------------------

void benchScale()
{
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    getrlimit(RLIMIT_NOFILE, &lim);
    const int windowMs = g_smoke ? 1000 : g_quick ? 3000 : 10000;
    std::printf(
        "\n3. scale: idle clients with 2 subscriptions each (trades and l2Book of 50 coins: 100 upstream\n"
        "   subscriptions), file descriptors: %llu (soft = hard limit), idle window %.0f s\n",
        static_cast<unsigned long long>(lim.rlim_cur), windowMs / 1000.0);
    QList<int> counts{100, 1000, 10000};
    if (g_smoke)
        counts = {100};
    if (g_scaleOnly > 0)
        counts = {g_scaleOnly};
    while (counts.size() > 1 && static_cast<rlim_t>(counts.constLast()) + 200 > lim.rlim_cur) {
        std::printf("  SKIP %d clients: over the file-descriptor limit\n", counts.constLast());
        counts.removeLast();
    }
    QString error;
    Feed feed;
    Gateway gw;
    Gw::GatewayConfig g;
    g.maxClients = 20000;
    const QStringList subs{uR"({"type":"trades","coin":"C{i}"})"_s, uR"({"type":"l2Book","coin":"C{i}"})"_s};
    auto fail = [&](const QString &why) {
        ++g_failures;
        std::printf("  FAILED: %s\n", qPrintable(why));
    };
    if (!feed.start(u"idle"_s, 1, 0, &error) || !gw.start(feed.port, g, &error))
        return fail(error);
    // Every upstream subscription first, so that the figures are the clients' own.
    Peer warm;
    if (!warm.start(clientArgs(gw.port(), 50, subs), &error))
        return fail(error);
    if (const auto r = warm.waitEvent("ready", 60000); !r || r->value(u"open"_s).toInt() != 50)
        return fail(u"the 50 warm-up clients are not ready"_s);
    idleFor(1000);
    const double base0 = cpuUsSelf();
    idleFor(windowMs);
    const double baseCpu = (cpuUsSelf() - base0) / (windowMs * 10.0); // % of a core
    std::printf("  %7s | %10s %10s %12s %12s %10s | %10s %10s\n", "clients", "RSS before", "RSS after",
                "per client", "heap/client", "connect s", "idle CPU", "w/o them");
    for (int n : counts) {
        trimAllocator();
        idleFor(500);
        const qint64 rss0 = rssKiB();
        const qint64 heap0 = heapInUseBytes();
        Peer clients;
        QStringList args = clientArgs(gw.port(), n, subs);
        if (!clients.start(args, &error))
            return fail(error);
        const auto ready = clients.waitEvent("ready", 300000);
        if (!ready || ready->value(u"open"_s).toInt() != n) {
            return fail(u"%1 clients not ready: %2"_s.arg(n).arg(
                ready ? QString::fromUtf8(QJsonDocument(*ready).toJson(QJsonDocument::Compact))
                      : u"timed out"_s));
        }
        // Every client pings once (the SDKs ping every 50 s): the idle timers start afresh.
        clients.send("ping");
        if (!clients.waitEvent("pong", 120000))
            return fail(u"%1 clients: no pong from every client"_s.arg(n));
        trimAllocator();
        idleFor(500);
        const qint64 rss1 = rssKiB();
        const double heapPerClient = static_cast<double>(heapInUseBytes() - heap0) / 1024.0 / n;
        const int connected = gw.service->server().clientCount();
        double idleCpu = -1;
        if (n == counts.constLast()) {
            const double c0 = cpuUsSelf();
            idleFor(windowMs);
            idleCpu = (cpuUsSelf() - c0) / (windowMs * 10.0);
            if (gw.service->server().clientCount() != n + 50)
                return fail(u"%1 of %2 clients still connected after the idle window"_s
                                .arg(gw.service->server().clientCount())
                                .arg(n + 50));
        }
        if (connected != n + 50)
            return fail(u"the gateway serves %1 clients, %2 expected"_s.arg(connected).arg(n + 50));
        const double perClient = static_cast<double>(rss1 - rss0) / n;
        std::printf("  %7d | %7.1f MiB %7.1f MiB %8.1f KiB %8.1f KiB %10.1f | %10s %10s\n", n, rss0 / 1024.0,
                    rss1 / 1024.0, perClient, heapPerClient,
                    ready->value(u"connect_ms"_s).toDouble() / 1000.0,
                    qPrintable(idleCpu >= 0 ? u"%1 %"_s.arg(idleCpu, 0, 'f', 2) : u"-"_s),
                    qPrintable(idleCpu >= 0 ? u"%1 %"_s.arg(baseCpu, 0, 'f', 2) : u"-"_s));
        Bench::appendResult(g_results, u"bench_gateway"_s,
                            {{u"scenario"_s, u"scale"_s},
                             {u"clients"_s, n},
                             {u"fd_limit"_s, static_cast<qint64>(lim.rlim_cur)},
                             {u"rss_before_kib"_s, rss0},
                             {u"rss_after_kib"_s, rss1},
                             {u"rss_per_client_kib"_s, perClient},
                             {u"heap_per_client_kib"_s, heapPerClient},
                             {u"gateway_fds"_s, fdCount(QCoreApplication::applicationPid())},
                             {u"connect_s"_s, ready->value(u"connect_ms"_s).toDouble() / 1000.0},
                             {u"idle_cpu_pct"_s, idleCpu},
                             {u"idle_cpu_pct_without"_s, baseCpu},
                             {u"threads"_s, g_threads}});
        if (n == 10000) {
            g_goals.append({u"scale 10 000 idle clients: RSS per client"_s, perClient, 32, false, u" KiB"_s});
            g_goals.append({u"scale 10 000 idle clients: idle CPU"_s, idleCpu, 1, false, u" % of a core"_s});
        }
        QElapsedTimer leaving;
        leaving.start();
        clients.send("quit");
        if (!waitUntil([&] { return gw.service->server().clientCount() == 50; }, 600000))
            return fail(u"the %1 clients did not all go away"_s.arg(n));
        std::printf("  %7s   the %d clients left (sockets closed) in %.1f s\n", "", n,
                    static_cast<double>(leaving.elapsed()) / 1000.0);
    }
}

// --- 4. isolation ---------------------------------------------------------------------------------

void benchIsolation()
{
    const double rate = g_smoke ? 1000 : 10000;
    const double secs = g_smoke ? 0.5 : g_quick ? 4 : 6;
    const qint64 queue = 1024 * 1024;
    std::printf(
        "\n4. isolation: %.0f msg/s of trades to 9 clients, with and without a 10th that stops reading\n"
        "   (its receive buffer 16 KiB; the gateway's queue bound %lld KiB; median of %d)\n",
        rate, static_cast<long long>(queue / 1024), repeats());
    std::printf("  %16s | %9s %9s %9s | %9s %9s %9s | %7s | %s\n", "policy", "alone p50", "p99", "p99.9",
                "stall p50", "p99", "p99.9", "p99 x", "the stalled client");
    for (Gw::SlowPolicy policy :
         {Gw::SlowPolicy::Disconnect, Gw::SlowPolicy::DropOldest, Gw::SlowPolicy::CoalesceLatest}) {
        StreamSpec sp;
        sp.rate = rate;
        sp.messages = static_cast<qint64>(rate * secs);
        sp.clients = 9;
        sp.gateway = true;
        sp.warmup = g_smoke ? 0 : static_cast<qint64>(rate * 0.1);
        sp.gw.policy = policy;
        sp.gw.queueBytes = queue;
        QList<StreamResult> alone, stalled;
        for (int rep = 0; rep < repeats(); ++rep)
            for (bool stall : rep % 2 ? QList<bool>{true, false} : QList<bool>{false, true}) {
                sp.stall = stall;
                (stall ? stalled : alone).append(runStream(sp));
            }
        auto m = [](const QList<StreamResult> &runs, const char *k) {
            return medianOf(runs, [k](const StreamResult &r) { return static_cast<double>(r.p(k)); });
        };
        const double a50 = m(alone, "p50_us"), a99 = m(alone, "p99_us"), a999 = m(alone, "p999_us");
        const double s50 = m(stalled, "p50_us"), s99 = m(stalled, "p99_us"), s999 = m(stalled, "p999_us");
        QString fate = u"-"_s;
        if (!stalled.isEmpty()) {
            const StreamResult &last = stalled.constLast();
            const qint64 slow = last.counters.closed[static_cast<size_t>(Gw::CloseReason::SlowConsumer)];
            fate = policy == Gw::SlowPolicy::Disconnect
                       ? (slow > 0 ? u"closed 1008 slow consumer"_s
                                   : u"not cut (the stall did not fill the queue)"_s)
                   : policy == Gw::SlowPolicy::DropOldest
                       ? u"%1 frames dropped"_s.arg(last.counters.dropped)
                       : u"%1 frames coalesced, %2 dropped"_s.arg(last.counters.coalesced)
                             .arg(last.counters.dropped);
        }
        std::printf("  %16s | %9s %9s %9s | %9s %9s %9s | %6.2fx | %s\n", nameOf(policy).data(),
                    qPrintable(us(a50)), qPrintable(us(a99)), qPrintable(us(a999)), qPrintable(us(s50)),
                    qPrintable(us(s99)), qPrintable(us(s999)), a99 > 0 ? s99 / a99 : 0.0, qPrintable(fate));
        report(u"isolation, %1"_s.arg(nameOf(policy)), alone + stalled);
        Bench::appendResult(g_results, u"bench_gateway"_s,
                            {{u"scenario"_s, u"isolation"_s},
                             {u"policy"_s, nameOf(policy)},
                             {u"rate"_s, rate},
                             {u"runs"_s, static_cast<int>(alone.size())},
                             {u"alone_p50_us"_s, a50},
                             {u"alone_p99_us"_s, a99},
                             {u"alone_p999_us"_s, a999},
                             {u"stalled_p50_us"_s, s50},
                             {u"stalled_p99_us"_s, s99},
                             {u"stalled_p999_us"_s, s999},
                             {u"stalled_client"_s, fate},
                             {u"threads"_s, g_threads}});
    }
}

} // namespace

int main(int argc, char **argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // tables appear as they are measured, also into a file
    tuneAllocatorForLongRuns();               // as the application runs
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(u"feedscope.gateway.info=false"_s); // a line per client otherwise
    QString only;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == u"--smoke"_s)
            g_smoke = true;
        else if (args[i] == u"--quick"_s)
            g_quick = true;
        else if (args[i] == u"--results"_s && i + 1 < args.size())
            g_results = args[++i];
        else if (args[i] == u"--only"_s && i + 1 < args.size())
            only = args[++i];
        else if (args[i] == u"--scale-clients"_s && i + 1 < args.size())
            g_scaleOnly = args[++i].toInt();
        else if (args[i] == u"--nodelay"_s)
            g_nodelay = true;
        else if (args[i] == u"--threads"_s && i + 1 < args.size())
            g_threads = args[++i].toInt();
        else {
            std::fprintf(stderr,
                         "usage: bench_gateway [--smoke] [--quick] [--only latency|fanout|scale|isolation] "
                         "[--threads N] [--nodelay] [--scale-clients N] [--results FILE]\n");
            return 2;
        }
    }
    const QStringList scenarios{u"latency"_s, u"fanout"_s, u"scale"_s, u"isolation"_s};
    if (!only.isEmpty() && !scenarios.contains(only)) {
        std::fprintf(stderr, "bench_gateway: unknown scenario %s (latency, fanout, scale, isolation)\n",
                     qPrintable(only));
        return 2;
    }
    Gw::GatewayConfig probe;
    const bool sharded = setGatewayThreads(probe, 0);
    std::printf("%s\n", qPrintable(Bench::machineLine()));
    std::printf("gateway: in this process as the application runs it; feed and clients: feedscope-gwpeer "
                "processes; threads: %s\n",
                sharded ? qPrintable(g_threads > 0 ? QString::number(g_threads) : u"default"_s)
                        : "one (this gateway has no GatewayConfig::threads)");
    if (g_threads > 0 && !sharded)
        std::fprintf(stderr,
                     "bench_gateway: --threads ignored: this gateway has no GatewayConfig::threads\n");
    if (only.isEmpty() || only == u"latency"_s)
        benchLatency();
    if (only.isEmpty() || only == u"fanout"_s)
        benchFanout();
    if (only.isEmpty() || only == u"scale"_s)
        benchScale();
    if (only.isEmpty() || only == u"isolation"_s)
        benchIsolation();
    if (!g_smoke && !g_goals.isEmpty()) {
        std::printf("\ngoals (same run):\n");
        for (const Goal &g : std::as_const(g_goals)) {
            const bool met = g.atLeast ? g.value >= g.target : g.value <= g.target;
            std::printf("  %-52s %12.2f%s  goal %s %.0f%s  %s\n", qPrintable(g.what), g.value,
                        qPrintable(g.unit), g.atLeast ? ">=" : "<=", g.target, qPrintable(g.unit),
                        met ? "met" : "MISSED");
        }
    }
    if (g_failures > 0) {
        std::fprintf(stderr, "FAIL: %d run(s) did not deliver exactly what was sent (see above)\n",
                     g_failures);
        return 1;
    }
    std::printf("\nevery client received exactly what was sent\n");
    return 0;
}

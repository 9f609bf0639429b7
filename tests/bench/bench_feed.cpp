// The benchmark suite's ingest and latency measurements (issue 7, measurements 1 and 2): FeedScope
// (the real pool, codec, registry and dispatcher, as the headless agent runs them) against its
// floor and against the clients a user would write instead, each on the identical stream from
// feedscope-benchfeed, in one invocation:
//   B0  raw socket: parses WebSocket frame headers and counts (the floor)
//   B1  bare QWebSocket that counts
//   B2  QWebSocket + QJsonDocument, extracting the fields FeedScope routes on (channel, coin)
//   P1  Node.js + the `ws` package + JSON.parse, routing by channel and coin (peers/wsclient.js)
//   P2  Python + `websockets` + json, the same (peers/wsclient.py)
// Every figure is printed with its ratio against a baseline measured in the same run. Results go
// to a table on stdout and one JSON line per run to --results (appended).
//
//   bench_feed [--smoke] [--results FILE] [--only throughput|latency]
// --smoke: small streams, every client; fails only when a client gets a wrong count or none.
#include "engine.h"
#include "memorytuning.h"
#include "procstat.h"
#include "results.h"
#include "testutil.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTimer>
#include <QWebSocket>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

using namespace FeedScope;
using FeedScope::Test::rssKiB;
using FeedScope::Test::waitUntil;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

bool g_smoke = false;
int g_clientFilter = -1; ///< a Client, or every client
QString g_resultsFile;

struct Scenario
{
    QString name;      ///< "throughput", "latency", "burst"
    QString mode;      ///< benchfeed mode
    QStringList kinds; ///< subscription types per connection (mix: several)
    double rate = 0;   ///< paced: msg/s per connection
    int burst = 0;     ///< burst: frames per burst
    int connections = 1;
    qint64 perConnection = 0; ///< data frames per connection
    qint64 total() const { return perConnection * connections; }
    QString kindLabel() const { return kinds.size() > 1 ? u"mix"_s : kinds.constFirst(); }
    bool timed() const { return mode == u"paced"_s || mode == u"burst"_s; }
};

struct Run
{
    QString client;
    bool ok = false;
    QString error;
    qint64 msgs = 0;
    qint64 bytes = 0;
    double secs = 0;  ///< first to last data message
    double cpuUs = 0; ///< client CPU over the run
    QList<qint64> latUs;
    qint64 rssKiB = 0;
};

double cpuUsSelf()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

/// The "ts" a benchfeed message carries (CLOCK_MONOTONIC ns as a 19-digit string), or -1.
qint64 stampOf(QByteArrayView raw)
{
    const qsizetype at = raw.indexOf("\"ts\":\"");
    if (at < 0 || at + 6 + 19 > raw.size())
        return -1;
    qint64 v = 0;
    for (qsizetype i = at + 6; i < at + 6 + 19; ++i)
        v = v * 10 + (raw[i] - '0');
    return v;
}

QJsonObject subscriptionJson(const QString &kind, int connection)
{
    QJsonObject s{{u"type"_s, kind}};
    if (kind != u"allMids"_s)
        s.insert(u"coin"_s, u"C%1"_s.arg(connection));
    else if (connection > 0)
        s.insert(u"dex"_s, u"C%1"_s.arg(connection)); // a distinct allMids per connection
    return s;
}

/// Routes a client that keys on channel and coin tells apart (every allMids is one: no coin).
qint64 distinctRoutes(const Scenario &sc)
{
    QSet<QString> keys;
    for (int c = 0; c < sc.connections; ++c)
        for (const QString &kind : sc.kinds)
            keys.insert(kind + u'/' + subscriptionJson(kind, c).value(u"coin"_s).toString());
    return keys.size();
}

QByteArray subscribeFrame(const QJsonObject &s)
{
    return QJsonDocument(QJsonObject{{u"method"_s, u"subscribe"_s}, {u"subscription"_s, s}})
        .toJson(QJsonDocument::Compact);
}

/// A generous bound on a run: the stream at 2 k msg/s (the slowest peer on allMids), at least 30 s.
int timeoutFor(const Scenario &sc)
{
    const double secs = sc.mode == u"paced"_s ? static_cast<double>(sc.perConnection) / sc.rate
                                              : static_cast<double>(sc.total()) / 2000.0;
    return static_cast<int>(std::max(30.0, 3 * secs + 10) * 1000);
}

// --- the feed ---------------------------------------------------------------------------------

class Feed
{
public:
    bool start(const Scenario &sc, QString *error)
    {
        QStringList args{u"--mode"_s,     sc.mode,
                         u"--messages"_s, QString::number(sc.perConnection),
                         u"--subs"_s,     QString::number(sc.kinds.size())};
        if (sc.rate > 0)
            args << u"--rate"_s << QString::number(sc.rate);
        if (sc.burst > 0)
            args << u"--burst"_s << QString::number(sc.burst);
        m_proc.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_proc.start(QStringLiteral(FEEDSCOPE_BENCHFEED_BIN), args);
        if (!m_proc.waitForStarted(5000)) {
            *error = u"feedscope-benchfeed did not start: "_s + m_proc.errorString();
            return false;
        }
        QByteArray out;
        while (!out.contains('\n') && m_proc.waitForReadyRead(5000))
            out += m_proc.readAllStandardOutput();
        if (!out.startsWith("PORT ")) {
            *error = u"feedscope-benchfeed printed no port"_s;
            return false;
        }
        m_port = out.mid(5).trimmed().toInt();
        return true;
    }
    ~Feed()
    {
        m_proc.kill();
        m_proc.waitForFinished(3000);
    }
    int port() const { return m_port; }
    QUrl url() const { return QUrl(u"ws://127.0.0.1:%1/ws"_s.arg(m_port)); }

private:
    QProcess m_proc;
    int m_port = 0;
};

// --- clients ----------------------------------------------------------------------------------

/// FeedScope as the headless agent runs it (Engine: pool, codec, registry, dispatcher with its
/// built-in consumers), plus an inline consumer that counts what was applied and when.
Run runFeedScope(const Scenario &sc, const Feed &feed)
{
    Run r;
    r.client = u"FeedScope"_s;
    EngineConfig cfg;
    cfg.pool.url = feed.url();
    cfg.pool.maxSubscriptionsPerConnection = static_cast<int>(sc.kinds.size());
    cfg.pool.maxConnections = std::max(sc.connections, 1);
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.pool.outgoingPerMinute = 100000;
    struct Probe
    {
        std::atomic<qint64> count{0};
        qint64 bytes = 0, firstNs = 0, lastNs = 0;
        QList<qint64> lat;
    };
    auto probe = std::make_shared<Probe>();
    const qint64 expected = sc.total();
    const bool timed = sc.timed();
    if (timed)
        probe->lat.reserve(expected);
    Engine engine(cfg);
    engine.addConsumer(
        u"bench"_s,
        [probe, expected, timed](const DataFrame &f) {
            const qint64 now = monotonicNs();
            if (probe->count.load(std::memory_order_relaxed) == 0)
                probe->firstNs = now;
            probe->bytes += f.raw.size();
            if (timed)
                if (const qint64 ts = stampOf(f.raw); ts > 0)
                    probe->lat.append((now - ts) / 1000);
            if (probe->count.fetch_add(1, std::memory_order_release) + 1 == expected)
                probe->lastNs = now;
        },
        true);
    const double cpu0 = cpuUsSelf();
    QString error;
    if (!engine.start(&error)) {
        r.error = error;
        return r;
    }
    for (int c = 0; c < sc.connections; ++c)
        for (const QString &kind : sc.kinds) {
            auto s = Hl::Subscription::fromJson(subscriptionJson(kind, c), &error);
            if (!s) {
                r.error = error;
                return r;
            }
            engine.subscribe(*s, u"bench"_s);
        }
    const bool done =
        waitUntil([&] { return probe->count.load(std::memory_order_acquire) >= expected; }, timeoutFor(sc));
    r.cpuUs = cpuUsSelf() - cpu0;
    r.rssKiB = rssKiB();
    engine.shutdown(1s);
    r.msgs = probe->count.load();
    r.ok = done && r.msgs == expected;
    if (!r.ok)
        r.error = u"received %1 of %2"_s.arg(r.msgs).arg(expected);
    r.bytes = probe->bytes;
    r.secs = static_cast<double>(probe->lastNs - probe->firstNs) / 1e9;
    r.latUs = probe->lat;
    return r;
}

/// A diagnostic client (--client pool, not in the suite's table): the pool, connections and codec
/// without the engine's registry and dispatcher, to tell where FeedScope's per-frame cost goes.
Run runPoolOnly(const Scenario &sc, const Feed &feed)
{
    Run r;
    r.client = u"FeedScope pool only"_s;
    PoolConfig cfg;
    cfg.url = feed.url();
    cfg.maxSubscriptionsPerConnection = static_cast<int>(sc.kinds.size());
    cfg.maxConnections = std::max(sc.connections, 1);
    cfg.newConnectionsPerMinute = 1000;
    cfg.outgoingPerMinute = 100000;
    std::atomic<qint64> count{0};
    qint64 firstNs = 0, lastNs = 0;
    const qint64 expected = sc.total();
    const double cpu0 = cpuUsSelf();
    PoolHost host(cfg);
    QObject::connect(
        host.pool(), &ConnectionPool::routed, host.pool(),
        [&](const QList<DataFrame> &frames) {
            const qint64 now = monotonicNs();
            if (count.load(std::memory_order_relaxed) == 0)
                firstNs = now;
            for (const DataFrame &f : frames)
                r.bytes += f.raw.size();
            if (count.fetch_add(frames.size(), std::memory_order_release) + frames.size() >= expected)
                lastNs = now;
        },
        Qt::DirectConnection);
    for (int c = 0; c < sc.connections; ++c)
        for (const QString &kind : sc.kinds)
            if (auto s = Hl::Subscription::fromJson(subscriptionJson(kind, c)))
                host.subscribe(*s);
    const bool done =
        waitUntil([&] { return count.load(std::memory_order_acquire) >= expected; }, timeoutFor(sc));
    r.cpuUs = cpuUsSelf() - cpu0;
    r.rssKiB = rssKiB();
    host.shutdown(1s);
    r.msgs = count.load();
    r.ok = done && r.msgs == expected;
    if (!r.ok)
        r.error = u"received %1 of %2"_s.arg(r.msgs).arg(expected);
    r.secs = static_cast<double>(lastNs - firstNs) / 1e9;
    return r;
}

/// B1 (count) and B2 (QJsonDocument, channel and coin) on bare QWebSockets, on this thread.
Run runQWebSocket(const Scenario &sc, const Feed &feed, bool parseJson)
{
    Run r;
    r.client = parseJson ? u"B2 QWebSocket+QJsonDocument"_s : u"B1 QWebSocket"_s;
    const qint64 expected = sc.total();
    qint64 seen = 0, firstNs = 0, lastNs = 0;
    QHash<QString, qint64> routed;
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    const bool timed = sc.timed();
    if (timed)
        r.latUs.reserve(expected);
    const double cpu0 = cpuUsSelf();
    for (int c = 0; c < sc.connections; ++c) {
        auto ws = std::make_unique<QWebSocket>();
        QWebSocket *w = ws.get();
        QObject::connect(w, &QWebSocket::connected, w, [w, &sc, c] {
            for (const QString &kind : sc.kinds)
                w->sendTextMessage(QString::fromUtf8(subscribeFrame(subscriptionJson(kind, c))));
        });
        QObject::connect(w, &QWebSocket::textMessageReceived, w, [&](const QString &m) {
            const qint64 now = monotonicNs();
            if (parseJson) {
                const QJsonObject o = QJsonDocument::fromJson(m.toUtf8()).object();
                const QString channel = o.value(u"channel"_s).toString();
                if (channel == u"subscriptionResponse"_s)
                    return;
                const QJsonValue data = o.value(u"data"_s);
                const QJsonObject first = data.isArray() ? data.toArray().at(0).toObject() : data.toObject();
                ++routed[channel + u'/' + first.value(u"coin"_s).toString()];
                if (timed)
                    r.latUs.append((now - first.value(u"ts"_s).toString().toLongLong()) / 1000);
            } else {
                if (m.startsWith(u"{\"channel\":\"subscriptionResponse\""_s))
                    return; // the acks (one cheap look at the start)
                if (timed)
                    r.latUs.append((now - stampOf(m.toUtf8())) / 1000);
            }
            if (seen == 0)
                firstNs = now;
            r.bytes += m.size();
            if (++seen == expected)
                lastNs = now;
        });
        w->open(feed.url());
        sockets.push_back(std::move(ws));
    }
    const bool done = waitUntil([&] { return seen >= expected; }, timeoutFor(sc));
    r.cpuUs = cpuUsSelf() - cpu0;
    r.rssKiB = rssKiB();
    r.msgs = seen;
    r.ok = done && seen == expected;
    if (parseJson && r.ok)
        r.ok = routed.size() == distinctRoutes(sc);
    if (!r.ok)
        r.error = u"received %1 of %2 (%3 routes)"_s.arg(seen).arg(expected).arg(routed.size());
    r.secs = static_cast<double>(lastNs - firstNs) / 1e9;
    return r;
}

/// B0: blocking POSIX sockets and poll(); parses frame headers, skips payloads, counts.
Run runRawSocket(const Scenario &sc, const Feed &feed)
{
    Run r;
    r.client = u"B0 raw socket"_s;
    const qint64 expected = sc.total();
    const double cpu0 = cpuUsSelf();
    struct Conn
    {
        int fd = -1;
        QByteArray buf;
        qint64 skip = 0; ///< payload bytes of the current frame still to skip
        int acks = 0;
    };
    std::vector<Conn> conns(static_cast<size_t>(sc.connections));
    auto fail = [&](const QString &why) {
        for (Conn &c : conns)
            if (c.fd >= 0)
                ::close(c.fd);
        r.error = why;
        return r;
    };
    for (int i = 0; i < sc.connections; ++i) {
        Conn &c = conns[static_cast<size_t>(i)];
        c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(feed.port()));
        if (::connect(c.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
            return fail(u"connect failed"_s);
        const QByteArray hello = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
                                 "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                 "Sec-WebSocket-Version: 13\r\n\r\n";
        if (::send(c.fd, hello.constData(), static_cast<size_t>(hello.size()), MSG_NOSIGNAL) != hello.size())
            return fail(u"handshake failed"_s);
        char tmp[4096];
        while (!c.buf.contains("\r\n\r\n")) {
            const ssize_t n = ::recv(c.fd, tmp, sizeof tmp, 0);
            if (n <= 0)
                return fail(u"handshake failed"_s);
            c.buf.append(tmp, n);
        }
        if (!c.buf.startsWith("HTTP/1.1 101"))
            return fail(u"handshake refused"_s);
        c.buf.remove(0, c.buf.indexOf("\r\n\r\n") + 4);
        for (const QString &kind : sc.kinds) {
            // A client frame: FIN+text, masked (mask 0: the payload stays as it is).
            const QByteArray p = subscribeFrame(subscriptionJson(kind, i));
            QByteArray f;
            f += char(0x81);
            if (p.size() < 126) {
                f += char(0x80 | p.size());
            } else {
                f += char(0x80 | 126);
                f += char((p.size() >> 8) & 0xff);
                f += char(p.size() & 0xff);
            }
            f += QByteArray(4, '\0');
            f += p;
            ::send(c.fd, f.constData(), static_cast<size_t>(f.size()), MSG_NOSIGNAL);
        }
    }
    const int acksPerConn = static_cast<int>(sc.kinds.size());
    qint64 seen = 0, firstNs = 0, lastNs = 0;
    std::vector<pollfd> fds;
    for (const Conn &c : conns)
        fds.push_back(pollfd{c.fd, POLLIN, 0});
    QByteArray chunk(256 * 1024, Qt::Uninitialized);
    QDeadlineTimer deadline(timeoutFor(sc));
    while (seen < expected && !deadline.hasExpired()) {
        if (::poll(fds.data(), fds.size(), 1000) <= 0)
            continue;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (!(fds[i].revents & POLLIN))
                continue;
            Conn &c = conns[i];
            const ssize_t n = ::recv(c.fd, chunk.data(), static_cast<size_t>(chunk.size()), 0);
            if (n <= 0)
                return fail(u"connection closed"_s);
            r.bytes += n;
            qsizetype pos = 0;
            // Skip the rest of a payload, then parse headers; keep a partial header for later.
            if (c.skip >= n) {
                c.skip -= n;
                continue;
            }
            pos = c.skip;
            c.skip = 0;
            c.buf.append(chunk.constData() + pos, n - pos);
            qsizetype at = 0;
            while (c.buf.size() - at >= 2) {
                const auto *h = reinterpret_cast<const unsigned char *>(c.buf.constData() + at);
                const qsizetype avail = c.buf.size() - at;
                qint64 len = h[1] & 0x7f;
                qsizetype hdr = 2;
                if (len == 126) {
                    if (avail < 4)
                        break;
                    len = (h[2] << 8) | h[3];
                    hdr = 4;
                } else if (len == 127) {
                    if (avail < 10)
                        break;
                    len = 0;
                    for (int k = 0; k < 8; ++k)
                        len = (len << 8) | h[2 + k];
                    hdr = 10;
                }
                if ((h[0] & 0x0f) == 0x1) {
                    if (c.acks < acksPerConn) {
                        ++c.acks;
                    } else {
                        const qint64 now = monotonicNs();
                        if (seen == 0)
                            firstNs = now;
                        if (++seen == expected)
                            lastNs = now;
                    }
                }
                if (avail - hdr >= len) {
                    at += hdr + len;
                } else {
                    c.skip = len - (avail - hdr);
                    at = c.buf.size();
                }
            }
            c.buf.remove(0, at);
        }
    }
    r.cpuUs = cpuUsSelf() - cpu0;
    r.rssKiB = rssKiB();
    for (Conn &c : conns)
        ::close(c.fd);
    r.msgs = seen;
    r.ok = seen == expected;
    if (!r.ok)
        r.error = u"received %1 of %2"_s.arg(seen).arg(expected);
    r.secs = static_cast<double>(lastNs - firstNs) / 1e9;
    return r;
}

/// P1 and P2: a child process that prints one JSON result line.
Run runPeer(const Scenario &sc, const Feed &feed, bool node)
{
    Run r;
    r.client = node ? u"P1 Node ws"_s : u"P2 Python websockets"_s;
    const QString dir = QStringLiteral(FEEDSCOPE_BENCH_PEERS);
    QString program;
    QStringList args;
    if (node) {
        program = u"node"_s;
        args << dir + u"/wsclient.js"_s;
    } else {
        program = u"/usr/bin/python3"_s;
        args << dir + u"/wsclient.py"_s;
    }
    QJsonArray subs;
    for (int c = 0; c < sc.connections; ++c) {
        QJsonArray mine;
        for (const QString &kind : sc.kinds)
            mine.append(subscriptionJson(kind, c));
        subs.append(mine);
    }
    args << feed.url().toString() << QString::fromUtf8(QJsonDocument(subs).toJson(QJsonDocument::Compact))
         << QString::number(sc.perConnection) << (sc.timed() ? u"1"_s : u"0"_s);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Debian's node-ws lives in /usr/share/nodejs, which a Node.js from elsewhere does not search.
    env.insert(u"NODE_PATH"_s, u"/usr/share/nodejs"_s);
    p.setProcessEnvironment(env);
    p.start(program, args);
    if (!p.waitForStarted(5000)) {
        r.error = program + u": "_s + p.errorString();
        return r;
    }
    if (!p.waitForFinished(timeoutFor(sc))) {
        p.kill();
        p.waitForFinished(3000);
        r.error = u"timed out"_s;
        return r;
    }
    const QByteArray out = p.readAllStandardOutput().trimmed();
    const QJsonObject o = QJsonDocument::fromJson(out.split('\n').constLast()).object();
    if (p.exitCode() != 0 || o.isEmpty()) {
        r.error = QString::fromUtf8(p.readAllStandardError().trimmed().right(300));
        if (r.error.isEmpty())
            r.error = u"exit code %1"_s.arg(p.exitCode());
        return r;
    }
    r.msgs = o.value(u"msgs"_s).toInteger();
    r.bytes = o.value(u"bytes"_s).toInteger();
    r.secs = o.value(u"secs"_s).toDouble();
    r.cpuUs = o.value(u"cpu_us"_s).toDouble();
    r.rssKiB = o.value(u"rss_kib"_s).toInteger();
    for (const QJsonValue v : o.value(u"lat_us"_s).toArray())
        r.latUs.append(v.toInteger());
    const qint64 routes = o.value(u"routes"_s).toInteger();
    r.ok = r.msgs == sc.total() && routes == distinctRoutes(sc);
    if (!r.ok)
        r.error = u"received %1 of %2 (%3 routes)"_s.arg(r.msgs).arg(sc.total()).arg(routes);
    return r;
}

/// Whether the peers' runtimes are here; in CI (FEEDSCOPE_REQUIRE_PEERS=1) a missing one fails.
QString peerMissing(bool node)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"NODE_PATH"_s, u"/usr/share/nodejs"_s);
    p.setProcessEnvironment(env);
    if (node)
        p.start(u"node"_s, {u"-e"_s, u"require('ws')"_s});
    else
        p.start(u"/usr/bin/python3"_s, {u"-c"_s, u"import websockets"_s});
    if (!p.waitForFinished(20000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return node ? u"node with the ws package (Debian node-ws)"_s
                    : u"/usr/bin/python3 with websockets (Debian python3-websockets)"_s;
    return {};
}

// --- output -----------------------------------------------------------------------------------

qint64 pct(QList<qint64> v, double q)
{
    if (v.isEmpty())
        return -1;
    std::sort(v.begin(), v.end());
    const auto k =
        std::min<qsizetype>(v.size() - 1, static_cast<qsizetype>(q * static_cast<double>(v.size())));
    return v.at(k);
}

struct Row
{
    Scenario sc;
    Run run;
    double rate() const { return run.secs > 0 ? static_cast<double>(run.msgs) / run.secs : 0; }
};

QString latencyCell(qint64 us)
{
    if (us < 0)
        return u"-"_s;
    return us >= 10000 ? u"%1 ms"_s.arg(static_cast<double>(us) / 1000.0, 0, 'f', 1) : u"%1 µs"_s.arg(us);
}

void emitRow(const Row &row)
{
    const Run &r = row.run;
    QJsonObject o{{u"scenario"_s, row.sc.name},
                  {u"kind"_s, row.sc.kindLabel()},
                  {u"mode"_s, row.sc.mode},
                  {u"rate"_s, row.sc.rate},
                  {u"connections"_s, row.sc.connections},
                  {u"subscriptions"_s, static_cast<qint64>(row.sc.kinds.size()) * row.sc.connections},
                  {u"client"_s, r.client},
                  {u"ok"_s, r.ok},
                  {u"msgs"_s, r.msgs},
                  {u"secs"_s, r.secs},
                  {u"msg_per_s"_s, row.rate()},
                  {u"mb_per_s"_s, r.secs > 0 ? static_cast<double>(r.bytes) / r.secs / 1e6 : 0.0},
                  {u"cpu_us_per_msg"_s, r.msgs > 0 ? r.cpuUs / static_cast<double>(r.msgs) : 0.0},
                  {u"p50_us"_s, pct(r.latUs, 0.50)},
                  {u"p90_us"_s, pct(r.latUs, 0.90)},
                  {u"p99_us"_s, pct(r.latUs, 0.99)},
                  {u"p999_us"_s, pct(r.latUs, 0.999)},
                  {u"max_us"_s, r.latUs.isEmpty() ? -1 : *std::max_element(r.latUs.cbegin(), r.latUs.cend())},
                  {u"rss_kib"_s, r.rssKiB}};
    if (!r.ok)
        o.insert(u"error"_s, r.error);
    Bench::appendResult(g_resultsFile, u"bench_feed"_s, o);
}

/// The run of the client whose name starts with @p prefix, if it succeeded.
const Row *clientRow(const QList<Row> &rows, QStringView prefix)
{
    for (const Row &r : rows)
        if (r.run.client.startsWith(prefix) && r.run.ok)
            return &r;
    return nullptr;
}

void printThroughput(const QList<Row> &rows)
{
    if (rows.isEmpty())
        return;
    const Row *b1 = clientRow(rows, u"B1");
    const Scenario &sc = rows.constFirst().sc;
    std::printf("\n%s, %s, %d connection%s, %lld messages:\n", qPrintable(sc.mode),
                qPrintable(sc.kindLabel()), sc.connections, sc.connections > 1 ? "s" : "",
                static_cast<long long>(sc.total()));
    std::printf("  %-30s %12s %9s %10s %9s %10s\n", "client", "msg/s", "MB/s", "CPU µs/msg", "RSS MiB",
                "vs B1");
    for (const Row &r : rows) {
        if (!r.run.ok) {
            std::printf("  %-30s FAILED: %s\n", qPrintable(r.run.client), qPrintable(r.run.error));
            continue;
        }
        const double ratio = b1 && b1->rate() > 0 ? r.rate() / b1->rate() : 0;
        std::printf("  %-30s %12.0f %9.1f %10.2f %9.1f %9.2fx\n", qPrintable(r.run.client), r.rate(),
                    static_cast<double>(r.run.bytes) / r.run.secs / 1e6,
                    r.run.cpuUs / static_cast<double>(r.run.msgs), static_cast<double>(r.run.rssKiB) / 1024.0,
                    ratio);
    }
}

void printLatency(const QList<Row> &rows)
{
    if (rows.isEmpty())
        return;
    const Row *b1 = clientRow(rows, u"B1");
    const Scenario &sc = rows.constFirst().sc;
    if (sc.mode == u"burst"_s)
        std::printf("\nburst, %s, %d frames every 100 ms, %lld messages (send -> applied):\n",
                    qPrintable(sc.kindLabel()), sc.burst, static_cast<long long>(sc.total()));
    else
        std::printf("\npaced, %s, %.0f msg/s, %lld messages (send -> applied):\n", qPrintable(sc.kindLabel()),
                    sc.rate, static_cast<long long>(sc.total()));
    std::printf("  %-30s %10s %10s %10s %10s %10s %12s %10s\n", "client", "p50", "p90", "p99", "p99.9", "max",
                "p99 - B1", "CPU µs/msg");
    for (const Row &r : rows) {
        if (!r.run.ok) {
            std::printf("  %-30s FAILED: %s\n", qPrintable(r.run.client), qPrintable(r.run.error));
            continue;
        }
        const qint64 p99 = pct(r.run.latUs, 0.99);
        const QString diff = b1 ? u"%1 µs"_s.arg(p99 - pct(b1->run.latUs, 0.99), 0, 10) : u"-"_s;
        std::printf(
            "  %-30s %10s %10s %10s %10s %10s %12s %10.2f\n", qPrintable(r.run.client),
            qPrintable(latencyCell(pct(r.run.latUs, 0.5))), qPrintable(latencyCell(pct(r.run.latUs, 0.9))),
            qPrintable(latencyCell(p99)), qPrintable(latencyCell(pct(r.run.latUs, 0.999))),
            qPrintable(latencyCell(
                r.run.latUs.isEmpty() ? -1 : *std::max_element(r.run.latUs.cbegin(), r.run.latUs.cend()))),
            qPrintable(diff), r.run.cpuUs / static_cast<double>(std::max<qint64>(1, r.run.msgs)));
    }
}

enum Client { FeedScopeClient, B0, B1, B2, P1, P2, PoolOnly };

QList<Row> runScenario(const Scenario &sc, const QList<Client> &clients, int *failures)
{
    QList<Row> rows;
    for (Client c : clients) {
        if (g_clientFilter >= 0 && c != g_clientFilter)
            continue;
        Feed feed; // a fresh server per run: every client sees the identical stream from its start
        QString error;
        Run run;
        if (!feed.start(sc, &error)) {
            run.error = error;
        } else {
            switch (c) {
            case FeedScopeClient:
                run = runFeedScope(sc, feed);
                break;
            case B0:
                run = runRawSocket(sc, feed);
                break;
            case B1:
                run = runQWebSocket(sc, feed, false);
                break;
            case B2:
                run = runQWebSocket(sc, feed, true);
                break;
            case P1:
                run = runPeer(sc, feed, true);
                break;
            case P2:
                run = runPeer(sc, feed, false);
                break;
            case PoolOnly:
                run = runPoolOnly(sc, feed);
                break;
            }
        }
        if (!run.ok)
            ++*failures;
        rows.append(Row{sc, run});
        emitRow(rows.constLast());
    }
    return rows;
}

double rateOf(const QList<Row> &rows, QStringView prefix)
{
    const Row *r = clientRow(rows, prefix);
    return r ? r->rate() : 0;
}

} // namespace

int main(int argc, char **argv)
{
    tuneAllocatorForLongRuns(); // as the agent and the GUI run
    QCoreApplication app(argc, argv);
    QString only, clientFilter, kindFilter;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == u"--smoke"_s)
            g_smoke = true;
        else if (args[i] == u"--results"_s && i + 1 < args.size())
            g_resultsFile = args[++i];
        else if (args[i] == u"--only"_s && i + 1 < args.size())
            only = args[++i];
        else if (args[i] == u"--client"_s && i + 1 < args.size())
            clientFilter = args[++i];
        else if (args[i] == u"--kind"_s && i + 1 < args.size())
            kindFilter = args[++i];
        else {
            std::fprintf(stderr, "usage: bench_feed [--smoke] [--results FILE] [--only throughput|latency] "
                                 "[--client feedscope|b0|b1|b2|p1|p2] [--kind trades|l2Book|allMids|mix]\n");
            return 2;
        }
    }
    QList<Client> clients{B0, B1, B2, FeedScopeClient};
    const bool requirePeers = qEnvironmentVariable("FEEDSCOPE_REQUIRE_PEERS") == u"1"_s;
    for (bool node : {true, false}) {
        if (const QString missing = peerMissing(node); !missing.isEmpty()) {
            std::fprintf(stderr, "%s: %s is not installed%s\n", requirePeers ? "FAIL" : "SKIP",
                         qPrintable(missing), requirePeers ? "" : " (its peer is left out)");
            if (requirePeers)
                return 1;
        } else {
            clients.append(node ? P1 : P2);
        }
    }
    if (!clientFilter.isEmpty()) { // one client, e.g. under a profiler
        const QStringList names{u"feedscope"_s, u"b0"_s, u"b1"_s, u"b2"_s, u"p1"_s, u"p2"_s, u"pool"_s};
        const auto i = names.indexOf(clientFilter.toLower());
        if (i < 0) {
            std::fprintf(stderr, "bench_feed: unknown client %s\n", qPrintable(clientFilter));
            return 2;
        }
        g_clientFilter = static_cast<int>(i);
        if (g_clientFilter == PoolOnly)
            clients.append(PoolOnly);
    }
    std::printf("%s\n", qPrintable(Bench::machineLine()));
    int failures = 0;
    const double scale = g_smoke ? 0.02 : 1.0;
    auto n = [scale](qint64 full) {
        return std::max<qint64>(200, static_cast<qint64>(static_cast<double>(full) * scale));
    };

    // 1. Ingest throughput per kind, 1 and 4 connections (the same total).
    std::map<QString, QList<Row>> oneConn;
    if (only.isEmpty() || only == u"throughput"_s) {
        const QList<std::pair<QString, qint64>> kinds{
            {u"trades"_s, 300000}, {u"l2Book"_s, 60000}, {u"allMids"_s, 8000}};
        for (const auto &[kind, total] : kinds) {
            if (!kindFilter.isEmpty() && kind != kindFilter)
                continue;
            for (int conns : {1, 4}) {
                Scenario sc{u"throughput"_s, u"flood"_s, {kind}, 0, 0, conns, n(total) / conns};
                const QList<Row> rows = runScenario(sc, clients, &failures);
                printThroughput(rows);
                if (conns == 1)
                    oneConn[kind] = rows;
            }
        }
        if (kindFilter.isEmpty() || kindFilter == u"mix"_s) {
            Scenario mix{u"throughput"_s, u"mix"_s, {u"trades"_s, u"l2Book"_s, u"allMids"_s}, 0, 0, 4,
                         n(60000)};
            printThroughput(runScenario(mix, clients, &failures));
        }
    }

    // 2. Latency send -> applied, paced, and a burst.
    QList<Row> at10k;
    if (only.isEmpty() || only == u"latency"_s) {
        for (double rate : {1000.0, 10000.0, 50000.0}) {
            const qint64 msgs = static_cast<qint64>(rate * (g_smoke ? 0.3 : 3.0));
            Scenario sc{u"latency"_s, u"paced"_s, {u"trades"_s}, rate, 0, 1, msgs};
            QList<Client> lc{B1, B2, FeedScopeClient};
            for (Client c : clients)
                if (c == P1 || c == P2)
                    lc.append(c);
            const QList<Row> rows = runScenario(sc, lc, &failures);
            printLatency(rows);
            if (rate == 10000.0)
                at10k = rows;
        }
        Scenario burst{u"burst"_s, u"burst"_s, {u"l2Book"_s}, 0, 1000, 1, g_smoke ? 2000 : 20000};
        printLatency(runScenario(burst, {B1, B2, FeedScopeClient}, &failures));
    }

    // The goals, each against its baseline from this run.
    if (!g_smoke) {
        std::printf("\ngoals (same run, same stream):\n");
        auto goal = [](const char *what, double value, double target, bool atLeast, const char *unit) {
            const bool met = atLeast ? value >= target : value <= target;
            std::printf("  %-48s %10.2f%s  goal %s %.2f%s  %s\n", what, value, unit,
                        atLeast ? ">=" : "<=", target, unit, met ? "met" : "MISSED");
        };
        if (oneConn.count(u"trades"_s)) {
            const auto &t = oneConn[u"trades"_s];
            const double fs = rateOf(t, u"FeedScope"_s);
            if (const double b1 = rateOf(t, u"B1"_s); b1 > 0)
                goal("trades, 1 connection: FeedScope / B1", fs / b1, 0.5, true, "x");
            if (const double p1 = rateOf(t, u"P1"_s); p1 > 0)
                goal("trades, 1 connection: FeedScope / P1 (Node ws)", fs / p1, 3, true, "x");
            if (const double p2 = rateOf(t, u"P2"_s); p2 > 0)
                goal("trades, 1 connection: FeedScope / P2 (Python)", fs / p2, 7, true, "x");
        }
        if (oneConn.count(u"l2Book"_s)) {
            const auto &b = oneConn[u"l2Book"_s];
            if (const double b2 = rateOf(b, u"B2"_s); b2 > 0)
                goal("l2Book, 1 connection: FeedScope / B2", rateOf(b, u"FeedScope"_s) / b2, 5, true, "x");
        }
        const Row *fs = clientRow(at10k, u"FeedScope"), *b1 = clientRow(at10k, u"B1");
        if (fs && b1)
            goal("10 k msg/s: FeedScope p99 - B1 p99",
                 static_cast<double>(pct(fs->run.latUs, 0.99) - pct(b1->run.latUs, 0.99)), 200, false, " µs");
    }
    if (failures > 0) {
        std::fprintf(stderr, "FAIL: %d run(s) did not receive exactly what was sent (see above)\n", failures);
        return 1;
    }
    std::printf("\nevery client received exactly what was sent\n");
    return 0;
}

// feedscope-gwpeer: the gateway benchmark's peers (bench_gateway, issue 14 "Measure"), each in a
// process of its own so that neither the feed nor the clients share the gateway's event loop or
// its CPU figure.
//
//   feedscope-gwpeer feed [--mode paced|flood|idle] [--rate R] [--messages M]
//     A minimal WebSocket server speaking enough of Hyperliquid's protocol (subscribe and
//     unsubscribe acknowledged with the venue's echo, {"method":"ping"} answered with a pong).
//     Prints "PORT n". The stream starts on the line "go" on stdin and goes to every connection
//     that holds a subscription then, like the venue broadcasting one trade to its subscribers:
//       paced  M trades at R msg/s, each stamped with its send time ("ts", CLOCK_MONOTONIC ns)
//              and a sequence number ("seq"), written to every subscriber at once
//       flood  M trades in ~256 KiB batches to every subscriber (seq still unique)
//       idle   acknowledgements and pongs only
//     Prints "DONE <sent> <subscribers>" once the stream is written; "quit" on stdin ends it.
//
//   feedscope-gwpeer client --port P [--clients N] [--sub JSON]... [--expect M] [--warmup W]
//                           [--stall] [--rcvbuf BYTES] [--inflight K] [--ping-ms MS]
//     N WebSocket clients multiplexed on one thread (epoll, non-blocking sockets, a minimal
//     handshake), so that 10 000 of them cost little. Each sends its --sub subscriptions (the
//     text "{i}" in a subscription is replaced by the client's index modulo 50) and counts acks,
//     pongs, errors and data frames, checks the data's sequence (no gap, no repeat, in order) and
//     measures receive time - "ts" in µs after the first W frames of each client. Like the SDKs,
//     a client that sent nothing for --ping-ms (50 s) sends {"method":"ping"}. --stall: the
//     last client stops reading once every client is acknowledged (a bot that hangs).
//     Prints JSON lines: {"ev":"ready"} (every client acknowledged), {"ev":"pong"} (after "ping"
//     on stdin: every open client answered), {"ev":"done",...} (every reading client has M data
//     frames, or "stop" on stdin: the summary). "quit" on stdin closes every socket and exits.
#include <QByteArray>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

qint64 nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<qint64>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void raiseFdLimit()
{
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/// A WebSocket frame: server frames unmasked, client frames masked with @p mask.
void appendFrame(std::string &out, std::string_view payload, int opcode, const unsigned char *mask = nullptr)
{
    out += static_cast<char>(0x80 | opcode);
    const size_t n = payload.size();
    const char m = mask ? static_cast<char>(0x80) : 0;
    if (n < 126) {
        out += static_cast<char>(m | static_cast<char>(n));
    } else if (n < 65536) {
        out += static_cast<char>(m | 126);
        out += static_cast<char>((n >> 8) & 0xff);
        out += static_cast<char>(n & 0xff);
    } else {
        out += static_cast<char>(m | 127);
        for (int i = 7; i >= 0; --i)
            out += static_cast<char>((static_cast<quint64>(n) >> (8 * i)) & 0xff);
    }
    if (!mask) {
        out += payload;
        return;
    }
    out.append(reinterpret_cast<const char *>(mask), 4);
    for (size_t i = 0; i < n; ++i)
        out += static_cast<char>(payload[i] ^ static_cast<char>(mask[i % 4]));
}

/// One complete frame at the start of @p buf: its opcode and payload (unmasked in place), and the
/// bytes it takes; 0 when incomplete, -1 when oversized.
struct Frame
{
    int opcode = 0;
    bool fin = true;
    char *payload = nullptr;
    size_t size = 0;
};
long long parseFrame(char *buf, size_t avail, Frame &f)
{
    if (avail < 2)
        return 0;
    const auto *p = reinterpret_cast<const unsigned char *>(buf);
    f.opcode = p[0] & 0x0f;
    f.fin = p[0] & 0x80;
    const bool masked = p[1] & 0x80;
    quint64 len = p[1] & 0x7f;
    size_t off = 2;
    if (len == 126) {
        if (avail < 4)
            return 0;
        len = (static_cast<quint64>(p[2]) << 8) | p[3];
        off = 4;
    } else if (len == 127) {
        if (avail < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | p[2 + i];
        off = 10;
    }
    if (len > 64 * 1024 * 1024)
        return -1;
    const size_t maskOff = off;
    if (masked)
        off += 4;
    if (avail < off + len)
        return 0;
    f.payload = buf + off;
    f.size = static_cast<size_t>(len);
    if (masked)
        for (size_t i = 0; i < f.size; ++i)
            f.payload[i] = static_cast<char>(f.payload[i] ^ buf[maskOff + (i % 4)]);
    return static_cast<long long>(off + len);
}

bool writeAll(int fd, const char *data, size_t n)
{
    while (n > 0) {
        const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        data += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// --- the feed ---------------------------------------------------------------------------------

enum class Mode { Paced, Flood, Idle };

struct FeedOptions
{
    Mode mode = Mode::Paced;
    double rate = 1000;
    long long messages = 10000;
};
FeedOptions g_feed;

/// A trade of BTC of fixed size; seq, ts and tid are patched in place.
struct TradeTemplate
{
    std::string payload;
    size_t tsAt = 0, seqAt = 0, tidAt = 0;

    TradeTemplate()
    {
        const std::string head =
            R"({"channel":"trades","data":[{"coin":"BTC","side":"B","px":"97012.5","sz":"0.01234",)"
            R"("time":1763700000123,"hash":"0x)" +
            std::string(64, 'a') + R"(","tid":)";
        tidAt = head.size();
        std::string s = head + "100000000000000" + R"(,"users":["0x)" + std::string(40, 'b') + R"(","0x)" +
                        std::string(40, 'c') + R"("],"ts":")";
        tsAt = s.size();
        s.append(19, '0').append(R"(","seq":)"); // not string + literal: GCC 12's -Warray-bounds
        seqAt = s.size();
        s.append(10, ' ').append("}]}");
        payload = s;
    }
    /// Appends the frame of message @p seq sent at @p ts to @p out.
    void append(std::string &out, long long seq, qint64 ts) const
    {
        const size_t start = out.size();
        appendFrame(out, payload, 0x1);
        char *p = out.data() + start + (out.size() - start - payload.size());
        char buf[32];
        std::snprintf(buf, sizeof buf, "%019lld", static_cast<long long>(ts));
        std::memcpy(p + tsAt, buf, 19);
        std::snprintf(buf, sizeof buf, "%10lld", seq);
        std::memcpy(p + seqAt, buf, 10);
        std::snprintf(buf, sizeof buf, "%015lld", 100000000000000LL + seq);
        std::memcpy(p + tidAt, buf, 15);
    }
};

class FeedConn
{
public:
    explicit FeedConn(int socket) : fd(socket) {}
    bool send(const std::string &bytes)
    {
        std::lock_guard lock(writeMutex);
        return writeAll(fd, bytes.data(), bytes.size());
    }
    int fd;
    std::mutex writeMutex;
    std::atomic<int> subscriptions{0};
};

std::mutex g_connsMutex;
std::vector<std::shared_ptr<FeedConn>> g_conns;

bool feedHandshake(FeedConn &c, std::string &rest)
{
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0 || req.size() > 65536)
            return false;
        req.append(buf, static_cast<size_t>(n));
    }
    const size_t end = req.find("\r\n\r\n") + 4;
    rest = req.substr(end);
    std::string lower = req.substr(0, end);
    for (char &ch : lower)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const size_t at = lower.find("sec-websocket-key:");
    if (at == std::string::npos)
        return false;
    std::string key = req.substr(at + 18, lower.find("\r\n", at) - at - 18);
    key.erase(0, key.find_first_not_of(' '));
    key.erase(key.find_last_not_of(' ') + 1);
    const QByteArray accept =
        QCryptographicHash::hash(QByteArray::fromStdString(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
                                 QCryptographicHash::Sha1)
            .toBase64();
    return c.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: " +
                  accept.toStdString() + "\r\n\r\n");
}

void feedMessage(FeedConn &c, const std::string &text)
{
    const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
    const QString method = o.value(QLatin1String("method")).toString();
    std::string out;
    if (method == QLatin1String("ping")) {
        appendFrame(out, R"({"channel":"pong"})", 0x1);
        c.send(out);
        return;
    }
    if (method != QLatin1String("subscribe") && method != QLatin1String("unsubscribe"))
        return;
    const QJsonObject ack{{QLatin1String("method"), method},
                          {QLatin1String("subscription"), o.value(QLatin1String("subscription"))}};
    appendFrame(out,
                QJsonDocument(QJsonObject{{QLatin1String("channel"), QLatin1String("subscriptionResponse")},
                                          {QLatin1String("data"), ack}})
                    .toJson(QJsonDocument::Compact)
                    .toStdString(),
                0x1);
    c.subscriptions += method == QLatin1String("subscribe") ? 1 : -1;
    c.send(out);
}

void feedSession(std::shared_ptr<FeedConn> c)
{
    std::string in;
    if (feedHandshake(*c, in)) {
        {
            std::lock_guard lock(g_connsMutex);
            g_conns.push_back(c);
        }
        char buf[65536];
        std::string message;
        bool open = true;
        while (open) {
            while (true) {
                Frame f;
                const long long used = parseFrame(in.data(), in.size(), f);
                if (used < 0) {
                    open = false;
                    break;
                }
                if (used == 0)
                    break;
                const std::string payload(f.payload, f.size);
                in.erase(0, static_cast<size_t>(used));
                if (f.opcode == 0x8) {
                    std::string out;
                    appendFrame(out, payload.substr(0, 2), 0x8);
                    c->send(out);
                    open = false;
                    break;
                }
                if (f.opcode == 0x9) {
                    std::string out;
                    appendFrame(out, payload, 0xA);
                    c->send(out);
                    continue;
                }
                if (f.opcode == 0xA)
                    continue;
                message += payload;
                if (f.fin) {
                    feedMessage(*c, message);
                    message.clear();
                }
            }
            if (!open)
                break;
            const ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            in.append(buf, static_cast<size_t>(n));
        }
        std::lock_guard lock(g_connsMutex);
        std::erase(g_conns, c);
    }
    ::shutdown(c->fd, SHUT_RDWR);
    std::lock_guard lock(c->writeMutex); // a stream's write in progress ends first
    ::close(c->fd);
    c->fd = -1;
}

void stream()
{
    std::vector<std::shared_ptr<FeedConn>> to;
    {
        std::lock_guard lock(g_connsMutex);
        for (const auto &c : g_conns)
            if (c->subscriptions > 0)
                to.push_back(c);
    }
    const TradeTemplate trade;
    long long sent = 0;
    if (g_feed.mode == Mode::Flood) {
        std::string batch;
        while (sent < g_feed.messages) {
            batch.clear();
            const qint64 ts = nowNs();
            while (sent < g_feed.messages && batch.size() < 256 * 1024)
                trade.append(batch, sent++, ts);
            for (const auto &c : to)
                c->send(batch);
        }
    } else if (g_feed.mode == Mode::Paced) {
        // Message i is due at start + i / rate; the send time is stamped when it is written, so
        // the sleep's wake-up jitter is not part of any latency.
        const qint64 start = nowNs();
        const double intervalNs = 1e9 / g_feed.rate;
        std::string frame;
        for (; sent < g_feed.messages; ++sent) {
            const qint64 due = start + static_cast<qint64>(static_cast<double>(sent) * intervalNs);
            const timespec until{static_cast<time_t>(due / 1000000000), static_cast<long>(due % 1000000000)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
            frame.clear();
            trade.append(frame, sent, nowNs());
            for (const auto &c : to)
                c->send(frame);
        }
    }
    std::printf("DONE %lld %zu\n", sent, to.size());
    std::fflush(stdout);
}

int runFeed()
{
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(server, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(server, 512) != 0) {
        std::perror("feedscope-gwpeer feed: listen");
        return 1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(server, reinterpret_cast<sockaddr *>(&addr), &len);
    std::printf("PORT %d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    std::thread([server] {
        while (true) {
            const int fd = ::accept(server, nullptr, nullptr);
            if (fd < 0)
                continue;
            const int on = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            std::thread(feedSession, std::make_shared<FeedConn>(fd)).detach();
        }
    }).detach();
    std::thread streamer;
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line == "go" && !streamer.joinable() && g_feed.mode != Mode::Idle)
            streamer = std::thread(stream);
        else if (line == "quit")
            break;
    }
    std::_Exit(0); // sessions and the stream end with the process
}

// --- the clients ------------------------------------------------------------------------------

struct ClientOptions
{
    int port = 0;
    int clients = 1;
    std::vector<std::string> subs;
    long long expect = 0;
    long long warmup = 0;
    bool stall = false;
    int rcvbuf = 0;
    int inflight = 32;     ///< handshakes at once (the server's listen backlog)
    qint64 pingMs = 50000; ///< a client that sent nothing for this long pings (the SDKs: 50 s)
};
ClientOptions g_cl;

struct Conn
{
    int fd = -1;
    int index = 0;
    enum State { Connecting, Handshaking, Open, Closed } state = Connecting;
    std::string in;
    size_t inStart = 0;
    std::string out;
    bool wantWrite = false;
    bool stalled = false;
    int acks = 0;
    int pongs = 0;
    bool inSweep = false; ///< pinged by a "ping" command, no pong yet
    qint64 lastSendNs = 0;
    int errors = 0;
    long long frames = 0;
    long long lastSeq = -1;
    long long gaps = 0;
    long long disorder = 0;
    int closeCode = 0;
};

const unsigned char kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

class Clients
{
public:
    int run();

private:
    void startConnect(Conn &c);
    void onEvent(Conn &c, uint32_t events);
    void readable(Conn &c);
    void onHandshake(Conn &c);
    void onFrame(Conn &c, const Frame &f, qint64 now);
    void sendText(Conn &c, std::string_view text);
    void flushOut(Conn &c);
    void setWatch(Conn &c, bool write);
    void closeConn(Conn &c, int code);
    void checkReady();
    void checkPong();
    void checkDone();
    void summary();
    void command(const std::string &line);

    int m_ep = -1;
    std::vector<Conn> m_conns;
    int m_nextConnect = 0;
    int m_connecting = 0;
    int m_open = 0;
    int m_closed = 0;
    int m_failed = 0;
    bool m_ready = false;
    bool m_done = false;
    int m_acked = 0;    ///< open clients with every subscription acknowledged
    int m_pongsDue = 0; ///< open clients yet to answer this round's ping
    bool m_pingWaiting = false;
    qint64 m_start = 0;
    qint64 m_readyNs = 0;
    qint64 m_firstNs = 0, m_lastNs = 0;
    long long m_frames = 0;
    std::vector<qint64> m_latUs;
    std::string m_firstError;
    std::string m_stdin;
};

void Clients::setWatch(Conn &c, bool write)
{
    epoll_event ev{};
    ev.events = write ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(c.index);
    epoll_ctl(m_ep, EPOLL_CTL_MOD, c.fd, &ev);
    c.wantWrite = write;
}

void Clients::startConnect(Conn &c)
{
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c.fd < 0) {
        c.state = Conn::Closed;
        ++m_failed;
        if (m_firstError.empty())
            m_firstError = std::string("socket: ") + std::strerror(errno);
        return;
    }
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g_cl.stall && g_cl.rcvbuf > 0 && c.index == g_cl.clients - 1)
        ::setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &g_cl.rcvbuf, sizeof g_cl.rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(g_cl.port));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = static_cast<uint32_t>(c.index);
    epoll_ctl(m_ep, EPOLL_CTL_ADD, c.fd, &ev);
    c.wantWrite = true;
    ++m_connecting;
    if (::connect(c.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 && errno != EINPROGRESS)
        closeConn(c, -1);
}

void Clients::closeConn(Conn &c, int code)
{
    if (c.state == Conn::Closed)
        return;
    if (c.state == Conn::Open) {
        --m_open;
        if (c.acks >= static_cast<int>(g_cl.subs.size()))
            --m_acked;
        if (c.inSweep)
            --m_pongsDue;
    } else
        --m_connecting, ++m_failed;
    c.state = Conn::Closed;
    c.closeCode = code;
    ++m_closed;
    epoll_ctl(m_ep, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
}

void Clients::sendText(Conn &c, std::string_view text)
{
    appendFrame(c.out, text, 0x1, kMask);
    c.lastSendNs = nowNs();
    flushOut(c);
}

void Clients::flushOut(Conn &c)
{
    while (!c.out.empty()) {
        const ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0) {
            closeConn(c, -1);
            return;
        }
        c.out.erase(0, static_cast<size_t>(w));
    }
    if (c.out.empty() == c.wantWrite && !c.stalled)
        setWatch(c, !c.out.empty());
}

void Clients::onEvent(Conn &c, uint32_t events)
{
    if (c.state == Conn::Connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            if (m_firstError.empty())
                m_firstError = std::string("connect: ") + std::strerror(err);
            closeConn(c, -1);
            return;
        }
        c.state = Conn::Handshaking;
        c.out =
            "GET /?name=bench-" + std::to_string(c.index) +
            " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(g_cl.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: feedscope-gwpeer\r\n\r\n";
        c.wantWrite = true;
        flushOut(c);
        return;
    }
    if (events & EPOLLOUT)
        flushOut(c);
    if (c.state != Conn::Closed && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        readable(c);
}

void Clients::readable(Conn &c)
{
    char buf[65536];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        closeConn(c, c.state == Conn::Open ? 1006 : -1);
        return;
    }
    const qint64 now = nowNs();
    c.in.append(buf, static_cast<size_t>(n));
    if (c.state == Conn::Handshaking) {
        const size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos)
            return;
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
            if (m_firstError.empty())
                m_firstError = "handshake refused: " + c.in.substr(0, c.in.find("\r\n"));
            closeConn(c, -1);
            return;
        }
        c.in.erase(0, end + 4);
        onHandshake(c);
    }
    while (c.state == Conn::Open) {
        Frame f;
        const long long used = parseFrame(c.in.data() + c.inStart, c.in.size() - c.inStart, f);
        if (used < 0) {
            closeConn(c, 1009);
            return;
        }
        if (used == 0)
            break;
        c.inStart += static_cast<size_t>(used);
        onFrame(c, f, now);
    }
    if (c.inStart > 0) {
        c.in.erase(0, c.inStart);
        c.inStart = 0;
    }
}

void Clients::onHandshake(Conn &c)
{
    c.state = Conn::Open;
    --m_connecting;
    ++m_open;
    for (std::string s : g_cl.subs) {
        const size_t at = s.find("{i}");
        if (at != std::string::npos)
            s.replace(at, 3, std::to_string(c.index % 50));
        sendText(c, R"({"method":"subscribe","subscription":)" + s + "}");
    }
}

bool startsWith(const Frame &f, std::string_view prefix)
{
    return f.size >= prefix.size() && std::memcmp(f.payload, prefix.data(), prefix.size()) == 0;
}

/// The number after @p key in the payload, or -1.
long long numberAfter(const Frame &f, std::string_view key)
{
    const std::string_view p(f.payload, f.size);
    const size_t at = p.rfind(key);
    if (at == std::string_view::npos)
        return -1;
    long long v = 0;
    bool any = false;
    for (size_t i = at + key.size(); i < p.size(); ++i) {
        const char ch = p[i];
        if (ch == ' ' && !any)
            continue;
        if (ch < '0' || ch > '9')
            break;
        v = v * 10 + (ch - '0');
        any = true;
    }
    return any ? v : -1;
}

void Clients::onFrame(Conn &c, const Frame &f, qint64 now)
{
    if (f.opcode == 0x8) {
        const int code = f.size >= 2 ? (static_cast<unsigned char>(f.payload[0]) << 8) |
                                           static_cast<unsigned char>(f.payload[1])
                                     : 1005;
        closeConn(c, code);
        return;
    }
    if (f.opcode == 0x9) {
        appendFrame(c.out, std::string_view(f.payload, f.size), 0xA, kMask);
        flushOut(c);
        return;
    }
    if (f.opcode != 0x1)
        return;
    if (startsWith(f, R"({"channel":"subscriptionResponse")")) {
        if (++c.acks == static_cast<int>(g_cl.subs.size()))
            ++m_acked;
        checkReady();
        return;
    }
    if (startsWith(f, R"({"channel":"pong")")) {
        ++c.pongs;
        if (c.inSweep) {
            c.inSweep = false;
            --m_pongsDue;
        }
        checkPong();
        return;
    }
    if (startsWith(f, R"({"channel":"error")")) {
        ++c.errors;
        if (m_firstError.empty())
            m_firstError = std::string(f.payload, std::min<size_t>(f.size, 300));
        return;
    }
    const long long seq = numberAfter(f, R"("seq":)");
    if (seq >= 0) {
        if (c.lastSeq >= 0 && seq != c.lastSeq + 1) {
            if (seq <= c.lastSeq)
                ++c.disorder;
            else
                ++c.gaps;
        }
        c.lastSeq = seq;
    }
    if (c.frames >= g_cl.warmup && !c.stalled) {
        const long long ts = numberAfter(f, R"("ts":")");
        if (ts > 0)
            m_latUs.push_back((now - ts) / 1000);
    }
    ++c.frames;
    if (!c.stalled) {
        if (m_frames == 0)
            m_firstNs = now;
        m_lastNs = now;
        ++m_frames;
    }
    if (g_cl.expect > 0 && c.frames == g_cl.expect)
        checkDone();
}

void Clients::checkReady()
{
    if (m_ready || m_nextConnect < g_cl.clients || m_connecting > 0 || m_acked < m_open)
        return;
    m_ready = true;
    m_readyNs = nowNs();
    if (g_cl.stall && !m_conns.empty() && m_conns.back().state == Conn::Open) {
        Conn &s = m_conns.back();
        s.stalled = true;
        epoll_ctl(m_ep, EPOLL_CTL_DEL, s.fd, nullptr); // never read again
    }
    int lastCode = 0;
    for (const Conn &c : m_conns)
        if (c.closeCode != 0)
            lastCode = c.closeCode;
    std::printf("{\"ev\":\"ready\",\"open\":%d,\"failed\":%d,\"closed\":%d,\"close_code\":%d,"
                "\"connect_ms\":%.1f,\"error\":\"%s\"}\n",
                m_open, m_failed, m_closed, lastCode, static_cast<double>(m_readyNs - m_start) / 1e6,
                QByteArray::fromStdString(m_firstError).replace('"', '\'').replace('\\', '/').constData());
    std::fflush(stdout);
}

void Clients::checkPong()
{
    if (!m_pingWaiting || m_pongsDue > 0)
        return;
    m_pingWaiting = false;
    std::printf("{\"ev\":\"pong\",\"open\":%d}\n", m_open);
    std::fflush(stdout);
}

void Clients::checkDone()
{
    if (m_done || g_cl.expect <= 0)
        return;
    for (const Conn &c : m_conns)
        if (c.state == Conn::Open && !c.stalled && c.frames < g_cl.expect)
            return;
    summary();
}

qint64 pct(std::vector<qint64> &sorted, double q)
{
    if (sorted.empty())
        return -1;
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())))];
}

void Clients::summary()
{
    m_done = true;
    std::sort(m_latUs.begin(), m_latUs.end());
    long long gaps = 0, disorder = 0, errors = 0, minFrames = -1, maxFrames = 0, stalledFrames = -1;
    int stalledCode = 0;
    for (const Conn &c : m_conns) {
        gaps += c.gaps;
        disorder += c.disorder;
        errors += c.errors;
        if (c.stalled) {
            stalledFrames = c.frames;
            stalledCode = c.closeCode;
            continue;
        }
        minFrames = minFrames < 0 ? c.frames : std::min(minFrames, c.frames);
        maxFrames = std::max(maxFrames, c.frames);
    }
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const double cpuUs = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
                         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
    std::printf(
        "{\"ev\":\"done\",\"open\":%d,\"closed\":%d,\"failed\":%d,\"frames\":%lld,\"min_frames\":%lld,"
        "\"max_frames\":%lld,\"stalled_frames\":%lld,\"stalled_close\":%d,\"gaps\":%lld,"
        "\"disorder\":%lld,\"errors\":%lld,\"first_ns\":%lld,\"last_ns\":%lld,\"samples\":%zu,"
        "\"p50_us\":%lld,\"p90_us\":%lld,\"p99_us\":%lld,\"p999_us\":%lld,\"max_us\":%lld,"
        "\"cpu_us\":%.0f,\"error\":\"%s\"}\n",
        m_open, m_closed, m_failed, m_frames, minFrames, maxFrames, stalledFrames, stalledCode, gaps,
        disorder, errors, static_cast<long long>(m_firstNs), static_cast<long long>(m_lastNs), m_latUs.size(),
        static_cast<long long>(pct(m_latUs, 0.5)), static_cast<long long>(pct(m_latUs, 0.9)),
        static_cast<long long>(pct(m_latUs, 0.99)), static_cast<long long>(pct(m_latUs, 0.999)),
        static_cast<long long>(m_latUs.empty() ? -1 : m_latUs.back()), cpuUs,
        QByteArray::fromStdString(m_firstError).replace('"', '\'').replace('\\', '/').constData());
    std::fflush(stdout);
}

void Clients::command(const std::string &line)
{
    if (line == "quit") {
        for (Conn &c : m_conns)
            if (c.state != Conn::Closed)
                ::close(c.fd);
        std::_Exit(0);
    }
    if (line == "stop" && !m_done) {
        summary();
    } else if (line == "ping") {
        m_pingWaiting = true;
        m_pongsDue = 0;
        for (Conn &c : m_conns)
            if (c.state == Conn::Open && !c.stalled) {
                ++m_pongsDue;
                c.inSweep = true;
                sendText(c, R"({"method":"ping"})");
            }
        checkPong();
    }
}

int Clients::run()
{
    raiseFdLimit();
    m_ep = epoll_create1(0);
    m_conns.resize(static_cast<size_t>(g_cl.clients));
    for (int i = 0; i < g_cl.clients; ++i)
        m_conns[static_cast<size_t>(i)].index = i;
    m_latUs.reserve(static_cast<size_t>(
        std::clamp<long long>((g_cl.expect - g_cl.warmup) * g_cl.clients, 0, 20'000'000)));
    m_start = nowNs();
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    epoll_event sev{};
    sev.events = EPOLLIN;
    sev.data.u32 = UINT32_MAX;
    epoll_ctl(m_ep, EPOLL_CTL_ADD, 0, &sev);
    std::vector<epoll_event> events(1024);
    qint64 pingCheckNs = nowNs();
    while (true) {
        if (const qint64 now = nowNs(); now - pingCheckNs > 1000000000) {
            // Like the SDKs: a client that sent nothing for pingMs pings (the gateway closes
            // clients idle for 60 s, as the venue does).
            pingCheckNs = now;
            for (Conn &c : m_conns)
                if (c.state == Conn::Open && !c.stalled && now - c.lastSendNs >= g_cl.pingMs * 1000000)
                    sendText(c, R"({"method":"ping"})");
        }
        while (m_nextConnect < g_cl.clients && m_connecting < g_cl.inflight)
            startConnect(m_conns[static_cast<size_t>(m_nextConnect++)]);
        checkReady();
        const int n = epoll_wait(m_ep, events.data(), static_cast<int>(events.size()), 1000);
        for (int i = 0; i < n; ++i) {
            const uint32_t idx = events[static_cast<size_t>(i)].data.u32;
            if (idx == UINT32_MAX) {
                char buf[4096];
                const ssize_t r = ::read(0, buf, sizeof buf);
                if (r == 0)
                    command("quit");
                if (r > 0)
                    m_stdin.append(buf, static_cast<size_t>(r));
                size_t eol;
                while ((eol = m_stdin.find('\n')) != std::string::npos) {
                    const std::string line = m_stdin.substr(0, eol);
                    m_stdin.erase(0, eol + 1);
                    command(line);
                }
                continue;
            }
            Conn &c = m_conns[idx];
            if (c.state != Conn::Closed && !c.stalled)
                onEvent(c, events[static_cast<size_t>(i)].events);
        }
    }
}

int usage()
{
    std::fprintf(stderr, "usage: feedscope-gwpeer feed [--mode paced|flood|idle] [--rate R] [--messages M]\n"
                         "       feedscope-gwpeer client --port P [--clients N] [--sub JSON]... [--expect M] "
                         "[--warmup W] [--stall] [--rcvbuf BYTES] [--inflight K] [--ping-ms MS]\n");
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return usage();
    const std::string role = argv[1];
    try {
        for (int i = 2; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--stall") {
                g_cl.stall = true;
                continue;
            }
            if (i + 1 >= argc)
                return usage();
            const std::string v = argv[++i];
            if (a == "--mode")
                g_feed.mode = v == "flood" ? Mode::Flood : v == "idle" ? Mode::Idle : Mode::Paced;
            else if (a == "--rate")
                g_feed.rate = std::stod(v);
            else if (a == "--messages")
                g_feed.messages = std::stoll(v);
            else if (a == "--port")
                g_cl.port = std::stoi(v);
            else if (a == "--clients")
                g_cl.clients = std::stoi(v);
            else if (a == "--sub")
                g_cl.subs.push_back(v);
            else if (a == "--expect")
                g_cl.expect = std::stoll(v);
            else if (a == "--warmup")
                g_cl.warmup = std::stoll(v);
            else if (a == "--rcvbuf")
                g_cl.rcvbuf = std::stoi(v);
            else if (a == "--ping-ms")
                g_cl.pingMs = std::max<qint64>(1000, std::stoll(v));
            else if (a == "--inflight")
                g_cl.inflight = std::max(1, std::stoi(v));
            else
                return usage();
        }
    } catch (const std::exception &) {
        return usage();
    }
    if (role == "feed")
        return g_feed.rate > 0 && g_feed.messages >= 0 ? runFeed() : usage();
    if (role == "client") {
        if (g_cl.port <= 0 || g_cl.clients <= 0)
            return usage();
        Clients clients;
        return clients.run();
    }
    return usage();
}

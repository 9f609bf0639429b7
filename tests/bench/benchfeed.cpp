// feedscope-benchfeed: the deterministic loopback feed of the benchmark suite (issue 7). A minimal
// WebSocket server on plain POSIX sockets, one reader and one writer thread per connection, so
// that the server is never what a client's figure measures:
//   flood  pre-built frames, written in batches of ~256 KiB
//   paced  one write per message at --rate msg/s per connection; each message carries its send
//          time ("ts", CLOCK_MONOTONIC nanoseconds as a string) and a sequence number ("seq")
//   burst  --burst frames back to back (one write) every 100 ms, time-stamped
//   mix    a Hyperliquid-like flood over the connection's subscriptions (10 trades : 4 l2Book :
//          1 allMids), pre-built
//   idle   acknowledgements and pongs only
// Speaks enough of Hyperliquid's protocol for every client: each subscribe is acknowledged
// (subscriptionResponse echoing the subscription), {"method":"ping"} gets {"channel":"pong"},
// WebSocket pings get pongs. The stream of a connection starts once it holds --subs
// subscriptions and stops after --messages data frames; the connection stays open.
// Message kinds: trades (~330 B), l2Book (~1.6 KB), allMids (~16 KB); coins from the subscription.
//
// Prints "PORT <n>" on stdout once listening. Plain C++ and Qt Core (SHA-1, base64, JSON) only.
#include <QByteArray>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

enum class Mode { Flood, Paced, Burst, Mix, Idle };

struct Options
{
    Mode mode = Mode::Flood;
    long long messages = 100000; ///< data frames per connection
    double rate = 1000;          ///< paced: msg/s per connection
    int burst = 1000;            ///< burst: frames per burst
    int subs = 1;                ///< subscriptions a connection must hold before its stream starts
};
Options g_opt;

qint64 nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<qint64>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/// Deterministic values: a linear congruential generator with a fixed seed per connection.
struct Lcg
{
    quint64 s;
    quint32 next()
    {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<quint32>(s >> 33);
    }
};

std::string hex(Lcg &r, int n)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < n; ++i)
        out += digits[r.next() % 16];
    return out;
}

std::string price(Lcg &r)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%u.%u", 90000 + r.next() % 10000, r.next() % 10);
    return buf;
}

std::string size(Lcg &r)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%u.%05u", r.next() % 10, r.next() % 100000);
    return buf;
}

/// The timing fields every message carries (fixed width, so a frame's size never changes).
std::string stamp(qint64 ts, long long seq)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "\"ts\":\"%019lld\",\"seq\":%10lld", static_cast<long long>(ts), seq);
    return buf;
}

std::string tradesJson(const std::string &coin, Lcg &r, qint64 ts, long long seq)
{
    return R"({"channel":"trades","data":[{"coin":")" + coin + R"(","side":")" + (r.next() % 2 ? "B" : "A") +
           R"(","px":")" + price(r) + R"(","sz":")" + size(r) + R"(","time":1763700000123,"hash":"0x)" +
           hex(r, 64) + R"(","tid":)" + std::to_string(100000000000000ULL + r.next()) + R"(,"users":["0x)" +
           hex(r, 40) + R"(","0x)" + hex(r, 40) + R"("],)" + stamp(ts, seq) + "}]}";
}

std::string l2BookJson(const std::string &coin, Lcg &r, qint64 ts, long long seq)
{
    std::string s = R"({"channel":"l2Book","data":{"coin":")" + coin + R"(","time":1763700000123,"levels":[)";
    for (int side = 0; side < 2; ++side) {
        s += side ? ",[" : "[";
        for (int i = 0; i < 20; ++i) {
            if (i)
                s += ',';
            s += R"({"px":")" + price(r) + R"(","sz":")" + size(r) + R"(","n":)" +
                 std::to_string(1 + r.next() % 9) + "}";
        }
        s += ']';
    }
    return s + "]," + stamp(ts, seq) + "}}";
}

std::string allMidsJson(Lcg &r, qint64 ts, long long seq)
{
    std::string s = R"({"channel":"allMids","data":{"mids":{)";
    for (int i = 0; i < 640; ++i) {
        char coin[16];
        std::snprintf(coin, sizeof coin, "COIN%03d", i);
        if (i)
            s += ',';
        s += std::string("\"") + coin + "\":\"" + price(r) + "\"";
    }
    return s + "}," + stamp(ts, seq) + "}}";
}

/// Server-to-client WebSocket text frame (unmasked).
void appendFrame(std::string &out, const std::string &payload, int opcode = 0x1)
{
    out += static_cast<char>(0x80 | opcode);
    const size_t n = payload.size();
    if (n < 126) {
        out += static_cast<char>(n);
    } else if (n < 65536) {
        out += static_cast<char>(126);
        out += static_cast<char>((n >> 8) & 0xff);
        out += static_cast<char>(n & 0xff);
    } else {
        out += static_cast<char>(127);
        for (int i = 7; i >= 0; --i)
            out += static_cast<char>((static_cast<quint64>(n) >> (8 * i)) & 0xff);
    }
    out += payload;
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

struct Sub
{
    std::string type;
    std::string coin;
};

class Session
{
public:
    explicit Session(int fd, int index) : m_fd(fd), m_rng{0x5eed0000ULL + static_cast<quint64>(index)} {}

    void run()
    {
        if (handshake())
            readLoop();
        m_closed = true;
        if (m_writer.joinable())
            m_writer.join();
        ::close(m_fd);
    }

private:
    bool send(const std::string &bytes)
    {
        std::lock_guard lock(m_writeMutex);
        return writeAll(m_fd, bytes.data(), bytes.size());
    }

    bool handshake()
    {
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0 || req.size() > 65536)
                return false;
            req.append(buf, static_cast<size_t>(n));
        }
        const size_t end = req.find("\r\n\r\n") + 4;
        m_in = req.substr(end);
        std::string key;
        size_t pos = 0;
        while ((pos = req.find("\r\n", pos)) != std::string::npos) {
            pos += 2;
            const size_t colon = req.find(':', pos);
            const size_t eol = req.find("\r\n", pos);
            if (colon == std::string::npos || eol == std::string::npos || colon > eol)
                continue;
            std::string name = req.substr(pos, colon - pos);
            for (char &c : name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (name == "sec-websocket-key") {
                key = req.substr(colon + 1, eol - colon - 1);
                key.erase(0, key.find_first_not_of(' '));
                key.erase(key.find_last_not_of(' ') + 1);
            }
        }
        if (key.empty())
            return false;
        const QByteArray accept =
            QCryptographicHash::hash(QByteArray::fromStdString(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
                                     QCryptographicHash::Sha1)
                .toBase64();
        return send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: " +
                    accept.toStdString() + "\r\n\r\n");
    }

    void readLoop()
    {
        char buf[65536];
        std::string message; // a fragmented message being assembled
        while (true) {
            // Parse every complete frame in m_in.
            while (true) {
                if (m_in.size() < 2)
                    break;
                const auto *p = reinterpret_cast<const unsigned char *>(m_in.data());
                const int opcode = p[0] & 0x0f;
                const bool fin = p[0] & 0x80;
                const bool masked = p[1] & 0x80;
                quint64 len = p[1] & 0x7f;
                size_t off = 2;
                if (len == 126) {
                    if (m_in.size() < 4)
                        break;
                    len = (static_cast<quint64>(p[2]) << 8) | p[3];
                    off = 4;
                } else if (len == 127) {
                    if (m_in.size() < 10)
                        break;
                    len = 0;
                    for (int i = 0; i < 8; ++i)
                        len = (len << 8) | p[2 + i];
                    off = 10;
                }
                if (len > 16 * 1024 * 1024)
                    return;
                const size_t maskOff = off;
                if (masked)
                    off += 4;
                if (m_in.size() < off + len)
                    break;
                std::string payload = m_in.substr(off, static_cast<size_t>(len));
                if (masked)
                    for (size_t i = 0; i < payload.size(); ++i)
                        payload[i] = static_cast<char>(payload[i] ^ m_in[maskOff + (i % 4)]);
                m_in.erase(0, off + static_cast<size_t>(len));
                if (opcode == 0x8) { // close: answer and end
                    std::string f;
                    appendFrame(f, payload.substr(0, 2), 0x8);
                    send(f);
                    return;
                }
                if (opcode == 0x9) { // ping
                    std::string f;
                    appendFrame(f, payload, 0xA);
                    send(f);
                    continue;
                }
                if (opcode == 0xA)
                    continue;
                message += payload;
                if (fin) {
                    onMessage(message);
                    message.clear();
                }
            }
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0)
                return;
            m_in.append(buf, static_cast<size_t>(n));
        }
    }

    void onMessage(const std::string &text)
    {
        const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
        const QString method = o.value(QLatin1String("method")).toString();
        std::string out;
        if (method == QLatin1String("ping")) {
            appendFrame(out, R"({"channel":"pong"})");
            send(out);
            return;
        }
        if (method != QLatin1String("subscribe") && method != QLatin1String("unsubscribe"))
            return;
        const QJsonObject s = o.value(QLatin1String("subscription")).toObject();
        QJsonObject ack{{QLatin1String("method"), method}, {QLatin1String("subscription"), s}};
        appendFrame(
            out, QJsonDocument(QJsonObject{{QLatin1String("channel"), QLatin1String("subscriptionResponse")},
                                           {QLatin1String("data"), ack}})
                     .toJson(QJsonDocument::Compact)
                     .toStdString());
        send(out);
        if (method != QLatin1String("subscribe"))
            return;
        m_subs.push_back(Sub{s.value(QLatin1String("type")).toString().toStdString(),
                             s.value(QLatin1String("coin")).toString(QLatin1String("BTC")).toStdString()});
        if (static_cast<int>(m_subs.size()) == g_opt.subs && g_opt.mode != Mode::Idle)
            m_writer = std::thread([this] { stream(); });
    }

    std::string frameFor(const Sub &s, qint64 ts, long long seq)
    {
        std::string json = s.type == "l2Book"    ? l2BookJson(s.coin, m_rng, ts, seq)
                           : s.type == "allMids" ? allMidsJson(m_rng, ts, seq)
                                                 : tradesJson(s.coin, m_rng, ts, seq);
        std::string f;
        appendFrame(f, json);
        return f;
    }

    /// The order a connection's subscriptions take turns in: one each, or the mix's weights.
    std::vector<size_t> cycle() const
    {
        std::vector<size_t> order;
        for (size_t i = 0; i < m_subs.size(); ++i) {
            int weight = 1;
            if (g_opt.mode == Mode::Mix)
                weight = m_subs[i].type == "trades" ? 10 : m_subs[i].type == "l2Book" ? 4 : 1;
            for (int k = 0; k < weight; ++k)
                order.push_back(i);
        }
        return order;
    }

    void stream()
    {
        const std::vector<size_t> order = cycle();
        const long long total = g_opt.messages;
        if (g_opt.mode == Mode::Flood || g_opt.mode == Mode::Mix) {
            // Pre-built: one pass over the cycle, repeated (~256 KiB per write).
            std::vector<std::string> frames;
            const size_t prebuilt = order.size() * ((16 + order.size() - 1) / order.size()); // whole cycles
            for (size_t k = 0; k < prebuilt; ++k)
                frames.push_back(frameFor(m_subs[order[k % order.size()]], 0, static_cast<long long>(k)));
            std::string batch;
            long long sent = 0;
            size_t k = 0;
            while (sent < total && !m_closed) {
                batch.clear();
                while (sent < total && batch.size() < 256 * 1024) {
                    batch += frames[k++ % frames.size()];
                    ++sent;
                }
                if (!send(batch))
                    return;
            }
            return;
        }
        if (g_opt.mode == Mode::Burst) {
            long long sent = 0;
            qint64 due = nowNs();
            while (sent < total && !m_closed) {
                std::string batch;
                const qint64 ts = nowNs();
                for (int i = 0; i < g_opt.burst && sent < total; ++i, ++sent)
                    batch += frameFor(m_subs[order[static_cast<size_t>(sent) % order.size()]], ts, sent);
                if (!send(batch))
                    return;
                due += 100'000'000;
                const timespec until{static_cast<time_t>(due / 1000000000),
                                     static_cast<long>(due % 1000000000)};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
            }
            return;
        }
        // Paced: message i is due at start + i / rate; sleep when ahead, never batch when behind.
        const qint64 start = nowNs();
        const double intervalNs = 1e9 / g_opt.rate;
        for (long long i = 0; i < total && !m_closed; ++i) {
            const qint64 due = start + static_cast<qint64>(static_cast<double>(i) * intervalNs);
            qint64 now = nowNs();
            if (due - now > 60000) {
                const qint64 wake = due - 50000;
                const timespec until{static_cast<time_t>(wake / 1000000000),
                                     static_cast<long>(wake % 1000000000)};
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
            }
            while ((now = nowNs()) < due) {
            }
            if (!send(frameFor(m_subs[order[static_cast<size_t>(i) % order.size()]], nowNs(), i)))
                return;
        }
    }

    int m_fd;
    Lcg m_rng;
    std::string m_in;
    std::vector<Sub> m_subs;
    std::mutex m_writeMutex;
    std::thread m_writer;
    std::atomic<bool> m_closed{false};
};

int usage()
{
    std::fprintf(stderr, "usage: feedscope-benchfeed [--mode flood|paced|burst|mix|idle] [--messages N] "
                         "[--rate R] [--burst N] [--subs N] [--port P]\n");
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc)
            return usage();
        const std::string v = argv[++i];
        if (a == "--mode") {
            if (v == "flood")
                g_opt.mode = Mode::Flood;
            else if (v == "paced")
                g_opt.mode = Mode::Paced;
            else if (v == "burst")
                g_opt.mode = Mode::Burst;
            else if (v == "mix")
                g_opt.mode = Mode::Mix;
            else if (v == "idle")
                g_opt.mode = Mode::Idle;
            else
                return usage();
        } else if (a == "--messages") {
            g_opt.messages = std::stoll(v);
        } else if (a == "--rate") {
            g_opt.rate = std::stod(v);
        } else if (a == "--burst") {
            g_opt.burst = std::stoi(v);
        } else if (a == "--subs") {
            g_opt.subs = std::stoi(v);
        } else if (a == "--port") {
            port = std::stoi(v);
        } else {
            return usage();
        }
    }
    if (g_opt.messages < 0 || g_opt.rate <= 0 || g_opt.burst <= 0 || g_opt.subs <= 0)
        return usage();
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(server, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::listen(server, 128) != 0) {
        std::perror("feedscope-benchfeed: listen");
        return 1;
    }
    socklen_t len = sizeof addr;
    ::getsockname(server, reinterpret_cast<sockaddr *>(&addr), &len);
    std::printf("PORT %d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    int index = 0;
    while (true) {
        const int fd = ::accept(server, nullptr, nullptr);
        if (fd < 0)
            continue;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::thread([fd, i = index++] {
            Session s(fd, i);
            s.run();
        }).detach();
    }
}

#include "gatewayserver.h"

#include "wsframe.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

#include <functional>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#endif

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGateway, "feedscope.gateway")

namespace FeedScope::Gw {

QLatin1StringView nameOf(SlowPolicy p)
{
    switch (p) {
    case SlowPolicy::Disconnect:
        return "disconnect"_L1;
    case SlowPolicy::DropOldest:
        return "drop-oldest"_L1;
    case SlowPolicy::CoalesceLatest:
        return "coalesce-latest"_L1;
    }
    return "?"_L1;
}

std::optional<SlowPolicy> slowPolicyFromName(QStringView name)
{
    for (SlowPolicy p : {SlowPolicy::Disconnect, SlowPolicy::DropOldest, SlowPolicy::CoalesceLatest})
        if (name == nameOf(p))
            return p;
    return std::nullopt;
}

QLatin1StringView nameOf(CloseReason r)
{
    switch (r) {
    case CloseReason::ClientClosed:
        return "client closed"_L1;
    case CloseReason::SlowConsumer:
        return "slow consumer"_L1;
    case CloseReason::Idle:
        return "idle"_L1;
    case CloseReason::TooLarge:
        return "frame too large"_L1;
    case CloseReason::Operator:
        return "disconnected by the operator"_L1;
    case CloseReason::Shutdown:
        return "gateway shutting down"_L1;
    case CloseReason::Aborted:
        return "aborted"_L1;
    }
    return "?"_L1;
}

namespace {

/// The TCP front: each connection becomes an unbuffered QTcpSocket.
class TcpFront final : public QTcpServer
{
public:
    using QTcpServer::QTcpServer;
    std::function<void(qintptr)> onIncoming;

protected:
    void incomingConnection(qintptr descriptor) override { onIncoming(descriptor); }
};

} // namespace

bool tokenMatches(QByteArrayView given, QByteArrayView expected)
{
    // Compare digests: equal length whatever the inputs, so neither the position of the first
    // difference nor the token's length shows in the time taken.
    const QByteArray a = QCryptographicHash::hash(given, QCryptographicHash::Sha256);
    const QByteArray b = QCryptographicHash::hash(expected, QCryptographicHash::Sha256);
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0 && !expected.isEmpty();
}

struct GatewayServer::Link
{
    int id = 0;
    QTcpSocket *sock = nullptr;
    ClientStats st;
    /// ack key → canonical subscription. A map, not a QHash: Qt 6.4's first QHash insert
    /// allocates room for 48 entries (~8 KiB here), too much for an idle link with two.
    std::map<QByteArray, Hl::Subscription> subs;
    struct Out
    {
        QByteArray wire; ///< the whole frame; a data frame's bytes are shared by all its clients
        QByteArray key;  ///< canonical subscription of a data frame; empty for control frames
        qint64 payload() const { return Ws::payloadSizeOf(wire); }
    };
    /// Not yet handed to the socket: queue[head..]. Empty (no allocation) while idle.
    QList<Out> queue;
    qsizetype head = 0;
    Ws::Decoder decoder;
    bool dirty = false;
    bool closing = false;
    bool closeReceived = false; ///< the client's close frame arrived (the handshake is over)
    bool overEpisode = false;   ///< over the bound since the queue last emptied
    CloseReason reason = CloseReason::ClientClosed;
    int code = 0;
    QString detail;
    qint64 lastClientMs = 0;
    // Client messages in the last minute: one bucket per second.
    std::array<quint32, 60> perSecond{};
    qint64 second = -1;
    qint64 inMinute = 0;

    qsizetype queued() const { return queue.size() - head; }
    void popFront()
    {
        queue[head] = {};
        if (++head == queue.size()) {
            queue.clear();
            head = 0;
        }
    }
    void clearQueue()
    {
        queue = {};
        head = 0;
    }

    void advance(qint64 nowSec)
    {
        if (second < 0)
            second = nowSec;
        for (qint64 s = second + 1; s <= nowSec && s <= second + 60; ++s) {
            quint32 &b = perSecond[static_cast<size_t>(s % 60)];
            inMinute -= b;
            b = 0;
        }
        if (nowSec > second + 60) {
            perSecond.fill(0);
            inMinute = 0;
        }
        second = std::max(second, nowSec);
    }
};

GatewayServer::GatewayServer(GatewayConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config))
{
    qRegisterMetaType<ClientStats>();
    m_clock.start();
    const qint64 idle = m_cfg.idleTimeout.count();
    m_tick.setInterval(idle > 0 ? std::clamp<qint64>(idle / 4, 20, 1000) : 1000);
    connect(&m_tick, &QTimer::timeout, this, &GatewayServer::everyTick);
}

GatewayServer::~GatewayServer()
{
    m_backend = nullptr;
    for (auto &[id, l] : m_links) {
        l->sock->disconnect(this);
        l->sock->abort();
        delete l->sock;
    }
    m_links.clear();
}

bool GatewayServer::listen(QString *error)
{
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (!m_cfg.bind.isLoopback() && m_cfg.token.isEmpty())
        return fail(u"the gateway binds to %1, which is not loopback: set a token (--gateway-token) so that "
                    u"only your own clients can connect"_s.arg(m_cfg.bind.toString()));
    if (!m_tcp) {
        auto *tcp = new TcpFront(this);
        tcp->onIncoming = [this](qintptr fd) { onIncoming(fd); };
        m_tcp = tcp;
    }
    m_tcp->setMaxPendingConnections(std::max(30, m_cfg.maxClients));
    if (!m_tcp->listen(m_cfg.bind, m_cfg.port))
        return fail(u"cannot listen on %1:%2: %3"_s.arg(m_cfg.bind.toString())
                        .arg(m_cfg.port)
                        .arg(m_tcp->errorString()));
    m_port = m_tcp->serverPort();
    if (m_cfg.threads > 1)
        qCInfo(lcGateway) << "gateway threads:" << m_cfg.threads
                          << "asked; the links run on one thread (sharding is not implemented)";
    m_tick.start();
    return true;
}

void GatewayServer::close()
{
    if (m_tcp)
        m_tcp->close();
    for (auto &[id, l] : m_links)
        closeLink(*l, CloseReason::Shutdown, 1001, u"gateway shutting down"_s);
}

bool GatewayServer::isListening() const
{
    return m_tcp && m_tcp->isListening();
}

QUrl GatewayServer::url() const
{
    QUrl u;
    u.setScheme(u"ws"_s);
    u.setHost(m_cfg.bind.toString());
    u.setPort(m_port);
    u.setPath(u"/"_s);
    return u;
}

void GatewayServer::onTcpConnection()
{
    while (QTcpSocket *socket = m_tcp->nextPendingConnection())
        accept(socket);
}

void GatewayServer::onIncoming(qintptr descriptor)
{
    // Unbuffered: the socket keeps no read or write buffer of its own between uses (a buffered
    // one keeps a 16 KiB block per direction for ever); the links read what the kernel has and
    // write straight to it, queueing only what it does not take.
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState,
                                     QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        qCWarning(lcGateway) << "cannot take a connection:" << socket->errorString();
        delete socket;
        return;
    }
    accept(socket);
}

void GatewayServer::accept(QTcpSocket *socket)
{
    socket->setParent(this);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { inspectHandshake(socket); });
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // A client that never finishes its request head is dropped (by the tick: no timer per socket).
    m_handshaking.insert(socket, m_clock.elapsed());
    connect(socket, &QObject::destroyed, this, [this, socket] { m_handshaking.remove(socket); });
    if (socket->bytesAvailable())
        inspectHandshake(socket);
}

void GatewayServer::refuseHandshake(QTcpSocket *socket, int status, const QByteArray &statusText,
                                    const QString &why)
{
    const QByteArray body = statusText + "\n";
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + statusText + "\r\n";
    if (status == 401)
        head += "WWW-Authenticate: Bearer\r\n";
    socket->write(head + "Content-Type: text/plain\r\nContent-Length: " + QByteArray::number(body.size()) +
                  "\r\nConnection: close\r\n\r\n" + body);
    socket->disconnectFromHost();
    qCInfo(lcGateway) << "refused handshake from" << socket->peerAddress() << status << why;
    Q_EMIT handshakeRefused(socket->peerAddress(), status, why);
}

void GatewayServer::inspectHandshake(QTcpSocket *socket)
{
    constexpr qsizetype MaxHead = 16384;
    const QByteArray head = socket->peek(MaxHead);
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0 && head.size() < MaxHead)
        return; // wait for the whole request head
    disconnect(socket, &QTcpSocket::readyRead, this, nullptr);
    m_handshaking.remove(socket);
    const QList<QByteArray> lines = head.left(end < 0 ? head.size() : end).split('\n');
    const QByteArray target = lines.value(0).split(' ').value(1);
    const QUrl url(QString::fromUtf8(target.startsWith('/') ? "http://gateway" + target : target));
    const QUrlQuery query(url);
    QByteArray bearer, userAgent, upgradeHeader, connection, version, wsKey;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (name == "authorization" && value.left(7).toLower() == "bearer ")
            bearer = value.mid(7).trimmed();
        else if (name == "user-agent")
            userAgent = value.left(200);
        else if (name == "upgrade")
            upgradeHeader = value.toLower();
        else if (name == "connection")
            connection = value.toLower();
        else if (name == "sec-websocket-version")
            version = value;
        else if (name == "sec-websocket-key")
            wsKey = value;
    }
    // RFC 6455 §4.2.1: a GET with Upgrade: websocket, Connection: Upgrade, version 13, a key.
    const bool isUpgrade = lines.value(0).startsWith("GET ") && upgradeHeader.contains("websocket") &&
                           connection.contains("upgrade");
    if (end < 0 || !isUpgrade || QByteArray::fromBase64(wsKey).size() != 16) {
        refuseHandshake(socket, 400, "Bad Request", u"not a WebSocket upgrade request"_s);
        return;
    }
    if (version != "13") {
        refuseHandshake(socket, 426, "Upgrade Required",
                        u"WebSocket version %1"_s.arg(QString::fromUtf8(version)));
        return;
    }
    if (!m_cfg.token.isEmpty()) {
        const QByteArray given =
            !bearer.isEmpty() ? bearer : query.queryItemValue(u"token"_s, QUrl::FullyDecoded).toUtf8();
        if (!tokenMatches(given, m_cfg.token)) {
            ++m_counters.refusedToken;
            // The token, given or expected, is never logged.
            refuseHandshake(socket, 401, "Unauthorized", given.isEmpty() ? u"no token"_s : u"wrong token"_s);
            return;
        }
    }
    if (static_cast<int>(m_links.size()) >= m_cfg.maxClients) {
        ++m_counters.refusedFull;
        refuseHandshake(socket, 429, "Too Many Requests",
                        u"the gateway already serves %1 clients (its maximum)"_s.arg(m_cfg.maxClients));
        return;
    }
    upgrade(socket, wsKey, end + 4, query.queryItemValue(u"name"_s, QUrl::FullyDecoded).left(100),
            QString::fromUtf8(userAgent), url.path());
}

void GatewayServer::upgrade(QTcpSocket *socket, const QByteArray &key, qsizetype headBytes,
                            const QString &name, const QString &userAgent, const QString &path)
{
    socket->read(headBytes);
    disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // No Sec-WebSocket-Extensions: permessage-deflate and every other extension are declined.
    socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: " +
                  Ws::acceptKey(key) + "\r\n\r\n");
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto l = std::make_unique<Link>();
    l->id = m_nextId++;
    l->sock = socket;
    l->decoder.setMaxMessage(m_cfg.maxFrameBytes);
    l->st.id = l->id;
    l->st.userAgent = userAgent;
    l->st.name = !name.isEmpty() ? name : !userAgent.isEmpty() ? userAgent : u"client %1"_s.arg(l->id);
    l->st.path = path.isEmpty() ? u"/"_s : path;
    l->st.peerAddress = socket->peerAddress();
    l->st.peerPort = socket->peerPort();
    l->st.connectedAt = QDateTime::currentDateTimeUtc();
    l->st.queueBoundBytes = m_cfg.queueBytes;
    l->lastClientMs = m_clock.elapsed();
    const int id = l->id;
    Link *raw = l.get();
    m_links.emplace(id, std::move(l));
    ++m_counters.accepted;
    connect(socket, &QTcpSocket::readyRead, this, [this, raw] { onReadable(*raw); });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, raw] {
        if (raw->queued() > 0)
            markDirty(*raw);
    });
    // Queued: a close can report the disconnect synchronously, inside a send to this very link.
    connect(
        socket, &QTcpSocket::disconnected, this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
    qCInfo(lcGateway) << "client" << id << raw->st.name << "from" << socket->peerAddress()
                      << socket->peerPort();
    Q_EMIT clientConnected(statsOf(*raw));
    if (socket->state() != QAbstractSocket::ConnectedState)
        QMetaObject::invokeMethod(
            this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
    else if (socket->bytesAvailable() > 0)
        onReadable(*raw); // frames sent right behind the request head
}

void GatewayServer::onReadable(Link &l)
{
    QTcpSocket *socket = l.sock;
    if (l.closeReceived) {
        socket->readAll();
        return;
    }
    l.decoder.append(socket->readAll());
    Ws::Message m;
    for (;;) {
        const Ws::Decoder::Result r = l.decoder.next(m);
        if (r == Ws::Decoder::Result::NeedMore)
            return;
        if (r == Ws::Decoder::Result::Error) {
            const int code = l.decoder.errorCode();
            ++l.st.malformed;
            ++m_counters.malformed;
            l.st.lastError = l.decoder.errorText();
            l.closeReceived = true; // nothing more is read from it: fail the connection at once
            if (code == 1009) {
                ++m_counters.oversized;
                closeLink(l, CloseReason::TooLarge, 1009, u"frame too large"_s);
            } else {
                // A broken client: closed with the protocol's code (1002, 1007), counted as malformed.
                closeLink(l, CloseReason::ClientClosed, code, l.decoder.errorText());
            }
            return;
        }
        switch (m.kind) {
        case Ws::Message::Kind::Text:
            onText(l, m.payload);
            break;
        case Ws::Message::Kind::Binary:
            onBinary(l, m.payload);
            break;
        case Ws::Message::Kind::Ping:
            l.lastClientMs = m_clock.elapsed();
            if (!l.closing)
                enqueue(l, Ws::encodeFrame(Ws::Pong, m.payload), {});
            break;
        case Ws::Message::Kind::Pong:
            l.lastClientMs = m_clock.elapsed();
            break;
        case Ws::Message::Kind::Close:
            l.closeReceived = true;
            if (!l.closing) {
                // The client closes: answer with its code (close once), then end the TCP connection.
                l.closing = true;
                l.st.closing = true;
                l.reason = CloseReason::ClientClosed;
                l.code = m.closeCode == 1005 ? 1000 : m.closeCode;
                l.detail = m.closeReason;
                for (qsizetype i = l.head; i < l.queue.size(); ++i)
                    if (!l.queue.at(i).key.isEmpty())
                        ++l.st.dropped, ++m_counters.dropped;
                l.clearQueue();
                l.st.queuedBytes = 0;
                socket->write(m.closeCode == 1005 ? Ws::encodeFrame(Ws::Close, {})
                                                  : Ws::closeFrame(m.closeCode, m.closeReason));
            }
            // The close handshake is over: the link ends now (counted before the client can see
            // the connection end), not when the socket reports it.
            socket->disconnectFromHost();
            onDisconnected(l.id); // l is gone from here on
            return;
        }
    }
}

GatewayServer::Link *GatewayServer::find(int id) const
{
    const auto it = m_links.find(id);
    return it == m_links.end() ? nullptr : it->second.get();
}

void GatewayServer::sendError(Link &l, const QString &text)
{
    ++l.st.errorsSent;
    l.st.lastError = text.left(300);
    enqueue(l, Ws::encodeFrame(Ws::Text, errorFrame(text)), {});
    Q_EMIT clientEvent(l.id, u"error"_s, text.left(300));
}

void GatewayServer::onText(Link &l, const QByteArray &utf8)
{
    if (l.closing)
        return;
    ++l.st.framesIn;
    l.st.bytesIn += utf8.size();
    const qint64 now = m_clock.elapsed();
    l.lastClientMs = now;
    l.advance(now / 1000);
    ++l.perSecond[static_cast<size_t>((now / 1000) % 60)];
    ++l.inMinute;
    if (l.inMinute > m_cfg.maxMessagesPerMinute) {
        ++l.st.rateLimited;
        ++m_counters.rateLimited;
        Q_EMIT clientEvent(l.id, u"rateLimited"_s, {});
        sendError(l, tooManyMessagesText(m_cfg.maxMessagesPerMinute));
        return;
    }
    const ClientRequest r = parseClientRequest(utf8);
    switch (r.kind) {
    case RequestKind::Ping:
        enqueue(l, Ws::encodeFrame(Ws::Text, pongFrame()), {});
        break;
    case RequestKind::Subscribe: {
        const Hl::Subscription &s = r.subscription;
        if (const auto it = l.subs.find(s.ackKey()); it != l.subs.end()) {
            sendError(l, alreadySubscribedText(it->second));
            break;
        }
        if (static_cast<qsizetype>(l.subs.size()) >= m_cfg.maxSubscriptions) {
            sendError(l, tooManyChannelsText(m_cfg.maxSubscriptions));
            break;
        }
        l.subs.emplace(s.ackKey(), s);
        Q_EMIT clientEvent(l.id, u"subscribe"_s, QString::fromUtf8(s.canonical()));
        if (m_backend)
            m_backend->clientSubscribe(l.id, s);
        else
            acknowledge(l.id, s);
        break;
    }
    case RequestKind::Unsubscribe: {
        const auto it = l.subs.find(r.subscription.ackKey());
        if (it == l.subs.end()) {
            sendError(l, alreadyUnsubscribedText(r.subscription));
            break;
        }
        const Hl::Subscription held = it->second;
        l.subs.erase(it);
        enqueue(l, Ws::encodeFrame(Ws::Text, ackFrame(held, true)), {});
        Q_EMIT clientEvent(l.id, u"unsubscribe"_s, QString::fromUtf8(held.canonical()));
        if (m_backend)
            m_backend->clientUnsubscribe(l.id, held);
        break;
    }
    case RequestKind::Post:
        if (m_backend)
            m_backend->clientPost(l.id, r.postId, r.postRequest);
        else
            sendText(l.id, postErrorFrame(r.postId, u"no upstream"_s));
        break;
    case RequestKind::Invalid:
        ++l.st.malformed;
        ++m_counters.malformed;
        sendError(l, r.error);
        break;
    }
}

void GatewayServer::onBinary(Link &l, const QByteArray &data)
{
    if (l.closing)
        return;
    ++l.st.framesIn;
    l.st.bytesIn += data.size();
    l.lastClientMs = m_clock.elapsed();
    ++l.st.malformed;
    ++m_counters.malformed;
    sendError(l, parseErrorText("<binary frame>"));
}

void GatewayServer::onDisconnected(int id)
{
    auto it = m_links.find(id);
    if (it == m_links.end())
        return;
    std::unique_ptr<Link> l = std::move(it->second);
    m_links.erase(it);
    m_dirty.removeAll(id);
    if (!l->closing) {
        l->code = 0; // the socket went away without a close frame
        l->detail = l->sock->errorString();
    }
    ++m_counters.closed[static_cast<size_t>(l->reason)];
    const ClientStats st = statsOf(*l);
    QTcpSocket *socket = l->sock;
    socket->disconnect(this);
    if (socket->state() == QAbstractSocket::UnconnectedState) {
        socket->deleteLater();
    } else {
        // Still sending its close frame: deleted once closed, or aborted after the grace.
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(m_cfg.closeGrace, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
    }
    qCInfo(lcGateway) << "client" << id << "gone:" << nameOf(l->reason) << l->code << l->detail;
    if (m_backend)
        m_backend->clientGone(id);
    Q_EMIT clientDisconnected(st, l->reason, l->code, l->detail);
}

void GatewayServer::closeLink(Link &l, CloseReason reason, int code, const QString &text)
{
    if (l.closing)
        return; // close once
    l.closing = true;
    l.st.closing = true;
    l.reason = reason;
    l.code = code;
    l.detail = text;
    for (qsizetype i = l.head; i < l.queue.size(); ++i)
        if (!l.queue.at(i).key.isEmpty())
            ++l.st.dropped, ++m_counters.dropped;
    l.clearQueue();
    l.st.queuedBytes = 0;
    l.st.queuedFrames = 0;
    l.sock->write(Ws::closeFrame(code, text));
    l.sock->flush(); // now: a server that is being destroyed aborts its sockets right after
    if (l.closeReceived) {
        l.sock->disconnectFromHost();
        const int id = l.id;
        QMetaObject::invokeMethod(
            this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
        return;
    }
    // A client that does not read does not take the close either: abort after the grace.
    QPointer<QTcpSocket> socket = l.sock;
    QTimer::singleShot(m_cfg.closeGrace, this, [this, socket] {
        if (socket && socket->state() != QAbstractSocket::UnconnectedState) {
            ++m_counters.closed[static_cast<size_t>(CloseReason::Aborted)];
            socket->abort();
        }
    });
}

bool GatewayServer::disconnectClient(int client, const QString &reason)
{
    Link *l = find(client);
    if (!l)
        return false;
    closeLink(*l, CloseReason::Operator, 1000, reason);
    return true;
}

void GatewayServer::acknowledge(int client, const Hl::Subscription &s)
{
    if (Link *l = find(client))
        enqueue(*l, Ws::encodeFrame(Ws::Text, ackFrame(s)), {});
}

void GatewayServer::refuse(int client, const Hl::Subscription &s, const QString &text)
{
    Link *l = find(client);
    if (!l)
        return;
    l->subs.erase(s.ackKey());
    sendError(*l, text);
}

void GatewayServer::sendData(int client, const QByteArray &key, const QByteArray &frame)
{
    if (Link *l = find(client))
        enqueue(*l, Ws::encodeFrame(Ws::Text, frame), key.isEmpty() ? QByteArray("?") : key);
}

void GatewayServer::sendData(const QList<int> &clients, const QByteArray &key, const QByteArray &frame)
{
    if (clients.isEmpty())
        return;
    const QByteArray wire = Ws::encodeFrame(Ws::Text, frame); // once, for every client
    const QByteArray k = key.isEmpty() ? QByteArray("?") : key;
    for (int c : clients)
        if (Link *l = find(c))
            enqueue(*l, wire, k);
}

void GatewayServer::sendText(int client, const QByteArray &frame)
{
    if (Link *l = find(client))
        enqueue(*l, Ws::encodeFrame(Ws::Text, frame), {});
}

void GatewayServer::enqueue(Link &l, const QByteArray &wire, const QByteArray &key)
{
    const bool data = !key.isEmpty();
    const qint64 size = Ws::payloadSizeOf(wire);
    if (l.closing) {
        if (data)
            ++l.st.dropped, ++m_counters.dropped;
        return;
    }
    auto over = [&] {
        return l.st.queuedBytes + size > m_cfg.queueBytes || l.queued() + 1 > m_cfg.queueFrames;
    };
    if (over()) {
        flush(l); // whatever the socket still takes leaves the queue first
        if (over()) {
            overBound(l, key, data);
            if (l.closing)
                return;
            if (data && m_cfg.policy == SlowPolicy::CoalesceLatest) {
                // Replace the queued frame of the same subscription, in its place.
                for (qsizetype i = l.queue.size() - 1; i >= l.head; --i) {
                    Link::Out &o = l.queue[i];
                    if (o.key == key) {
                        l.st.queuedBytes += size - o.payload();
                        o.wire = wire;
                        ++l.st.coalesced;
                        ++m_counters.coalesced;
                        return;
                    }
                }
            }
            // Drop the oldest data frames until the new one fits (control frames are kept).
            while (over()) {
                qsizetype i = l.head;
                while (i < l.queue.size() && l.queue.at(i).key.isEmpty())
                    ++i;
                if (i == l.queue.size())
                    break;
                l.st.queuedBytes -= l.queue.at(i).payload();
                if (i == l.head)
                    l.popFront();
                else
                    l.queue.remove(i);
                ++l.st.dropped;
                ++m_counters.dropped;
            }
            if (over()) {
                // Nothing left to drop: control frames alone fill the bound.
                closeLink(l, CloseReason::SlowConsumer, 1008, u"slow consumer"_s);
                Q_EMIT clientEvent(l.id, u"slow"_s, u"disconnected: the queue is full of replies"_s);
                return;
            }
        }
    }
    l.queue.push_back({wire, key});
    l.st.queuedBytes += size;
    l.st.queuedFrames = l.queued();
    l.st.highWaterBytes = std::max(l.st.highWaterBytes, l.st.queuedBytes);
    markDirty(l);
}

void GatewayServer::overBound(Link &l, const QByteArray &key, bool data)
{
    Q_UNUSED(key);
    if (m_cfg.policy == SlowPolicy::Disconnect) {
        if (data)
            ++l.st.dropped, ++m_counters.dropped;
        Q_EMIT clientEvent(l.id, u"slow"_s,
                           u"disconnected: over the send queue bound of %1 bytes"_s.arg(m_cfg.queueBytes));
        closeLink(l, CloseReason::SlowConsumer, 1008, u"slow consumer"_s);
        return;
    }
    // One event per episode: the first frame over the bound since the queue last emptied.
    if (!l.overEpisode) {
        l.overEpisode = true;
        Q_EMIT clientEvent(
            l.id, u"slow"_s,
            u"%1: over the send queue bound of %2 bytes"_s.arg(nameOf(m_cfg.policy)).arg(m_cfg.queueBytes));
    }
}

void GatewayServer::markDirty(Link &l)
{
    if (!l.dirty) {
        l.dirty = true;
        m_dirty.append(l.id);
    }
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &GatewayServer::flushDirty, Qt::QueuedConnection);
    }
}

void GatewayServer::flushDirty()
{
    m_flushScheduled = false;
    const QList<int> dirty = std::exchange(m_dirty, {});
    for (int id : dirty) {
        if (Link *l = find(id)) {
            l->dirty = false;
            flush(*l);
        }
    }
}

void GatewayServer::writeFrames(Link &l, qsizetype end, qint64 bytes)
{
    qsizetype i = l.head;
    qsizetype offset = 0; ///< bytes of queue[i] already written
#ifdef Q_OS_UNIX
    const qintptr fd = l.sock->socketDescriptor();
    if (l.sock->bytesToWrite() == 0 && fd >= 0) {
        // Nothing waits in the socket's own buffer: straight to the kernel from the frames' shared
        // bytes (no copy in user space), as few calls as the kernel takes.
        constexpr int MaxIov = 256;
        iovec iov[MaxIov];
        while (i < end) {
            int n = 0;
            qint64 asked = 0;
            for (qsizetype k = i; k < end && n < MaxIov; ++k, ++n) {
                const QByteArray &w = l.queue.at(k).wire;
                const qsizetype skip = k == i ? offset : 0;
                iov[n].iov_base = const_cast<char *>(w.constData() + skip);
                iov[n].iov_len = static_cast<size_t>(w.size() - skip);
                asked += w.size() - skip;
            }
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(n);
            const ssize_t written = ::sendmsg(static_cast<int>(fd), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (written < 0 && errno == EINTR)
                continue;
            if (written <= 0)
                break; // full (EAGAIN) or broken: the rest goes through the socket, which reports errors
            qint64 left = written;
            while (left > 0) {
                const qsizetype rest = l.queue.at(i).wire.size() - offset;
                if (left >= rest) {
                    left -= rest;
                    ++i;
                    offset = 0;
                } else {
                    offset += left;
                    left = 0;
                }
            }
            if (written < asked)
                break; // the kernel's buffer is full
        }
        if (i == end)
            return;
    }
#endif
    // Through the socket's buffer, one write: a single whole frame goes as it is (shared).
    if (i + 1 == end && offset == 0) {
        l.sock->write(l.queue.at(i).wire);
        return;
    }
    QByteArray batch;
    batch.reserve(bytes);
    batch.append(QByteArrayView(l.queue.at(i).wire).sliced(offset));
    for (qsizetype k = i + 1; k < end; ++k)
        batch.append(l.queue.at(k).wire);
    l.sock->write(batch);
}

void GatewayServer::flush(Link &l)
{
    if (l.closing)
        return;
    const qint64 room = m_cfg.socketBudgetBytes - l.sock->bytesToWrite();
    qsizetype end = l.head;
    qint64 bytes = 0;
    while (end < l.queue.size() && bytes < room)
        bytes += l.queue.at(end++).wire.size();
    if (end > l.head) {
        writeFrames(l, end, bytes);
        qint64 payload = 0, data = 0;
        const qsizetype n = end - l.head;
        for (qsizetype i = l.head; i < end; ++i) {
            const Link::Out &o = l.queue.at(i);
            payload += o.payload();
            data += o.key.isEmpty() ? 0 : 1;
        }
        if (end == l.queue.size()) {
            l.queue.clear();
            l.head = 0;
        } else {
            for (qsizetype i = l.head; i < end; ++i)
                l.queue[i] = {};
            l.head = end;
            if (l.head > 1024 && l.head * 2 > l.queue.size()) {
                l.queue.remove(0, l.head);
                l.head = 0;
            }
        }
        l.st.queuedBytes -= payload;
        l.st.framesOut += n;
        l.st.bytesOut += payload;
        l.st.dataFramesOut += data;
        m_counters.framesOut += n;
        m_counters.bytesOut += payload;
    }
    l.st.queuedFrames = l.queued();
    if (l.queued() == 0)
        l.overEpisode = false;
    else if (l.sock->bytesToWrite() == 0)
        markDirty(l); // all went straight to the kernel, so no bytesWritten will come: go on next turn
}

void GatewayServer::everyTick()
{
    if (!m_handshaking.isEmpty()) {
        const qint64 now = m_clock.elapsed();
        QList<QTcpSocket *> late;
        for (auto it = m_handshaking.cbegin(); it != m_handshaking.cend(); ++it)
            if (now - it.value() >= m_cfg.handshakeTimeout.count())
                late.append(it.key());
        for (QTcpSocket *s : late) {
            m_handshaking.remove(s);
            s->abort();
        }
    }
    // An idle link holds no buffers: what a burst left allocated goes back.
    for (auto &[id, l] : m_links)
        if (l->queued() == 0 && l->queue.capacity() > 0)
            l->clearQueue();
    if (m_cfg.idleTimeout.count() <= 0)
        return;
    const qint64 now = m_clock.elapsed();
    QList<Link *> idle;
    for (auto &[id, l] : m_links)
        if (!l->closing && now - l->lastClientMs >= m_cfg.idleTimeout.count())
            idle.append(l.get());
    for (Link *l : idle) {
        Q_EMIT clientEvent(l->id, u"idle"_s, {});
        closeLink(*l, CloseReason::Idle, 1000,
                  u"idle: nothing received for %1 s"_s.arg(m_cfg.idleTimeout.count() / 1000.0));
    }
}

ClientStats GatewayServer::statsOf(const Link &l) const
{
    ClientStats s = l.st;
    s.subscriptions = static_cast<int>(l.subs.size());
    s.queuedFrames = l.queued();
    return s;
}

QList<int> GatewayServer::clientIds() const
{
    QList<int> out;
    for (const auto &[id, l] : m_links)
        out.append(id);
    return out;
}

QList<ClientStats> GatewayServer::clients() const
{
    QList<ClientStats> out;
    for (const auto &[id, l] : m_links)
        out.append(statsOf(*l));
    return out;
}

std::optional<ClientStats> GatewayServer::client(int id) const
{
    if (const Link *l = find(id))
        return statsOf(*l);
    return std::nullopt;
}

QList<Hl::Subscription> GatewayServer::subscriptionsOf(int client) const
{
    const Link *l = find(client);
    QList<Hl::Subscription> out;
    if (l)
        for (const auto &[key, s] : l->subs)
            out.append(s);
    return out;
}

bool GatewayServer::holds(int client, const Hl::Subscription &s) const
{
    const Link *l = find(client);
    return l && l->subs.count(s.ackKey()) > 0;
}

} // namespace FeedScope::Gw

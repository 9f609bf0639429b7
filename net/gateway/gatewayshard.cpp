#include "gatewayshard.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpSocket>
#include <QThread>

#include <QUrlQuery>
#include <limits>

#include <functional>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#endif

using namespace Qt::StringLiterals;

Q_DECLARE_LOGGING_CATEGORY(lcGateway)

namespace FeedScope::Gw {

namespace {
/// A link's send queue allocated by a burst is given back this long after (at the next sweep).
constexpr qint64 BuffersBackMs = 1000;
} // namespace

struct LinkShard::Link
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

LinkShard::LinkShard(GatewayServer &front, int index, bool threaded)
    : m_front(front), m_cfg(front.m_cfg), m_index(index), m_threaded(threaded)
{
    m_clock.start();
    // One timer for all the shard's links (idle close, handshake timeouts, buffers given back),
    // armed for the earliest thing due, not periodic: every wake-up of a thread costs a poll over
    // all its sockets (Qt's loop), ~1-3 µs each with cold caches, so an idle shard sleeps until
    // its first link may go idle.
    m_tick.setSingleShot(true);
    m_tick.setTimerType(Qt::PreciseTimer);
    connect(&m_tick, &QTimer::timeout, this, &LinkShard::everyTick);
}

LinkShard::~LinkShard()
{
    teardown();
}

template<class F> void LinkShard::toFront(F &&f)
{
    if (m_down)
        return;
    if (!m_threaded)
        f();
    else
        QMetaObject::invokeMethod(&m_front, std::forward<F>(f), Qt::QueuedConnection);
}

void LinkShard::post(std::function<void()> f)
{
    if (!m_threaded) {
        f();
        return;
    }
    bool wake = false;
    {
        const QMutexLocker lock(&m_inboxMutex);
        m_inbox.push_back(std::move(f));
        wake = !std::exchange(m_wakePosted, true);
    }
    if (wake)
        QMetaObject::invokeMethod(this, &LinkShard::drainInbox, Qt::QueuedConnection);
}

void LinkShard::drainInbox()
{
    std::vector<std::function<void()>> work;
    {
        const QMutexLocker lock(&m_inboxMutex);
        work.swap(m_inbox);
        m_wakePosted = false;
    }
    const QMutexLocker lock(&m_mutex);
    for (auto &f : work)
        f();
}

void LinkShard::start()
{
    const QMutexLocker lock(&m_mutex);
    m_started = true;
    everyTick();
}

void LinkShard::armTick(qint64 atMs)
{
    if (m_down || !m_started)
        return;
    if (m_tick.isActive() && m_tickAt <= atMs)
        return;
    m_tickAt = atMs;
    m_tick.start(std::chrono::milliseconds(std::max<qint64>(0, atMs - m_clock.elapsed())));
}

void LinkShard::adopt(qintptr descriptor)
{
    const QMutexLocker lock(&m_mutex);
    // Unbuffered: the socket keeps no read or write buffer of its own between uses (a buffered
    // one keeps a 16 KiB block per direction for ever); the links read what the kernel has and
    // write straight to it, queueing only what it does not take.
    // No parent: a QObject leaves its parent's children by a linear search, so 10 000 sockets
    // going away one by one under one parent cost a quadratic time. The shard keeps them in a set.
    auto *socket = new QTcpSocket;
    m_sockets.insert(socket);
    // The socket as the context: `socket->disconnect(this)` (a link that ends) keeps this one.
    connect(socket, &QObject::destroyed, socket, [this, socket] {
        const QMutexLocker guard(&m_mutex);
        m_sockets.remove(socket);
        m_handshaking.remove(socket);
        load.fetch_sub(1, std::memory_order_relaxed);
    });
    if (m_down || !socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState,
                                               QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        qCWarning(lcGateway) << "cannot take a connection:" << socket->errorString();
        delete socket;
        return;
    }
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { inspectHandshake(socket); });
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // A client that never finishes its request head is dropped (by the tick: no timer per socket).
    m_handshaking.insert(socket, m_clock.elapsed());
    armTick(m_clock.elapsed() + m_cfg.handshakeTimeout.count());
    if (socket->bytesAvailable())
        inspectHandshake(socket);
}

void LinkShard::closeAll()
{
    const QMutexLocker lock(&m_mutex);
    for (auto &[id, l] : m_links)
        closeLink(*l, CloseReason::Shutdown, 1001, u"gateway shutting down"_s);
}

void LinkShard::shutdown()
{
    const QMutexLocker lock(&m_mutex);
    m_down = true; // no reports, no timers: the close frames go out, the sockets follow
    for (auto &[id, l] : m_links)
        closeLink(*l, CloseReason::Shutdown, 1001, u"gateway shutting down"_s);
    teardown();
}

void LinkShard::teardown()
{
    const QMutexLocker lock(&m_mutex);
    m_down = true;
    m_tick.stop();
    std::map<int, std::unique_ptr<Link>> links = std::move(m_links);
    m_links.clear();
    m_dirty.clear();
    for (auto &[id, l] : links) {
        l->sock->disconnect(this);
        l->sock->abort();
    }
    links.clear();
    // Every socket left (links, handshakes, closing ones in their grace) goes now, on this thread.
    const QList<QTcpSocket *> sockets = m_sockets.values();
    m_sockets.clear();
    for (QTcpSocket *s : sockets) {
        s->disconnect(this);
        s->abort();
    }
    qDeleteAll(sockets);
    m_handshaking.clear();
    load.store(0);
}

void LinkShard::emitEvent(int client, const QString &what, const QString &detail)
{
    toFront([front = &m_front, client, what, detail] { Q_EMIT front->clientEvent(client, what, detail); });
}

void LinkShard::refuseHandshake(QTcpSocket *socket, int status, const QByteArray &statusText,
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
    toFront([front = &m_front, peer = socket->peerAddress(), status, why] {
        Q_EMIT front->handshakeRefused(peer, status, why);
    });
}

void LinkShard::inspectHandshake(QTcpSocket *socket)
{
    const QMutexLocker lock(&m_mutex);
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
    // The bound holds across shards: a place is taken here, given back when the link is gone.
    std::atomic<int> &links = m_front.m_linkCount;
    int n = links.load();
    do {
        if (n >= m_cfg.maxClients)
            break;
    } while (!links.compare_exchange_weak(n, n + 1));
    if (n >= m_cfg.maxClients) {
        ++m_counters.refusedFull;
        refuseHandshake(socket, 429, "Too Many Requests",
                        u"the gateway already serves %1 clients (its maximum)"_s.arg(m_cfg.maxClients));
        return;
    }
    upgrade(socket, wsKey, end + 4, query.queryItemValue(u"name"_s, QUrl::FullyDecoded).left(100),
            QString::fromUtf8(userAgent), url.path());
}

void LinkShard::upgrade(QTcpSocket *socket, const QByteArray &key, qsizetype headBytes, const QString &name,
                        const QString &userAgent, const QString &path)
{
    socket->read(headBytes);
    disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // No Sec-WebSocket-Extensions: permessage-deflate and every other extension are declined.
    socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: " +
                  Ws::acceptKey(key) + "\r\n\r\n");
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    auto l = std::make_unique<Link>();
    l->id = m_front.m_nextId.fetch_add(1);
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
    if (m_cfg.idleTimeout.count() > 0)
        armTick(raw->lastClientMs + m_cfg.idleTimeout.count());
    connect(socket, &QTcpSocket::readyRead, this, [this, raw] {
        const QMutexLocker lock(&m_mutex);
        onReadable(*raw);
    });
    connect(socket, &QTcpSocket::bytesWritten, this, [this, raw] {
        const QMutexLocker lock(&m_mutex);
        if (raw->queued() > 0)
            markDirty(*raw);
    });
    // Queued: a close can report the disconnect synchronously, inside a send to this very link.
    connect(
        socket, &QTcpSocket::disconnected, this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
    qCInfo(lcGateway) << "client" << id << raw->st.name << "from" << socket->peerAddress()
                      << socket->peerPort();
    toFront([front = &m_front, shard = m_index, st = statsOf(*raw)] { front->shardConnected(shard, st); });
    if (socket->state() != QAbstractSocket::ConnectedState)
        QMetaObject::invokeMethod(
            this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
    else if (socket->bytesAvailable() > 0)
        onReadable(*raw); // frames sent right behind the request head
}

void LinkShard::onReadable(Link &l)
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

LinkShard::Link *LinkShard::find(int id) const
{
    const auto it = m_links.find(id);
    return it == m_links.end() ? nullptr : it->second.get();
}

void LinkShard::sendError(Link &l, const QString &text)
{
    ++l.st.errorsSent;
    l.st.lastError = text.left(300);
    enqueue(l, Ws::encodeFrame(Ws::Text, errorFrame(text)), {});
    emitEvent(l.id, u"error"_s, text.left(300));
}

void LinkShard::onText(Link &l, const QByteArray &utf8)
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
        emitEvent(l.id, u"rateLimited"_s, {});
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
        emitEvent(l.id, u"subscribe"_s, QString::fromUtf8(s.canonical()));
        toFront([front = &m_front, id = l.id, s] { front->shardSubscribe(id, s); });
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
        emitEvent(l.id, u"unsubscribe"_s, QString::fromUtf8(held.canonical()));
        toFront([front = &m_front, id = l.id, held] { front->shardUnsubscribe(id, held); });
        break;
    }
    case RequestKind::Post:
        toFront([front = &m_front, id = l.id, postId = r.postId, request = r.postRequest] {
            front->shardPost(id, postId, request);
        });
        break;
    case RequestKind::Invalid:
        ++l.st.malformed;
        ++m_counters.malformed;
        sendError(l, r.error);
        break;
    }
}

void LinkShard::onBinary(Link &l, const QByteArray &data)
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

void LinkShard::onDisconnected(int id)
{
    const QMutexLocker lock(&m_mutex);
    auto it = m_links.find(id);
    if (it == m_links.end())
        return;
    std::unique_ptr<Link> l = std::move(it->second);
    m_links.erase(it);
    m_front.m_linkCount.fetch_sub(1);
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
    toFront([front = &m_front, st, reason = l->reason, code = l->code, detail = l->detail] {
        front->shardDisconnected(st, reason, code, detail);
    });
}

void LinkShard::closeLink(Link &l, CloseReason reason, int code, const QString &text)
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
    if (m_down)
        return;
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
        const QMutexLocker lock(&m_mutex);
        if (socket && socket->state() != QAbstractSocket::UnconnectedState) {
            ++m_counters.closed[static_cast<size_t>(CloseReason::Aborted)];
            socket->abort();
        }
    });
}

void LinkShard::disconnectClient(int client, const QString &reason)
{
    const QMutexLocker lock(&m_mutex);
    if (Link *l = find(client))
        closeLink(*l, CloseReason::Operator, 1000, reason);
}

void LinkShard::acknowledge(int client, const Hl::Subscription &s)
{
    const QMutexLocker lock(&m_mutex);
    if (Link *l = find(client))
        enqueue(*l, Ws::encodeFrame(Ws::Text, ackFrame(s)), {});
}

void LinkShard::refuse(int client, const Hl::Subscription &s, const QString &text)
{
    const QMutexLocker lock(&m_mutex);
    Link *l = find(client);
    if (!l)
        return;
    l->subs.erase(s.ackKey());
    sendError(*l, text);
}

void LinkShard::sendData(const QList<int> &clients, const QByteArray &key, const QByteArray &wire)
{
    const QMutexLocker lock(&m_mutex);
    for (int c : clients)
        if (Link *l = find(c))
            enqueue(*l, wire, key);
}

void LinkShard::sendText(int client, const QByteArray &wire)
{
    const QMutexLocker lock(&m_mutex);
    if (Link *l = find(client))
        enqueue(*l, wire, {});
}

void LinkShard::enqueue(Link &l, const QByteArray &wire, const QByteArray &key)
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
                emitEvent(l.id, u"slow"_s, u"disconnected: the queue is full of replies"_s);
                return;
            }
        }
    }
    if (l.queue.capacity() == 0)
        armTick(m_clock.elapsed() + BuffersBackMs); // given back once the link is quiet again
    l.queue.push_back({wire, key});
    l.st.queuedBytes += size;
    l.st.queuedFrames = l.queued();
    l.st.highWaterBytes = std::max(l.st.highWaterBytes, l.st.queuedBytes);
    markDirty(l);
}

void LinkShard::overBound(Link &l, const QByteArray &key, bool data)
{
    Q_UNUSED(key);
    if (m_cfg.policy == SlowPolicy::Disconnect) {
        if (data)
            ++l.st.dropped, ++m_counters.dropped;
        emitEvent(l.id, u"slow"_s,
                  u"disconnected: over the send queue bound of %1 bytes"_s.arg(m_cfg.queueBytes));
        closeLink(l, CloseReason::SlowConsumer, 1008, u"slow consumer"_s);
        return;
    }
    // One event per episode: the first frame over the bound since the queue last emptied.
    if (!l.overEpisode) {
        l.overEpisode = true;
        emitEvent(
            l.id, u"slow"_s,
            u"%1: over the send queue bound of %2 bytes"_s.arg(nameOf(m_cfg.policy)).arg(m_cfg.queueBytes));
    }
}

void LinkShard::markDirty(Link &l)
{
    if (!l.dirty) {
        l.dirty = true;
        m_dirty.append(l.id);
    }
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &LinkShard::flushDirty, Qt::QueuedConnection);
    }
}

void LinkShard::flushDirty()
{
    const QMutexLocker lock(&m_mutex);
    m_flushScheduled = false;
    const QList<int> dirty = std::exchange(m_dirty, {});
    for (int id : dirty) {
        if (Link *l = find(id)) {
            l->dirty = false;
            flush(*l);
        }
    }
}

void LinkShard::writeFrames(Link &l, qsizetype end, qint64 bytes)
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

void LinkShard::flush(Link &l)
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

void LinkShard::everyTick()
{
    const QMutexLocker lock(&m_mutex);
    const qint64 now = m_clock.elapsed();
    qint64 next = std::numeric_limits<qint64>::max(); ///< when something is due next
    if (!m_handshaking.isEmpty()) {
        QList<QTcpSocket *> late;
        for (auto it = m_handshaking.cbegin(); it != m_handshaking.cend(); ++it) {
            const qint64 due = it.value() + m_cfg.handshakeTimeout.count();
            if (now >= due)
                late.append(it.key());
            else
                next = std::min(next, due);
        }
        for (QTcpSocket *s : late) {
            m_handshaking.remove(s);
            s->abort();
        }
    }
    // One pass over the links: an idle link holds no buffers (what a burst left allocated goes
    // back), and a link that sent nothing for the idle timeout is closed.
    const qint64 idleMs = m_cfg.idleTimeout.count();
    QList<Link *> idle;
    for (auto &[id, l] : m_links) {
        if (l->queue.capacity() > 0) {
            if (l->queued() == 0)
                l->clearQueue();
            else
                next = std::min(next, now + BuffersBackMs);
        }
        if (idleMs > 0 && !l->closing) {
            const qint64 due = l->lastClientMs + idleMs;
            if (now >= due)
                idle.append(l.get());
            else
                next = std::min(next, due);
        }
    }
    for (Link *l : idle) {
        emitEvent(l->id, u"idle"_s, {});
        closeLink(*l, CloseReason::Idle, 1000,
                  u"idle: nothing received for %1 s"_s.arg(m_cfg.idleTimeout.count() / 1000.0));
    }
    if (next != std::numeric_limits<qint64>::max())
        armTick(next);
}

ClientStats LinkShard::statsOf(const Link &l) const
{
    ClientStats s = l.st;
    s.subscriptions = static_cast<int>(l.subs.size());
    s.queuedFrames = l.queued();
    return s;
}

void LinkShard::appendClientIds(QList<int> &out) const
{
    for (const auto &[id, l] : m_links)
        out.append(id);
}

void LinkShard::appendClients(QList<ClientStats> &out) const
{
    for (const auto &[id, l] : m_links)
        out.append(statsOf(*l));
}

std::optional<ClientStats> LinkShard::client(int id) const
{
    if (const Link *l = find(id))
        return statsOf(*l);
    return std::nullopt;
}

QList<Hl::Subscription> LinkShard::subscriptionsOf(int client) const
{
    const Link *l = find(client);
    QList<Hl::Subscription> out;
    if (l)
        for (const auto &[key, s] : l->subs)
            out.append(s);
    return out;
}

bool LinkShard::holds(int client, const Hl::Subscription &s) const
{
    const Link *l = find(client);
    return l && l->subs.count(s.ackKey()) > 0;
}

} // namespace FeedScope::Gw

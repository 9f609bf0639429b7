#include "gatewayserver.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>
#include <QWebSocket>
#include <QWebSocketServer>

#include <deque>

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

namespace {

qint64 headerBytes(qint64 payload)
{
    return payload < 126 ? 2 : payload < 65536 ? 4 : 10; // server frames are not masked
}

} // namespace

struct GatewayServer::Link
{
    int id = 0;
    QWebSocket *ws = nullptr;
    ClientStats st;
    QHash<QByteArray, Hl::Subscription> subs; ///< ack key → canonical subscription
    struct Out
    {
        QByteArray frame;
        QByteArray key; ///< canonical subscription of a data frame; empty for control frames
    };
    std::deque<Out> queue;
    qint64 inFlight = 0; ///< handed to the socket, not yet written
    bool dirty = false;
    bool closing = false;
    bool overEpisode = false; ///< over the bound since the queue last emptied
    CloseReason reason = CloseReason::ClientClosed;
    int code = 0;
    QString detail;
    qint64 lastClientMs = 0;
    // Client messages in the last minute: one bucket per second.
    std::array<quint32, 60> perSecond{};
    qint64 second = -1;
    qint64 inMinute = 0;

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
        l->ws->disconnect(this);
        l->ws->abort();
        delete l->ws;
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
        m_tcp = new QTcpServer(this);
        m_ws = new QWebSocketServer(u"feedscope-gateway"_s, QWebSocketServer::NonSecureMode, this);
        m_ws->setHandshakeTimeout(m_cfg.handshakeTimeout);
        m_ws->setMaxPendingConnections(std::max(30, m_cfg.maxClients));
        connect(m_tcp, &QTcpServer::pendingConnectionAvailable, this, &GatewayServer::onTcpConnection);
        connect(m_ws, &QWebSocketServer::newConnection, this, &GatewayServer::onWebSocket);
    }
    m_tcp->setMaxPendingConnections(std::max(30, m_cfg.maxClients));
    if (!m_tcp->listen(m_cfg.bind, m_cfg.port))
        return fail(u"cannot listen on %1:%2: %3"_s.arg(m_cfg.bind.toString())
                        .arg(m_cfg.port)
                        .arg(m_tcp->errorString()));
    m_port = m_tcp->serverPort();
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
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        socket->setParent(this);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { inspectHandshake(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        // A client that never finishes its request head is dropped.
        QTimer::singleShot(m_cfg.handshakeTimeout, socket, [socket] {
            if (socket->property("feedscopeInspected").isNull())
                socket->abort();
        });
        if (socket->bytesAvailable())
            inspectHandshake(socket);
    }
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
    socket->setProperty("feedscopeInspected", true);
    const QList<QByteArray> lines = head.left(end < 0 ? head.size() : end).split('\n');
    const QByteArray target = lines.value(0).split(' ').value(1);
    const QUrl url(QString::fromUtf8(target.startsWith('/') ? "http://gateway" + target : target));
    const QUrlQuery query(url);
    QByteArray bearer, userAgent;
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
    if (static_cast<int>(m_links.size()) + m_upgrading >= m_cfg.maxClients) {
        ++m_counters.refusedFull;
        refuseHandshake(socket, 429, "Too Many Requests",
                        u"the gateway already serves %1 clients (its maximum)"_s.arg(m_cfg.maxClients));
        return;
    }
    Pending p;
    p.name = query.queryItemValue(u"name"_s, QUrl::FullyDecoded).left(100);
    p.userAgent = QString::fromUtf8(userAgent);
    p.path = url.path();
    const quint16 port = socket->peerPort();
    m_pending.insert(port, p);
    ++m_upgrading;
    connect(socket, &QObject::destroyed, this, [this, port] {
        if (m_pending.remove(port))
            --m_upgrading;
    });
    disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    m_ws->handleConnection(socket);
}

void GatewayServer::onWebSocket()
{
    while (QWebSocket *ws = m_ws->nextPendingConnection()) {
        ws->setParent(this);
        auto l = std::make_unique<Link>();
        l->id = m_nextId++;
        l->ws = ws;
        const Pending p = m_pending.take(ws->peerPort());
        if (m_upgrading > 0 && !p.path.isNull())
            --m_upgrading;
        l->st.id = l->id;
        l->st.userAgent = p.userAgent;
        l->st.name = !p.name.isEmpty()        ? p.name
                     : !p.userAgent.isEmpty() ? p.userAgent
                                              : u"client %1"_s.arg(l->id);
        l->st.path = p.path.isEmpty() ? u"/"_s : p.path;
        l->st.peerAddress = ws->peerAddress();
        l->st.peerPort = ws->peerPort();
        l->st.connectedAt = QDateTime::currentDateTimeUtc();
        l->st.queueBoundBytes = m_cfg.queueBytes;
        l->lastClientMs = m_clock.elapsed();
        ws->setMaxAllowedIncomingMessageSize(static_cast<quint64>(m_cfg.maxFrameBytes));
        ws->setMaxAllowedIncomingFrameSize(static_cast<quint64>(m_cfg.maxFrameBytes));
        const int id = l->id;
        Link *raw = l.get();
        m_links.emplace(id, std::move(l));
        ++m_counters.accepted;
        connect(ws, &QWebSocket::textMessageReceived, this,
                [this, raw](const QString &t) { onText(*raw, t); });
        connect(ws, &QWebSocket::binaryMessageReceived, this,
                [this, raw](const QByteArray &b) { onBinary(*raw, b); });
        connect(ws, &QWebSocket::bytesWritten, this, [this, raw](qint64 n) {
            raw->inFlight = std::max<qint64>(0, raw->inFlight - n);
            if (!raw->queue.empty())
                markDirty(*raw);
        });
        // Queued: a close can report the disconnect synchronously, inside a send to this very link.
        connect(
            ws, &QWebSocket::disconnected, this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
        qCInfo(lcGateway) << "client" << id << raw->st.name << "from" << ws->peerAddress() << ws->peerPort();
        Q_EMIT clientConnected(statsOf(*raw));
        if (ws->state() != QAbstractSocket::ConnectedState)
            QMetaObject::invokeMethod(
                this, [this, id] { onDisconnected(id); }, Qt::QueuedConnection);
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
    enqueue(l, errorFrame(text), {});
    Q_EMIT clientEvent(l.id, u"error"_s, text.left(300));
}

void GatewayServer::onText(Link &l, const QString &text)
{
    if (l.closing)
        return;
    const QByteArray utf8 = text.toUtf8();
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
        enqueue(l, pongFrame(), {});
        break;
    case RequestKind::Subscribe: {
        const Hl::Subscription &s = r.subscription;
        if (const auto it = l.subs.constFind(s.ackKey()); it != l.subs.cend()) {
            sendError(l, alreadySubscribedText(*it));
            break;
        }
        if (l.subs.size() >= m_cfg.maxSubscriptions) {
            sendError(l, tooManyChannelsText(m_cfg.maxSubscriptions));
            break;
        }
        l.subs.insert(s.ackKey(), s);
        Q_EMIT clientEvent(l.id, u"subscribe"_s, QString::fromUtf8(s.canonical()));
        if (m_backend)
            m_backend->clientSubscribe(l.id, s);
        else
            acknowledge(l.id, s);
        break;
    }
    case RequestKind::Unsubscribe: {
        const auto it = l.subs.constFind(r.subscription.ackKey());
        if (it == l.subs.cend()) {
            sendError(l, alreadyUnsubscribedText(r.subscription));
            break;
        }
        const Hl::Subscription held = *it;
        l.subs.erase(it);
        enqueue(l, ackFrame(held, true), {});
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
        l->code = l->ws->closeCode();
        l->detail = l->ws->closeReason();
        if (l->code == QWebSocketProtocol::CloseCodeTooMuchData) {
            l->reason = CloseReason::TooLarge;
            ++m_counters.oversized;
        }
    }
    ++m_counters.closed[static_cast<size_t>(l->reason)];
    const ClientStats st = statsOf(*l);
    l->ws->disconnect(this);
    l->ws->deleteLater();
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
    for (const Link::Out &o : l.queue)
        if (!o.key.isEmpty())
            ++l.st.dropped, ++m_counters.dropped;
    l.queue.clear();
    l.st.queuedBytes = 0;
    // A client that does not read does not take the close either: abort after the grace.
    QPointer<QWebSocket> ws = l.ws;
    ws->close(static_cast<QWebSocketProtocol::CloseCode>(code), text);
    QTimer::singleShot(m_cfg.closeGrace, this, [this, ws] {
        if (ws && ws->state() != QAbstractSocket::UnconnectedState) {
            ++m_counters.closed[static_cast<size_t>(CloseReason::Aborted)];
            ws->abort();
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
        enqueue(*l, ackFrame(s), {});
}

void GatewayServer::refuse(int client, const Hl::Subscription &s, const QString &text)
{
    Link *l = find(client);
    if (!l)
        return;
    l->subs.remove(s.ackKey());
    sendError(*l, text);
}

void GatewayServer::sendData(int client, const QByteArray &key, const QByteArray &frame)
{
    if (Link *l = find(client))
        enqueue(*l, frame, key.isEmpty() ? QByteArray("?") : key);
}

void GatewayServer::sendText(int client, const QByteArray &frame)
{
    if (Link *l = find(client))
        enqueue(*l, frame, {});
}

void GatewayServer::enqueue(Link &l, const QByteArray &frame, const QByteArray &key)
{
    const bool data = !key.isEmpty();
    if (l.closing) {
        if (data)
            ++l.st.dropped, ++m_counters.dropped;
        return;
    }
    auto over = [&] {
        return l.st.queuedBytes + frame.size() > m_cfg.queueBytes ||
               static_cast<qsizetype>(l.queue.size()) + 1 > m_cfg.queueFrames;
    };
    if (over()) {
        flush(l); // whatever the socket still takes leaves the queue first
        if (over()) {
            overBound(l, key, data);
            if (l.closing)
                return;
            if (data && m_cfg.policy == SlowPolicy::CoalesceLatest) {
                // Replace the queued frame of the same subscription, in its place.
                for (auto it = l.queue.rbegin(); it != l.queue.rend(); ++it) {
                    if (it->key == key) {
                        l.st.queuedBytes += frame.size() - it->frame.size();
                        it->frame = frame;
                        ++l.st.coalesced;
                        ++m_counters.coalesced;
                        return;
                    }
                }
            }
            // Drop the oldest data frames until the new one fits (control frames are kept).
            while (over()) {
                auto it = std::find_if(l.queue.begin(), l.queue.end(),
                                       [](const Link::Out &o) { return !o.key.isEmpty(); });
                if (it == l.queue.end())
                    break;
                l.st.queuedBytes -= it->frame.size();
                l.queue.erase(it);
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
    l.queue.push_back({frame, key});
    l.st.queuedBytes += frame.size();
    l.st.queuedFrames = static_cast<qint64>(l.queue.size());
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

void GatewayServer::flush(Link &l)
{
    if (l.closing)
        return;
    while (!l.queue.empty() && l.inFlight < m_cfg.socketBudgetBytes) {
        Link::Out o = std::move(l.queue.front());
        l.queue.pop_front();
        l.st.queuedBytes -= o.frame.size();
        const qint64 n = o.frame.size();
        l.ws->sendTextMessage(QString::fromUtf8(o.frame));
        l.inFlight += n + headerBytes(n);
        ++l.st.framesOut;
        l.st.bytesOut += n;
        ++m_counters.framesOut;
        m_counters.bytesOut += n;
        if (!o.key.isEmpty())
            ++l.st.dataFramesOut;
    }
    l.st.queuedFrames = static_cast<qint64>(l.queue.size());
    if (l.queue.empty())
        l.overEpisode = false;
}

void GatewayServer::everyTick()
{
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
    s.queuedFrames = static_cast<qint64>(l.queue.size());
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
    return l ? l->subs.values() : QList<Hl::Subscription>{};
}

bool GatewayServer::holds(int client, const Hl::Subscription &s) const
{
    const Link *l = find(client);
    return l && l->subs.contains(s.ackKey());
}

} // namespace FeedScope::Gw

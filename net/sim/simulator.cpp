#include "simulator.h"

#include "codec.h"
#include "logging.h"
#include "recording.h"
#include "replay.h"
#include "simfeed.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>

#include <QMetaEnum>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope::Sim {

struct FeedSimulator::Sub
{
    Sub(const Hl::Subscription &s, quint64 seed) : sub(s), feed(s, seed) {}
    Hl::Subscription sub;
    SyntheticFeed feed;
    double rate = 0;
    double nextDueMs = 0;
};

struct FeedSimulator::Client
{
    int id = 0;
    QWebSocket *socket = nullptr;
    QString address;
    quint16 peerPort = 0;
    bool stalled = false;
    qint64 lastClientMs = 0;
    qint64 requests = 0;
    qint64 dataFrames = 0;
    std::map<QByteArray, std::unique_ptr<Sub>> subs; ///< by ackKey
};

struct FeedSimulator::AddressState
{
    int connections = 0;
    std::deque<qint64> newConnections; ///< accept times, ms
    std::deque<qint64> messages;       ///< client message times, ms
    int subscriptions = 0;
    QHash<QString, int> users; ///< user → subscriptions naming it
};

namespace {

constexpr qint64 MinuteMs = 60000;
constexpr qsizetype FloodChunk = 2000;

void prune(std::deque<qint64> &times, qint64 now)
{
    while (!times.empty() && times.front() <= now - MinuteMs)
        times.pop_front();
}

std::optional<MalformedKind> malformedFromName(const QString &n)
{
    static const QHash<QString, MalformedKind> names{{u"notJson"_s, MalformedKind::NotJson},
                                                     {u"binary"_s, MalformedKind::Binary},
                                                     {u"unknownChannel"_s, MalformedKind::UnknownChannel},
                                                     {u"wrongShape"_s, MalformedKind::WrongShape},
                                                     {u"emptyTrades"_s, MalformedKind::EmptyTrades}};
    if (!names.contains(n))
        return std::nullopt;
    return names.value(n);
}

std::optional<FaultKind> faultFromName(const QString &n)
{
    static const QHash<QString, FaultKind> names{
        {u"abort"_s, FaultKind::Abort},         {u"close"_s, FaultKind::Close},
        {u"stall"_s, FaultKind::Stall},         {u"unstall"_s, FaultKind::Unstall},
        {u"reject"_s, FaultKind::Reject},       {u"malformed"_s, FaultKind::Malformed},
        {u"oversized"_s, FaultKind::Oversized}, {u"flood"_s, FaultKind::Flood},
        {u"restart"_s, FaultKind::Restart},     {u"crossed"_s, FaultKind::Crossed},
        {u"backwards"_s, FaultKind::Backwards}, {u"duplicate"_s, FaultKind::Duplicate},
        {u"foreign"_s, FaultKind::Foreign},     {u"delay"_s, FaultKind::Delay},
        {u"offset"_s, FaultKind::Offset}};
    if (!names.contains(n))
        return std::nullopt;
    return names.value(n);
}

bool parseConnection(const QString &text, int *out)
{
    if (text.isEmpty() || text == u"all"_s) {
        *out = -1;
        return true;
    }
    bool ok = false;
    *out = text.toInt(&ok);
    return ok && *out > 0;
}

std::optional<Hl::Subscription> parseSubscriptionText(const QString &text, QString *error)
{
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    if (!doc.isObject()) {
        *error = u"\"%1\" is not a JSON subscription object"_s.arg(text);
        return std::nullopt;
    }
    QString why;
    auto s = Hl::Subscription::fromJson(doc.object(), &why);
    if (!s)
        *error = why;
    return s;
}

Twist twistOf(FaultKind k)
{
    switch (k) {
    case FaultKind::Crossed:
        return Twist::Crossed;
    case FaultKind::Backwards:
        return Twist::Backwards;
    case FaultKind::Duplicate:
        return Twist::Duplicate;
    case FaultKind::Foreign:
        return Twist::Foreign;
    default:
        return Twist::None;
    }
}

bool isTwist(FaultKind k)
{
    return twistOf(k) != Twist::None;
}

/// The integrity fault @p k makes sense for @p s; otherwise a human reason in @p error.
bool twistFits(FaultKind k, const Hl::Subscription &s, QString *error)
{
    if (!s.isValid()) {
        *error = u"this fault needs a \"subscription\""_s;
        return false;
    }
    if (twistApplies(twistOf(k), s.type()))
        return true;
    switch (twistOf(k)) {
    case Twist::Crossed:
        *error = u"a crossed book needs an l2Book or bbo subscription"_s;
        break;
    case Twist::Backwards:
        *error = u"time going backwards needs an l2Book, bbo or trades subscription"_s;
        break;
    default:
        *error = u"a duplicate or foreign trade needs a trades subscription"_s;
        break;
    }
    return false;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Fault parsing

QString Fault::grammar()
{
    return uR"(AT_MS:KIND[:ARGS] where CONN is a connection id or "all":
  AT:abort[:CONN]                 abort without a close frame
  AT:close:CONN[:CODE[:REASON]]   close with a close code (default 1000)
  AT:stall[:CONN] / AT:unstall[:CONN]
                                  stop (resume) sending and answering pings, socket kept open
  AT:reject:SUBSCRIPTION_JSON     answer its subscribes with "Invalid subscription {...}"
  AT:malformed:CONN:KIND          KIND = notJson|binary|unknownChannel|wrongShape|emptyTrades
  AT:oversized:CONN:BYTES         one text frame of BYTES bytes
  AT:flood:SUBSCRIPTION_JSON:N    N data frames of that subscription as fast as possible
  AT:restart:DOWN_MS              drop everything, listen again on the same port after DOWN_MS
  AT:crossed:SUBSCRIPTION_JSON    one l2Book/bbo frame whose best bid is above its best ask
  AT:backwards:SUBSCRIPTION_JSON[:MS]
                                  one l2Book/bbo/trades frame MS (default 1000) before the previous
  AT:duplicate:SUBSCRIPTION_JSON  the last trade of a trades subscription sent again (same tid)
  AT:foreign:SUBSCRIPTION_JSON    a trades frame that also carries another coin's trade
  AT:delay:MS                     from then on, event times MS before sending (frames MS late; 0 ends)
  AT:offset:MS                    from then on, the clock MS ahead (negative: behind; 0 ends))"_s;
}

std::optional<Fault> Fault::parseSpec(const QString &spec, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<Fault> {
        *error = u"bad fault \"%1\": %2"_s.arg(spec, why);
        return std::nullopt;
    };
    const qsizetype c1 = spec.indexOf(u':');
    if (c1 < 0)
        return fail(u"expected AT_MS:KIND[:ARGS]"_s);
    bool ok = false;
    const qint64 at = spec.left(c1).toLongLong(&ok);
    if (!ok || at < 0)
        return fail(u"AT_MS must be a non-negative number of milliseconds"_s);
    qsizetype c2 = spec.indexOf(u':', c1 + 1);
    const QString kindName = spec.mid(c1 + 1, c2 < 0 ? -1 : c2 - c1 - 1);
    const QString rest = c2 < 0 ? QString() : spec.mid(c2 + 1);
    const auto kind = faultFromName(kindName);
    if (!kind)
        return fail(u"unknown kind \"%1\""_s.arg(kindName));
    Fault f;
    f.kind = *kind;
    f.at = std::chrono::milliseconds(at);
    const QStringList args = rest.split(u':');
    switch (f.kind) {
    case FaultKind::Abort:
    case FaultKind::Stall:
    case FaultKind::Unstall:
        if (!parseConnection(rest, &f.connection))
            return fail(u"CONN must be a connection id or \"all\""_s);
        break;
    case FaultKind::Close:
        if (!parseConnection(args.value(0), &f.connection))
            return fail(u"CONN must be a connection id or \"all\""_s);
        if (args.size() > 1) {
            f.closeCode = args[1].toInt(&ok);
            if (!ok || f.closeCode < 1000 || f.closeCode > 4999)
                return fail(u"CODE must be a close code from 1000 to 4999"_s);
        }
        f.reason = args.mid(2).join(u':');
        break;
    case FaultKind::Malformed: {
        if (!parseConnection(args.value(0), &f.connection))
            return fail(u"CONN must be a connection id or \"all\""_s);
        const auto m = malformedFromName(args.value(1));
        if (!m)
            return fail(u"KIND must be notJson, binary, unknownChannel, wrongShape or emptyTrades"_s);
        f.malformed = *m;
        break;
    }
    case FaultKind::Oversized:
        if (!parseConnection(args.value(0), &f.connection))
            return fail(u"CONN must be a connection id or \"all\""_s);
        f.amount = args.value(1).toLongLong(&ok);
        if (!ok || f.amount < 64)
            return fail(u"BYTES must be a number of at least 64"_s);
        break;
    case FaultKind::Restart:
        f.amount = rest.toLongLong(&ok);
        if (!ok || f.amount < 0)
            return fail(u"DOWN_MS must be a non-negative number"_s);
        break;
    case FaultKind::Reject: {
        QString why;
        const auto s = parseSubscriptionText(rest, &why);
        if (!s)
            return fail(why);
        f.subscription = *s;
        break;
    }
    case FaultKind::Crossed:
    case FaultKind::Backwards:
    case FaultKind::Duplicate:
    case FaultKind::Foreign: {
        QString subText = rest;
        if (f.kind == FaultKind::Backwards && !rest.endsWith(u'}')) {
            const qsizetype last = rest.lastIndexOf(u':');
            f.amount = last < 0 ? -1 : rest.mid(last + 1).toLongLong(&ok);
            if (last < 0 || !ok || f.amount <= 0)
                return fail(u"MS must be a positive number of milliseconds"_s);
            subText = rest.left(last);
        }
        QString why;
        const auto s = parseSubscriptionText(subText, &why);
        if (!s)
            return fail(why);
        if (!twistFits(f.kind, *s, &why))
            return fail(why);
        f.subscription = *s;
        break;
    }
    case FaultKind::Delay:
        f.amount = rest.toLongLong(&ok);
        if (!ok || f.amount < 0 || f.amount > 86400000)
            return fail(u"MS must be a number of milliseconds from 0 to 86400000"_s);
        break;
    case FaultKind::Offset:
        f.offsetMs = rest.toLongLong(&ok);
        if (!ok || std::abs(f.offsetMs) > 86400000)
            return fail(u"MS must be a number of milliseconds from -86400000 to 86400000"_s);
        break;
    case FaultKind::Flood: {
        const qsizetype last = rest.lastIndexOf(u':');
        if (last < 0)
            return fail(u"expected SUBSCRIPTION_JSON:N"_s);
        f.amount = rest.mid(last + 1).toLongLong(&ok);
        if (!ok || f.amount <= 0)
            return fail(u"N must be a positive number of frames"_s);
        QString why;
        const auto s = parseSubscriptionText(rest.left(last), &why);
        if (!s)
            return fail(why);
        f.subscription = *s;
        break;
    }
    }
    return f;
}

std::optional<Fault> Fault::fromJson(const QJsonObject &o, QString *error)
{
    const auto kind = faultFromName(o.value(u"fault"_s).toString());
    if (!kind) {
        *error = u"unknown fault \"%1\""_s.arg(o.value(u"fault"_s).toString());
        return std::nullopt;
    }
    Fault f;
    f.kind = *kind;
    const QJsonValue conn = o.value(u"connection"_s);
    f.connection = conn.isDouble() ? conn.toInt() : -1;
    f.closeCode = o.value(u"code"_s).toInt(1000);
    f.reason = o.value(u"reason"_s).toString();
    if (o.contains(u"malformed"_s)) {
        const auto m = malformedFromName(o.value(u"malformed"_s).toString());
        if (!m) {
            *error = u"unknown malformed kind"_s;
            return std::nullopt;
        }
        f.malformed = *m;
    }
    const double amount = o.value(u"amount"_s).toDouble(0);
    if (!(amount >= 0 && amount < 9.0e18)) { // no out-of-range cast
        *error = u"\"amount\" must be a non-negative number"_s;
        return std::nullopt;
    }
    f.amount = static_cast<qint64>(amount);
    if (o.value(u"subscription"_s).isObject()) {
        QString why;
        auto s = Hl::Subscription::fromJson(o.value(u"subscription"_s).toObject(), &why);
        if (!s) {
            *error = why;
            return std::nullopt;
        }
        f.subscription = *s;
    }
    if ((f.kind == FaultKind::Reject || f.kind == FaultKind::Flood) && !f.subscription.isValid()) {
        *error = u"this fault needs a \"subscription\""_s;
        return std::nullopt;
    }
    if (isTwist(f.kind) && !twistFits(f.kind, f.subscription, error))
        return std::nullopt;
    if (f.kind == FaultKind::Delay && f.amount > 86400000) {
        *error = u"\"amount\" must be at most 86400000 ms"_s;
        return std::nullopt;
    }
    if (f.kind == FaultKind::Offset) {
        const double ms = o.value(u"ms"_s).toDouble(0);
        if (!(std::abs(ms) <= 86400000)) {
            *error = u"\"ms\" must be a number of milliseconds from -86400000 to 86400000"_s;
            return std::nullopt;
        }
        f.offsetMs = static_cast<qint64>(ms);
    }
    return f;
}

// ---------------------------------------------------------------------------------------------
// Server

FeedSimulator::FeedSimulator(SimulatorConfig config, QObject *parent)
    : QObject(parent), m_cfg(std::move(config)), m_delayMs(m_cfg.delay.count()),
      m_offsetMs(m_cfg.clockOffset.count())
{
    m_clock.start();
    m_tick.setSingleShot(true);
    m_tick.setTimerType(Qt::PreciseTimer);
    connect(&m_tick, &QTimer::timeout, this, &FeedSimulator::onTick);
    m_idleCheck.setInterval(1s);
    connect(&m_idleCheck, &QTimer::timeout, this, &FeedSimulator::onIdleCheck);
    connect(&m_ws, &QWebSocketServer::newConnection, this, &FeedSimulator::onWebSocket);
    m_ws.setHandshakeTimeout(10s);
    m_replayTimer.setSingleShot(true);
    m_replayTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_replayTimer, &QTimer::timeout, this, &FeedSimulator::replayStep);
    m_replayWait.setSingleShot(true);
    connect(&m_replayWait, &QTimer::timeout, this, &FeedSimulator::startReplay);
}

FeedSimulator::~FeedSimulator()
{
    stop();
    qDeleteAll(m_addresses);
}

bool FeedSimulator::start(QString *error)
{
    if (!m_cfg.replayFile.isEmpty() && m_replay.isEmpty() && !loadReplay(error))
        return false;
    if (!m_tcp) {
        m_tcp = new QTcpServer(this);
        connect(m_tcp, &QTcpServer::newConnection, this, &FeedSimulator::onTcpConnection);
    }
    if (!m_tcp->listen(m_cfg.address, m_port ? m_port : m_cfg.port)) {
        if (error)
            *error = u"cannot listen on %1:%2: %3"_s.arg(m_cfg.address.toString())
                         .arg(m_cfg.port)
                         .arg(m_tcp->errorString());
        return false;
    }
    m_port = m_tcp->serverPort();
    if (!m_started) {
        m_started = true;
        m_clock.restart();
        for (const auto &t : std::as_const(m_scheduled))
            t->start();
    }
    m_idleCheck.start();
    Q_EMIT listeningChanged(true);
    return true;
}

void FeedSimulator::stop()
{
    if (m_tcp && m_tcp->isListening()) {
        m_tcp->close();
        Q_EMIT listeningChanged(false);
    }
    QList<int> ids;
    for (const auto &[id, c] : m_clients)
        ids.append(id);
    for (int id : ids) {
        if (auto it = m_clients.find(id); it != m_clients.end())
            it->second->socket->abort();
        dropClient(id);
    }
    for (QWebSocket *s : std::as_const(m_control))
        s->abort();
    m_tick.stop();
    m_idleCheck.stop();
}

bool FeedSimulator::isListening() const
{
    return m_tcp && m_tcp->isListening();
}

QUrl FeedSimulator::url() const
{
    QUrl u;
    u.setScheme(u"ws"_s);
    u.setHost(m_cfg.address.toString());
    u.setPort(m_port);
    u.setPath(u"/ws"_s);
    return u;
}

QUrl FeedSimulator::controlUrl() const
{
    QUrl u = url();
    u.setPath(u"/control"_s);
    return u;
}

FeedSimulator::AddressState &FeedSimulator::address(const QHostAddress &a)
{
    const QString key = a.toString();
    auto it = m_addresses.find(key);
    if (it == m_addresses.end())
        it = m_addresses.insert(key, new AddressState);
    return **it;
}

void FeedSimulator::onTcpConnection()
{
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        socket->setParent(this);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { inspectHandshake(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        // A client that never finishes its request head is dropped.
        QTimer::singleShot(10s, socket, [socket] {
            if (socket->state() == QAbstractSocket::ConnectedState &&
                socket->property("feedscopeInspected").isNull())
                socket->abort();
        });
        if (socket->bytesAvailable())
            inspectHandshake(socket);
    }
}

void FeedSimulator::inspectHandshake(QTcpSocket *socket)
{
    // Peek at the request line to tell control connections from feed connections, and refuse
    // feed handshakes beyond the limits the way a server in front of the real API would.
    const QByteArray head = socket->peek(8192);
    if (!head.contains("\r\n\r\n") && head.size() < 8192)
        return; // wait for the whole request head
    disconnect(socket, &QTcpSocket::readyRead, this, nullptr);
    socket->setProperty("feedscopeInspected", true);
    const QByteArray path = head.left(head.indexOf('\n')).split(' ').value(1);
    if (!path.startsWith("/control")) {
        AddressState &a = address(socket->peerAddress());
        const qint64 now = m_clock.elapsed();
        prune(a.newConnections, now);
        QString refusal;
        if (a.connections >= m_cfg.limits.maxConnections)
            refusal = u"more than %1 connections"_s.arg(m_cfg.limits.maxConnections);
        else if (static_cast<int>(a.newConnections.size()) >= m_cfg.limits.maxNewConnectionsPerMinute)
            refusal =
                u"more than %1 new connections per minute"_s.arg(m_cfg.limits.maxNewConnectionsPerMinute);
        if (!refusal.isEmpty()) {
            ++m_refusedHandshakes;
            const QByteArray body = "Too many connections: " + refusal.toUtf8() + "\n";
            socket->write("HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: " +
                          QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
            socket->disconnectFromHost();
            qCInfo(lcSim) << "refused handshake from" << socket->peerAddress() << refusal;
            Q_EMIT handshakeRefused(refusal);
            return;
        }
        a.newConnections.push_back(now);
        // Reserved now so that a burst of handshakes cannot overshoot; handed to the client when
        // the upgrade succeeds, given back if the socket dies first.
        ++a.connections;
        const QString addr = socket->peerAddress().toString();
        const quint16 port = socket->peerPort();
        m_pending.insert(socket, port);
        connect(socket, &QObject::destroyed, this, [this, socket, addr] {
            if (m_pending.remove(socket))
                --address(QHostAddress(addr)).connections;
        });
    }
    disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    m_ws.handleConnection(socket);
}

void FeedSimulator::onWebSocket()
{
    while (QWebSocket *ws = m_ws.nextPendingConnection()) {
        ws->setParent(this);
        if (ws->requestUrl().path().startsWith(u"/control"_s)) {
            m_control.append(ws);
            connect(ws, &QWebSocket::textMessageReceived, this,
                    [this, ws](const QString &text) { handleControl(ws, text); });
            connect(ws, &QWebSocket::disconnected, this, [this, ws] {
                m_control.removeAll(ws);
                ws->deleteLater();
            });
            continue;
        }
        for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
            if (it.value() == ws->peerPort()) {
                m_pending.erase(it);
                break;
            }
        }
        auto c = std::make_unique<Client>();
        c->id = m_nextId++;
        c->socket = ws;
        c->address = ws->peerAddress().toString();
        c->peerPort = ws->peerPort();
        c->lastClientMs = m_clock.elapsed();
        ws->setMaxAllowedIncomingMessageSize(1024 * 1024);
        Client *raw = c.get();
        m_clients.emplace(c->id, std::move(c));
        connect(ws, &QWebSocket::textMessageReceived, this,
                [this, raw](const QString &t) { onText(raw, t); });
        connect(ws, &QWebSocket::binaryMessageReceived, this, [this, raw](const QByteArray &) {
            sendError(raw, u"Error parsing JSON into valid websocket request: <binary frame>"_s);
        });
        const int id = raw->id;
        connect(ws, &QWebSocket::disconnected, this, [this, id] { dropClient(id); });
        qCInfo(lcSim) << "connection" << id << "from port" << raw->peerPort;
        Q_EMIT clientConnected(id);
    }
}

void FeedSimulator::dropClient(int id)
{
    auto it = m_clients.find(id);
    if (it == m_clients.end())
        return;
    Client *c = it->second.get();
    AddressState &a = address(QHostAddress(c->address));
    for (const auto &[key, sub] : c->subs) {
        retire(*sub);
        --a.subscriptions;
        const QString user = sub->sub.user();
        if (!user.isEmpty() && --a.users[user] <= 0)
            a.users.remove(user);
    }
    --a.connections;
    c->socket->disconnect(this);
    c->socket->deleteLater();
    m_clients.erase(it);
    updateTickTimer();
    Q_EMIT clientDisconnected(id);
}

void FeedSimulator::sendText(Client *c, const QByteArray &frame)
{
    if (c->stalled)
        return;
    c->socket->sendTextMessage(QString::fromUtf8(frame));
}

void FeedSimulator::sendError(Client *c, const QString &text)
{
    const QByteArray frame = R"({"channel":"error","data":)" + Hl::canonicalJson(QJsonValue(text)) + "}";
    sendText(c, frame);
    Q_EMIT errorSent(c->id, text);
}

void FeedSimulator::onText(Client *c, const QString &text)
{
    const qint64 now = m_clock.elapsed();
    c->lastClientMs = now;
    ++c->requests;
    if (c->stalled)
        return; // a stalled server answers nothing
    AddressState &a = address(QHostAddress(c->address));
    prune(a.messages, now);
    a.messages.push_back(now);
    Q_EMIT requestReceived(c->id, text.toUtf8());
    if (static_cast<int>(a.messages.size()) > m_cfg.limits.maxMessagesPerMinute) {
        sendError(c,
                  u"Cannot send more than %1 messages per minute."_s.arg(m_cfg.limits.maxMessagesPerMinute));
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    const QJsonObject request = doc.object();
    const QString method = request.value(u"method"_s).toString();
    if (method == u"ping"_s)
        sendText(c, R"({"channel":"pong"})");
    else if (method == u"subscribe"_s)
        handleSubscribe(c, request, text);
    else if (method == u"unsubscribe"_s)
        handleUnsubscribe(c, request, text);
    else if (method == u"post"_s)
        handlePost(c, request);
    else
        sendError(c, u"Error parsing JSON into valid websocket request: "_s + text);
}

QByteArray FeedSimulator::ackEcho(const Hl::Subscription &s)
{
    // Mimic the real server's normalised echo: defaults filled in, keys in its own order.
    const QJsonObject j = s.json();
    QList<std::pair<QString, QJsonValue>> fields{{u"type"_s, s.type()}};
    if (s.type() == u"candle"_s) {
        fields.append({u"interval"_s, j.value(u"interval"_s)});
        fields.append({u"coin"_s, j.value(u"coin"_s)});
    } else {
        if (s.spec()) {
            for (const Hl::ParamSpec &p : s.spec()->params) {
                const QString name = QString::fromLatin1(p.name);
                if (j.contains(name))
                    fields.append({name, j.value(name)});
                else if (s.type() == u"l2Book"_s && name != u"fast"_s)
                    fields.append({name, QJsonValue::Null});
            }
        }
    }
    QByteArray out = "{";
    for (const auto &[k, v] : fields) {
        if (out.size() > 1)
            out += ',';
        out += Hl::canonicalJson(QJsonValue(k)) + ':' + Hl::canonicalJson(v);
    }
    return out + '}';
}

void FeedSimulator::handleSubscribe(Client *c, const QJsonObject &request, const QString &raw)
{
    const QJsonValue sv = request.value(u"subscription"_s);
    const Hl::TypeSpec *spec = Hl::findType(sv.toObject().value(u"type"_s).toString());
    if (!sv.isObject() || !spec || spec->legacy) {
        sendError(c, u"Error parsing JSON into valid websocket request: "_s + raw);
        return;
    }
    QString why;
    const auto parsed = Hl::Subscription::fromJson(sv.toObject(), &why);
    if (!parsed) {
        sendError(c, u"Invalid subscription "_s + QString::fromUtf8(Hl::canonicalJson(sv)));
        return;
    }
    const Hl::Subscription &s = *parsed;
    ++m_subscribeRequests[s.canonical()];
    if (m_rejected.contains(s.ackKey())) {
        sendError(c, u"Invalid subscription "_s + QString::fromUtf8(s.canonical()));
        return;
    }
    if (c->subs.count(s.ackKey())) {
        sendError(c, u"Already subscribed: "_s + QString::fromUtf8(ackEcho(s)));
        return;
    }
    AddressState &a = address(QHostAddress(c->address));
    if (m_cfg.limits.maxSubscriptionsPerConnection > 0 &&
        static_cast<int>(c->subs.size()) >= m_cfg.limits.maxSubscriptionsPerConnection) {
        sendError(c, u"Cannot subscribe to more than %1 channels."_s.arg(
                         m_cfg.limits.maxSubscriptionsPerConnection));
        return;
    }
    if (a.subscriptions >= m_cfg.limits.maxSubscriptions) {
        sendError(c, u"Cannot subscribe to more than %1 channels."_s.arg(m_cfg.limits.maxSubscriptions));
        return;
    }
    const QString user = s.user();
    if (!user.isEmpty() && !a.users.contains(user) && a.users.size() >= m_cfg.limits.maxUsers) {
        sendError(c, u"Cannot track more than %1 total users."_s.arg(m_cfg.limits.maxUsers));
        return;
    }
    ++a.subscriptions;
    if (!user.isEmpty())
        ++a.users[user];
    auto sub = std::make_unique<Sub>(s, m_cfg.seed);
    if (auto t = m_lastTids.constFind(s.canonical()); t != m_lastTids.constEnd())
        sub->feed.continueTids(*t); // a clean feed never sends a trade twice, reconnects included
    sub->rate = rateFor(s);
    const double now = static_cast<double>(m_clock.elapsed());
    sub->nextDueMs = sendsSnapshotOnSubscribe(s.type()) ? now : now + sub->feed.nextGapMs(sub->rate);
    c->subs.emplace(s.ackKey(), std::move(sub));

    sendText(c, R"({"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":)" +
                    ackEcho(s) + "}}");
    Q_EMIT subscribed(c->id, s.canonical());

    if (!m_replay.isEmpty() && m_replayPos < 0) {
        if (!m_replayWait.isActive())
            m_replayWait.start(m_cfg.replayWait);
        QSet<QByteArray> have;
        for (const auto &[id, cl] : m_clients)
            for (const auto &[k, sb] : cl->subs)
                have.insert(sb->sub.routeKey());
        if (have.contains(m_replayKeys))
            startReplay();
    }
    updateTickTimer();
}

void FeedSimulator::handleUnsubscribe(Client *c, const QJsonObject &request, const QString &raw)
{
    const QJsonValue sv = request.value(u"subscription"_s);
    if (!sv.isObject() || !sv.toObject().value(u"type"_s).isString()) {
        sendError(c, u"Error parsing JSON into valid websocket request: "_s + raw);
        return;
    }
    const Hl::Subscription s = Hl::Subscription::fromEcho(sv.toObject());
    if (!c->subs.count(s.ackKey())) {
        sendError(c, u"Already unsubscribed: "_s + QString::fromUtf8(s.canonical()));
        return;
    }
    removeSubscription(c, s.ackKey());
    sendText(c, R"({"channel":"subscriptionResponse","data":{"method":"unsubscribe","subscription":)" +
                    ackEcho(s) + "}}");
    Q_EMIT unsubscribed(c->id, s.canonical());
    updateTickTimer();
}

void FeedSimulator::removeSubscription(Client *c, const QByteArray &ackKey)
{
    auto it = c->subs.find(ackKey);
    if (it == c->subs.end())
        return;
    retire(*it->second);
    AddressState &a = address(QHostAddress(c->address));
    --a.subscriptions;
    const QString user = it->second->sub.user();
    if (!user.isEmpty() && --a.users[user] <= 0)
        a.users.remove(user);
    c->subs.erase(it);
}

void FeedSimulator::handlePost(Client *c, const QJsonObject &request)
{
    const QJsonValue id = request.value(u"id"_s);
    const QJsonObject req = request.value(u"request"_s).toObject();
    const QString type = req.value(u"type"_s).toString();
    if (!id.isDouble() || (type != u"info"_s && type != u"action"_s)) {
        sendError(c, u"Error parsing JSON into valid websocket request: "_s +
                         QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact)));
        return;
    }
    QByteArray response;
    if (type == u"info"_s) {
        const QJsonObject payload = req.value(u"payload"_s).toObject();
        const QString infoType = payload.value(u"type"_s).toString();
        response = R"({"type":"info","payload":{"type":)" + Hl::canonicalJson(QJsonValue(infoType)) +
                   R"(,"data":{"simulated":true}}})";
    } else {
        response =
            R"({"type":"action","payload":{"status":"err","response":"The simulator does not execute actions."}})";
    }
    sendText(c, R"({"channel":"post","data":{"id":)" + QByteArray::number(id.toInteger()) +
                    R"(,"response":)" + response + "}}");
}

double FeedSimulator::rateFor(const Hl::Subscription &s) const
{
    const double base =
        m_cfg.rates.contains(s.type()) ? m_cfg.rates.value(s.type()) : defaultRatePerSecond(s);
    return base * m_cfg.rateScale;
}

void FeedSimulator::sendData(Client *c, Sub &s, qint64 wallMs)
{
    if (c->stalled)
        return;
    sendText(c, s.feed.next(wallMs));
    ++c->dataFrames;
    ++m_sentPerSubscription[s.sub.canonical()];
    ++m_totalDataFrames;
}

void FeedSimulator::retire(const Sub &s)
{
    if (s.sub.type() == u"trades"_s)
        m_lastTids.insert(s.sub.canonical(), s.feed.lastTid());
}

qint64 FeedSimulator::eventTimeMs()
{
    m_lastWallMs = std::max(m_lastWallMs, QDateTime::currentMSecsSinceEpoch());
    return m_lastWallMs + m_offsetMs - m_delayMs;
}

bool FeedSimulator::sendTwisted(const Fault &f, QString *error)
{
    const Twist twist = twistOf(f.kind);
    const QByteArray ackKey = f.subscription.ackKey();
    const qint64 wall = eventTimeMs();
    int sent = 0;
    for (const auto &[id, c] : m_clients) {
        if ((f.connection >= 0 && id != f.connection) || c->stalled)
            continue;
        auto it = c->subs.find(ackKey);
        if (it == c->subs.end())
            continue;
        const QByteArray frame = it->second->feed.twisted(wall, twist, f.amount > 0 ? f.amount : 1000);
        if (frame.isEmpty())
            continue;
        sendText(c.get(), frame);
        ++c->dataFrames;
        ++m_sentPerSubscription[it->second->sub.canonical()];
        ++m_totalDataFrames;
        ++sent;
    }
    if (sent == 0 && error)
        *error = u"no connection holds %1 with data to twist yet"_s.arg(
            QString::fromUtf8(f.subscription.canonical()));
    return sent > 0;
}

void FeedSimulator::setDataPaused(bool paused)
{
    m_dataPaused = paused;
    if (!paused) {
        // Resume on cadence, without a burst for the paused time.
        const double now = static_cast<double>(m_clock.elapsed());
        for (const auto &[id, c] : m_clients)
            for (const auto &[k, sub] : c->subs)
                sub->nextDueMs = std::max(sub->nextDueMs, now);
    }
    updateTickTimer();
}

void FeedSimulator::updateTickTimer()
{
    bool any = false;
    if (m_replay.isEmpty() && !m_dataPaused) {
        for (const auto &[id, c] : m_clients) {
            if (!c->subs.empty() && !c->stalled) {
                any = true;
                break;
            }
        }
    }
    if (any)
        m_tick.start(0); // re-plan now: a new subscription may be due before the sleeping tick
    else
        m_tick.stop();
}

void FeedSimulator::onTick()
{
    const double now = static_cast<double>(m_clock.elapsed());
    const qint64 wall = eventTimeMs();
    double nextDue = 1e18;
    for (const auto &[id, c] : m_clients) {
        if (c->stalled)
            continue;
        for (const auto &[key, sub] : c->subs) {
            int guard = 0;
            while (sub->nextDueMs <= now && guard++ < 1000) {
                sendData(c.get(), *sub, wall);
                sub->nextDueMs += sub->feed.nextGapMs(sub->rate);
            }
            if (sub->nextDueMs < now - 1000)
                sub->nextDueMs = now; // no catch-up storm after a stall or a busy machine
            nextDue = std::min(nextDue, sub->nextDueMs);
        }
    }
    // Sleep until the next frame is due (at least one tick): an idle feed does not wake.
    const double wait = std::max(static_cast<double>(m_cfg.tick.count()), nextDue - now);
    m_tick.start(static_cast<int>(std::min(wait, 3600000.0)));
}

void FeedSimulator::onIdleCheck()
{
    const qint64 now = m_clock.elapsed();
    QList<QWebSocket *> idle;
    for (const auto &[id, c] : m_clients) {
        if (now - c->lastClientMs > m_cfg.limits.idleTimeout.count())
            idle.append(c->socket);
    }
    for (QWebSocket *ws : idle)
        ws->close(QWebSocketProtocol::CloseCodeNormal, u"idle: no message from the client in 60 s"_s);
}

QList<FeedSimulator::Client *> FeedSimulator::targets(int id) const
{
    QList<Client *> out;
    for (const auto &[cid, c] : m_clients) {
        if (id < 0 || cid == id)
            out.append(c.get());
    }
    return out;
}

bool FeedSimulator::apply(const Fault &f, QString *error)
{
    const QList<Client *> ts = targets(f.connection);
    const bool needsConnection = f.kind != FaultKind::Reject && f.kind != FaultKind::Restart &&
                                 f.kind != FaultKind::Flood && f.kind != FaultKind::Delay &&
                                 f.kind != FaultKind::Offset;
    if (needsConnection && f.connection >= 0 && ts.isEmpty()) {
        if (error)
            *error = u"no connection %1"_s.arg(f.connection);
        return false;
    }
    QList<int> ids;
    for (Client *c : ts)
        ids.append(c->id);
    QString description =
        QString::fromLatin1(QMetaEnum::fromType<FaultKind>().valueToKey(static_cast<int>(f.kind)));
    switch (f.kind) {
    case FaultKind::Abort:
        for (int id : ids) {
            if (auto it = m_clients.find(id); it != m_clients.end())
                it->second->socket->abort();
            dropClient(id);
        }
        break;
    case FaultKind::Close:
        for (Client *c : ts)
            c->socket->close(static_cast<QWebSocketProtocol::CloseCode>(f.closeCode), f.reason);
        break;
    case FaultKind::Stall:
    case FaultKind::Unstall:
        for (Client *c : ts)
            c->stalled = f.kind == FaultKind::Stall;
        updateTickTimer();
        break;
    case FaultKind::Reject:
        m_rejected.insert(f.subscription.ackKey());
        description += u' ' + QString::fromUtf8(f.subscription.canonical());
        break;
    case FaultKind::Malformed:
        for (Client *c : ts) {
            switch (f.malformed) {
            case MalformedKind::NotJson:
                sendText(c, "this is not JSON {");
                break;
            case MalformedKind::Binary:
                if (!c->stalled)
                    c->socket->sendBinaryMessage(QByteArray("\x00\x01\x02binary\xff", 10));
                break;
            case MalformedKind::UnknownChannel:
                sendText(c, R"({"channel":"mysteryChannel","data":{"x":1}})");
                break;
            case MalformedKind::WrongShape:
                sendText(c, R"({"channel":"trades","data":{"coin":"BTC"}})");
                break;
            case MalformedKind::EmptyTrades:
                sendText(c, R"({"channel":"trades","data":[]})");
                break;
            }
        }
        break;
    case FaultKind::Oversized: {
        const QByteArray head = R"({"channel":"allMids","data":{"mids":{"PAD":")";
        const QByteArray tail = "\"}}}";
        const qsizetype pad =
            std::max<qsizetype>(0, static_cast<qsizetype>(f.amount) - head.size() - tail.size());
        const QByteArray frame = head + QByteArray(pad, '9') + tail;
        for (Client *c : ts)
            sendText(c, frame);
        break;
    }
    case FaultKind::Flood:
        flood(f);
        break;
    case FaultKind::Restart: {
        if (m_tcp)
            m_tcp->close();
        Q_EMIT listeningChanged(false);
        for (int id : ids) {
            if (auto it = m_clients.find(id); it != m_clients.end())
                it->second->socket->abort();
            dropClient(id);
        }
        QTimer::singleShot(std::chrono::milliseconds(f.amount), this, [this] {
            QString why;
            if (!start(&why))
                qCWarning(lcSim) << "restart failed:" << why;
        });
        break;
    }
    case FaultKind::Crossed:
    case FaultKind::Backwards:
    case FaultKind::Duplicate:
    case FaultKind::Foreign:
        if (!sendTwisted(f, error))
            return false;
        description += u' ' + QString::fromUtf8(f.subscription.canonical());
        break;
    case FaultKind::Delay:
        m_delayMs = std::max<qint64>(0, f.amount);
        description += u" %1 ms"_s.arg(m_delayMs);
        break;
    case FaultKind::Offset:
        m_offsetMs = f.offsetMs;
        description += u" %1 ms"_s.arg(m_offsetMs);
        break;
    }
    if (f.connection >= 0)
        description += u" connection %1"_s.arg(f.connection);
    qCInfo(lcSim) << "fault" << description;
    Q_EMIT faultApplied(description);
    return true;
}

void FeedSimulator::flood(const Fault &f)
{
    floodStep(f.subscription.ackKey(), f.connection, f.amount);
}

void FeedSimulator::floodStep(const QByteArray &ackKey, int connection, qint64 left)
{
    // Frames go out in chunks per event-loop turn: QWebSocket appends them to the socket's write
    // buffer, which the event loop drains in large writes.
    const qint64 wall = eventTimeMs();
    const qint64 chunk = std::min<qint64>(FloodChunk, left);
    bool any = false;
    for (const auto &[id, c] : m_clients) {
        if (connection >= 0 && id != connection)
            continue;
        auto it = c->subs.find(ackKey);
        if (it == c->subs.end())
            continue;
        any = true;
        for (qint64 i = 0; i < chunk; ++i)
            sendData(c.get(), *it->second, wall);
    }
    if (any && left > chunk)
        QTimer::singleShot(0, this, [this, ackKey, connection, rest = left - chunk] {
            floodStep(ackKey, connection, rest);
        });
}

void FeedSimulator::schedule(const Fault &fault)
{
    auto timer = std::make_shared<QTimer>();
    timer->setSingleShot(true);
    const qint64 elapsed = m_started ? m_clock.elapsed() : 0;
    timer->setInterval(std::chrono::milliseconds(std::max<qint64>(0, fault.at.count() - elapsed)));
    connect(timer.get(), &QTimer::timeout, this, [this, fault] {
        QString error;
        if (!apply(fault, &error))
            qCWarning(lcSim) << "scheduled fault failed:" << error;
    });
    m_scheduled.append(timer);
    if (m_started)
        timer->start();
}

void FeedSimulator::handleControl(QWebSocket *socket, const QString &text)
{
    const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
    QJsonObject reply{{u"ok"_s, true}};
    if (o.value(u"fault"_s).toString() == u"status"_s) {
        QJsonArray conns;
        for (const ConnectionInfo &ci : connections()) {
            QJsonArray keys;
            for (const Hl::Subscription &sub : subscriptionsOf(ci.id))
                keys.append(QString::fromUtf8(sub.canonical()));
            conns.append(QJsonObject{{u"id"_s, ci.id},
                                     {u"keys"_s, keys},
                                     {u"peerPort"_s, ci.peerPort},
                                     {u"subscriptions"_s, ci.subscriptions},
                                     {u"stalled"_s, ci.stalled},
                                     {u"dataFrames"_s, static_cast<double>(ci.dataFrames)}});
        }
        reply.insert(u"connections"_s, conns);
        reply.insert(u"listening"_s, isListening());
    } else {
        QString error;
        const auto fault = Fault::fromJson(o, &error);
        if (!fault || !apply(*fault, &error))
            reply = QJsonObject{{u"ok"_s, false}, {u"error"_s, error}};
    }
    socket->sendTextMessage(QString::fromUtf8(QJsonDocument(reply).toJson(QJsonDocument::Compact)));
}

QList<FeedSimulator::ConnectionInfo> FeedSimulator::connections() const
{
    QList<ConnectionInfo> out;
    for (const auto &[id, c] : m_clients)
        out.append(
            {id, c->peerPort, static_cast<int>(c->subs.size()), c->stalled, c->requests, c->dataFrames});
    return out;
}

QList<Hl::Subscription> FeedSimulator::subscriptionsOf(int id) const
{
    QList<Hl::Subscription> out;
    if (auto it = m_clients.find(id); it != m_clients.end())
        for (const auto &[k, s] : it->second->subs)
            out.append(s->sub);
    return out;
}

int FeedSimulator::subscriptionCount() const
{
    int n = 0;
    for (const auto &[id, c] : m_clients)
        n += static_cast<int>(c->subs.size());
    return n;
}

qint64 FeedSimulator::dataFramesSent(const Hl::Subscription &s) const
{
    return m_sentPerSubscription.value(s.canonical());
}

int FeedSimulator::idOfPeerPort(quint16 peerPort) const
{
    for (const auto &[id, c] : m_clients)
        if (c->peerPort == peerPort)
            return id;
    return -1;
}

// ---------------------------------------------------------------------------------------------
// Replay

bool FeedSimulator::loadReplay(QString *error)
{
    Hl::FrameDecoder decoder;
    qint64 firstNs = -1;
    const bool read = forEachRecordedFrame(
        m_cfg.replayFile,
        [&](const RecordedFrame &rec) {
            if (rec.binary || rec.sent)
                return;
            const Hl::Envelope env = decoder.decode(rec.payload);
            if (env.kind != Hl::FrameKind::Data)
                return; // acks, pongs and errors are the simulator's own business
            if (firstNs < 0)
                firstNs = rec.monotonicNs;
            m_replay.append(
                {rec.monotonicNs - firstNs, rec.wallTime.toMSecsSinceEpoch(), rec.payload, env.routeKey});
            if (m_cfg.replayNeeds.isEmpty())
                m_replayKeys.insert(env.routeKey);
        },
        error);
    if (!read)
        return false;
    if (!m_cfg.replayNeeds.isEmpty())
        m_replayKeys = m_cfg.replayNeeds;
    if (m_replay.isEmpty()) {
        if (error)
            *error = u"recording %1 holds no data frames"_s.arg(m_cfg.replayFile);
        return false;
    }
    return true;
}

void FeedSimulator::startReplay()
{
    if (m_replayPos >= 0 || m_replay.isEmpty())
        return;
    m_replayWait.stop();
    m_replayPos = 0;
    m_replayStartNs = m_clock.nsecsElapsed();
    announceReplay(true);
    if (!m_replayPaused)
        replayStep();
}

FeedSimulator::ReplayProgress FeedSimulator::replayProgress() const
{
    ReplayProgress p;
    p.total = m_replay.size();
    p.sent = m_replaySent;
    p.durationNs = m_replay.isEmpty() ? 0 : m_replay.constLast().ns;
    p.started = m_replayPos >= 0;
    const qsizetype last = std::min(m_replayPos, m_replay.size()) - 1;
    p.positionNs = last >= 0 ? m_replay.at(last).ns : 0;
    p.speed = m_replaySpeed;
    p.paused = m_replayPaused;
    p.finished = p.started && m_replayPos >= m_replay.size();
    return p;
}

void FeedSimulator::announceReplay(bool force)
{
    const qint64 now = m_clock.nsecsElapsed();
    if (!force && now - m_replayAnnouncedNs < 250'000'000)
        return;
    m_replayAnnouncedNs = now;
    Q_EMIT replayProgressed(replayProgress());
}

void FeedSimulator::setReplayPaused(bool paused)
{
    if (paused == m_replayPaused || m_replay.isEmpty())
        return;
    m_replayPaused = paused;
    if (m_replayPos >= 0 && m_replayPos < m_replay.size()) {
        if (paused) {
            m_replayTimer.stop();
        } else {
            // Resume at the next frame's recorded time: the pause does not count.
            rebaseReplay();
            replayStep();
        }
    }
    announceReplay(true);
}

void FeedSimulator::setReplaySpeed(double speed)
{
    speed = std::max(0.0, speed);
    if (speed == m_replaySpeed)
        return;
    m_replaySpeed = speed;
    if (m_replayPos >= 0 && m_replayPos < m_replay.size()) {
        rebaseReplay();
        if (!m_replayPaused)
            scheduleReplayStep();
    }
    announceReplay(true);
}

void FeedSimulator::rebaseReplay()
{
    // The next frame is due now at the (new) speed.
    const double dueNs =
        m_replaySpeed > 0 ? static_cast<double>(m_replay.at(m_replayPos).ns) / m_replaySpeed : 0;
    m_replayStartNs = m_clock.nsecsElapsed() - static_cast<qint64>(dueNs);
}

void FeedSimulator::replayStep()
{
    if (m_replayPaused)
        return;
    const double speed = m_replaySpeed;
    const qint64 elapsedNs = m_clock.nsecsElapsed() - m_replayStartNs;
    int sentThisStep = 0;
    while (m_replayPos < m_replay.size()) {
        const ReplayFrame &rf = m_replay.at(m_replayPos);
        if (speed > 0 && static_cast<double>(rf.ns) / speed > static_cast<double>(elapsedNs))
            break;
        if (speed <= 0 && sentThisStep >= static_cast<int>(FloodChunk))
            break;
        const QByteArray frame = m_cfg.replayRetime
                                     ? retimedFrame(rf.frame, QDateTime::currentMSecsSinceEpoch() - rf.wallMs)
                                     : rf.frame;
        for (const auto &[id, c] : m_clients) {
            for (const auto &[k, sub] : c->subs) {
                if (sub->sub.routeKey() == rf.routeKey && !c->stalled) {
                    sendText(c.get(), frame);
                    ++c->dataFrames;
                    ++m_sentPerSubscription[sub->sub.canonical()];
                    ++m_totalDataFrames;
                    break;
                }
            }
        }
        ++m_replaySent;
        ++sentThisStep;
        ++m_replayPos;
    }
    if (m_replayPos >= m_replay.size()) {
        announceReplay(true);
        Q_EMIT replayFinished(m_replaySent);
        return;
    }
    announceReplay(false);
    scheduleReplayStep();
}

void FeedSimulator::scheduleReplayStep()
{
    if (m_replaySpeed <= 0) {
        m_replayTimer.start(0);
    } else {
        const double dueNs = static_cast<double>(m_replay.at(m_replayPos).ns) / m_replaySpeed;
        const auto waitMs = static_cast<qint64>(
            (dueNs - static_cast<double>(m_clock.nsecsElapsed() - m_replayStartNs)) / 1e6);
        m_replayTimer.start(std::chrono::milliseconds(std::max<qint64>(0, waitMs)));
    }
}

} // namespace FeedScope::Sim

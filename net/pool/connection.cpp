#include "connection.h"

#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QSslError>

#include "logging.h"

#include <algorithm>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

Connection::Connection(int id, const PoolConfig &config, SlidingWindowBudget *outgoing,
                       SlidingWindowBudget *newConnections, QObject *parent)
    : QObject(parent), m_id(id), m_cfg(config), m_outgoing(outgoing), m_newConnections(newConnections),
      m_backoffTimer(this), m_connectTimer(this), m_closeTimer(this), m_pingTimer(this), m_pongTimer(this),
      m_staleTimer(this), m_livenessTimer(this), m_flushTimer(this),
      m_rng(QRandomGenerator::global()->generate())
{
    m_status.id = id;
    m_status.url = config.url;
    for (QTimer *t : {&m_backoffTimer, &m_connectTimer, &m_closeTimer, &m_pingTimer, &m_pongTimer,
                      &m_staleTimer, &m_flushTimer})
        t->setSingleShot(true);
    m_flushTimer.setTimerType(Qt::PreciseTimer);
    m_livenessTimer.setInterval(250);
    connect(&m_backoffTimer, &QTimer::timeout, this, &Connection::open);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        fail(Cause::SocketError, u"connect timeout after %1 ms"_s.arg(m_cfg.connectTimeout.count()));
    });
    connect(&m_closeTimer, &QTimer::timeout, this, [this] { m_socket.abort(); });
    connect(&m_pingTimer, &QTimer::timeout, this, &Connection::onPingTimer);
    connect(&m_pongTimer, &QTimer::timeout, this, &Connection::onPongTimer);
    connect(&m_staleTimer, &QTimer::timeout, this, &Connection::onStaleTimer);
    connect(&m_livenessTimer, &QTimer::timeout, this, &Connection::onLivenessTick);
    connect(&m_flushTimer, &QTimer::timeout, this, &Connection::flushOut);

    m_socket.setMaxAllowedIncomingMessageSize(static_cast<quint64>(config.maxFrameBytes));
    m_socket.setMaxAllowedIncomingFrameSize(static_cast<quint64>(config.maxFrameBytes));
    connect(&m_socket, &QWebSocket::connected, this, &Connection::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &Connection::onDisconnected);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &Connection::onText);
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, &Connection::onBinary);
#if QT_VERSION < QT_VERSION_CHECK(6, 5, 0)
    connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            &Connection::onSocketError);
#else
    connect(&m_socket, &QWebSocket::errorOccurred, this, &Connection::onSocketError);
#endif
    // TLS: the system's CA store plus any extra CA, peer and host name verified, unless told to
    // be insecure. The reasons of a refused certificate go into the close detail.
    if (m_cfg.url.scheme() == u"wss"_s) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        if (!m_cfg.extraCaCertificates.isEmpty())
            tls.addCaCertificates(m_cfg.extraCaCertificates);
        tls.setPeerVerifyMode(m_cfg.insecureTls ? QSslSocket::VerifyNone : QSslSocket::VerifyPeer);
        m_socket.setSslConfiguration(tls);
    }
    connect(&m_socket, &QWebSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        if (m_cfg.insecureTls) {
            m_socket.ignoreSslErrors();
            return;
        }
        QStringList texts;
        for (const QSslError &e : errors)
            texts.append(e.errorString());
        m_tlsError = u"TLS: "_s + texts.join(u"; "_s);
    });
    connect(&m_socket, &QWebSocket::aboutToClose, this, [this] {
        // QWebSocket closes by itself when a message exceeds the size limit.
        if (m_pendingCause == Cause::None &&
            m_socket.closeCode() == QWebSocketProtocol::CloseCodeTooMuchData) {
            m_pendingCause = Cause::Oversized;
            m_pendingDetail = u"a frame exceeded %1 bytes"_s.arg(m_cfg.maxFrameBytes);
            std::lock_guard lock(m_statusMutex);
            ++m_status.oversized;
        }
        if (!m_closeTimer.isActive())
            m_closeTimer.start(m_cfg.closeTimeout);
    });
}

Connection::~Connection()
{
    m_socket.disconnect(this);
    m_socket.abort();
}

ConnectionStatus Connection::status() const
{
    std::lock_guard lock(m_statusMutex);
    ConnectionStatus s = m_status;
    s.messagesIn = m_messagesIn.load(std::memory_order_relaxed);
    s.bytesIn = m_bytesIn.load(std::memory_order_relaxed);
    const qint64 last = m_lastFrameMs.load(std::memory_order_relaxed);
    const bool open = s.state == ConnState::Open;
    const qint64 now = monotonicMs();
    s.lastFrameAgeMs = open ? now - last : -1;
    s.pingOutstandingMs = open && m_statusPingSinceMs >= 0 ? now - m_statusPingSinceMs : -1;
    s.silent = open && m_statusSilenceMs > 0 && s.lastFrameAgeMs >= m_statusSilenceMs;
    if (!open)
        s.usualGapMs = -1;
    return s;
}

void Connection::setState(ConnState to, Cause cause, const QString &detail, int closeCode)
{
    ConnectionEvent e;
    e.connection = m_id;
    e.from = m_state;
    e.to = to;
    e.cause = cause;
    e.closeCode = closeCode;
    e.detail = detail;
    e.at = QDateTime::currentDateTimeUtc();
    if (to == ConnState::Backoff)
        e.nextAttemptAt = e.at.addMSecs(m_backoffTimer.isActive() ? m_backoffTimer.remainingTime() : 0);
    if (const qint64 last = m_lastFrameMs.load(std::memory_order_relaxed); last > 0 && m_wasUp)
        e.lastFrameAt = e.at.addMSecs(last - monotonicMs());
    m_state = to;
    {
        std::lock_guard lock(m_statusMutex);
        m_status.state = to;
        // Waiting for the new-connection budget is no failure: the last cause stays the real one.
        m_status.waitingForBudget = cause == Cause::ConnectionBudget;
        if (cause != Cause::Opened && cause != Cause::Retry && cause != Cause::None &&
            cause != Cause::ConnectionBudget) {
            m_status.lastCause = cause;
            m_status.lastDetail = detail;
        }
        m_status.nextAttemptAt = e.nextAttemptAt;
        if (to == ConnState::Open)
            m_status.openedAt = e.at;
    }
    qCDebug(lcNet) << "connection" << m_id << nameOf(e.from) << "->" << nameOf(to) << nameOf(cause) << detail;
    Q_EMIT stateChanged(e);
}

void Connection::open()
{
    if (m_state == ConnState::Connecting || m_state == ConnState::Open || m_state == ConnState::Closing)
        return; // one attempt in flight at a time
    m_backoffTimer.stop();
    m_stopAfterClose = false;
    const qint64 now = monotonicMs();
    m_attemptTokenMs = -1;
    if (!m_newConnections->tryAcquire(true, now)) {
        const qint64 wait = m_newConnections->msUntilAvailable(true, now);
        m_backoffTimer.start(std::chrono::milliseconds(wait));
        setState(ConnState::Backoff, Cause::ConnectionBudget,
                 u"new-connection limit (%1 per minute): next attempt in %2 ms"_s
                     .arg(m_cfg.newConnectionsPerMinute)
                     .arg(wait));
        return;
    }
    m_attemptTokenMs = now;
    m_pendingCause = Cause::None;
    m_pendingDetail.clear();
    m_socketErrored = false;
    m_socketError.clear();
    m_reconnectNow = false;
    setState(ConnState::Connecting, m_wasUp ? Cause::Retry : Cause::None, redactedUrl(m_cfg.url));
    m_connectTimer.start(m_cfg.connectTimeout);
    QNetworkRequest request(m_cfg.url);
    for (const auto &[name, value] : m_cfg.headers)
        request.setRawHeader(name, value);
    m_socket.open(request);
}

void Connection::reconnect(bool manual)
{
    switch (m_state) {
    case ConnState::Open:
        m_reconnectNow = true;
        m_pendingCause = manual ? Cause::Manual : Cause::Retry;
        m_pendingDetail = manual ? u"reconnect requested"_s : QString();
        setState(ConnState::Closing, m_pendingCause, m_pendingDetail);
        m_closeTimer.start(m_cfg.closeTimeout);
        m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"reconnect"_s);
        break;
    case ConnState::Backoff:
    case ConnState::Idle:
    case ConnState::Stopped:
        open(); // skip the wait
        break;
    case ConnState::Connecting:
    case ConnState::Closing:
        break; // joins the reconnect already in flight
    }
}

void Connection::stop(Cause cause)
{
    m_stopAfterClose = true;
    switch (m_state) {
    case ConnState::Open:
        m_pendingCause = cause;
        setState(ConnState::Closing, cause);
        m_closeTimer.start(m_cfg.closeTimeout);
        m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"closing"_s);
        break;
    case ConnState::Connecting:
        m_pendingCause = cause;
        m_socket.abort();
        break;
    case ConnState::Closing:
        m_pendingCause = cause;
        break;
    case ConnState::Backoff:
    case ConnState::Idle:
        m_backoffTimer.stop();
        setState(ConnState::Stopped, cause);
        break;
    case ConnState::Stopped:
        break;
    }
}

void Connection::onConnected()
{
    m_connectTimer.stop();
    const qint64 now = monotonicMs();
    {
        std::lock_guard lock(m_statusMutex);
        if (m_wasUp)
            ++m_status.reconnects;
        m_status.consecutiveFailures = 0;
    }
    m_wasUp = true;
    m_openedMs = now;
    m_lastFrameMs.store(now, std::memory_order_relaxed);
    m_lastSentMs = now;
    {
        std::lock_guard lock(m_statusMutex);
        m_status.localPort = m_socket.localPort();
    }
    setState(ConnState::Open, Cause::Opened, u"local port %1"_s.arg(m_socket.localPort()));
    m_staleTimer.start(m_cfg.effectiveStaleTimeout());
    m_tickAtMs = now;
    m_tickFrames = m_messagesIn.load(std::memory_order_relaxed);
    m_learnFromMs = now;
    m_learnFromFrames = m_tickFrames;
    m_frameRate = -1;
    m_probed = false;
    m_carriedData = false;
    if (m_cfg.silenceFactor > 0)
        m_livenessTimer.start();
    // One ping at once: the RTT is known from the first second, not after a whole interval.
    enqueue(Hl::encodePing(), Priority::Ping);
    armPing();
    scheduleFlush(0);
}

void Connection::onSocketError(QAbstractSocket::SocketError error)
{
    Q_UNUSED(error)
    m_socketErrored = true;
    m_socketError =
        m_tlsError.isEmpty() ? m_socket.errorString() : m_tlsError + u" ("_s + m_socket.errorString() + u')';
    m_tlsError.clear();
    // A failed handshake (refused, HTTP error) never reaches "connected"; QWebSocket does not
    // always follow with "disconnected", so settle it here.
    if (m_state == ConnState::Connecting && m_socket.state() == QAbstractSocket::UnconnectedState)
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (m_state == ConnState::Connecting && m_socket.state() == QAbstractSocket::UnconnectedState)
                    onDisconnected();
            },
            Qt::QueuedConnection);
}

void Connection::fail(Cause cause, const QString &detail)
{
    if (m_state != ConnState::Open && m_state != ConnState::Connecting && m_state != ConnState::Closing)
        return;
    if (m_pendingCause == Cause::None || m_pendingCause == Cause::Retry) {
        m_pendingCause = cause;
        m_pendingDetail = detail;
    }
    qCInfo(lcNet) << "connection" << m_id << "aborting:" << nameOf(cause) << detail;
    // Never wait for a close handshake from a peer that stopped answering.
    m_socket.abort();
    if (m_state != ConnState::Backoff && m_state != ConnState::Stopped &&
        m_socket.state() == QAbstractSocket::UnconnectedState)
        onDisconnected();
}

void Connection::onDisconnected()
{
    if (m_state == ConnState::Backoff || m_state == ConnState::Stopped || m_state == ConnState::Idle)
        return; // already settled
    for (QTimer *t : {&m_connectTimer, &m_closeTimer, &m_pingTimer, &m_pongTimer, &m_staleTimer,
                      &m_livenessTimer, &m_flushTimer})
        t->stop();
    flushBatch(); // what arrived before the drop is delivered before the state change
    clearQueues();
    const bool wasOpen = m_state == ConnState::Open || m_state == ConnState::Closing;
    const bool neverOpened = m_state == ConnState::Connecting;
    const int code = static_cast<int>(m_socket.closeCode());
    Cause cause = m_pendingCause;
    QString detail = m_pendingDetail;
    // QWebSocket reports "disconnected" before "error" for a failed connect, with error() set.
    const QAbstractSocket::SocketError socketError = m_socket.error();
    if (neverOpened && m_attemptTokenMs >= 0 &&
        (socketError == QAbstractSocket::ConnectionRefusedError ||
         socketError == QAbstractSocket::HostNotFoundError || socketError == QAbstractSocket::NetworkError)) {
        // The attempt never reached the server, so it does not count against the server's
        // new-connection limit: give the slot back (a server restart must not lock the pool out
        // for a minute).
        m_newConnections->release(m_attemptTokenMs);
        m_attemptTokenMs = -1;
    }
    if (cause == Cause::None || cause == Cause::Retry) {
        if (m_socketErrored || neverOpened) {
            cause = Cause::SocketError;
            detail = m_socketErrored ? m_socketError : m_socket.errorString();
        } else {
            cause = Cause::CloseFrame;
            detail = u"close code %1"_s.arg(code) +
                     (m_socket.closeReason().isEmpty() ? QString() : u": "_s + m_socket.closeReason());
        }
    }
    m_pendingCause = Cause::None;
    m_pendingDetail.clear();
    {
        // What was measured on this socket is not shown as if it were still live.
        std::lock_guard lock(m_statusMutex);
        m_status.rttMs = -1;
        m_status.usualGapMs = -1;
        m_statusSilenceMs = -1;
        if (neverOpened) {
            ++m_status.failedAttempts;
            ++m_status.consecutiveFailures;
        }
    }
    if (m_stopAfterClose) {
        setState(ConnState::Stopped, cause, detail, code);
        return;
    }
    const qint64 now = monotonicMs();
    // It was stable: start the backoff over. Stable is open for stableAfter, or for 10 s carrying
    // data (it restored and served its subscriptions): a stall after that is a new incident, whose
    // first retry is immediate, not a continuation of the last one's backoff.
    if (wasOpen &&
        (now - m_openedMs >= m_cfg.stableAfter.count() ||
         (m_carriedData && now - m_openedMs >= std::min<qint64>(10000, m_cfg.stableAfter.count()))))
        m_failures = 0;
    qint64 delay = 0;
    if (m_reconnectNow) {
        m_reconnectNow = false;
    } else if (wasOpen && m_failures == 0) {
        m_failures = 1; // first retry of a connection that was up: immediate
    } else {
        delay = backoffDelayMs();
        ++m_failures;
    }
    m_backoffTimer.start(std::chrono::milliseconds(delay));
    setState(ConnState::Backoff, cause, detail, code);
}

qint64 Connection::backoffDelayMs()
{
    // Full jitter: uniform in [0, min(cap, initial × 2^(failures-1))].
    const int exponent = std::clamp(m_failures - 1, 0, 30);
    const qint64 ceiling =
        std::min<qint64>(m_cfg.backoffMax.count(), m_cfg.backoffInitial.count() << exponent);
    return static_cast<qint64>(m_rng.bounded(static_cast<quint32>(ceiling) + 1));
}

void Connection::onText(const QString &text)
{
    const qint64 nowNs = monotonicNs();
    m_lastFrameMs.store(nowNs / 1000000, std::memory_order_relaxed);
    QByteArray utf8 = Hl::frameBytes(text);
    m_messagesIn.fetch_add(1, std::memory_order_relaxed);
    m_bytesIn.fetch_add(utf8.size(), std::memory_order_relaxed);
    Hl::Envelope env = m_decoder.decode(utf8);
    switch (env.kind) {
    case Hl::FrameKind::Data:
        m_probed = false; // data flows: the next silence may be probed again
        m_carriedData = true;
        m_batch.append(DataFrame{m_id, env.routeKey, utf8, nowNs, env.isSnapshot, env.eventTimeMs});
        if (!m_batchScheduled) {
            m_batchScheduled = true;
            QMetaObject::invokeMethod(this, &Connection::flushBatch, Qt::QueuedConnection);
        }
        return;
    case Hl::FrameKind::Pong:
        if (!m_pingsInFlight.empty()) {
            // Pongs carry no id: each answers the oldest ping in flight.
            const qint64 sent = m_pingsInFlight.front().sentNs;
            m_pingsInFlight.pop_front();
            std::lock_guard lock(m_statusMutex);
            m_status.rttMs = static_cast<double>(nowNs - sent) / 1e6;
            m_statusPingSinceMs = m_pingsInFlight.empty() ? -1 : m_pingsInFlight.front().sentNs / 1000000;
        }
        armPongTimer();
        return;
    case Hl::FrameKind::Invalid: {
        std::lock_guard lock(m_statusMutex);
        ++m_status.malformed[static_cast<int>(env.error)];
        break;
    }
    case Hl::FrameKind::Unknown: {
        std::lock_guard lock(m_statusMutex);
        ++m_status.unknownChannel;
        break;
    }
    default:
        break;
    }
    flushBatch(); // keep arrival order between data and control frames
    Q_EMIT controlFrame(m_id, env);
}

void Connection::onBinary(const QByteArray &data)
{
    m_lastFrameMs.store(monotonicMs(), std::memory_order_relaxed);
    m_messagesIn.fetch_add(1, std::memory_order_relaxed);
    m_bytesIn.fetch_add(data.size(), std::memory_order_relaxed);
    std::lock_guard lock(m_statusMutex);
    ++m_status.malformed[static_cast<int>(Hl::DecodeError::Binary)];
}

void Connection::flushBatch()
{
    m_batchScheduled = false;
    if (m_batch.isEmpty())
        return;
    QList<DataFrame> batch;
    batch.swap(m_batch);
    Q_EMIT dataFrames(batch);
    // The next batch is usually as large: one allocation for it, not a growth per append.
    m_batch.reserve(batch.size());
}

void Connection::enqueue(const QByteArray &frame, Priority priority, const QByteArray &ackKey)
{
    if (m_state == ConnState::Stopped)
        return;
    auto &q = priority == Priority::Ping ? m_ping : priority == Priority::Normal ? m_normal : m_restore;
    q.push_back({frame, ackKey, false});
    {
        std::lock_guard lock(m_statusMutex);
        m_status.queuedOut = static_cast<int>(m_ping.size() + m_normal.size() + m_restore.size());
    }
    if (m_state == ConnState::Open && !m_flushTimer.isActive())
        scheduleFlush(0);
}

void Connection::dropQueued(const QByteArray &ackKey)
{
    for (auto *q : {&m_normal, &m_restore})
        q->erase(std::remove_if(q->begin(), q->end(), [&](const Out &o) { return o.ackKey == ackKey; }),
                 q->end());
}

void Connection::scheduleFlush(qint64 delayMs)
{
    m_flushTimer.start(std::chrono::milliseconds(delayMs));
}

void Connection::flushOut()
{
    // One batch per event-loop turn: pings first, then the user's own requests, then at most
    // restoreBatch frames of a restore, so a large restore never blocks new subscribes.
    if (m_state != ConnState::Open)
        return;
    int restoreSent = 0;
    while (true) {
        std::deque<Out> *q = !m_ping.empty() ? &m_ping : !m_normal.empty() ? &m_normal : &m_restore;
        if (q->empty())
            break;
        if (q == &m_restore && restoreSent >= m_cfg.restoreBatch) {
            scheduleFlush(0);
            break;
        }
        const qint64 now = monotonicMs();
        const bool isPing = q == &m_ping;
        if (!m_outgoing->tryAcquire(isPing, now)) {
            scheduleFlush(m_outgoing->msUntilAvailable(isPing, now));
            break;
        }
        const Out out = std::move(q->front());
        q->pop_front();
        m_socket.sendTextMessage(QString::fromUtf8(out.frame));
        const qint64 sentNs = monotonicNs();
        Q_EMIT frameSent(m_id, out.frame, sentNs);
        m_lastSentMs = now;
        if (isPing) {
            // Each ping has its own deadline: a later ping never postpones an earlier one's
            // (a pong timeout longer than the ping interval used to re-arm forever).
            const auto timeout = out.probe ? m_cfg.probeTimeout : m_cfg.pongTimeout;
            m_pingsInFlight.push_back(
                {sentNs, sentNs + std::chrono::nanoseconds(timeout).count(), out.probe});
            constexpr size_t MaxInFlight = 64; // a peer that never answers is failed long before
            if (m_pingsInFlight.size() > MaxInFlight)
                m_pingsInFlight.pop_front();
            {
                std::lock_guard lock(m_statusMutex);
                m_statusPingSinceMs = m_pingsInFlight.front().sentNs / 1000000;
            }
            armPongTimer();
        }
        if (q == &m_restore)
            ++restoreSent;
        {
            std::lock_guard lock(m_statusMutex);
            ++m_status.framesOut;
        }
        if (!out.ackKey.isEmpty())
            Q_EMIT subscribeSent(m_id, out.ackKey, now);
    }
    std::lock_guard lock(m_statusMutex);
    m_status.queuedOut = static_cast<int>(m_ping.size() + m_normal.size() + m_restore.size());
}

void Connection::armPing()
{
    const qint64 due = m_lastSentMs + m_cfg.pingInterval.count();
    m_pingTimer.start(std::chrono::milliseconds(std::max<qint64>(0, due - monotonicMs())));
}

void Connection::onPingTimer()
{
    if (m_state != ConnState::Open)
        return;
    // Only when nothing else went out for a whole interval: any client frame keeps the
    // server's idle timer alive. Wakes once per interval at most.
    if (monotonicMs() - m_lastSentMs >= m_cfg.pingInterval.count() - 1) {
        if (m_ping.empty())
            enqueue(Hl::encodePing(), Priority::Ping);
        m_pingTimer.start(m_cfg.pingInterval);
        return;
    }
    armPing();
}

void Connection::armPongTimer()
{
    if (m_pingsInFlight.empty()) {
        m_pongTimer.stop();
        return;
    }
    qint64 deadline = m_pingsInFlight.front().deadlineNs;
    for (const PingInFlight &p : m_pingsInFlight)
        deadline = std::min(deadline, p.deadlineNs);
    const qint64 inMs = (deadline - monotonicNs() + 999999) / 1000000;
    m_pongTimer.start(std::chrono::milliseconds(std::max<qint64>(0, inMs)));
}

void Connection::onPongTimer()
{
    if (m_state != ConnState::Open || m_pingsInFlight.empty())
        return;
    const qint64 now = monotonicNs();
    const qint64 lastFrameNs = m_lastFrameMs.load(std::memory_order_relaxed) * 1000000;
    for (PingInFlight &p : m_pingsInFlight) {
        if (p.deadlineNs > now)
            continue;
        // Frames still arriving mean the peer is there and its pong waits behind them (a flood
        // this side has not read yet): dead is a ping followed by silence, not a late pong.
        const qint64 timeoutNs = p.deadlineNs - p.sentNs;
        if (lastFrameNs > p.sentNs && now - lastFrameNs < timeoutNs) {
            p.deadlineNs = lastFrameNs + timeoutNs;
            continue;
        }
        // A timer this late means this thread was busy (a flood on another connection, a slow
        // machine): what the socket holds may not have been read yet. Read it first.
        if (now - p.deadlineNs > 1000000000 && !p.lateChecked) {
            p.lateChecked = true;
            p.deadlineNs = now + 250000000;
            continue;
        }
        const qint64 waitedMs = (now - p.sentNs) / 1000000;
        if (p.probe) {
            const qint64 silentMs = monotonicMs() - m_lastFrameMs.load(std::memory_order_relaxed);
            fail(Cause::PongTimeout,
                 u"silent for %1 ms (usually a frame every %2 ms): no pong within %3 ms of a probe ping"_s
                     .arg(silentMs)
                     .arg(m_frameRate > 0 ? qRound64(1000.0 / m_frameRate) : -1)
                     .arg(waitedMs));
        } else {
            fail(Cause::PongTimeout,
                 u"no pong %1 ms after a ping, and no frame for %2 ms"_s.arg(waitedMs).arg(
                     (now - lastFrameNs) / 1000000));
        }
        return;
    }
    armPongTimer();
}

void Connection::onLivenessTick()
{
    // Fast stall detection: a connection that usually carries many frames and falls silent for
    // several of its usual gaps is asked at once whether it is still there (a probe ping with a
    // short pong timeout), instead of waiting for the next regular ping and its long timeout. The
    // rate is learnt only outside silences, so a stall does not teach it that silence is usual.
    if (m_state != ConnState::Open)
        return;
    const qint64 now = monotonicMs();
    const qint64 frames = m_messagesIn.load(std::memory_order_relaxed);
    const qint64 age = now - m_lastFrameMs.load(std::memory_order_relaxed);
    const qint64 silenceMs = m_frameRate > 0 ? silenceThresholdMs() : -1;
    // A tick far later than its interval means this thread was busy: the silence may be frames
    // waiting to be read, and the rate was not what this tick would measure. Neither counts.
    const bool late = now - m_tickAtMs > 4 * m_livenessTimer.interval();
    const bool silent = silenceMs > 0 && age >= silenceMs;
    if (now - m_openedMs < 2000) {
        // The first seconds carry the subscriptions' snapshots, a burst that says nothing of the
        // usual rate: learning starts after them.
        m_learnFromMs = now;
        m_learnFromFrames = frames;
    } else if (!silent && !late) {
        const qint64 learnt = now - m_learnFromMs;
        const qint64 dt = now - m_tickAtMs;
        if (learnt < 10000) {
            // The first ten seconds: the plain average, known after one.
            if (learnt >= 1000)
                m_frameRate =
                    static_cast<double>(frames - m_learnFromFrames) * 1000.0 / static_cast<double>(learnt);
        } else if (dt > 0) {
            // Then a moving average: ~2.5 s to follow a change of rate at 4 ticks a second.
            const double rate = static_cast<double>(frames - m_tickFrames) * 1000.0 / static_cast<double>(dt);
            m_frameRate = 0.9 * m_frameRate + 0.1 * rate;
        }
    }
    m_tickFrames = frames;
    m_tickAtMs = now;
    const qint64 threshold = m_frameRate > 0 ? silenceThresholdMs() : -1;
    {
        std::lock_guard lock(m_statusMutex);
        m_statusSilenceMs = threshold;
        m_status.usualGapMs = threshold > 0 ? qRound64(1000.0 / m_frameRate) : -1;
    }
    if (threshold > 0 && age >= threshold && !m_probed && !late) {
        m_probed = true;
        qCInfo(lcNet) << "connection" << m_id << "silent for" << age << "ms: probing with a ping";
        m_ping.push_back({Hl::encodePing(), {}, true});
        scheduleFlush(0);
    }
}

qint64 Connection::silenceThresholdMs() const
{
    // Only for a busy connection, at least 5 frames a second: a quieter one's feeds come in
    // irregular bursts (asset contexts every few seconds), whose gaps would read as silence; it
    // is covered by the regular ping and the stale timeout.
    if (m_cfg.silenceFactor <= 0 || m_frameRate < 5)
        return -1;
    return std::max<qint64>(m_cfg.silenceMinimum.count(),
                            qRound64(m_cfg.silenceFactor * 1000.0 / m_frameRate));
}

void Connection::onStaleTimer()
{
    if (m_state != ConnState::Open)
        return;
    const qint64 stale = m_cfg.effectiveStaleTimeout().count();
    const qint64 age = monotonicMs() - m_lastFrameMs.load(std::memory_order_relaxed);
    if (age >= stale) {
        fail(Cause::Stale, u"no frame for %1 ms"_s.arg(age));
        return;
    }
    m_staleTimer.start(std::chrono::milliseconds(stale - age)); // re-armed lazily: one wake per timeout
}

void Connection::clearQueues()
{
    m_ping.clear();
    m_normal.clear();
    m_restore.clear();
    m_pingsInFlight.clear();
    std::lock_guard lock(m_statusMutex);
    m_status.queuedOut = 0;
    m_statusPingSinceMs = -1;
}

} // namespace FeedScope

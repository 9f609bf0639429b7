#include "connectionpool.h"

#include "logging.h"

#include <QEventLoop>
#include <QMetaMethod>

#include <algorithm>

#include <time.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

namespace {
constexpr int MaxReconnectRecords = 1000;
constexpr qint64 ClockReadIntervalMs = 5000;

qint64 wallClockNs()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<qint64>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/// Types whose first message after a subscribe replays the past without an `isSnapshot` flag.
bool replaysWithoutFlag(const Hl::Subscription &s)
{
    return s.type() == u"trades"_s || s.type() == u"bbo"_s;
}
} // namespace

ConnectionPool::ConnectionPool(const PoolConfig &config, QList<QThread *> ioThreads, QObject *parent)
    : QObject(parent), m_cfg(config), m_threads(std::move(ioThreads)),
      m_outgoing(std::make_unique<SlidingWindowBudget>(config.outgoingPerMinute, 60s, config.pingReserve)),
      m_newConnections(std::make_unique<SlidingWindowBudget>(config.newConnectionsPerMinute, 60s)),
      m_rng(QRandomGenerator::global()->generate())
{
    m_counters.outgoingCapacity = config.outgoingPerMinute;
    m_ackTimer.setInterval(std::clamp<std::chrono::milliseconds>(config.ackTimeout / 4, 20ms, 1000ms));
    connect(&m_ackTimer, &QTimer::timeout, this, &ConnectionPool::checkAckTimeouts);
    connect(&m_publishTimer, &QTimer::timeout, this, [this] { Q_EMIT snapshotPublished(snapshot()); });
    m_postTimer.setInterval(std::clamp<std::chrono::milliseconds>(config.postTimeout / 4, 20ms, 1000ms));
    connect(&m_postTimer, &QTimer::timeout, this, &ConnectionPool::checkPostTimeouts);
}

void ConnectionPool::setPublishInterval(std::chrono::milliseconds interval)
{
    if (interval.count() <= 0) {
        m_publishTimer.stop();
        return;
    }
    m_publishTimer.start(interval);
}

ConnectionPool::~ConnectionPool()
{
    // Connections live on their own threads: they are deleted there, and before this returns,
    // because they use the budgets this pool owns (a connection whose deleteLater had not run
    // yet could still flush through a budget already freed: a hang on its mutex).
    for (auto &[id, c] : m_conns) {
        Connection *conn = c.conn;
        conn->disconnect(this);
        QThread *t = conn->thread();
        if (t == QThread::currentThread() || !t || !t->isRunning())
            delete conn;
        else
            QMetaObject::invokeMethod(
                conn, [conn] { delete conn; }, Qt::BlockingQueuedConnection);
    }
}

template<typename F> void ConnectionPool::onConn(Connection *conn, F &&f)
{
    // Runs on the connection's thread: directly when it is this one, queued otherwise.
    QMetaObject::invokeMethod(conn, std::forward<F>(f), Qt::AutoConnection);
}

ConnectionPool::ConnRecord &ConnectionPool::createConnection()
{
    const int id = m_nextId++;
    auto *conn = new Connection(id, m_cfg, m_outgoing.get(), m_newConnections.get());
    QThread *thread = m_threads.isEmpty() ? this->thread() : m_threads.at((id - 1) % m_threads.size());
    if (thread != conn->thread())
        conn->moveToThread(thread);
    connect(conn, &Connection::stateChanged, this, &ConnectionPool::onConnectionEvent);
    connect(conn, &Connection::dataFrames, this, &ConnectionPool::onData);
    connect(conn, &Connection::controlFrame, this, &ConnectionPool::onControl);
    connect(conn, &Connection::subscribeSent, this, &ConnectionPool::onSubscribeSent);
    connect(conn, &Connection::frameSent, this, &ConnectionPool::frameSent);
    ConnRecord &rec = m_conns[id];
    rec.conn = conn;
    if (!m_paused)
        onConn(conn, [conn] { conn->open(); });
    return rec;
}

void ConnectionPool::subscribe(const Hl::Subscription &s)
{
    if (!s.isValid() || m_stopping)
        return;
    auto it = m_subs.find(s.canonical());
    if (it != m_subs.end()) {
        if (it->unsubscribing)
            it->resubscribeAfter = true; // re-subscribe during the unsubscribe window
        else if (it->status.state == SubState::Rejected || it->status.state == SubState::Failed ||
                 it->status.state == SubState::Unplaceable)
            place(*it, false); // an explicit new request retries
        return;
    }
    SubRecord &rec = m_subs[s.canonical()];
    rec.status.subscription = s;
    // The latency window of a type that carries event times is allocated now, not at its first
    // sample (a fill may come hours later): a long run's memory is set when it subscribes.
    if (const Hl::TypeSpec *spec = s.spec(); spec && Hl::carriesEventTime(*spec))
        rec.latency = std::make_shared<LatencyWindow>();
    place(rec, false);
}

void ConnectionPool::place(SubRecord &rec, bool restoring)
{
    const Hl::Subscription &s = rec.status.subscription;
    // While paused, every connection is stopped but still the pool's: it takes subscriptions.
    auto usable = [this](const ConnRecord &c) { return m_paused || c.state != ConnState::Stopped; };
    auto compatible = [&](const ConnRecord &c) {
        return usable(c) && !c.routes.contains(s.routeKey()) && !c.byAck.contains(s.ackKey());
    };
    // 1. a connection with free capacity and no ambiguity conflict
    for (auto &[id, c] : m_conns) {
        if (compatible(c) && c.routes.size() < m_cfg.maxSubscriptionsPerConnection) {
            attach(c, rec, restoring);
            return;
        }
    }
    // 2. a new connection, below the maximum
    const auto live =
        std::count_if(m_conns.cbegin(), m_conns.cend(), [&](const auto &kv) { return usable(kv.second); });
    if (live < m_cfg.maxConnections) {
        attach(createConnection(), rec, restoring);
        return;
    }
    // 3. the least-loaded compatible connection, over its capacity, with a warning
    ConnRecord *best = nullptr;
    for (auto &[id, c] : m_conns) {
        if (compatible(c) && (!best || c.routes.size() < best->routes.size()))
            best = &c;
    }
    if (best) {
        Q_EMIT warning(u"connection %1 carries %2 subscriptions, over the limit of %3 per connection: %4"_s
                           .arg(best->conn->id())
                           .arg(best->routes.size() + 1)
                           .arg(m_cfg.maxSubscriptionsPerConnection)
                           .arg(QString::fromUtf8(s.canonical())));
        attach(*best, rec, restoring);
        return;
    }
    // 4. never a null connection: the subscription says why it has none
    detach(rec);
    setState(rec, SubState::Unplaceable,
             u"all %1 connections carry a subscription whose data cannot be told apart from this one "
             u"(route key %2)"_s.arg(m_cfg.maxConnections)
                 .arg(QString::fromUtf8(s.routeKey())));
}

void ConnectionPool::attach(ConnRecord &c, SubRecord &rec, bool restoring)
{
    const Hl::Subscription &s = rec.status.subscription;
    c.routes.insert(s.routeKey(), s.canonical());
    c.byAck.insert(s.ackKey(), s.canonical());
    rec.status.connection = c.conn->id();
    rec.status.attempts = 0;
    rec.sentAtMs = -1;
    setState(rec, restoring ? SubState::Restoring : SubState::Pending);
    if (c.state == ConnState::Open)
        sendSubscribe(c, rec, restoring ? Connection::Priority::Restore : Connection::Priority::Normal);
}

void ConnectionPool::detach(SubRecord &rec)
{
    auto it = m_conns.find(rec.status.connection);
    if (it != m_conns.end()) {
        const Hl::Subscription &s = rec.status.subscription;
        it->second.routes.remove(s.routeKey());
        it->second.byAck.remove(s.ackKey());
        Connection *conn = it->second.conn;
        const QByteArray ack = s.ackKey();
        onConn(conn, [conn, ack] { conn->dropQueued(ack); });
        maybeIdleClose(it->first);
    }
    rec.status.connection = -1;
}

void ConnectionPool::sendSubscribe(ConnRecord &c, SubRecord &rec, Connection::Priority priority)
{
    Connection *conn = c.conn;
    const QByteArray frame = Hl::encodeSubscribe(rec.status.subscription);
    const QByteArray ack = rec.status.subscription.ackKey();
    rec.sentAtMs = -1; // set when it really leaves (after the outgoing budget)
    rec.skipLatency = replaysWithoutFlag(rec.status.subscription);
    onConn(conn, [conn, frame, priority, ack] { conn->enqueue(frame, priority, ack); });
}

void ConnectionPool::setState(SubRecord &rec, SubState state, const QString &error)
{
    if (state == SubState::Active && rec.status.state != SubState::Active)
        rec.activeSinceMs = monotonicMs();
    rec.status.state = state;
    if (state == SubState::Active)
        rec.status.error.clear();
    else if (!error.isEmpty())
        rec.status.error = error;
    Q_EMIT subscriptionChanged(rec.status);
}

void ConnectionPool::unsubscribe(const Hl::Subscription &s)
{
    auto it = m_subs.find(s.canonical());
    if (it == m_subs.end())
        return;
    SubRecord &rec = *it;
    rec.resubscribeAfter = false;
    auto c = m_conns.find(rec.status.connection);
    const bool onWire = c != m_conns.end() && c->second.state == ConnState::Open && rec.status.attempts > 0;
    if (!onWire) {
        // Never sent on the current socket (pending, restoring, rejected, unplaceable): nothing
        // to tell the server.
        detach(rec);
        finishRemoval(s.canonical());
        return;
    }
    if (rec.unsubscribing)
        return;
    rec.unsubscribing = true;
    Connection *conn = c->second.conn;
    const QByteArray frame = Hl::encodeUnsubscribe(s);
    onConn(conn, [conn, frame] { conn->enqueue(frame, Connection::Priority::Normal); });
}

void ConnectionPool::finishRemoval(const QByteArray &key)
{
    auto it = m_subs.find(key);
    if (it == m_subs.end())
        return;
    const bool again = it->resubscribeAfter;
    const Hl::Subscription s = it->status.subscription;
    detach(*it);
    m_subs.erase(it);
    Q_EMIT subscriptionRemoved(s);
    if (again)
        subscribe(s);
    retryUnplaceable();
}

void ConnectionPool::retryUnplaceable()
{
    for (auto &rec : m_subs) {
        if (rec.status.state == SubState::Unplaceable)
            place(rec, false);
    }
}

void ConnectionPool::maybeIdleClose(int connection)
{
    if (m_cfg.idleClose.count() <= 0)
        return;
    QTimer::singleShot(m_cfg.idleClose, this, [this, connection] {
        auto it = m_conns.find(connection);
        if (it == m_conns.end() || !it->second.routes.isEmpty() || it->second.state == ConnState::Stopped)
            return;
        Connection *conn = it->second.conn;
        onConn(conn, [conn] { conn->stop(Cause::IdleClose); });
    });
}

void ConnectionPool::onConnectionEvent(const ConnectionEvent &e)
{
    auto it = m_conns.find(e.connection);
    if (it == m_conns.end())
        return;
    ConnRecord &c = it->second;
    const ConnState before = c.state;
    c.state = e.to;
    if (e.cause == Cause::Manual)
        c.manual = true;
    // Posts: sent once a connection is open; those on a connection that went down fail.
    if (e.to == ConnState::Open)
        sendWaitingPosts();
    else if (before == ConnState::Open)
        failPosts(e.connection, u"the connection to the venue was lost"_s);

    if (e.to == ConnState::Open && e.from == ConnState::Connecting && !m_stopping) {
        // One connection got through, so the server is back: the others waiting out a backoff
        // try now, a little apart (still under the new-connection limit), instead of sleeping
        // through the rest of their jittered wait.
        int i = 0;
        for (auto &[id, other] : m_conns) {
            if (id == e.connection || other.state != ConnState::Backoff || other.reconnectIndex < 0)
                continue;
            QPointer<Connection> conn = other.conn;
            QTimer::singleShot(std::chrono::milliseconds(5 * ++i), this, [this, conn] {
                if (conn)
                    onConn(conn.data(), [conn] {
                        if (conn)
                            conn->open();
                    });
            });
        }
    }
    if (e.to == ConnState::Open) {
        // (Re)send everything this connection carries, in batches through the budget.
        for (const QByteArray &key : std::as_const(c.routes)) {
            auto s = m_subs.find(key);
            if (s == m_subs.end() || s->unsubscribing)
                continue;
            s->status.attempts = 0;
            sendSubscribe(c, *s, Connection::Priority::Restore);
        }
    } else if (before == ConnState::Open || before == ConnState::Closing) {
        if (e.to == ConnState::Backoff || e.to == ConnState::Stopped || e.to == ConnState::Connecting) {
            // The socket is gone: nothing more is routed through it and everything it carried
            // must come back (seed P1-3).
            if (c.reconnectIndex >= 0 && m_reconnects[c.reconnectIndex].durationMs < 0)
                m_reconnects[c.reconnectIndex].detail += u" (interrupted by another disconnect)"_s;
            QList<QByteArray> unsubscribed;
            int total = 0;
            for (const QByteArray &key : std::as_const(c.routes)) {
                auto s = m_subs.find(key);
                if (s == m_subs.end())
                    continue;
                if (s->unsubscribing) {
                    unsubscribed.append(key); // the server forgot it with the socket
                    continue;
                }
                s->sentAtMs = -1;
                s->status.attempts = 0;
                setState(*s, SubState::Restoring);
                ++total;
            }
            for (const QByteArray &key : unsubscribed)
                finishRemoval(key);
            if (!m_stopping && (e.to != ConnState::Stopped || e.cause == Cause::Paused)) {
                ReconnectRecord r;
                r.connection = e.connection;
                r.cause = e.cause;
                r.detail = e.detail;
                r.manual = c.manual || e.cause == Cause::Manual;
                r.startedAt = e.at;
                r.lastFrameAt = e.lastFrameAt.isValid() ? e.lastFrameAt : e.at;
                r.total = total;
                if (m_reconnects.size() >= MaxReconnectRecords)
                    m_reconnects.removeFirst();
                m_reconnects.append(r);
                c.reconnectIndex = static_cast<int>(m_reconnects.size() - 1);
                c.manual = false;
            }
        }
    }
    if (e.to == ConnState::Stopped) {
        if (e.cause != Cause::Paused)
            c.reconnectIndex = -1; // a pause's record ends when the connection is back
        if (m_stopping) {
            const bool allDown = std::all_of(m_conns.cbegin(), m_conns.cend(), [](const auto &kv) {
                return kv.second.state == ConnState::Stopped;
            });
            if (allDown)
                Q_EMIT stopped();
        } else if (c.routes.isEmpty()) {
            // Idle-closed: forget it.
            Q_EMIT connectionEvent(e);
            c.conn->disconnect(this);
            c.conn->deleteLater();
            m_conns.erase(it);
            return;
        } else if (e.cause == Cause::Paused && !m_paused) {
            // Connected again while this one was still closing: it opens now.
            Connection *conn = c.conn;
            onConn(conn, [conn] { conn->open(); });
        }
    }
    Q_EMIT connectionEvent(e);
}

void ConnectionPool::onSubscribeSent(int connection, const QByteArray &ackKey, qint64 atMs)
{
    auto it = m_conns.find(connection);
    if (it == m_conns.end())
        return;
    if (SubRecord *rec = byAckKey(it->second, ackKey)) {
        rec->sentAtMs = atMs;
        ++rec->status.attempts;
        // Something now awaits its ack: check timeouts until nothing does (checkAckTimeouts
        // stops the timer), rather than rescanning every subscription on each send and ack.
        if (!m_ackTimer.isActive())
            m_ackTimer.start();
    }
}

ConnectionPool::SubRecord *ConnectionPool::byAckKey(ConnRecord &c, const QByteArray &ackKey)
{
    const QByteArray key = c.byAck.value(ackKey);
    if (key.isEmpty())
        return nullptr;
    auto it = m_subs.find(key);
    return it == m_subs.end() ? nullptr : &*it;
}

void ConnectionPool::onData(const QList<DataFrame> &frames)
{
    if (frames.isEmpty())
        return;
    auto cit = m_conns.find(frames.constFirst().connection);
    if (cit == m_conns.end())
        return;
    ConnRecord &c = cit->second;
    const QDateTime now = QDateTime::currentDateTimeUtc(); // one clock read per batch
    const qint64 nowMs = monotonicMs();
    const bool forward = isSignalConnected(QMetaMethod::fromSignal(&ConnectionPool::routed));
    // Data latency: the receipt's wall time from its monotonic time, the offset read once a batch.
    const qint64 wallOffsetNs = wallClockNs() - monotonicNs();
    QList<DataFrame> out;
    if (forward)
        out.reserve(frames.size());
    for (const DataFrame &f : frames) {
        const QByteArray key = c.routes.value(f.key);
        auto s = key.isEmpty() ? m_subs.end() : m_subs.find(key);
        if (s == m_subs.end()) {
            ++m_counters.unroutedFrames;
            continue;
        }
        SubscriptionStatus &st = s->status;
        ++st.messages;
        st.bytes += f.raw.size();
        if (!st.firstMessageAt.isValid())
            st.firstMessageAt = now;
        st.lastMessageAt = now;
        s->lastMessageMs = nowMs;
        s->perSecond.add(nowMs / 1000);
        if (f.eventTimeMs > 0 && !f.snapshot) {
            // An absurd event time (a server's, anything up to int64) must not overflow: 2^50 ms
            // is some 35 000 years ahead, still "ahead of the clock".
            const qint64 eventUs = std::min<qint64>(f.eventTimeMs, qint64(1) << 50) * 1000;
            recordLatency(*s, (f.receivedNs + wallOffsetNs) / 1000 - eventUs, nowMs / 1000);
        }
        if (forward)
            out.append(DataFrame{f.connection, key, f.raw, f.receivedNs, f.snapshot, f.eventTimeMs});
    }
    if (forward && !out.isEmpty())
        Q_EMIT routed(out);
}

void ConnectionPool::recordLatency(SubRecord &rec, qint64 latencyUs, qint64 nowSec)
{
    if (rec.skipLatency) {
        rec.skipLatency = false;
        return;
    }
    if (!rec.latency)
        rec.latency = std::make_shared<LatencyWindow>();
    if (!rec.typeLatency)
        rec.typeLatency = &m_typeLatency[rec.status.subscription.type()];
    rec.latency->add(nowSec, latencyUs);
    rec.typeLatency->window.add(nowSec, latencyUs);
    rec.typeLatency->totals.add(latencyUs);
}

void ConnectionPool::onControl(int connection, const Hl::Envelope &env)
{
    auto it = m_conns.find(connection);
    if (it == m_conns.end())
        return;
    switch (env.kind) {
    case Hl::FrameKind::SubscriptionResponse:
        onAck(it->second, env);
        break;
    case Hl::FrameKind::Error:
        if (env.serverError.kind == Hl::ServerErrorKind::TooManyPendingPosts)
            onPostControl(env);
        onServerError(it->second, env.serverError);
        break;
    case Hl::FrameKind::Post:
        onPostControl(env);
        break;
    default:
        break;
    }
}

// ---- posts (issue 14) ---------------------------------------------------------------------------

void ConnectionPool::post(quint64 id, const QByteArray &request)
{
    if (m_stopping) {
        Q_EMIT postFailed(id, u"the connection to the venue is shutting down"_s, false);
        return;
    }
    PostRecord &p = m_posts[id];
    p.frame = R"({"method":"post","id":)" + QByteArray::number(id) + R"(,"request":)" + request + '}';
    p.deadlineMs = monotonicMs() + m_cfg.postTimeout.count();
    if (!m_postTimer.isActive())
        m_postTimer.start();
    sendPost(id, p);
    if (p.connection == 0 && m_conns.empty())
        createConnection(); // posts need a connection even with no subscription
}

void ConnectionPool::sendPost(quint64 id, PostRecord &p)
{
    Q_UNUSED(id);
    for (auto &[cid, c] : m_conns) {
        if (c.state != ConnState::Open)
            continue;
        p.connection = cid;
        Connection *conn = c.conn;
        onConn(conn, [conn, frame = p.frame] { conn->enqueue(frame, Connection::Priority::Normal); });
        return;
    }
}

void ConnectionPool::sendWaitingPosts()
{
    for (auto &[id, p] : m_posts)
        if (p.connection == 0)
            sendPost(id, p);
}

void ConnectionPool::onPostControl(const Hl::Envelope &env)
{
    const bool refused = env.kind == Hl::FrameKind::Error;
    const qint64 id = refused ? env.serverError.postId : env.postId;
    if (id < 0)
        return;
    const auto it = m_posts.find(static_cast<quint64>(id));
    if (it == m_posts.end())
        return; // timed out already, or not ours
    m_posts.erase(it);
    if (refused)
        Q_EMIT postFailed(static_cast<quint64>(id), env.serverError.text, true);
    else
        Q_EMIT postAnswered(static_cast<quint64>(id), env.raw);
}

void ConnectionPool::failPosts(int connection, const QString &reason)
{
    for (auto it = m_posts.begin(); it != m_posts.end();) {
        if (connection >= 0 && it->second.connection != connection) {
            ++it;
            continue;
        }
        const quint64 id = it->first;
        it = m_posts.erase(it);
        Q_EMIT postFailed(id, reason, false);
    }
}

void ConnectionPool::checkPostTimeouts()
{
    const qint64 now = monotonicMs();
    for (auto it = m_posts.begin(); it != m_posts.end();) {
        if (now < it->second.deadlineMs) {
            ++it;
            continue;
        }
        const quint64 id = it->first;
        it = m_posts.erase(it);
        Q_EMIT postFailed(
            id, u"no answer from the venue within %1 s"_s.arg(m_cfg.postTimeout.count() / 1000.0), false);
    }
    if (m_posts.empty())
        m_postTimer.stop();
}

void ConnectionPool::onAck(ConnRecord &c, const Hl::Envelope &env)
{
    SubRecord *rec = byAckKey(c, env.subscription.ackKey());
    if (!rec) {
        ++m_counters.unexpectedAcks;
        return;
    }
    if (env.unsubscribeAck) {
        if (rec->unsubscribing)
            finishRemoval(rec->status.subscription.canonical());
        return;
    }
    if (rec->sentAtMs >= 0)
        rec->status.ackLatencyMs = monotonicMs() - rec->sentAtMs;
    rec->sentAtMs = -1;
    settleRestore(c, *rec);
    setState(*rec, SubState::Active);
}

void ConnectionPool::settleRestore(ConnRecord &c, SubRecord &rec)
{
    if (rec.status.state != SubState::Restoring || c.reconnectIndex < 0)
        return;
    ++rec.status.restores;
    ReconnectRecord &r = m_reconnects[c.reconnectIndex];
    ++r.restored;
    // Done when nothing of this connection is still restoring.
    const bool pending = std::any_of(c.routes.cbegin(), c.routes.cend(), [&](const QByteArray &key) {
        auto s = m_subs.constFind(key);
        return s != m_subs.cend() && &*s != &rec && s->status.state == SubState::Restoring;
    });
    if (!pending && r.durationMs < 0) {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        r.durationMs = r.startedAt.msecsTo(now);
        r.dataGapMs = std::max(r.durationMs, r.lastFrameAt.msecsTo(now));
        Q_EMIT reconnectFinished(r);
        c.reconnectIndex = -1;
    }
}

void ConnectionPool::onServerError(ConnRecord &c, const Hl::ServerError &error)
{
    ++m_counters.serverErrors;
    ++m_counters.serverErrorsByKind[QString(Hl::nameOf(error.kind))];
    Q_EMIT serverError(c.conn->id(), error);
    SubRecord *rec = error.subscription.isValid() ? byAckKey(c, error.subscription.ackKey()) : nullptr;
    switch (error.kind) {
    case Hl::ServerErrorKind::AlreadySubscribed:
        if (rec && !rec->unsubscribing) {
            settleRestore(c, *rec);
            setState(*rec, SubState::Active);
        }
        break;
    case Hl::ServerErrorKind::AlreadyUnsubscribed:
        if (rec && rec->unsubscribing)
            finishRemoval(rec->status.subscription.canonical());
        break;
    case Hl::ServerErrorKind::InvalidSubscription:
    case Hl::ServerErrorKind::ParseError:
        if (rec) {
            // Never retried automatically: the server said no.
            rec->sentAtMs = -1;
            if (rec->status.state == SubState::Restoring)
                settleRestore(c, *rec);
            const QByteArray key = rec->status.subscription.canonical();
            detach(*rec);
            setState(m_subs[key], SubState::Rejected, error.text);
        }
        break;
    case Hl::ServerErrorKind::TooManyChannels:
    case Hl::ServerErrorKind::TooManyUsers: {
        // The server does not echo the request: blame the oldest subscribe awaiting its ack on
        // this connection (the server answers in order).
        SubRecord *oldest = nullptr;
        for (const QByteArray &key : std::as_const(c.routes)) {
            auto s = m_subs.find(key);
            if (s != m_subs.end() && s->sentAtMs >= 0 && (!oldest || s->sentAtMs < oldest->sentAtMs))
                oldest = &*s;
        }
        if (oldest) {
            oldest->sentAtMs = -1;
            if (oldest->status.state == SubState::Restoring)
                settleRestore(c, *oldest);
            const QByteArray key = oldest->status.subscription.canonical();
            detach(*oldest);
            setState(m_subs[key], SubState::Failed, error.text);
        }
        break;
    }
    default:
        break; // rate limit: the dropped frame is retried by the ack timeout
    }
}

void ConnectionPool::checkAckTimeouts()
{
    const qint64 now = monotonicMs();
    QList<QByteArray> expired;
    bool waiting = false;
    for (auto it = m_subs.begin(); it != m_subs.end(); ++it) {
        if (it->sentAtMs < 0 ||
            (it->status.state != SubState::Pending && it->status.state != SubState::Restoring))
            continue;
        waiting = true;
        if (now - it->sentAtMs >= m_cfg.ackTimeout.count())
            expired.append(it.key());
    }
    if (!waiting) {
        m_ackTimer.stop();
        return;
    }
    for (const QByteArray &key : expired) {
        SubRecord &rec = m_subs[key];
        auto c = m_conns.find(rec.status.connection);
        if (c == m_conns.end() || c->second.state != ConnState::Open)
            continue;
        if (rec.status.attempts < m_cfg.maxAttempts) {
            sendSubscribe(c->second, rec, Connection::Priority::Normal);
        } else {
            rec.sentAtMs = -1;
            if (rec.status.state == SubState::Restoring)
                settleRestore(c->second, rec);
            detach(rec);
            setState(rec, SubState::Failed,
                     u"no acknowledgement after %1 attempts of %2 ms"_s.arg(rec.status.attempts)
                         .arg(m_cfg.ackTimeout.count()));
        }
    }
}

void ConnectionPool::setPaused(bool paused)
{
    if (paused == m_paused || m_stopping)
        return;
    m_paused = paused;
    if (paused) {
        for (auto &[id, c] : m_conns) {
            if (c.state == ConnState::Stopped)
                continue;
            c.manual = true;
            Connection *conn = c.conn;
            onConn(conn, [conn] { conn->stop(Cause::Paused); });
        }
        return;
    }
    // A few milliseconds apart, as after a server restart (still under the new-connection limit).
    int i = 0;
    for (auto &[id, c] : m_conns) {
        if (c.state != ConnState::Stopped && c.state != ConnState::Idle)
            continue; // still closing: it opens when it is down (onConnectionEvent)
        QPointer<Connection> conn = c.conn;
        QTimer::singleShot(std::chrono::milliseconds(5 * i++), this, [this, conn] {
            if (conn && !m_paused)
                onConn(conn.data(), [conn] {
                    if (conn)
                        conn->open();
                });
        });
    }
}

void ConnectionPool::reconnect(int connection)
{
    if (m_paused) {
        Q_EMIT warning(
            u"the pool is disconnected: connect it before reconnecting connection %1"_s.arg(connection));
        return;
    }
    auto it = m_conns.find(connection);
    if (it == m_conns.end())
        return;
    it->second.manual = true;
    Connection *conn = it->second.conn;
    onConn(conn, [conn] { conn->reconnect(true); });
}

void ConnectionPool::reconnectAll()
{
    if (m_paused) {
        Q_EMIT warning(u"the pool is disconnected: connect it instead of reconnecting"_s);
        return;
    }
    // Staggered with jitter, so ten sockets do not reconnect in the same millisecond.
    int i = 0;
    for (auto &[id, c] : m_conns) {
        if (c.state == ConnState::Stopped)
            continue;
        c.manual = true;
        const qint64 delay = i++ * m_cfg.manualStagger.count() +
                             m_rng.bounded(static_cast<quint32>(m_cfg.manualStagger.count()) + 1);
        QPointer<Connection> conn = c.conn;
        QTimer::singleShot(std::chrono::milliseconds(delay), this, [this, conn] {
            if (conn)
                onConn(conn.data(), [conn] {
                    if (conn)
                        conn->reconnect(true);
                });
        });
    }
}

void ConnectionPool::stop()
{
    m_stopping = true;
    m_ackTimer.stop();
    failPosts(-1, u"the connection to the venue is shutting down"_s);
    bool any = false;
    for (auto &[id, c] : m_conns) {
        if (c.state == ConnState::Stopped)
            continue;
        any = true;
        Connection *conn = c.conn;
        onConn(conn, [conn] { conn->stop(Cause::Shutdown); });
    }
    if (!any)
        Q_EMIT stopped();
}

PoolSnapshot ConnectionPool::snapshot() const
{
    PoolSnapshot s;
    s.at = QDateTime::currentDateTimeUtc();
    for (const auto &[id, c] : m_conns) {
        ConnectionStatus st = c.conn->status();
        st.subscriptions = static_cast<int>(c.routes.size());
        s.connections.append(st);
    }
    const qint64 nowMs = monotonicMs();
    const qint64 nowSec = nowMs / 1000;
    for (const SubRecord &r : m_subs) {
        // Latency figures: merged at most once a second (the windows move by whole seconds).
        if (r.latency && r.latencySec != nowSec) {
            r.latencyFigures = r.latency->figures(nowSec);
            r.latencySec = nowSec;
        }
        SubscriptionStatus st = r.status;
        st.latency = r.latencyFigures;
        st.rate1s = r.perSecond.rate(nowMs / 1000, 1);
        st.rate10s = r.perSecond.rate(nowMs / 1000, 10);
        st.lastAgeMs = r.lastMessageMs >= 0 ? nowMs - r.lastMessageMs : -1;
        // Silence counts from the later of the last message and the moment it became active.
        if (const qint64 limit = staleAfterMs(st.subscription, m_cfg.dataStaleFactor);
            limit > 0 && st.state == SubState::Active)
            st.stale = nowMs - std::max(r.lastMessageMs, r.activeSinceMs) > limit;
        s.subscriptions.append(st);
    }
    std::sort(s.subscriptions.begin(), s.subscriptions.end(), [](const auto &a, const auto &b) {
        return a.subscription.canonical() < b.subscription.canonical();
    });
    s.reconnects = m_reconnects;
    s.counters = m_counters;
    s.paused = m_paused;
    s.counters.outgoingUsed = m_outgoing->used(nowMs);
    s.counters.newConnectionsLastMinute = m_newConnections->used(nowMs);
    s.limits = PoolLimits::of(m_cfg);
    for (const auto &[type, t] : m_typeLatency) {
        if (t.figuresSec != nowSec) {
            t.figures = t.window.figures(nowSec);
            t.figuresSec = nowSec;
        }
        TypeLatency tl;
        tl.type = type;
        tl.figures = t.figures;
        tl.bucketCounts = QList<qint64>(t.totals.counts.cbegin(), t.totals.counts.cend());
        tl.samples = t.totals.samples;
        tl.negative = t.totals.negative;
        tl.sumSeconds = t.totals.sumSeconds;
        s.latencyByType.append(tl);
    }
    if (m_clockReadMs < 0 || nowMs - m_clockReadMs >= ClockReadIntervalMs) {
        m_clock = ClockSync::read();
        m_clockReadMs = nowMs;
    }
    s.clock = m_clock;
    for (const ConnectionStatus &c : s.connections) {
        if (c.state == ConnState::Backoff && c.waitingForBudget) {
            ++s.counters.waitingForConnectionBudget;
            if (!s.counters.nextConnectionSlotAt.isValid() ||
                c.nextAttemptAt < s.counters.nextConnectionSlotAt)
                s.counters.nextConnectionSlotAt = c.nextAttemptAt;
        }
        s.counters.outgoingQueued += c.queuedOut;
        s.counters.oversizedFrames += c.oversized;
        for (qint64 n : c.malformed)
            s.counters.malformedFrames += n;
    }
    return s;
}

// ---------------------------------------------------------------------------------------------

PoolHost::PoolHost(const PoolConfig &config, QObject *parent) : QObject(parent)
{
    const int n = std::max(1, config.ioThreads);
    for (int i = 0; i < n; ++i) {
        auto *t = new QThread(this);
        t->setObjectName(u"feedscope-io-%1"_s.arg(i));
        t->start();
        m_threads.append(t);
    }
    m_pool = new ConnectionPool(config, m_threads);
    m_pool->moveToThread(m_threads.constFirst());
}

PoolHost::~PoolHost()
{
    shutdown(std::chrono::milliseconds(0));
}

void PoolHost::subscribe(const Hl::Subscription &s)
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool, s] { p->subscribe(s); });
}

void PoolHost::unsubscribe(const Hl::Subscription &s)
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool, s] { p->unsubscribe(s); });
}

void PoolHost::reconnect(int connection)
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool, connection] { p->reconnect(connection); });
}

void PoolHost::setPublishInterval(std::chrono::milliseconds interval)
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool, interval] { p->setPublishInterval(interval); });
}

quint64 PoolHost::post(const QByteArray &request)
{
    const quint64 id = m_nextPostId.fetch_add(1, std::memory_order_relaxed);
    QMetaObject::invokeMethod(m_pool, [p = m_pool, id, request] { p->post(id, request); });
    return id;
}

void PoolHost::reconnectAll()
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool] { p->reconnectAll(); });
}

void PoolHost::setPaused(bool paused)
{
    QMetaObject::invokeMethod(m_pool, [p = m_pool, paused] { p->setPaused(paused); });
}

PoolSnapshot PoolHost::snapshot() const
{
    PoolSnapshot s;
    if (m_pool)
        QMetaObject::invokeMethod(
            m_pool, [&s, p = m_pool] { s = p->snapshot(); }, Qt::BlockingQueuedConnection);
    return s;
}

PoolSnapshot PoolHost::shutdown(std::chrono::milliseconds timeout)
{
    if (!m_pool)
        return {};
    if (timeout.count() > 0) {
        QEventLoop loop;
        connect(m_pool, &ConnectionPool::stopped, &loop, &QEventLoop::quit, Qt::QueuedConnection);
        QTimer::singleShot(timeout, &loop, &QEventLoop::quit);
        QMetaObject::invokeMethod(m_pool, [p = m_pool] { p->stop(); });
        loop.exec();
    }
    PoolSnapshot last;
    // The pool and its connections are deleted on their own threads, then the threads end.
    QMetaObject::invokeMethod(
        m_pool,
        [p = m_pool, &last] {
            last = p->snapshot();
            delete p;
        },
        Qt::BlockingQueuedConnection);
    m_pool = nullptr;
    for (QThread *t : std::as_const(m_threads)) {
        t->quit();
        t->wait();
    }
    return last;
}

} // namespace FeedScope

#include "gatewayhub.h"

#include "budget.h"
#include "clientrequest.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
constexpr size_t RecentFrames = 64; ///< delivered frames remembered per subscription, for restores
} // namespace

GatewayHub::GatewayHub(Engine &engine, Gw::GatewayServer &server, GatewayHubConfig config, QObject *parent)
    : QObject(parent), m_engine(engine), m_server(server), m_cfg(config)
{
    for (const SubscriptionStatus &st : engine.lastSnapshot().subscriptions)
        m_upstreamState.insert(st.subscription.canonical(), st.state);
    ConnectionPool *pool = engine.pool();
    connect(pool, &ConnectionPool::subscriptionChanged, this, &GatewayHub::onChanged);
    connect(pool, &ConnectionPool::subscriptionRemoved, this, &GatewayHub::onRemoved);
    connect(pool, &ConnectionPool::routed, this, &GatewayHub::onRouted);
    connect(pool, &ConnectionPool::postAnswered, this, &GatewayHub::onPostAnswered);
    connect(pool, &ConnectionPool::postFailed, this, &GatewayHub::onPostFailed);
    m_server.setBackend(this);
    m_postTimer.setInterval(std::chrono::seconds(1));
    connect(&m_postTimer, &QTimer::timeout, this, &GatewayHub::checkPostTimeouts);
}

GatewayHub::~GatewayHub()
{
    m_server.setBackend(nullptr);
    for (Shared &sh : m_shared) {
        for (SubscriptionRegistry::Handle h : std::as_const(sh.handles))
            m_engine.release(h);
        if (sh.lingerHandle)
            m_engine.release(sh.lingerHandle);
    }
}

Hl::Subscription GatewayHub::normalise(const Hl::Subscription &s)
{
    // The ack key drops explicit defaults (false, ""): {"type":"userFills","user":…} and the same
    // with "aggregateByTime":false are one subscription upstream.
    const auto n = Hl::Subscription::fromJson(QJsonDocument::fromJson(s.ackKey()).object());
    return n ? *n : s;
}

GatewayHub::CacheKind GatewayHub::kindOf(const Hl::Subscription &s)
{
    static const QStringList events{u"trades"_s, u"orderUpdates"_s, u"userEvents"_s, u"notification"_s};
    if (events.contains(s.type()))
        return CacheKind::Events;
    if (s.spec() && s.spec()->snapshotFlag)
        return CacheKind::Snapshot;
    return CacheKind::State;
}

int GatewayHub::clientsOf(const Hl::Subscription &s) const
{
    const auto it = m_shared.constFind(normalise(s).canonical());
    return it == m_shared.cend() ? -1 : static_cast<int>(it->handles.size());
}

bool GatewayHub::lingering(const Hl::Subscription &s) const
{
    const auto it = m_shared.constFind(normalise(s).canonical());
    return it != m_shared.cend() && it->lingerHandle != 0;
}

QString GatewayHub::consumerName(int client) const
{
    const auto st = m_server.client(client);
    return u"gateway: %1 #%2"_s.arg(st ? st->name : u"client"_s).arg(client);
}

void GatewayHub::clientSubscribe(int client, const Hl::Subscription &requested)
{
    const Hl::Subscription s = normalise(requested);
    const QByteArray key = s.canonical();
    auto it = m_shared.find(key);
    if (it == m_shared.end()) {
        // A new upstream subscription: the venue's per-IP allowance, answered at once.
        if (m_engine.registry().subscriptionCount() >= m_cfg.upstreamMaxSubscriptions) {
            ++m_counters.limitRefusals;
            m_server.refuse(client, s, Gw::tooManyChannelsText(m_cfg.upstreamMaxSubscriptions));
            return;
        }
        if (!s.user().isEmpty()) {
            QSet<QString> users;
            for (const Shared &sh : std::as_const(m_shared))
                if (!sh.sub.user().isEmpty())
                    users.insert(sh.sub.user());
            if (!users.contains(s.user()) && users.size() >= m_cfg.upstreamMaxUsers) {
                ++m_counters.limitRefusals;
                m_server.refuse(client, s, Gw::tooManyUsersText(m_cfg.upstreamMaxUsers));
                return;
            }
        }
        it = m_shared.insert(key, Shared{});
        it->sub = s;
        it->kind = kindOf(s);
        it->state = m_upstreamState.value(key, SubState::Pending);
        ++m_counters.upstreamSubscribes;
        Q_EMIT upstreamEvent(u"subscribe"_s, key, {});
    }
    Shared &sh = *it;
    const SubscriptionRegistry::Handle h = m_engine.subscribe(s, consumerName(client));
    sh.handles.insert(client, h);
    if (sh.lingerHandle) {
        m_engine.release(sh.lingerHandle); // after the client's own handle: no unsubscribe upstream
        sh.lingerHandle = 0;
        ++sh.lingerGeneration;
        ++m_counters.lingerRescues;
    }
    m_clientKeys[client].insert(key);
    if (sh.state == SubState::Active) {
        ++m_counters.lateJoins;
        m_server.acknowledge(client, s);
        replayCache(sh, client);
        sh.flowing.append(client);
    } else {
        sh.waiting.insert(client);
    }
}

void GatewayHub::replayCache(Shared &sh, int client)
{
    const QByteArray &key = sh.sub.canonical();
    auto send = [&](const QByteArray &frame) {
        m_server.sendData(client, key, frame);
        ++m_counters.cacheReplays;
    };
    if (sh.kind == CacheKind::State && !sh.latest.isEmpty()) {
        send(sh.latest);
    } else if (sh.kind == CacheKind::Snapshot && !sh.snapshot.isEmpty()) {
        send(sh.snapshot);
        for (const QByteArray &f : sh.sinceSnap)
            send(f);
    }
}

void GatewayHub::clearCache(Shared &sh)
{
    sh.latest.clear();
    sh.snapshot.clear();
    sh.sinceSnap.clear();
    sh.sinceBytes = 0;
    sh.sinceComplete = true;
}

void GatewayHub::clientUnsubscribe(int client, const Hl::Subscription &s)
{
    const QByteArray key = normalise(s).canonical();
    auto ck = m_clientKeys.find(client);
    if (ck != m_clientKeys.end())
        ck->remove(key);
    leave(key, client);
}

void GatewayHub::clientGone(int client)
{
    const QSet<QByteArray> keys = m_clientKeys.take(client);
    for (const QByteArray &key : keys)
        leave(key, client);
    m_posts.removeIf([client](const auto &p) { return p.value().client == client; }); // no one to answer
}

void GatewayHub::leave(const QByteArray &key, int client)
{
    auto it = m_shared.find(key);
    if (it == m_shared.end())
        return;
    Shared &sh = *it;
    sh.waiting.remove(client);
    sh.flowing.removeOne(client);
    const SubscriptionRegistry::Handle h = sh.handles.take(client);
    if (!h)
        return;
    if (!sh.handles.isEmpty()) {
        m_engine.release(h);
        return;
    }
    // The last client left: hold the subscription for the linger, under a handle of the hub's.
    if (m_cfg.linger.count() > 0) {
        if (!sh.lingerHandle)
            sh.lingerHandle = m_engine.subscribe(sh.sub, u"gateway (linger)"_s);
        m_engine.release(h);
        const quint64 generation = ++sh.lingerGeneration;
        QTimer::singleShot(m_cfg.linger, this, [this, key, generation] { lingerOver(key, generation); });
        return;
    }
    m_engine.release(h);
    m_shared.erase(it);
    ++m_counters.upstreamUnsubscribes;
    Q_EMIT upstreamEvent(u"unsubscribe"_s, key, {});
}

void GatewayHub::lingerOver(const QByteArray &key, quint64 generation)
{
    auto it = m_shared.find(key);
    if (it == m_shared.end() || it->lingerGeneration != generation || !it->handles.isEmpty())
        return;
    if (it->lingerHandle)
        m_engine.release(it->lingerHandle);
    m_shared.erase(it);
    ++m_counters.upstreamUnsubscribes;
    Q_EMIT upstreamEvent(u"unsubscribe"_s, key, u"linger over"_s);
}

void GatewayHub::failAll(Shared &sh, const QString &text)
{
    const QByteArray key = sh.sub.canonical();
    QList<int> clients = sh.flowing;
    for (int c : std::as_const(sh.waiting))
        clients.append(c);
    for (int c : std::as_const(clients)) {
        m_server.refuse(c, sh.sub, text);
        ++m_counters.rejectionsForwarded;
        auto ck = m_clientKeys.find(c);
        if (ck != m_clientKeys.end())
            ck->remove(key);
    }
    const QList<SubscriptionRegistry::Handle> handles = sh.handles.values();
    const SubscriptionRegistry::Handle linger = sh.lingerHandle;
    m_shared.remove(key); // sh is gone from here on
    for (SubscriptionRegistry::Handle h : handles)
        m_engine.release(h);
    if (linger)
        m_engine.release(linger);
    Q_EMIT upstreamEvent(u"rejected"_s, key, text);
}

void GatewayHub::onChanged(const SubscriptionStatus &status)
{
    const QByteArray key = status.subscription.canonical();
    m_upstreamState.insert(key, status.state);
    auto it = m_shared.find(key);
    if (it == m_shared.end())
        return;
    Shared &sh = *it;
    const SubState previous = sh.state;
    sh.state = status.state;
    switch (status.state) {
    case SubState::Active: {
        if (previous == SubState::Restoring) {
            sh.afterRestore = true;
            Q_EMIT upstreamEvent(u"restored"_s, key, {});
        }
        const QSet<int> waiting = std::exchange(sh.waiting, {});
        for (int c : waiting) {
            m_server.acknowledge(c, sh.sub);
            replayCache(sh, c);
            sh.flowing.append(c);
        }
        break;
    }
    case SubState::Pending:
    case SubState::Restoring:
        clearCache(sh); // never a frame from before the last restore
        break;
    case SubState::Rejected:
    case SubState::Failed:
        failAll(sh,
                status.error.isEmpty() ? u"Invalid subscription "_s + QString::fromUtf8(key) : status.error);
        break;
    case SubState::Unplaceable:
        // The pool has no connection that can carry it: the venue's limit text.
        failAll(sh, Gw::tooManyChannelsText(m_cfg.upstreamMaxSubscriptions));
        break;
    }
}

void GatewayHub::onRemoved(const Hl::Subscription &s)
{
    const QByteArray key = s.canonical();
    m_upstreamState.remove(key);
    auto it = m_shared.find(key);
    if (it != m_shared.end()) {
        // Removed upstream while the hub holds it (another consumer's unsubscribe-all): the
        // registry subscribes it again; its clients keep waiting for the new ack.
        it->state = SubState::Pending;
        clearCache(*it);
    }
}

void GatewayHub::onRouted(const QList<DataFrame> &frames)
{
    for (const DataFrame &f : frames) {
        auto it = m_shared.find(f.key);
        if (it == m_shared.end())
            continue;
        Shared &sh = *it;
        const size_t h = qHash(f.raw);
        if (sh.afterRestore) {
            // A replay of what was delivered before the upstream reconnect is not delivered again.
            if (std::find(sh.recent.cbegin(), sh.recent.cend(), h) != sh.recent.cend()) {
                ++m_counters.duplicatesSuppressed;
                continue;
            }
            sh.afterRestore = false;
        }
        sh.recent.push_back(h);
        if (sh.recent.size() > RecentFrames)
            sh.recent.pop_front();
        if (sh.kind == CacheKind::State) {
            sh.latest = f.raw;
        } else if (sh.kind == CacheKind::Snapshot) {
            if (f.snapshot) {
                sh.snapshot = f.raw;
                sh.sinceSnap.clear();
                sh.sinceBytes = 0;
                sh.sinceComplete = true;
            } else if (!sh.snapshot.isEmpty()) {
                sh.sinceSnap.push_back(f.raw);
                sh.sinceBytes += f.raw.size();
                while (!sh.sinceSnap.empty() && (static_cast<int>(sh.sinceSnap.size()) > m_cfg.cacheFrames ||
                                                 sh.sinceBytes > m_cfg.cacheBytes)) {
                    sh.sinceBytes -= sh.sinceSnap.front().size();
                    sh.sinceSnap.pop_front();
                    sh.sinceComplete = false;
                }
            }
        }
        m_server.sendData(sh.flowing, f.key, f.raw); // one frame encoding for all its clients
        m_counters.deliveries += sh.flowing.size();
    }
}

// ---- posts ------------------------------------------------------------------------------------

void GatewayHub::clientPost(int client, qint64 id, const QByteArray &request)
{
    if (postsInFlight() >= m_cfg.maxPostsInFlight) {
        ++m_counters.postsRefused;
        m_server.sendText(client, Gw::errorFrame(Gw::tooManyPendingPostsText(id)));
        return;
    }
    // The request's bytes go upstream as the client sent them (signed actions byte for byte),
    // under an id of the pool's: two clients' ids never collide.
    const quint64 upstream = m_engine.post(request);
    m_posts.insert(upstream, Post{client, id, monotonicMs() + m_cfg.postTimeout.count()});
    ++m_counters.postsForwarded;
    if (!m_postTimer.isActive())
        m_postTimer.start();
}

void GatewayHub::onPostAnswered(quint64 upstream, const QByteArray &frame)
{
    const auto it = m_posts.find(upstream);
    if (it == m_posts.end())
        return; // timed out already, or its client is gone
    const Post p = *it;
    m_posts.erase(it);
    const QByteArrayView data = Gw::topLevelValue(frame, "data");
    const QByteArrayView response = data.isNull() ? QByteArrayView() : Gw::topLevelValue(data, "response");
    if (response.isNull()) {
        ++m_counters.postsFailed;
        m_server.sendText(p.client, Gw::postErrorFrame(p.clientId, u"the venue's answer has no response"_s));
        return;
    }
    m_server.sendText(p.client, R"({"channel":"post","data":{"id":)" + QByteArray::number(p.clientId) +
                                    R"(,"response":)" + response.toByteArray() + "}}");
}

void GatewayHub::onPostFailed(quint64 upstream, const QString &reason, bool venueLimit)
{
    const auto it = m_posts.find(upstream);
    if (it == m_posts.end())
        return;
    const Post p = *it;
    m_posts.erase(it);
    ++m_counters.postsFailed;
    if (venueLimit)
        m_server.sendText(p.client, Gw::errorFrame(Gw::tooManyPendingPostsText(p.clientId)));
    else
        m_server.sendText(p.client, Gw::postErrorFrame(p.clientId, reason));
}

void GatewayHub::checkPostTimeouts()
{
    const qint64 now = monotonicMs();
    for (auto it = m_posts.begin(); it != m_posts.end();) {
        if (now < it->deadlineMs) {
            ++it;
            continue;
        }
        ++m_counters.postsFailed;
        m_server.sendText(it->client,
                          Gw::postErrorFrame(it->clientId, u"no answer from the venue within %1 s"_s.arg(
                                                               m_cfg.postTimeout.count() / 1000)));
        it = m_posts.erase(it);
    }
    if (m_posts.isEmpty())
        m_postTimer.stop();
}

} // namespace FeedScope

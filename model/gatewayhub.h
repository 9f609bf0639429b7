#pragma once

#include "engine.h"
#include "gatewayserver.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <chrono>
#include <deque>

namespace FeedScope {

struct GatewayHubConfig
{
    /// The last client leaving a subscription: it is unsubscribed upstream after this long (a bot
    /// restart causes no churn). 0 = at once.
    std::chrono::milliseconds linger{5000};
    /// The venue's per-IP allowance, enforced at once for the clients (the venue's texts):
    /// distinct upstream subscriptions and distinct users in user-keyed subscriptions.
    int upstreamMaxSubscriptions = 1000;
    int upstreamMaxUsers = 10;
    /// Posts in flight across all clients (the venue allows 100 per IP).
    int maxPostsInFlight = 100;
    std::chrono::milliseconds postTimeout{30000};
    /// Per subscription: frames kept after a user feed's snapshot for late joiners (bounded).
    int cacheFrames = 256;
    qint64 cacheBytes = 1024 * 1024;
};

/// The hub's own counters (the report's gateway section, metrics).
struct GatewayHubCounters
{
    qint64 upstreamSubscribes = 0;   ///< first subscriber of a subscription
    qint64 upstreamUnsubscribes = 0; ///< last one gone, linger over
    qint64 lingerRescues = 0;        ///< a client came back during the linger
    qint64 lateJoins = 0;            ///< acked at once from an active subscription
    qint64 cacheReplays = 0;         ///< cached frames sent to late joiners
    qint64 deliveries = 0;           ///< data frames queued to clients
    qint64 duplicatesSuppressed = 0; ///< replays after an upstream restore already delivered
    qint64 rejectionsForwarded = 0;  ///< clients told of an upstream rejection or failure
    qint64 limitRefusals = 0;        ///< refused at once: the per-IP subscription or user allowance
    qint64 postsForwarded = 0;
    qint64 postsRefused = 0; ///< over the in-flight limit
    qint64 postsFailed = 0;  ///< upstream lost or timed out
};

/// Shares the engine's one upstream pool among the gateway's clients (issue 14). Every client is
/// a registry consumer with its own handles ("gateway: NAME #ID"), so the first subscriber of a
/// canonical subscription subscribes upstream and the last one leaving unsubscribes, after a
/// linger. Subscriptions written differently (key order, address case, explicit defaults) are
/// one. A client joining an active subscription gets the ack at once and, for state feeds, the
/// latest message, for user feeds their snapshot (and what followed it), from a bounded cache
/// emptied at every restore. Frames fan out to exactly the clients of their subscription, in
/// order, once; after an upstream restore, frames already delivered are not delivered again.
/// Rejections and failures reach every client of the subscription in the venue's words. Posts go
/// upstream with remapped ids and come back with the client's own id.
///
/// Lives on the engine's (owner's) thread, with the server. The pool's signals arrive queued, in
/// the order the pool emitted them, so an ack always precedes the data that follows it.
class GatewayHub final : public QObject, public Gw::GatewayBackend
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayHub)

public:
    GatewayHub(Engine &engine, Gw::GatewayServer &server, GatewayHubConfig config = {},
               QObject *parent = nullptr);
    ~GatewayHub() override;

    const GatewayHubConfig &config() const { return m_cfg; }
    const GatewayHubCounters &counters() const { return m_counters; }
    /// Subscriptions the hub holds upstream (lingering ones included).
    int sharedCount() const { return static_cast<int>(m_shared.size()); }
    /// Clients of @p s (acknowledged or waiting); -1 when the hub does not hold it.
    int clientsOf(const Hl::Subscription &s) const;
    bool lingering(const Hl::Subscription &s) const;
    int postsInFlight() const { return static_cast<int>(m_posts.size()); }
    /// The hub's canonical form of a client's subscription: the registry key.
    static Hl::Subscription normalise(const Hl::Subscription &s);

    // GatewayBackend
    void clientSubscribe(int client, const Hl::Subscription &s) override;
    void clientUnsubscribe(int client, const Hl::Subscription &s) override;
    void clientPost(int client, qint64 id, const QByteArray &request) override;
    void clientGone(int client) override;

Q_SIGNALS:
    /// Upstream life of a shared subscription: "subscribe" (first client), "unsubscribe" (linger
    /// over), "restored", "rejected" (with the venue's text), for the session log.
    void upstreamEvent(const QString &what, const QByteArray &canonical, const QString &detail);

private:
    enum class CacheKind : quint8 { State, Snapshot, Events };
    struct Shared
    {
        Hl::Subscription sub;
        CacheKind kind = CacheKind::Events;
        SubState state = SubState::Pending;
        QHash<int, SubscriptionRegistry::Handle> handles; ///< client → its registry handle
        QList<int> flowing;                               ///< acknowledged clients, in join order
        QSet<int> waiting;                                ///< waiting for the upstream ack
        SubscriptionRegistry::Handle lingerHandle = 0;
        quint64 lingerGeneration = 0;
        QByteArray latest;                ///< State: the newest frame since the last restore
        QByteArray snapshot;              ///< Snapshot: the isSnapshot frame since the last restore
        std::deque<QByteArray> sinceSnap; ///< Snapshot: the frames after it (bounded)
        qint64 sinceBytes = 0;
        bool sinceComplete = true;
        bool afterRestore = false;
        std::deque<size_t> recent; ///< hashes of the last frames delivered
    };

    void onChanged(const SubscriptionStatus &status);
    void onRemoved(const Hl::Subscription &s);
    void onRouted(const QList<DataFrame> &frames);
    void leave(const QByteArray &key, int client);
    void lingerOver(const QByteArray &key, quint64 generation);
    void clearCache(Shared &sh);
    void replayCache(Shared &sh, int client);
    void failAll(Shared &sh, const QString &text);
    QString consumerName(int client) const;
    static CacheKind kindOf(const Hl::Subscription &s);

    // Posts over the pool (ConnectionPool::post): ids remapped, answered with the client's own.
    struct Post
    {
        int client = 0;
        qint64 clientId = 0;
        qint64 deadlineMs = 0;
    };
    void onPostAnswered(quint64 upstream, const QByteArray &frame);
    void onPostFailed(quint64 upstream, const QString &reason, bool venueLimit);
    void checkPostTimeouts();

    Engine &m_engine;
    Gw::GatewayServer &m_server;
    const GatewayHubConfig m_cfg;
    GatewayHubCounters m_counters;
    QHash<QByteArray, Shared> m_shared;          ///< canonical → shared subscription
    QHash<int, QSet<QByteArray>> m_clientKeys;   ///< client → its canonical subscriptions
    QHash<QByteArray, SubState> m_upstreamState; ///< every subscription of the pool, as last reported

    QHash<quint64, Post> m_posts; ///< upstream (pool) id → who asked
    QTimer m_postTimer{this};
};

} // namespace FeedScope

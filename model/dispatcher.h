#pragma once

#include "pooltypes.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QSet>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace FeedScope {

/// What a worker consumer does when its bounded queue is full.
enum class DispatchPolicy : quint8 {
    /// Never drops: when the queue is full the producing (I/O) thread delivers queued frames
    /// itself, in order, until the queue is half empty (seed 000's P0-3 fallback; every frame so
    /// delivered counts as a synchronous fallback). Chosen over "stop reading the socket" (seed 004's V1)
    /// because QWebSocket cannot pause reading; the cost lands on the producer's thread and is
    /// visible as synchronous fallbacks and as dispatch lag.
    Lossless,
    DropOldest,     ///< drop the oldest queued frame to make room
    DropNewest,     ///< drop the incoming frame
    CoalesceLatest, ///< keep only the newest queued frame per subscription (snapshots: l2Book, bbo, allMids)
};

QLatin1StringView nameOf(DispatchPolicy p);
std::optional<DispatchPolicy> dispatchPolicyFromName(QStringView name);

/// Upper bounds (µs) of the dispatch-lag histogram's buckets; one more bucket holds the rest.
inline constexpr std::array<qint64, 14> LagBucketBoundsUs{
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};
inline constexpr size_t LagBucketCount = LagBucketBoundsUs.size() + 1;

/// Counters of one consumer. Taken under the consumer's lock, so that at every snapshot
/// received == delivered + dropped + coalesced + queued holds exactly.
struct ConsumerStats
{
    QString name;
    DispatchPolicy policy = DispatchPolicy::Lossless;
    bool inlineConsumer = false;
    bool enabled = true; ///< a disabled consumer is skipped by dispatch() (not counted)
    qint64 received = 0;
    qint64 delivered = 0;
    qint64 dropped = 0;
    qint64 coalesced = 0;
    qint64 queued = 0;
    qint64 highWater = 0;
    qint64 syncFallbacks = 0;
    qint64 lagP50Us = -1; ///< receive → delivery, over the consumer's recent deliveries
    qint64 lagP99Us = -1;
    qint64 capacity = 0;
    /// Every delivery's lag since the start, by bucket (not cumulative), with sum and count.
    std::array<qint64, LagBucketCount> lagBuckets{};
    double lagSumUs = 0;
    qint64 lagCount = 0;
};

/// One consumer's figures as JSON (the report, the session log's statistics events).
QJsonObject toJson(const ConsumerStats &c);

/// A stretch of time during which a worker consumer's queue overflowed (drops or, for lossless,
/// synchronous fallbacks). Reported once when it starts and once when it ends.
struct OverflowEpisode
{
    QString consumer;
    DispatchPolicy policy = DispatchPolicy::Lossless;
    bool ended = false;
    QDateTime startedAt;
    QDateTime endedAt;  ///< when ended
    qint64 dropped = 0; ///< during the episode, so far
    qint64 syncFallbacks = 0;
    qint64 peakDepth = 0;
};

/// Fans routed data frames out to consumers. Inline consumers (cheap ones, such as counters) run
/// on the producing thread; worker consumers each own a bounded queue drained by one worker
/// thread of a pool (so each consumer sees its frames in order), with a DispatchPolicy for a full
/// queue. dispatch() never blocks on a slow worker consumer: it enqueues, drops, coalesces or (for
/// lossless) delivers synchronously.
class Dispatcher final
{
public:
    using Callback = std::function<void(const DataFrame &)>;

    /// @p workerThreads worker threads (seed P2-2: the pool size is a setting).
    explicit Dispatcher(int workerThreads = 2);
    ~Dispatcher();
    Dispatcher(const Dispatcher &) = delete;
    Dispatcher &operator=(const Dispatcher &) = delete;

    /// @p keys: the canonical subscriptions it wants; empty = every subscription (wildcard).
    /// Returns the consumer's id.
    int addInline(const QString &name, Callback callback, const QSet<QByteArray> &keys = {});
    int addWorker(const QString &name, Callback callback, DispatchPolicy policy, qsizetype capacity,
                  const QSet<QByteArray> &keys = {});

    /// Switches a consumer on or off at run time, from any thread: while off, dispatch() skips it
    /// (its frames are neither received nor dropped); what it had queued is still delivered.
    /// Consumers can only be added before the first dispatch(), so an optional one is added
    /// disabled and switched on when wanted.
    void setEnabled(int consumer, bool enabled);
    /// Frames still queued for @p consumer (0 for an inline one); 0 also means no delivery to it
    /// is in progress.
    qint64 queued(int consumer) const;

    /// Thread-safe with respect to the workers; call from one producing thread at a time.
    void dispatch(const QList<DataFrame> &frames);
    /// Waits until every worker queue is empty (or @p timeoutMs passes); true when drained.
    bool drain(int timeoutMs);
    /// Ends the worker threads and waits for them (the destructor does it too; idempotent): a
    /// delivery in progress finishes, what is still queued stays undelivered (stats() count it as
    /// queued). Call it before anything a worker's callback uses is destroyed.
    void stop();
    QList<ConsumerStats> stats() const;
    /// Overflow episodes that started or ended since the last call. An episode ends at the first
    /// call that finds no new drop or fallback since the previous one and room in the queue, so
    /// call it at a fixed period (the engine does, every second).
    QList<OverflowEpisode> pollEpisodes();

private:
    struct Consumer;
    struct Worker;
    void deliver(Consumer &c, const DataFrame &f);
    void workerLoop(Worker &w);

    std::vector<std::unique_ptr<Consumer>> m_consumers;
    std::vector<std::unique_ptr<Worker>> m_workers;
    std::atomic<bool> m_stopping{false};
};

} // namespace FeedScope

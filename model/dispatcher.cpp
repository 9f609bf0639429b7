#include "dispatcher.h"

#include "budget.h"

#include <QHash>

#include <algorithm>
#include <chrono>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
constexpr size_t LagSamples = 2048;
}

QLatin1StringView nameOf(DispatchPolicy p)
{
    switch (p) {
    case DispatchPolicy::Lossless:
        return "lossless"_L1;
    case DispatchPolicy::DropOldest:
        return "drop-oldest"_L1;
    case DispatchPolicy::DropNewest:
        return "drop-newest"_L1;
    case DispatchPolicy::CoalesceLatest:
        return "coalesce-latest"_L1;
    }
    return "lossless"_L1;
}

std::optional<DispatchPolicy> dispatchPolicyFromName(QStringView name)
{
    for (DispatchPolicy p : {DispatchPolicy::Lossless, DispatchPolicy::DropOldest, DispatchPolicy::DropNewest,
                             DispatchPolicy::CoalesceLatest}) {
        if (name == nameOf(p))
            return p;
    }
    return std::nullopt;
}

struct Dispatcher::Worker
{
    std::thread thread;
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<Consumer *> consumers; ///< guarded by mutex
    bool pending = false;              ///< guarded by mutex: work was queued since the last pass
    std::atomic<int> busy{0};
};

struct Dispatcher::Consumer
{
    QString name;
    Callback callback;
    QSet<QByteArray> keys;
    bool inlineConsumer = false;
    DispatchPolicy policy = DispatchPolicy::Lossless;
    qsizetype capacity = 0;
    Worker *worker = nullptr;
    std::atomic<bool> enabled{true};

    std::mutex mutex;                    ///< queue and counters
    std::deque<DataFrame> queue;         ///< lossless, drop-oldest, drop-newest
    std::deque<QByteArray> order;        ///< coalesce-latest: keys in arrival order
    QHash<QByteArray, DataFrame> latest; ///< coalesce-latest: the newest frame per key
    qint64 received = 0, delivered = 0, dropped = 0, coalesced = 0, highWater = 0, syncFallbacks = 0;
    std::vector<qint64> lagUs = std::vector<qint64>(LagSamples, -1);
    size_t lagPos = 0;
    std::array<qint64, LagBucketCount> lagBuckets{};
    double lagSumUs = 0;
    qint64 lagCount = 0;
    // Overflow episode
    bool inEpisode = false, startReported = false;
    qint64 episodeStartMs = 0, episodeDropped0 = 0, episodeSync0 = 0, episodePeak = 0, lastPollOverflow = 0;

    /// Serialises the callback between the worker and a lossless synchronous fallback, so that a
    /// consumer is never called twice at once and sees its frames in order.
    std::mutex deliverMutex;

    qint64 queuedLocked() const
    {
        return policy == DispatchPolicy::CoalesceLatest ? static_cast<qint64>(order.size())
                                                        : static_cast<qint64>(queue.size());
    }
    bool popLocked(DataFrame *out)
    {
        if (policy == DispatchPolicy::CoalesceLatest) {
            if (order.empty())
                return false;
            *out = latest.take(order.front());
            order.pop_front();
        } else {
            if (queue.empty())
                return false;
            *out = std::move(queue.front());
            queue.pop_front();
        }
        ++delivered;
        return true;
    }
    void recordLagLocked(qint64 receivedNs, qint64 nowNs = 0)
    {
        if (receivedNs <= 0)
            return;
        const qint64 us = ((nowNs > 0 ? nowNs : monotonicNs()) - receivedNs) / 1000;
        lagUs[lagPos++ % LagSamples] = us;
        const auto bucket = std::lower_bound(LagBucketBoundsUs.begin(), LagBucketBoundsUs.end(), us);
        ++lagBuckets[static_cast<size_t>(bucket - LagBucketBoundsUs.begin())];
        lagSumUs += static_cast<double>(us);
        ++lagCount;
    }
    /// Before counting a drop or a fallback: opens an episode if none is open.
    void noteOverflowLocked()
    {
        if (inEpisode)
            return;
        inEpisode = true;
        startReported = false;
        episodeStartMs = QDateTime::currentMSecsSinceEpoch();
        episodeDropped0 = dropped;
        episodeSync0 = syncFallbacks;
        episodePeak = queuedLocked();
    }
};

QJsonObject toJson(const ConsumerStats &c)
{
    return QJsonObject{
        {u"name"_s, c.name},
        {u"policy"_s, QString(nameOf(c.policy))},
        {u"enabled"_s, c.enabled},
        {u"received"_s, static_cast<double>(c.received)},
        {u"delivered"_s, static_cast<double>(c.delivered)},
        {u"dropped"_s, static_cast<double>(c.dropped)},
        {u"coalesced"_s, static_cast<double>(c.coalesced)},
        {u"queued"_s, static_cast<double>(c.queued)},
        {u"highWater"_s, static_cast<double>(c.highWater)},
        {u"syncFallbacks"_s, static_cast<double>(c.syncFallbacks)},
        {u"lagP50Us"_s, static_cast<double>(c.lagP50Us)},
        {u"lagP99Us"_s, static_cast<double>(c.lagP99Us)},
    };
}

Dispatcher::Dispatcher(int workerThreads)
{
    const int n = std::max(1, workerThreads);
    for (int i = 0; i < n; ++i) {
        auto w = std::make_unique<Worker>();
        Worker *raw = w.get();
        m_workers.push_back(std::move(w));
        raw->thread = std::thread([this, raw] { workerLoop(*raw); });
    }
}

Dispatcher::~Dispatcher()
{
    stop();
}

void Dispatcher::stop()
{
    m_stopping = true;
    for (auto &w : m_workers) {
        {
            std::lock_guard lock(w->mutex);
        }
        w->wake.notify_all();
        if (w->thread.joinable())
            w->thread.join();
    }
}

int Dispatcher::addInline(const QString &name, Callback callback, const QSet<QByteArray> &keys)
{
    auto c = std::make_unique<Consumer>();
    c->name = name;
    c->callback = std::move(callback);
    c->keys = keys;
    c->inlineConsumer = true;
    m_consumers.push_back(std::move(c));
    return static_cast<int>(m_consumers.size() - 1);
}

int Dispatcher::addWorker(const QString &name, Callback callback, DispatchPolicy policy, qsizetype capacity,
                          const QSet<QByteArray> &keys)
{
    auto c = std::make_unique<Consumer>();
    c->name = name;
    c->callback = std::move(callback);
    c->keys = keys;
    c->policy = policy;
    c->capacity = std::max<qsizetype>(1, capacity);
    Worker *w = m_workers[m_consumers.size() % m_workers.size()].get();
    c->worker = w;
    {
        std::lock_guard lock(w->mutex);
        w->consumers.push_back(c.get());
    }
    m_consumers.push_back(std::move(c));
    return static_cast<int>(m_consumers.size() - 1);
}

void Dispatcher::setEnabled(int consumer, bool enabled)
{
    if (consumer >= 0 && consumer < static_cast<int>(m_consumers.size()))
        m_consumers[static_cast<size_t>(consumer)]->enabled.store(enabled, std::memory_order_release);
}

qint64 Dispatcher::queued(int consumer) const
{
    if (consumer < 0 || consumer >= static_cast<int>(m_consumers.size()))
        return 0;
    Consumer &c = *m_consumers[static_cast<size_t>(consumer)];
    // Waits out a delivery in progress, so 0 means the consumer's callback is not running either.
    std::lock_guard deliverLock(c.deliverMutex);
    std::lock_guard lock(c.mutex);
    return c.queuedLocked();
}

void Dispatcher::dispatch(const QList<DataFrame> &frames)
{
    // Inline consumers run now: one clock read for the batch's lag, not one per frame.
    const qint64 nowNs = monotonicNs();
    for (auto &cp : m_consumers) {
        Consumer &c = *cp;
        if (!c.enabled.load(std::memory_order_acquire))
            continue;
        if (c.inlineConsumer) {
            // Counted under one lock for the batch, then called outside it.
            {
                std::lock_guard lock(c.mutex);
                for (const DataFrame &f : frames) {
                    if (!c.keys.isEmpty() && !c.keys.contains(f.key))
                        continue;
                    ++c.received;
                    ++c.delivered;
                    c.recordLagLocked(f.receivedNs, nowNs);
                }
            }
            for (const DataFrame &f : frames)
                if (c.keys.isEmpty() || c.keys.contains(f.key))
                    c.callback(f);
            continue;
        }
        bool enqueued = false;
        for (const DataFrame &f : frames) {
            if (!c.keys.isEmpty() && !c.keys.contains(f.key))
                continue;
            bool fallback = false;
            {
                std::lock_guard lock(c.mutex);
                ++c.received;
                switch (c.policy) {
                case DispatchPolicy::CoalesceLatest:
                    if (auto it = c.latest.find(f.key); it != c.latest.end()) {
                        *it = f; // the queued older frame of this key is superseded
                        ++c.coalesced;
                    } else {
                        if (static_cast<qsizetype>(c.order.size()) >= c.capacity) {
                            c.noteOverflowLocked();
                            c.latest.remove(c.order.front()); // more keys than room: oldest goes
                            c.order.pop_front();
                            ++c.dropped;
                        }
                        c.order.push_back(f.key);
                        c.latest.insert(f.key, f);
                    }
                    break;
                case DispatchPolicy::DropNewest:
                    if (static_cast<qsizetype>(c.queue.size()) >= c.capacity) {
                        c.noteOverflowLocked();
                        ++c.dropped;
                    } else
                        c.queue.push_back(f);
                    break;
                case DispatchPolicy::DropOldest:
                    if (static_cast<qsizetype>(c.queue.size()) >= c.capacity) {
                        c.noteOverflowLocked();
                        c.queue.pop_front();
                        ++c.dropped;
                    }
                    c.queue.push_back(f);
                    break;
                case DispatchPolicy::Lossless:
                    if (static_cast<qsizetype>(c.queue.size()) >= c.capacity) {
                        c.noteOverflowLocked();
                        fallback = true;
                    }
                    c.queue.push_back(f);
                    break;
                }
                c.highWater = std::max(c.highWater, c.queuedLocked());
                if (c.inEpisode)
                    c.episodePeak = std::max(c.episodePeak, c.queuedLocked());
            }
            enqueued = true;
            if (fallback) {
                // Lossless and full: this thread does the worker's job, in order, until the
                // queue is half empty (the producer is slowed, nothing is lost; stopping at half
                // rather than at empty keeps each stall of the I/O thread short). Every frame
                // delivered here counts as a synchronous fallback.
                std::lock_guard deliverLock(c.deliverMutex);
                DataFrame next;
                while (true) {
                    {
                        std::lock_guard lock(c.mutex);
                        if (c.queuedLocked() <= c.capacity / 2 || !c.popLocked(&next))
                            break;
                        c.recordLagLocked(next.receivedNs);
                        ++c.syncFallbacks;
                    }
                    c.callback(next);
                }
            }
        }
        if (enqueued) {
            {
                std::lock_guard lock(c.worker->mutex);
                c.worker->pending = true;
            }
            c.worker->wake.notify_one();
        }
    }
}

void Dispatcher::workerLoop(Worker &w)
{
    // Lock order: the worker's mutex is only ever held alone; delivery takes a consumer's
    // deliverMutex, then its mutex (as the producer's lossless fallback does).
    while (true) {
        if (m_stopping.load()) // stop(): what is still queued stays queued (and counted)
            return;
        std::vector<Consumer *> consumers;
        {
            std::lock_guard lock(w.mutex);
            consumers = w.consumers;
            w.pending = false; // anything queued from now on sets it again
        }
        bool any = false;
        for (Consumer *c : consumers) {
            // One frame per consumer per round: consumers sharing a worker take turns.
            std::lock_guard deliverLock(c->deliverMutex);
            DataFrame f;
            {
                std::lock_guard cl(c->mutex);
                if (!c->popLocked(&f))
                    continue;
                c->recordLagLocked(f.receivedNs);
                ++w.busy;
            }
            any = true;
            c->callback(f);
            --w.busy;
        }
        if (any)
            continue;
        std::unique_lock lock(w.mutex);
        if (m_stopping)
            return;
        w.wake.wait(lock, [&] { return w.pending || m_stopping.load(); });
    }
}

bool Dispatcher::drain(int timeoutMs)
{
    const qint64 deadline = monotonicMs() + timeoutMs;
    while (true) {
        bool empty = true;
        for (auto &c : m_consumers) {
            std::lock_guard lock(c->mutex);
            empty &= c->queuedLocked() == 0;
        }
        for (auto &w : m_workers)
            empty &= w->busy.load() == 0;
        if (empty)
            return true;
        if (monotonicMs() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

QList<ConsumerStats> Dispatcher::stats() const
{
    QList<ConsumerStats> out;
    for (const auto &cp : m_consumers) {
        Consumer &c = *cp;
        ConsumerStats s;
        std::vector<qint64> lags;
        {
            std::lock_guard lock(c.mutex);
            s.name = c.name;
            s.policy = c.policy;
            s.inlineConsumer = c.inlineConsumer;
            s.enabled = c.enabled.load(std::memory_order_relaxed);
            s.received = c.received;
            s.delivered = c.delivered;
            s.dropped = c.dropped;
            s.coalesced = c.coalesced;
            s.queued = c.queuedLocked();
            s.highWater = c.highWater;
            s.syncFallbacks = c.syncFallbacks;
            s.capacity = c.capacity;
            s.lagBuckets = c.lagBuckets;
            s.lagSumUs = c.lagSumUs;
            s.lagCount = c.lagCount;
            for (qint64 l : c.lagUs)
                if (l >= 0)
                    lags.push_back(l);
        }
        if (!lags.empty()) {
            auto pct = [&lags](double q) {
                const size_t k =
                    std::min(lags.size() - 1, static_cast<size_t>(q * static_cast<double>(lags.size())));
                std::nth_element(lags.begin(), lags.begin() + static_cast<std::ptrdiff_t>(k), lags.end());
                return lags[k];
            };
            s.lagP50Us = pct(0.50);
            s.lagP99Us = pct(0.99);
        }
        out.append(s);
    }
    return out;
}

QList<OverflowEpisode> Dispatcher::pollEpisodes()
{
    QList<OverflowEpisode> out;
    for (auto &cp : m_consumers) {
        Consumer &c = *cp;
        std::lock_guard lock(c.mutex);
        if (!c.inEpisode)
            continue;
        const qint64 overflow = c.dropped + c.syncFallbacks;
        OverflowEpisode e;
        e.consumer = c.name;
        e.policy = c.policy;
        e.startedAt = QDateTime::fromMSecsSinceEpoch(c.episodeStartMs, Qt::UTC);
        e.dropped = c.dropped - c.episodeDropped0;
        e.syncFallbacks = c.syncFallbacks - c.episodeSync0;
        e.peakDepth = c.episodePeak;
        if (!c.startReported) {
            c.startReported = true;
            c.lastPollOverflow = overflow;
            out.append(e);
            continue;
        }
        if (overflow == c.lastPollOverflow && c.queuedLocked() < c.capacity) {
            c.inEpisode = false;
            e.ended = true;
            e.endedAt = QDateTime::currentDateTimeUtc();
            out.append(e);
        }
        c.lastPollOverflow = overflow;
    }
    return out;
}

} // namespace FeedScope

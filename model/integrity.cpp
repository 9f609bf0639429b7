#include "integrity.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <vector>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

enum class Family : quint8 { Other, Book, Bbo, Trades, Candle, CoinCtx, User, UserState, UserCoin };

/// An event time or trade id: a whole JSON number in a sane range; -1 otherwise (hostile input).
qint64 wholeNumber(const QJsonValue &v)
{
    if (!v.isDouble())
        return -1;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < 0 || d > 9.0e15 || d != std::floor(d))
        return -1;
    return static_cast<qint64>(d);
}

/// A price level's price: a positive finite decimal string; NaN otherwise.
double priceOf(const QJsonValue &level)
{
    const QJsonValue px = level.toObject().value(u"px"_s);
    if (!px.isString())
        return std::nan("");
    bool ok = false;
    const double d = px.toString().toDouble(&ok);
    return ok && std::isfinite(d) && d > 0 ? d : std::nan("");
}

QString priceText(const QJsonValue &level)
{
    return level.toObject().value(u"px"_s).toString();
}

} // namespace

QLatin1StringView nameOf(IntegrityKind k)
{
    switch (k) {
    case IntegrityKind::CrossedBook:
        return "crossedBook"_L1;
    case IntegrityKind::TimeBackwards:
        return "timeBackwards"_L1;
    case IntegrityKind::DuplicateTrade:
        return "duplicateTrade"_L1;
    case IntegrityKind::Contradicts:
        return "contradicts"_L1;
    }
    return "unknown"_L1;
}

qint64 countOf(const IntegrityCounts &c, IntegrityKind k)
{
    switch (k) {
    case IntegrityKind::CrossedBook:
        return c.crossedBook;
    case IntegrityKind::TimeBackwards:
        return c.timeBackwards;
    case IntegrityKind::DuplicateTrade:
        return c.duplicateTrade;
    case IntegrityKind::Contradicts:
        return c.contradicts;
    }
    return 0;
}

namespace {
qint64 &counter(IntegrityCounts &c, IntegrityKind k)
{
    switch (k) {
    case IntegrityKind::CrossedBook:
        return c.crossedBook;
    case IntegrityKind::TimeBackwards:
        return c.timeBackwards;
    case IntegrityKind::DuplicateTrade:
        return c.duplicateTrade;
    case IntegrityKind::Contradicts:
        break;
    }
    return c.contradicts;
}
} // namespace

namespace {
/// The last N trade ids of one subscription, in memory allocated once, at the first trade: a ring
/// for the order and an open-addressing table (linear probing, backward-shift deletion) for the
/// look-up, so a long run neither allocates per trade nor grows after its first N trades.
class RecentIds
{
public:
    /// False (and nothing stored) when @p id is already among the last `capacity` ids.
    bool insert(quint64 id, int capacity)
    {
        if (m_ring.empty()) {
            m_ring.assign(static_cast<size_t>(std::max(1, capacity)), 0);
            size_t slots = 2;
            while (slots < m_ring.size() * 2)
                slots *= 2;
            m_table.assign(slots, Empty);
        }
        id = id == Empty ? Empty - 1 : id;
        if (contains(id))
            return false;
        if (m_size == m_ring.size())
            erase(m_ring[m_head]); // the oldest goes
        else
            ++m_size;
        m_ring[m_head] = id;
        m_head = (m_head + 1) % m_ring.size();
        size_t i = slot(id);
        while (m_table[i] != Empty)
            i = (i + 1) & mask();
        m_table[i] = id;
        return true;
    }
    size_t size() const { return m_size; }

private:
    static constexpr quint64 Empty = ~quint64(0);
    size_t mask() const { return m_table.size() - 1; }
    size_t slot(quint64 id) const { return static_cast<size_t>((id * 0xff51afd7ed558ccdULL) >> 17) & mask(); }
    bool contains(quint64 id) const
    {
        for (size_t i = slot(id); m_table[i] != Empty; i = (i + 1) & mask())
            if (m_table[i] == id)
                return true;
        return false;
    }
    void erase(quint64 id)
    {
        size_t i = slot(id);
        while (m_table[i] != id) {
            if (m_table[i] == Empty)
                return;
            i = (i + 1) & mask();
        }
        // Backward shift: move later entries of the probe run into the hole where they belong.
        for (size_t j = (i + 1) & mask(); m_table[j] != Empty; j = (j + 1) & mask()) {
            const size_t home = slot(m_table[j]);
            const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!between) {
                m_table[i] = m_table[j];
                i = j;
            }
        }
        m_table[i] = Empty;
    }
    std::vector<quint64> m_ring;
    std::vector<quint64> m_table;
    size_t m_head = 0;
    size_t m_size = 0;
};
} // namespace

struct IntegrityChecker::Sub
{
    Family family = Family::Other;
    QString coin;
    QString interval;
    QString user; ///< lowercased
    qint64 lastTimeMs = -1;
    bool fresh = true; ///< the next frame starts afresh (first one, or first after an ack)
    bool afterRestore = false;
    RecentIds tids; ///< the last Limits::tids trades
    IntegrityCounts counts;
    struct Limiter
    {
        qint64 lastEventMs = std::numeric_limits<qint64>::min() / 2;
        qint64 suppressed = 0;
        IntegrityEvent pending; ///< the latest suppressed one
    };
    std::array<Limiter, IntegrityKindCount> limiters;
};

IntegrityChecker::IntegrityChecker(Limits limits) : m_limits(limits) {}

IntegrityChecker::~IntegrityChecker() = default;

IntegrityChecker::Sub &IntegrityChecker::stateOf(const QByteArray &key)
{
    auto it = m_subs.find(key);
    if (it != m_subs.end())
        return **it;
    auto s = std::make_shared<Sub>();
    if (const auto sub = Hl::Subscription::fromJson(QJsonDocument::fromJson(key).object())) {
        const QString t = sub->type();
        const QJsonObject j = sub->json();
        s->coin = j.value(u"coin"_s).toString();
        s->interval = j.value(u"interval"_s).toString();
        s->user = sub->user();
        if (t == u"l2Book"_s)
            s->family = Family::Book;
        else if (t == u"bbo"_s)
            s->family = Family::Bbo;
        else if (t == u"trades"_s)
            s->family = Family::Trades;
        else if (t == u"candle"_s)
            s->family = Family::Candle;
        else if (t == u"activeAssetCtx"_s)
            s->family = Family::CoinCtx;
        else if (t == u"activeAssetData"_s)
            s->family = Family::UserCoin;
        else if (t == u"webData3"_s)
            s->family = Family::UserState;
        else if (!s->user.isEmpty() && t != u"orderUpdates"_s && t != u"userEvents"_s &&
                 t != u"notification"_s)
            s->family = Family::User; // the feeds whose data names its user
    }
    return **m_subs.insert(key, std::move(s));
}

void IntegrityChecker::acknowledged(const QByteArray &key)
{
    m_acked.insert(key);
}

void IntegrityChecker::markRestarts(const QList<DataFrame> &frames)
{
    if (m_acked.isEmpty())
        return;
    for (const DataFrame &f : frames) {
        if (m_acked.remove(f.key)) {
            std::lock_guard lock(m_mutex);
            m_restartAt.insert(f.key, f.receivedNs);
        }
        if (m_acked.isEmpty())
            return;
    }
}

void IntegrityChecker::violation(Sub &s, IntegrityKind kind, const DataFrame &f, const QString &detail,
                                 qint64 nowMs)
{
    ++counter(s.counts, kind);
    ++counter(m_totals, kind);
    Sub::Limiter &l = s.limiters[static_cast<size_t>(kind)];
    IntegrityEvent e;
    e.subscription = f.key;
    e.kind = kind;
    e.connection = f.connection;
    e.detail = detail;
    e.frame = f.raw.left(m_limits.frameBytes);
    e.frameBytes = f.raw.size();
    e.count = countOf(s.counts, kind);
    e.afterRestore = s.afterRestore;
    if (nowMs - l.lastEventMs >= m_limits.eventIntervalMs) {
        e.suppressed = l.suppressed;
        l.suppressed = 0;
        l.pending = {};
        l.lastEventMs = nowMs;
        if (m_events.size() < m_limits.maxEvents)
            m_events.append(std::move(e));
    } else {
        ++l.suppressed;
        l.pending = std::move(e);
    }
}

void IntegrityChecker::check(const DataFrame &f)
{
    // One consumer's frames arrive one at a time: the lock is contended only by the 10 Hz
    // snapshot's counts(). Frames of types without checks (allMids, asset contexts, ...) are not
    // even parsed; for the others QJsonDocument costs a few µs (bbo) to a few tens of µs (a
    // 20-level l2Book); tst_integrity prints the figures.
    std::lock_guard lock(m_mutex);
    Sub &s = stateOf(f.key);
    if (s.family == Family::Other)
        return;
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.raw, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return; // not ours to judge: the codec counts malformed frames
    const QJsonValue data = doc.object().value(u"data"_s);
    const qint64 nowMs = f.receivedNs / 1000000;
    if (!m_restartAt.isEmpty()) {
        if (auto it = m_restartAt.find(f.key); it != m_restartAt.end() && f.receivedNs >= *it) {
            m_restartAt.erase(it);
            s.fresh = true;
            s.afterRestore = true;
        }
    }
    const bool fresh = s.fresh;
    s.fresh = false;
    auto contradicts = [&](const QString &field, const QString &got, const QString &want) {
        violation(s, IntegrityKind::Contradicts, f,
                  u"%1 is \"%2\", the subscription's is \"%3\""_s.arg(field, got, want), nowMs);
    };
    // The event time: a live frame's may not be before the previous live frame's.
    auto eventTime = [&](qint64 t, bool counts) {
        if (t < 0 || f.snapshot)
            return;
        if (fresh) {
            s.lastTimeMs = t;
            return;
        }
        if (counts && s.lastTimeMs >= 0 && t < s.lastTimeMs)
            violation(s, IntegrityKind::TimeBackwards, f,
                      u"event time %1 is %2 ms before the previous frame's"_s.arg(t).arg(s.lastTimeMs - t),
                      nowMs);
        s.lastTimeMs = std::max(s.lastTimeMs, t);
    };

    switch (s.family) {
    case Family::Book:
    case Family::Bbo: {
        const QJsonObject o = data.toObject();
        const QJsonValue coin = o.value(u"coin"_s);
        if (coin.isString() && coin.toString() != s.coin)
            contradicts(u"coin"_s, coin.toString(), s.coin);
        QJsonValue bid, ask;
        bool oneSided = false;
        if (s.family == Family::Book) {
            const QJsonArray levels = o.value(u"levels"_s).toArray();
            if (levels.size() == 2 && levels.at(0).isArray() && levels.at(1).isArray()) {
                const QJsonArray bids = levels.at(0).toArray();
                const QJsonArray asks = levels.at(1).toArray();
                oneSided = bids.isEmpty() || asks.isEmpty();
                if (oneSided)
                    violation(s, IntegrityKind::CrossedBook, f,
                              bids.isEmpty() && asks.isEmpty() ? u"the book is empty"_s
                              : bids.isEmpty()                 ? u"the book has no bids"_s
                                                               : u"the book has no asks"_s,
                              nowMs);
                bid = bids.isEmpty() ? QJsonValue() : bids.at(0);
                ask = asks.isEmpty() ? QJsonValue() : asks.at(0);
            }
        } else {
            const QJsonArray bbo = o.value(u"bbo"_s).toArray();
            if (bbo.size() == 2) { // a null side: no order on it (documented), not a violation
                bid = bbo.at(0);
                ask = bbo.at(1);
            }
        }
        if (!oneSided && bid.isObject() && ask.isObject()) {
            const double b = priceOf(bid);
            const double a = priceOf(ask);
            if (std::isfinite(b) && std::isfinite(a) && b >= a)
                violation(s, IntegrityKind::CrossedBook, f,
                          u"best bid %1 is %2 best ask %3"_s.arg(priceText(bid), b > a ? u"above"_s : u"at"_s,
                                                                 priceText(ask)),
                          nowMs);
        }
        eventTime(wholeNumber(o.value(u"time"_s)), true);
        break;
    }
    case Family::Trades: {
        const QJsonArray trades = data.toArray();
        bool foreign = false, duplicate = false;
        qint64 newest = -1, oldestNew = -1;
        QString foreignCoin, duplicateTid;
        for (const QJsonValue &v : trades) {
            const QJsonObject t = v.toObject();
            const QJsonValue coin = t.value(u"coin"_s);
            if (coin.isString() && coin.toString() != s.coin && !foreign) {
                foreign = true;
                foreignCoin = coin.toString();
            }
            const qint64 time = wholeNumber(t.value(u"time"_s));
            const qint64 tid = wholeNumber(t.value(u"tid"_s));
            if (time < 0)
                continue;
            newest = std::max(newest, time);
            if (tid < 0 || (coin.isString() && coin.toString() != s.coin))
                continue;
            // The same trade = the same tid at the same time (PROTOCOL.md: unique (time, coin, tid)).
            const quint64 id = static_cast<quint64>(tid) * 0x9E3779B97F4A7C15ULL ^ static_cast<quint64>(time);
            if (!s.tids.insert(id, m_limits.tids)) {
                if (!duplicate)
                    duplicateTid = QString::number(tid);
                duplicate = true;
                continue;
            }
            oldestNew = oldestNew < 0 ? time : std::min(oldestNew, time);
        }
        if (foreign)
            contradicts(u"a trade's coin"_s, foreignCoin, s.coin);
        if (duplicate)
            violation(
                s, IntegrityKind::DuplicateTrade, f,
                s.afterRestore
                    ? u"trade %1 came again, in the first frame after a (re)subscription"_s.arg(duplicateTid)
                    : u"trade %1 came again"_s.arg(duplicateTid),
                nowMs);
        // Only trades not seen before can go backwards; a resent one is a duplicate.
        if (oldestNew >= 0)
            eventTime(oldestNew, true);
        if (newest >= 0 && !f.snapshot)
            s.lastTimeMs = std::max(s.lastTimeMs, newest);
        break;
    }
    case Family::Candle: {
        const QJsonObject o = data.toObject();
        const QJsonValue coin = o.value(u"s"_s);
        const QJsonValue interval = o.value(u"i"_s);
        if (coin.isString() && coin.toString() != s.coin)
            contradicts(u"the candle's coin"_s, coin.toString(), s.coin);
        else if (interval.isString() && interval.toString() != s.interval)
            contradicts(u"the candle's interval"_s, interval.toString(), s.interval);
        break;
    }
    case Family::CoinCtx: {
        const QJsonValue coin = data.toObject().value(u"coin"_s);
        if (coin.isString() && coin.toString() != s.coin)
            contradicts(u"coin"_s, coin.toString(), s.coin);
        break;
    }
    case Family::User:
    case Family::UserCoin:
    case Family::UserState: {
        const QJsonObject o = s.family == Family::UserState ? data.toObject().value(u"userState"_s).toObject()
                                                            : data.toObject();
        const QJsonValue user = o.value(u"user"_s);
        if (user.isString() && user.toString().toLower() != s.user) {
            contradicts(u"user"_s, user.toString(), s.user);
        } else if (s.family == Family::UserCoin) {
            const QJsonValue coin = o.value(u"coin"_s);
            if (coin.isString() && coin.toString() != s.coin)
                contradicts(u"coin"_s, coin.toString(), s.coin);
        }
        break;
    }
    case Family::Other:
        break;
    }
    s.afterRestore = false;
}

IntegrityCounts IntegrityChecker::counts(const QByteArray &key) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_subs.constFind(key);
    return it == m_subs.cend() ? IntegrityCounts{} : (*it)->counts;
}

IntegrityCounts IntegrityChecker::totals() const
{
    std::lock_guard lock(m_mutex);
    return m_totals;
}

QList<IntegrityEvent> IntegrityChecker::takeEvents(qint64 nowMs, bool all)
{
    std::lock_guard lock(m_mutex);
    QList<IntegrityEvent> out;
    out.swap(m_events);
    for (const auto &s : std::as_const(m_subs)) {
        for (Sub::Limiter &l : s->limiters) {
            if (l.suppressed == 0 || (!all && nowMs - l.lastEventMs < m_limits.eventIntervalMs))
                continue;
            IntegrityEvent e = std::move(l.pending);
            e.suppressed = l.suppressed;
            e.summary = true;
            l.pending = {};
            l.suppressed = 0;
            l.lastEventMs = nowMs;
            out.append(std::move(e));
        }
    }
    return out;
}

void IntegrityChecker::remove(const QByteArray &key)
{
    std::lock_guard lock(m_mutex);
    m_subs.remove(key);
    m_restartAt.remove(key);
}

qsizetype IntegrityChecker::tracked() const
{
    std::lock_guard lock(m_mutex);
    return m_subs.size();
}

qsizetype IntegrityChecker::rememberedTrades(const QByteArray &key) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_subs.constFind(key);
    return it == m_subs.cend() ? 0 : static_cast<qsizetype>((*it)->tids.size());
}

} // namespace FeedScope

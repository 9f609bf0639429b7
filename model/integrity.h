#pragma once

#include "pooltypes.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

#include <array>
#include <memory>
#include <mutex>

namespace FeedScope {

/// What an integrity violation is (issue 17); the IntegrityCounts members, in order.
enum class IntegrityKind : quint8 { CrossedBook, TimeBackwards, DuplicateTrade, Contradicts };
inline constexpr int IntegrityKindCount = 4;
inline constexpr std::array<IntegrityKind, IntegrityKindCount> AllIntegrityKinds{
    IntegrityKind::CrossedBook, IntegrityKind::TimeBackwards, IntegrityKind::DuplicateTrade,
    IntegrityKind::Contradicts};

/// "crossedBook", "timeBackwards", "duplicateTrade", "contradicts" (metrics labels, session log).
QLatin1StringView nameOf(IntegrityKind k);
qint64 countOf(const IntegrityCounts &c, IntegrityKind k);

/// A violation worth a session event: the first of its subscription and kind, then at most one
/// per Limits::eventIntervalMs, carrying how many were left without an event since.
struct IntegrityEvent
{
    QByteArray subscription; ///< canonical
    IntegrityKind kind = IntegrityKind::CrossedBook;
    int connection = 0;
    QString detail;            ///< what was wrong, in words ("best bid 101.5 is at or above best ask 101.4")
    QByteArray frame;          ///< the offending frame, truncated to Limits::frameBytes
    qint64 frameBytes = 0;     ///< its whole size
    qint64 count = 0;          ///< violations of this kind on this subscription so far
    qint64 suppressed = 0;     ///< violations since the previous event that had none of their own
    bool afterRestore = false; ///< in the first frame after a (re)subscription was acknowledged
    bool summary = false;      ///< no new violation: only the count of the suppressed ones
};

/// Integrity checks of Hyperliquid data frames, per subscription: crossed or locked books (l2Book:
/// best bid >= best ask or an empty side; bbo: best bid >= best ask, a null side being the venue's
/// documented "no order on that side"), the event time going backwards (l2Book, bbo, trades; not
/// for isSnapshot frames, and not for the first frame after an acknowledgement, which starts
/// afresh), the same trade twice for a coin (same tid and time, kept for the last Limits::tids
/// trades of a subscription, across reconnects too), and frames whose fields contradict the
/// subscription (another coin, interval or user). Each frame counts at most once per kind.
///
/// Threads: check() runs on a dispatcher worker; acknowledged() and markRestarts() on the pool's
/// thread (in routing order, before the frames reach the dispatcher); the rest anywhere.
class IntegrityChecker final
{
public:
    struct Limits
    {
        int tids = 256; ///< trades remembered per subscription (the venue replays ~30 on subscribe)
        qsizetype frameBytes = 4096;    ///< of an offending frame kept in its event
        qint64 eventIntervalMs = 10000; ///< at most one event per subscription and kind per interval
        int maxEvents = 1000;           ///< events kept until taken
    };

    explicit IntegrityChecker(Limits limits);
    IntegrityChecker() : IntegrityChecker(Limits{}) {}
    ~IntegrityChecker();
    IntegrityChecker(const IntegrityChecker &) = delete;
    IntegrityChecker &operator=(const IntegrityChecker &) = delete;

    /// Checks one routed frame.
    void check(const DataFrame &f);

    /// Pool thread: @p key was acknowledged (again); its next frame starts afresh.
    void acknowledged(const QByteArray &key);
    /// Pool thread, for every routed batch before it is dispatched: marks the first frame of an
    /// acknowledged subscription.
    void markRestarts(const QList<DataFrame> &frames);

    IntegrityCounts counts(const QByteArray &key) const;
    /// Over the run, removed subscriptions included.
    IntegrityCounts totals() const;
    /// Events due at @p nowMs (monotonic): new ones, and summaries of suppressed ones whose
    /// interval has passed (with @p all, every pending summary: at shutdown).
    QList<IntegrityEvent> takeEvents(qint64 nowMs, bool all = false);
    /// Forgets a subscription's state (it was removed).
    void remove(const QByteArray &key);
    /// Subscriptions with state (tests: bounded).
    qsizetype tracked() const;
    /// Trades remembered for @p key (tests: bounded).
    qsizetype rememberedTrades(const QByteArray &key) const;

private:
    struct Sub;
    Sub &stateOf(const QByteArray &key);
    void violation(Sub &s, IntegrityKind kind, const DataFrame &f, const QString &detail, qint64 nowMs);

    Limits m_limits;
    mutable std::mutex m_mutex;
    QHash<QByteArray, std::shared_ptr<Sub>> m_subs;
    QHash<QByteArray, qint64> m_restartAt; ///< key → receive time of its first frame after an ack
    QList<IntegrityEvent> m_events;
    IntegrityCounts m_totals;
    QSet<QByteArray> m_acked; ///< pool thread only
};

} // namespace FeedScope

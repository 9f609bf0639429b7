#pragma once

#include "subscription.h"

#include <QByteArray>
#include <QHash>
#include <QRandomGenerator>

#include <algorithm>
#include <chrono>

namespace FeedScope::Sim {

/// Messages per second of each subscription type when the simulator runs at scale 1; near the
/// real service's cadences (PROTOCOL.md §2.2 "Observed cadences").
double defaultRatePerSecond(const Hl::Subscription &s);
/// Whether the real server sends a first message right after the ack.
bool sendsSnapshotOnSubscribe(const QString &type);

/// Generates data frames with the real shapes for one subscription: decimal strings, a random
/// walk of prices, plausible sizes. Deterministic: the sequence of frames depends only on the
/// seed and the subscription.
/// A deliberate integrity fault in one frame (issue 17), for the simulator's faults.
enum class Twist : quint8 {
    None,
    Crossed,   ///< l2Book/bbo: the best bid above the best ask
    Backwards, ///< l2Book/bbo/trades: the event time before the previous frame's
    Duplicate, ///< trades: the last trade sent again (same tid, same time)
    Foreign,   ///< trades: a trade of another coin in this subscription's frame
};

/// Whether @p twist makes sense for subscriptions of @p type.
bool twistApplies(Twist twist, const QString &type);

class SyntheticFeed final
{
public:
    SyntheticFeed(const Hl::Subscription &subscription, quint64 seed);

    /// The next data frame (a complete server message). @p nowMs is the wall time to stamp.
    QByteArray next(qint64 nowMs);
    /// A frame with @p twist (see Twist); Backwards stamps it @p backMs before the previous
    /// frame's time. Empty when the twist cannot be made (Duplicate before any trade, Backwards
    /// before any frame).
    QByteArray twisted(qint64 nowMs, Twist twist, qint64 backMs = 1000);
    /// The last trade id used; a feed that replaces an earlier one of the same subscription (after
    /// a reconnect) continues after it, so that a clean feed never repeats a trade.
    quint64 lastTid() const { return m_tid; }
    void continueTids(quint64 lastTid) { m_tid = std::max(m_tid, lastTid); }
    /// Milliseconds until the following frame: regular for snapshots, bursty for trades.
    double nextGapMs(double ratePerSecond);
    const Hl::Subscription &subscription() const { return m_sub; }

private:
    QByteArray price(double px) const;
    QByteArray size();
    QByteArray level(double px);
    QByteArray hash();
    QByteArray fill(qint64 nowMs);
    QByteArray dataFor(qint64 nowMs);
    QByteArray trade(const QByteArray &coin, const QByteArray &now);
    QByteArray frame(const QByteArray &data) const;
    void walk();

    Hl::Subscription m_sub;
    QString m_type;
    QByteArray m_coin;
    QByteArray m_user;
    QByteArray m_dex;
    QRandomGenerator m_rng;
    double m_mid = 100.0;
    double m_tick = 0.01;
    quint64 m_count = 0;
    quint64 m_tid = 0;
    int m_burstLeft = 0;
    Twist m_twist = Twist::None;
    QByteArray m_lastTrade;    ///< the last trade object sent (trades)
    qint64 m_lastStampMs = -1; ///< event time of the previous frame
};

/// The embedded demo's subscriptions: about fifty, of every common kind, including two that
/// cannot share a connection and one the demo server rejects (see demoRejectedSubscription()).
QList<Hl::Subscription> demoSubscriptions();
/// The demo subscription the demo server answers with "Invalid subscription".
Hl::Subscription demoRejectedSubscription();

/// Base price of a coin (well-known coins near their real price, others derived from the name).
double basePrice(QByteArrayView coin);

} // namespace FeedScope::Sim

#pragma once

#include "subscription.h"

#include <QHash>
#include <QObject>
#include <QStringList>

namespace FeedScope {

/// Who wants which subscription. Several consumers may hold one canonical subscription; each
/// subscribe() returns its own handle, and unsubscribe(handle) removes exactly that consumer
/// (seed 000's P1-1: the original returned early when a key had more than one callback). The
/// server is asked to subscribe when the first consumer arrives and to unsubscribe only when the
/// last one leaves; the pool handles a re-subscribe that arrives while that unsubscribe is in
/// flight.
class SubscriptionRegistry final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SubscriptionRegistry)

public:
    using Handle = quint64;

    explicit SubscriptionRegistry(QObject *parent = nullptr);

    Handle subscribe(const Hl::Subscription &subscription, const QString &consumer);
    /// False for an unknown (or already released) handle.
    bool unsubscribe(Handle handle);
    /// Releases every handle on @p subscription (the user's "Unsubscribe"); false when none.
    bool unsubscribeAll(const Hl::Subscription &subscription);
    QStringList consumersOf(const Hl::Subscription &subscription) const;
    QStringList consumersOf(const QByteArray &canonical) const;
    int subscriptionCount() const { return static_cast<int>(m_byKey.size()); }

Q_SIGNALS:
    void serverSubscribe(const FeedScope::Hl::Subscription &subscription);
    void serverUnsubscribe(const FeedScope::Hl::Subscription &subscription);

private:
    struct Entry
    {
        Hl::Subscription subscription;
        QHash<Handle, QString> consumers;
        /// consumers' names, sorted: made when asked after a change, shared until the next one
        /// (snapshots ask for every subscription ten times a second; a gateway has thousands).
        mutable QStringList sorted;
        mutable bool sortedValid = false;
    };
    QHash<QByteArray, Entry> m_byKey;
    QHash<Handle, QByteArray> m_keyOf;
    Handle m_next = 1;
};

} // namespace FeedScope

#include "registry.h"

namespace FeedScope {

SubscriptionRegistry::SubscriptionRegistry(QObject *parent) : QObject(parent) {}

SubscriptionRegistry::Handle SubscriptionRegistry::subscribe(const Hl::Subscription &subscription,
                                                             const QString &consumer)
{
    const Handle h = m_next++;
    const QByteArray key = subscription.canonical();
    auto it = m_byKey.find(key);
    const bool first = it == m_byKey.end();
    if (first)
        it = m_byKey.insert(key, Entry{subscription, {}, {}, false});
    it->consumers.insert(h, consumer);
    it->sortedValid = false;
    m_keyOf.insert(h, key);
    if (first)
        Q_EMIT serverSubscribe(subscription);
    return h;
}

bool SubscriptionRegistry::unsubscribe(Handle handle)
{
    const auto k = m_keyOf.constFind(handle);
    if (k == m_keyOf.cend())
        return false;
    const QByteArray key = *k;
    m_keyOf.erase(k);
    auto it = m_byKey.find(key);
    it->consumers.remove(handle); // exactly this consumer, whoever else holds the key
    it->sortedValid = false;
    if (!it->consumers.isEmpty())
        return true;
    const Hl::Subscription s = it->subscription;
    m_byKey.erase(it);
    Q_EMIT serverUnsubscribe(s); // the last consumer left
    return true;
}

bool SubscriptionRegistry::unsubscribeAll(const Hl::Subscription &subscription)
{
    const auto it = m_byKey.constFind(subscription.canonical());
    if (it == m_byKey.cend())
        return false;
    const QList<Handle> handles = it->consumers.keys();
    for (Handle h : handles)
        unsubscribe(h);
    return true;
}

QStringList SubscriptionRegistry::consumersOf(const Hl::Subscription &subscription) const
{
    return consumersOf(subscription.canonical());
}

QStringList SubscriptionRegistry::consumersOf(const QByteArray &canonical) const
{
    const auto it = m_byKey.constFind(canonical);
    if (it == m_byKey.cend())
        return {};
    if (!it->sortedValid) {
        it->sorted = it->consumers.values();
        it->sorted.sort();
        it->sortedValid = true;
    }
    return it->sorted;
}

} // namespace FeedScope

#include "pooltypes.h"

#include "budget.h"
#include "enumname.h"

#include <algorithm>

namespace FeedScope {

QString redactedUrl(const QUrl &url)
{
    QString out = url.toString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
    if (url.hasQuery())
        out += QStringLiteral("?…");
    return out;
}

QLatin1StringView nameOf(ConnState s)
{
    return lowerCamelName(s);
}

QLatin1StringView nameOf(Cause c)
{
    return lowerCamelName(c);
}

QLatin1StringView nameOf(SubState s)
{
    return lowerCamelName(s);
}

PoolLimits PoolLimits::of(const PoolConfig &config)
{
    PoolLimits l;
    l.subscriptions = config.maxConnections * config.maxSubscriptionsPerConnection;
    l.connections = config.maxConnections;
    l.newConnectionsPerMinute = config.newConnectionsPerMinute;
    l.messagesPerMinute = config.outgoingPerMinute;
    return l;
}

qint64 staleAfterMs(const Hl::Subscription &s, double factor)
{
    const Hl::TypeSpec *spec = s.spec();
    if (!spec || spec->expectedInterval.count() <= 0)
        return 0;
    return std::max<qint64>(
        1, static_cast<qint64>(static_cast<double>(spec->expectedInterval.count()) * factor));
}

void SecondBuckets::advance(qint64 nowSec)
{
    if (m_sec < 0 || nowSec - m_sec >= Size) {
        m_counts.fill(0);
    } else {
        for (qint64 t = m_sec + 1; t <= nowSec; ++t)
            m_counts[static_cast<size_t>(t % Size)] = 0;
    }
    m_sec = std::max(m_sec, nowSec);
}

void SecondBuckets::add(qint64 nowSec, qint32 n)
{
    if (nowSec > m_sec)
        advance(nowSec);
    m_counts[static_cast<size_t>(nowSec % Size)] += n;
}

double SecondBuckets::rate(qint64 nowSec, int seconds) const
{
    seconds = std::clamp(seconds, 1, Size - 1);
    if (m_sec < 0)
        return 0;
    qint64 sum = 0;
    for (qint64 t = nowSec - seconds; t < nowSec; ++t) {
        if (t > m_sec || m_sec - t >= Size)
            continue; // no data recorded for that second (or it has been overwritten)
        sum += m_counts[static_cast<size_t>(t % Size)];
    }
    return static_cast<double>(sum) / seconds;
}

} // namespace FeedScope

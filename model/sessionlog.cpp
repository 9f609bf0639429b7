#include "sessionlog.h"

#include "eventwords.h"
#include "poolmodels.h"

#include "connectionpool.h"
#include "recording.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>
#include <iterator>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

QByteArray sessionLine(const SessionEvent &e)
{
    const QJsonObject o{{u"seq"_s, static_cast<double>(e.seq)},
                        {u"t"_s, isoUtcMs(e.at)},
                        {u"type"_s, e.type},
                        {u"data"_s, e.data}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

SessionLog::SessionLog(int capacity, int statsCapacity, QObject *parent)
    : QObject(parent), m_capacity(std::max(1, capacity)), m_statsCapacity(std::max(1, statsCapacity))
{
    m_flushTimer.setInterval(1s);
    connect(&m_flushTimer, &QTimer::timeout, this, &SessionLog::flush);
}

SessionLog::~SessionLog()
{
    QString ignored;
    close(&ignored);
}

bool SessionLog::openFile(const QString &path, QString *error)
{
    m_file.setFileName(path);
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append)) {
        *error = u"cannot write the session log %1: %2"_s.arg(path, m_file.errorString());
        return false;
    }
    const QJsonObject header{{u"schema"_s, QString::fromLatin1(SessionSchema)},
                             {u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)},
                             {u"openedAt"_s, isoUtcMs(QDateTime::currentDateTimeUtc())},
                             {u"firstSeq"_s, static_cast<double>(m_seq + 1)}};
    m_buffer += QJsonDocument(header).toJson(QJsonDocument::Compact) + '\n';
    m_error.clear();
    m_flushTimer.start();
    flush();
    return m_error.isEmpty();
}

bool SessionLog::reopen(QString *error)
{
    const QString path = m_file.fileName();
    flush();
    m_file.close();
    return openFile(path, error);
}

bool SessionLog::close(QString *error)
{
    flush();
    m_file.close();
    m_flushTimer.stop();
    if (!m_error.isEmpty()) {
        *error = m_error + u" (%1 events not written)"_s.arg(m_unwritten);
        return false;
    }
    return true;
}

void SessionLog::append(const QString &type, const QJsonObject &data)
{
    SessionEvent e{++m_seq, QDateTime::currentDateTimeUtc(), type, data};
    if (m_file.isOpen())
        m_buffer += sessionLine(e);
    else if (!m_file.fileName().isEmpty())
        ++m_unwritten; // the file failed: count what it misses
    const bool stats = e.type == StatsEventType;
    std::deque<SessionEvent> &ring = stats ? m_stats : m_events;
    const int capacity = stats ? m_statsCapacity : m_capacity;
    ring.push_back(e);
    int evicted = 0;
    while (static_cast<int>(ring.size()) > capacity) {
        ring.pop_front();
        ++evicted;
    }
    if (evicted > 0)
        Q_EMIT this->evicted(evicted);
    Q_EMIT appended(e);
}

QList<SessionEvent> SessionLog::events() const
{
    QList<SessionEvent> all;
    all.reserve(static_cast<qsizetype>(m_events.size() + m_stats.size()));
    std::merge(m_events.cbegin(), m_events.cend(), m_stats.cbegin(), m_stats.cend(), std::back_inserter(all),
               [](const SessionEvent &a, const SessionEvent &b) { return a.seq < b.seq; });
    return all;
}

void SessionLog::flush()
{
    if (m_buffer.isEmpty() || !m_file.isOpen())
        return;
    const qint64 lines = m_buffer.count('\n');
    if (m_file.write(m_buffer) != m_buffer.size() || !m_file.flush()) {
        m_error = u"the session log %1 failed: %2"_s.arg(m_file.fileName(), m_file.errorString());
        m_unwritten += lines;
        m_file.close();
        m_buffer.clear();
        Q_EMIT fileFailed(m_error);
        return;
    }
    m_buffer.clear();
}

void SessionLog::follow(ConnectionPool *pool)
{
    connect(pool, &ConnectionPool::connectionEvent, this, [this](const ConnectionEvent &e) {
        QJsonObject d{{u"connection"_s, e.connection},
                      {u"from"_s, QString(nameOf(e.from))},
                      {u"to"_s, QString(nameOf(e.to))},
                      {u"cause"_s, QString(nameOf(e.cause))},
                      {u"detail"_s, e.detail}};
        if (e.closeCode > 0)
            d.insert(u"closeCode"_s, e.closeCode);
        if (e.nextAttemptAt.isValid())
            d.insert(u"nextAttemptAt"_s, isoUtcMs(e.nextAttemptAt));
        append(u"connection"_s, d);
    });
    connect(pool, &ConnectionPool::reconnectFinished, this, [this](const ReconnectRecord &r) {
        append(u"reconnect"_s, QJsonObject{{u"connection"_s, r.connection},
                                           {u"cause"_s, QString(nameOf(r.cause))},
                                           {u"manual"_s, r.manual},
                                           {u"startedAt"_s, isoUtcMs(r.startedAt)},
                                           {u"outageMs"_s, static_cast<double>(r.durationMs)},
                                           {u"dataGapMs"_s, static_cast<double>(r.dataGapMs)},
                                           {u"restored"_s, r.restored},
                                           {u"total"_s, r.total}});
    });
    connect(pool, &ConnectionPool::subscriptionChanged, this, [this](const SubscriptionStatus &s) {
        QJsonObject d{{u"subscription"_s, QString::fromUtf8(s.subscription.canonical())},
                      {u"state"_s, QString(nameOf(s.state))},
                      {u"connection"_s, s.connection}};
        if (!s.error.isEmpty())
            d.insert(u"error"_s, s.error);
        append(u"subscription"_s, d);
    });
    connect(pool, &ConnectionPool::subscriptionRemoved, this, [this](const Hl::Subscription &s) {
        append(u"subscription"_s, QJsonObject{{u"subscription"_s, QString::fromUtf8(s.canonical())},
                                              {u"state"_s, u"removed"_s}});
    });
    connect(pool, &ConnectionPool::serverError, this, [this](int connection, const Hl::ServerError &e) {
        QJsonObject d{
            {u"connection"_s, connection}, {u"kind"_s, QString(Hl::nameOf(e.kind))}, {u"text"_s, e.text}};
        if (e.subscription.isValid())
            d.insert(u"subscription"_s, QString::fromUtf8(e.subscription.canonical()));
        append(u"serverError"_s, d);
    });
    connect(pool, &ConnectionPool::warning, this, [this](const QString &w) {
        append(u"warning"_s, QJsonObject{{u"text"_s, w}});
    });
}

void SessionLog::statisticsSnapshot(const PoolSnapshot &s, const QList<ConsumerStats> &dispatcher)
{
    QJsonArray consumers;
    for (const ConsumerStats &c : dispatcher)
        consumers.append(toJson(c));
    QJsonArray conns;
    qint64 messages = 0;
    for (const ConnectionStatus &c : s.connections) {
        conns.append(QJsonObject{{u"id"_s, c.id},
                                 {u"state"_s, QString(nameOf(c.state))},
                                 {u"messagesIn"_s, static_cast<double>(c.messagesIn)},
                                 {u"bytesIn"_s, static_cast<double>(c.bytesIn)},
                                 {u"rttMs"_s, c.rttMs}});
    }
    int active = 0;
    for (const SubscriptionStatus &st : s.subscriptions) {
        messages += st.messages;
        active += st.state == SubState::Active;
    }
    // Data latency per type (issue 17), 10 s window; with the clock's state beside it.
    QJsonObject latency;
    for (const TypeLatency &t : s.latencyByType) {
        const LatencyFigures &f = t.figures;
        auto ms = [](double v) { return v >= 0 ? QJsonValue(v) : QJsonValue(QJsonValue::Null); };
        latency.insert(t.type, QJsonObject{{u"samples10s"_s, static_cast<double>(f.samples10s)},
                                           {u"p50Ms"_s, ms(f.p50Ms)},
                                           {u"p99Ms"_s, ms(f.p99Ms)},
                                           {u"maxMs"_s, ms(f.maxMs)},
                                           {u"aheadOfClock10s"_s, static_cast<double>(f.negative10s)}});
    }
    append(StatsEventType,
           QJsonObject{{u"connections"_s, conns},
                       {u"subscriptionsActive"_s, active},
                       {u"subscriptionsTotal"_s, static_cast<int>(s.subscriptions.size())},
                       {u"messages"_s, static_cast<double>(messages)},
                       {u"outgoingUsed"_s, s.counters.outgoingUsed},
                       {u"malformedFrames"_s, static_cast<double>(s.counters.malformedFrames)},
                       {u"serverErrors"_s, static_cast<double>(s.counters.serverErrors)},
                       {u"latency"_s, latency},
                       {u"clock"_s, s.clock.text()},
                       {u"dispatcher"_s, consumers}});
}

namespace {

/// One line for a "gateway" session event (issue 14): a client's life, a refused handshake, the
/// upstream life of a shared subscription.
QString gatewaySummary(const QJsonObject &d)
{
    auto str = [&d](const char *k) { return d.value(QLatin1StringView(k)).toString(); };
    auto num = [&d](const char *k) {
        const double v = d.value(QLatin1StringView(k)).toDouble();
        return std::abs(v) < 9.0e18 ? static_cast<qint64>(v) : qint64(0);
    };
    const QString who = u"Client %1 #%2"_s.arg(str("name")).arg(num("client"));
    const QString ev = str("event");
    QString t;
    if (ev == u"connect"_s)
        t = u"%1 connected from %2"_s.arg(who, str("peer"));
    else if (ev == u"disconnect"_s) {
        static const QHash<QString, QString> reasons{
            {u"clientClosed"_s, u"it closed"_s},
            {u"slowConsumer"_s, u"cut as slow: it did not read fast enough"_s},
            {u"idle"_s, u"idle: it sent nothing for too long"_s},
            {u"tooLarge"_s, u"it sent a frame too large"_s},
            {u"operator"_s, u"you disconnected it"_s},
            {u"shutdown"_s, u"the gateway stopped"_s},
            {u"aborted"_s, u"it did not take the close: connection aborted"_s}};
        t = u"%1 disconnected (%2"_s.arg(who, reasons.value(str("reason"), str("reason")));
        if (num("code") > 0)
            t += u", code %1"_s.arg(num("code"));
        t += u"); %1 frames sent"_s.arg(num("framesOut"));
        if (num("dropped") > 0)
            t += u", %1 dropped"_s.arg(num("dropped"));
    } else if (ev == u"subscribe"_s)
        t = u"%1 subscribed to %2"_s.arg(who, str("subscription"));
    else if (ev == u"unsubscribe"_s)
        t = u"%1 unsubscribed from %2"_s.arg(who, str("subscription"));
    else if (ev == u"error"_s)
        t = u"%1 was told: %2"_s.arg(who, str("text"));
    else if (ev == u"rateLimited"_s)
        t = u"%1 sent more messages than it may in a minute"_s.arg(who);
    else if (ev == u"slow"_s)
        t = u"%1 does not read fast enough: %2"_s.arg(who, str("detail"));
    else if (ev == u"idle"_s)
        t = u"%1 sent nothing for too long: closing it"_s.arg(who);
    else if (ev == u"refused"_s)
        t = u"Gateway refused a client from %1 (HTTP %2: %3)"_s.arg(str("peer"))
                .arg(num("status"))
                .arg(str("detail"));
    else if (ev == u"upstream"_s) {
        const QString a = str("action");
        if (a == u"subscribe"_s)
            t = u"Gateway subscribed upstream for its first client: %1"_s.arg(str("subscription"));
        else if (a == u"unsubscribe"_s)
            t = u"Gateway let go upstream (no client left): %1"_s.arg(str("subscription"));
        else if (a == u"rejected"_s)
            t = u"The server rejected a gateway subscription: %1: %2"_s.arg(str("subscription"),
                                                                            str("detail"));
        else if (a == u"restored"_s)
            t = u"Gateway subscription restored upstream: %1"_s.arg(str("subscription"));
        else
            t = u"Gateway upstream %1: %2"_s.arg(a, str("subscription"));
    } else if (ev == u"listening"_s)
        t = u"Gateway listening on %1 (%2 clients at most%3)"_s.arg(str("url"))
                .arg(num("maxClients"))
                .arg(d.value(u"token"_s).toBool() ? u", token required"_s : QString());
    else if (ev == u"stopped"_s)
        t = u"Gateway stopped; %1 clients closed"_s.arg(num("clients"));
    else
        t = u"Gateway: %1 %2"_s.arg(ev, who);
    if (num("folded") > 0)
        t += u" (%1 similar events not logged before this one)"_s.arg(num("folded"));
    return t;
}

} // namespace

QString summarizeEvent(const SessionEvent &e)
{
    // Human words first (Words::); the raw names stay in the data, which the view's tooltip and
    // every export carry.
    const QJsonObject &d = e.data;
    auto str = [&d](const char *k) { return d.value(QLatin1StringView(k)).toString(); };
    auto num = [&d](const char *k) { // imported files may hold anything: no out-of-range cast
        const double v = d.value(QLatin1StringView(k)).toDouble();
        return std::abs(v) < 9.0e18 ? static_cast<qint64>(v) : qint64(0);
    };
    if (e.type == u"integrity"_s)
        return Words::integritySummary(d);
    if (e.type == u"connection"_s) {
        QString t =
            u"Connection #%1: %2 → %3 (%4"_s.arg(num("connection"))
                .arg(Words::connState(str("from")), Words::connState(str("to")), Words::cause(str("cause")));
        if (!str("detail").isEmpty())
            t += u": "_s + str("detail");
        return t + u')';
    }
    if (e.type == u"reconnect"_s) {
        QString t =
            u"Connection #%1 reconnected (%2)"_s.arg(num("connection"))
                .arg(d.value(u"manual"_s).toBool() ? Words::cause(u"manual"_s) : Words::cause(str("cause")));
        if (d.contains(u"dataGapMs"_s) && num("dataGapMs") >= 0)
            t += u"; data lost for "_s + Format::duration(num("dataGapMs"));
        if (d.contains(u"outageMs"_s) && num("outageMs") >= 0)
            t += u"; outage "_s + Format::duration(num("outageMs"));
        return t + u"; %1 of %2 subscriptions restored"_s.arg(num("restored")).arg(num("total"));
    }
    if (e.type == u"subscription"_s) {
        QString t = str("subscription") + u" → "_s + Words::subState(str("state"));
        if (d.contains(u"connection"_s) && num("connection") >= 0)
            t += u" on connection #%1"_s.arg(num("connection"));
        if (!str("error").isEmpty())
            t += u": "_s + str("error");
        return t;
    }
    if (e.type == u"serverError"_s)
        return u"The server on connection #%1 said (%2): %3"_s.arg(num("connection"))
            .arg(Words::serverErrorKind(str("kind")), str("text"));
    if (e.type == u"overflow"_s) {
        if (str("phase") == u"start"_s)
            return u"%1 queue (%2) overflowing: %3 dropped, %4 delivered synchronously so far, peak %5 "
                   u"queued"_s.arg(str("consumer"), Words::policy(str("policy")))
                       .arg(num("dropped"))
                       .arg(num("syncFallbacks"))
                       .arg(num("peakDepth"));
        return u"%1 queue (%2) overflow over after %3: %4 dropped, %5 delivered synchronously, peak %6 "
               u"queued"_s
                   .arg(str("consumer"), Words::policy(str("policy")), Format::duration(num("durationMs")))
                   .arg(num("dropped"))
                   .arg(num("syncFallbacks"))
                   .arg(num("peakDepth"));
    }
    if (e.type == StatsEventType)
        return u"%1/%2 subscriptions active, %3 messages, %4 frames out in the last minute"_s
            .arg(num("subscriptionsActive"))
            .arg(num("subscriptionsTotal"))
            .arg(num("messages"))
            .arg(num("outgoingUsed"));
    if (e.type == u"manual"_s) {
        QString t = u"You: "_s + Words::action(str("action"));
        for (auto it = d.begin(); it != d.end(); ++it)
            if (it.key() != u"action"_s)
                t += u" %1=%2"_s.arg(it.key(), Words::value(it.value()));
        return t;
    }
    if (e.type == u"warning"_s)
        return str("text");
    if (e.type == u"shutdown"_s)
        return u"FeedScope stopped after %1 messages"_s.arg(num("received"));
    if (e.type == u"alert"_s) { // issue 17
        if (str("phase") == u"resolved"_s)
            return u"Alert resolved after %1: %2"_s.arg(Format::duration(num("durationMs")), str("text"));
        return (str("severity") == u"critical"_s ? u"Alert fired (critical): "_s : u"Alert fired: "_s) +
               str("text");
    }
    if (e.type == u"gateway"_s) // issue 14
        return gatewaySummary(d);
    if (e.type == u"alertCommand"_s) // issue 17: --alert-command failures
        return u"The alert command failed (%1) for: %2"_s.arg(str("error"), str("text"));
    return QString::fromUtf8(QJsonDocument(d).toJson(QJsonDocument::Compact));
}

} // namespace FeedScope

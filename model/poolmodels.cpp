#include "poolmodels.h"

#include "budget.h"

#include <QJsonObject>
#include <QSet>

using namespace Qt::StringLiterals;

namespace FeedScope {

// ---------------------------------------------------------------------------------------------
// RateWindow and formatting

void RateWindow::add(qint64 nowMs, qint64 count)
{
    m_samples.emplace_back(nowMs, count);
    while (m_samples.size() > 2 && m_samples.back().first - m_samples[1].first >= 1000)
        m_samples.pop_front();
}

double RateWindow::perSecond() const
{
    if (m_samples.size() < 2)
        return 0;
    const auto &[t0, c0] = m_samples.front();
    const auto &[t1, c1] = m_samples.back();
    return t1 > t0 ? static_cast<double>(c1 - c0) * 1000.0 / static_cast<double>(t1 - t0) : 0;
}

PoolSummary summarize(const PoolSnapshot &snapshot)
{
    PoolSummary s;
    s.connectionsTotal = static_cast<int>(snapshot.connections.size());
    QSet<int> silent;
    for (const ConnectionStatus &c : snapshot.connections) {
        s.connectionsUp += c.state == ConnState::Open;
        if (isSilent(c)) {
            ++s.connectionsSilent;
            silent.insert(c.id);
        }
    }
    s.subscriptionsTotal = static_cast<int>(snapshot.subscriptions.size());
    for (const SubscriptionStatus &st : snapshot.subscriptions) {
        s.subscriptionsActive += st.state == SubState::Active;
        s.subscriptionsProblem += st.state == SubState::Rejected || st.state == SubState::Failed ||
                                  st.state == SubState::Unplaceable;
        s.subscriptionsStale += st.state == SubState::Active && (st.stale || silent.contains(st.connection));
    }
    s.reconnects = static_cast<int>(snapshot.reconnects.size());
    s.malformed = snapshot.counters.malformedFrames;
    s.serverErrors = snapshot.counters.serverErrors;
    s.outgoingUsed = snapshot.counters.outgoingUsed;
    s.outgoingCapacity = snapshot.counters.outgoingCapacity;
    return s;
}

namespace Format {

QString rate(double perSecond)
{
    if (perSecond < 0.05)
        return u"0"_s;
    if (perSecond < 10)
        return QString::number(perSecond, 'f', 1);
    if (perSecond < 10000)
        return QString::number(qRound(perSecond));
    return QString::number(perSecond / 1000.0, 'f', 1) + u"k"_s;
}

QString bytes(double b)
{
    if (b < 1024)
        return QString::number(qRound(b)) + u" B"_s;
    if (b < 1024 * 1024)
        return QString::number(b / 1024.0, 'f', 1) + u" KiB"_s;
    return QString::number(b / (1024.0 * 1024.0), 'f', 1) + u" MiB"_s;
}

QString duration(qint64 ms)
{
    if (ms < 0)
        return QString();
    if (ms < 1000)
        return QString::number(ms) + u" ms"_s;
    if (ms < 60000)
        return QString::number(static_cast<double>(ms) / 1000.0, 'f', 1) + u" s"_s;
    const qint64 s = ms / 1000;
    if (s < 3600)
        return u"%1:%2"_s.arg(s / 60).arg(s % 60, 2, 10, QChar(u'0'));
    return u"%1:%2:%3"_s.arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar(u'0')).arg(s % 60, 2, 10, QChar(u'0'));
}

QString age(qint64 ms)
{
    return ms < 0 ? u"never"_s : duration(ms);
}

QString micros(qint64 us)
{
    if (us < 0)
        return QString();
    if (us < 1000)
        return QString::number(us) + u" µs"_s;
    if (us < 1000000)
        return QString::number(static_cast<double>(us) / 1000.0, 'f', us < 10000 ? 2 : 1) + u" ms"_s;
    return QString::number(static_cast<double>(us) / 1e6, 'f', 2) + u" s"_s;
}

QString latency(double ms)
{
    if (ms < 0)
        return u"—"_s;
    if (ms < 100)
        return QString::number(ms, 'f', 1) + u" ms"_s;
    if (ms < 1000)
        return QString::number(ms, 'f', 0) + u" ms"_s;
    if (ms < 60000)
        return QString::number(ms / 1000.0, 'f', ms < 10000 ? 2 : 1) + u" s"_s;
    return duration(static_cast<qint64>(ms));
}

QStringList latencyDetails(const LatencyFigures &f, const ClockSync &clock)
{
    QStringList lines;
    auto window = [](const char *label, qint64 n, double p50, double p99, double max) -> QString {
        if (n == 0)
            return QString::fromLatin1(label) + u": no sample"_s;
        return u"%1: p50 %2, p99 %3, max %4 (%5)"_s.arg(QString::fromLatin1(label), latency(p50),
                                                        latency(p99), latency(max),
                                                        plural(n, u"1 sample"_s, u"%1 samples"_s));
    };
    lines.append(window("Last 10 s", f.samples10s, f.p50Ms, f.p99Ms, f.maxMs));
    lines.append(window("Last 5 min", f.samples5m, f.p50Ms5m, f.p99Ms5m, f.maxMs5m));
    if (f.negative5m > 0)
        lines.append(plural(f.negative5m, u"1 frame"_s, u"%1 frames"_s) +
                     u" in 5 min stamped later than they arrived: a clock is off (counted apart)"_s);
    lines.append(u"Receipt time minus the venue's event time; this machine's "_s + clock.text() +
                 (clock.known && clock.synchronised ? QString() : u": a clock offset reads as latency"_s));
    return lines;
}

QString plural(qint64 n, const QString &one, const QString &many)
{
    return n == 1 ? one : many.arg(n);
}

QString connState(ConnState s)
{
    switch (s) {
    case ConnState::Idle:
        return QObject::tr("idle");
    case ConnState::Connecting:
        return QObject::tr("connecting");
    case ConnState::Open:
        return QObject::tr("open");
    case ConnState::Closing:
        return QObject::tr("closing");
    case ConnState::Backoff:
        return QObject::tr("waiting to retry");
    case ConnState::Stopped:
        return QObject::tr("stopped");
    }
    return QString(nameOf(s));
}

QString cause(Cause c)
{
    switch (c) {
    case Cause::None:
        return QString();
    case Cause::Opened:
        return QObject::tr("opened");
    case Cause::CloseFrame:
        return QObject::tr("closed by the server");
    case Cause::SocketError:
        return QObject::tr("connection error");
    case Cause::PongTimeout:
        return QObject::tr("no pong");
    case Cause::Stale:
        return QObject::tr("no data (half-open)");
    case Cause::Oversized:
        return QObject::tr("frame too large");
    case Cause::Manual:
        return QObject::tr("reconnect by you");
    case Cause::Shutdown:
        return QObject::tr("shutting down");
    case Cause::IdleClose:
        return QObject::tr("closed, no subscriptions left");
    case Cause::Backoff:
        return QObject::tr("waiting to retry");
    case Cause::Retry:
        return QObject::tr("retrying");
    case Cause::Paused:
        return QObject::tr("paused by you");
    case Cause::ConnectionBudget:
        return QObject::tr("waiting for the new-connection budget");
    }
    return QString(nameOf(c));
}

QString subState(SubState s)
{
    switch (s) {
    case SubState::Pending:
        return QObject::tr("pending");
    case SubState::Active:
        return QObject::tr("active");
    case SubState::Restoring:
        return QObject::tr("restoring");
    case SubState::Rejected:
        return QObject::tr("rejected by the server");
    case SubState::Failed:
        return QObject::tr("failed");
    case SubState::Unplaceable:
        return QObject::tr("no room on any connection");
    }
    return QString(nameOf(s));
}

namespace {
QString seconds(qint64 ms, int decimals)
{
    if (ms >= 60000)
        return duration(ms);
    return QString::number(static_cast<double>(ms) / 1000.0, 'f', decimals) + u" s"_s;
}
} // namespace

QString budgetWait(qint64 ms)
{
    // Whole seconds, rounded up: "next in 0 s" would read as "now" while it still waits.
    const qint64 sec = (std::max<qint64>(0, ms) + 999) / 1000;
    return sec >= 60 ? duration(sec * 1000) : QObject::tr("%1 s").arg(sec);
}

QString connectionState(const ConnectionStatus &c, const QDateTime &at)
{
    if (c.state == ConnState::Stopped && c.lastCause == Cause::Paused)
        return QObject::tr("disconnected by you");
    if (c.state == ConnState::Backoff && c.waitingForBudget) {
        QString text = QObject::tr("waiting for the new-connection budget");
        if (at.isValid() && c.nextAttemptAt.isValid())
            text += QObject::tr(" (next in %1)").arg(budgetWait(at.msecsTo(c.nextAttemptAt)));
        return text;
    }
    QString text = connState(c.state);
    if (c.state == ConnState::Open) {
        if (c.silent && c.lastFrameAgeMs >= 0)
            text += QObject::tr(" · silent %1").arg(seconds(c.lastFrameAgeMs, 0));
        if (c.pingOutstandingMs >= AwaitingPongShownAfterMs)
            text += QObject::tr(" · awaiting pong %1").arg(seconds(c.pingOutstandingMs, 1));
    } else if (c.consecutiveFailures > 0 &&
               (c.state == ConnState::Backoff || c.state == ConnState::Connecting)) {
        text += QObject::tr(" (%1 failed)").arg(c.consecutiveFailures);
    }
    return text;
}

QString reconnects(const ConnectionStatus &c)
{
    if (c.failedAttempts <= 0)
        return QString::number(c.reconnects);
    return QObject::tr("%1 (%2 failed)").arg(c.reconnects).arg(c.failedAttempts);
}

} // namespace Format

bool isSilent(const ConnectionStatus &c)
{
    return c.state == ConnState::Open && (c.silent || c.pingOutstandingMs >= AwaitingPongShownAfterMs);
}

namespace {

Severity severityOf(ConnState s)
{
    switch (s) {
    case ConnState::Open:
        return Severity::Good;
    case ConnState::Connecting:
    case ConnState::Closing:
    case ConnState::Backoff:
        return Severity::Warning;
    case ConnState::Stopped:
        return Severity::Bad;
    case ConnState::Idle:
        return Severity::Neutral;
    }
    return Severity::Neutral;
}

Severity severityOf(SubState s)
{
    switch (s) {
    case SubState::Active:
        return Severity::Good;
    case SubState::Pending:
    case SubState::Restoring:
        return Severity::Warning;
    case SubState::Rejected:
    case SubState::Failed:
    case SubState::Unplaceable:
        return Severity::Bad;
    }
    return Severity::Neutral;
}

QString paramsText(const Hl::Subscription &s)
{
    QStringList parts;
    const QJsonObject j = s.json();
    for (auto it = j.constBegin(); it != j.constEnd(); ++it) {
        if (it.key() == u"type"_s)
            continue;
        const QJsonValue v = it.value();
        QString text = v.isString() ? v.toString()
                       : v.isBool() ? (v.toBool() ? u"true"_s : u"false"_s)
                                    : QString::number(v.toDouble());
        if (it.key() == u"user"_s && text.size() > 12)
            text = text.left(6) + u"…"_s + text.right(4);
        parts.append(it.key() == u"coin"_s ? text : it.key() + u'=' + text);
    }
    return parts.join(u' ');
}

template<typename Model> void emitAllChanged(Model *m, int rows)
{
    if (rows > 0)
        Q_EMIT m->dataChanged(m->index(0, 0), m->index(rows - 1, m->columnCount() - 1));
}

} // namespace

// ---------------------------------------------------------------------------------------------
// ConnectionsModel

int ConnectionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ConnectionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Id:
        return tip ? tr("The connection's number in the pool") : tr("Id");
    case State:
        return tip ? tr("Open, connecting, waiting to retry or stopped; amber while an open connection is "
                        "silent or a ping waits for its pong (details in the cell's tooltip)")
                   : tr("State");
    case LastFrame:
        return tip ? tr("Time since the last frame of any kind arrived on this connection")
                   : tr("Last frame");
    case Url:
        return tip ? tr("The endpoint (without user info or query)") : tr("URL");
    case Rtt:
        return tip ? tr("Round-trip time of the last ping; – while the connection is not open") : tr("RTT");
    case MsgsPerSec:
        return tip ? tr("Frames received per second") : tr("Msgs/s");
    case KBPerSec:
        return tip ? tr("Kilobytes received per second") : tr("KB/s");
    case Subscriptions:
        return tip ? tr("Subscriptions carried by this connection") : tr("Subs");
    case Uptime:
        return tip ? tr("How long the current socket has been open") : tr("Uptime");
    case Reconnects:
        return tip ? tr("Times it opened again after having been open; in brackets, connection attempts "
                        "that never opened")
                   : tr("Reconnects");
    case LastCause:
        return tip ? tr("Why the connection last closed or changed state (the raw cause in the tooltip)")
                   : tr("Last close cause");
    case NextRetry:
        return tip ? tr("Countdown to the next connection attempt") : tr("Next retry");
    }
    return {};
}

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const ConnectionStatus &s = r.status;
    const bool open = s.state == ConnState::Open;
    const qint64 uptime = open && s.openedAt.isValid() ? s.openedAt.msecsTo(m_at) : -1;
    const qint64 retry = s.state == ConnState::Backoff && s.nextAttemptAt.isValid()
                             ? std::max<qint64>(0, m_at.msecsTo(s.nextAttemptAt))
                             : -1;
    const qint64 lastFrame = open ? s.lastFrameAgeMs : -1;
    const double rtt = open ? s.rttMs : -1;
    const int c = index.column();
    if (role == KeyRole)
        return s.id;
    // Stopped because the user disconnected the pool: what was asked for, not a failure.
    const Severity stateSeverity = s.state == ConnState::Stopped && s.lastCause == Cause::Paused
                                       ? Severity::Neutral
                                   : isSilent(s) ? Severity::Warning
                                                 : severityOf(s.state);
    if (role == RowSeverityRole)
        return QVariant::fromValue(stateSeverity);
    if (role == SeverityRole) {
        if (c == State)
            return QVariant::fromValue(stateSeverity);
        if (c == LastFrame && isSilent(s))
            return QVariant::fromValue(Severity::Warning);
        if (c == Reconnects && s.consecutiveFailures > 0)
            return QVariant::fromValue(Severity::Warning);
        return {};
    }
    if (role == FilterTextRole)
        return QString(QString(nameOf(s.state)) + u' ' + QString(nameOf(s.lastCause)) + u' ' + s.lastDetail);
    if (role == Qt::TextAlignmentRole) {
        return c == Url || c == State || c == LastCause ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                                        : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole) {
        switch (c) {
        case State: {
            QStringList lines{tr("%1 (internal state: %2)").arg(Format::connState(s.state), nameOf(s.state))};
            if (open && s.openedAt.isValid())
                lines.append(tr("Open since %1 UTC").arg(s.openedAt.toUTC().toString(u"HH:mm:ss"_s)));
            if (open && s.lastFrameAgeMs >= 0)
                lines.append(
                    s.usualGapMs >= 0
                        ? tr("Last frame %1 ago; usually one every %2")
                              .arg(Format::duration(s.lastFrameAgeMs), Format::duration(s.usualGapMs))
                        : tr("Last frame %1 ago").arg(Format::duration(s.lastFrameAgeMs)));
            if (open && s.silent)
                lines.append(tr("Silent: no frame for much longer than its usual gap; probed with a ping"));
            if (open && s.pingOutstandingMs >= 0)
                lines.append(tr("Ping sent %1 ago, no pong yet").arg(Format::duration(s.pingOutstandingMs)));
            if (s.failedAttempts > 0)
                lines.append(
                    QString(Format::plural(s.failedAttempts, tr("1 connection attempt never opened"),
                                           tr("%1 connection attempts never opened")) +
                            (s.consecutiveFailures > 0 ? tr(", %1 in a row now").arg(s.consecutiveFailures)
                                                       : QString())));
            if (s.lastCause != Cause::None)
                lines.append(tr("Last cause: %1").arg(Format::cause(s.lastCause)));
            return lines.join(u'\n');
        }
        case LastCause:
            return s.lastCause == Cause::None
                       ? QVariant()
                       : QVariant(QString(tr("%1 (internal cause: %2)")
                                              .arg(Format::cause(s.lastCause), nameOf(s.lastCause)) +
                                          (s.lastDetail.isEmpty() ? QString() : u'\n' + s.lastDetail)));
        case Url:
            return redactedUrl(s.url);
        case Reconnects:
            return QString(Format::plural(s.reconnects, tr("1 reconnect after having been open"),
                                          tr("%1 reconnects after having been open")) +
                           u'\n' +
                           Format::plural(s.failedAttempts, tr("1 attempt that never opened"),
                                          tr("%1 attempts that never opened")) +
                           (s.consecutiveFailures > 0 ? tr(" (%1 in a row now)").arg(s.consecutiveFailures)
                                                      : QString()));
        case Rtt:
            return open ? QVariant() : QVariant(tr("No RTT while the connection is not open"));
        default:
            return {};
        }
    }
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    static const QString none = u"–"_s;
    switch (c) {
    case Id:
        return s.id;
    case State:
        return raw ? QVariant(static_cast<int>(s.state)) : QVariant(Format::connectionState(s, m_at));
    case LastFrame:
        return raw ? QVariant(lastFrame) : QVariant(lastFrame < 0 ? none : Format::duration(lastFrame));
    case Url:
        return redactedUrl(s.url);
    case Rtt:
        if (!raw && s.state == ConnState::Open && s.pingOutstandingMs >= AwaitingPongShownAfterMs)
            return tr("> %1 (waiting)")
                .arg(Format::duration(s.pingOutstandingMs)); // the last RTT is not news
        return raw ? QVariant(rtt) : QVariant(rtt < 0 ? none : QString::number(rtt, 'f', 1) + u" ms"_s);
    case MsgsPerSec:
        return raw ? QVariant(r.msgs.perSecond()) : QVariant(Format::rate(r.msgs.perSecond()));
    case KBPerSec:
        return raw ? QVariant(r.bytes.perSecond() / 1024.0)
                   : QVariant(QString::number(r.bytes.perSecond() / 1024.0, 'f', 1));
    case Subscriptions:
        return s.subscriptions;
    case Uptime:
        return raw ? QVariant(uptime) : QVariant(Format::duration(uptime));
    case Reconnects:
        return raw ? QVariant(s.reconnects + s.failedAttempts) : QVariant(Format::reconnects(s));
    case LastCause:
        return raw ? QVariant(QString(nameOf(s.lastCause)))
                   : QVariant(s.lastCause == Cause::None || s.lastDetail.isEmpty()
                                  ? Format::cause(s.lastCause)
                                  : QString(Format::cause(s.lastCause) + u": "_s + s.lastDetail));
    case NextRetry:
        return raw ? QVariant(retry) : QVariant(retry < 0 ? QString() : Format::duration(retry));
    }
    return {};
}

void ConnectionsModel::applySnapshot(const PoolSnapshot &snapshot)
{
    m_at = snapshot.at;
    const qint64 now = monotonicMs();
    QList<ConnectionStatus> added;
    QSet<int> present;
    for (const ConnectionStatus &c : snapshot.connections) {
        present.insert(c.id);
        auto it = m_index.constFind(c.id);
        if (it == m_index.constEnd()) {
            added.append(c);
            continue;
        }
        Row &r = m_rows[*it];
        r.status = c;
        r.msgs.add(now, c.messagesIn);
        r.bytes.add(now, c.bytesIn);
    }
    // Rows of connections that are gone (idle-closed), bottom-up, then batched inserts.
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0; --row) {
        if (present.contains(m_rows.at(row).status.id))
            continue;
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        endRemoveRows();
    }
    if (!added.isEmpty()) {
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (const ConnectionStatus &c : added) {
            Row r;
            r.status = c;
            r.msgs.add(now, c.messagesIn);
            r.bytes.add(now, c.bytesIn);
            m_rows.append(r);
        }
        endInsertRows();
    }
    m_index.clear();
    for (int i = 0; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).status.id, i);
    emitAllChanged(this, static_cast<int>(m_rows.size()));
}

const ConnectionStatus *ConnectionsModel::statusAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).status : nullptr;
}

double ConnectionsModel::totalRate() const
{
    double total = 0;
    for (const Row &r : m_rows)
        total += r.msgs.perSecond();
    return total;
}

// ---------------------------------------------------------------------------------------------
// SubscriptionsModel

int SubscriptionsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int SubscriptionsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SubscriptionsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Type:
        return tip ? tr("The subscription's type (Hyperliquid channel)") : tr("Type");
    case Params:
        return tip ? tr("Coin, user and the other parameters of the subscription (the full JSON in the "
                        "cell's tooltip)")
                   : tr("Coin / user / params");
    case State:
        return tip ? tr("Pending, active, restoring, rejected, failed or without room; amber while its data "
                        "is late or its connection is silent")
                   : tr("State");
    case MsgsPerSec:
        return tip ? tr("Messages in the last whole second") : tr("Msgs/s");
    case Rate10s:
        return tip ? tr("Messages per second over the last ten seconds") : tr("10 s avg");
    case Total:
        return tip ? tr("Messages received over the whole run") : tr("Total");
    case LastAge:
        return tip ? tr("Age of the last message; amber when that is late for its type") : tr("Last message");
    case LatencyP50:
        return tip ? tr("Data latency, median of the last 10 s: receipt time minus the venue's event time "
                        "(5 min figures in the cell's tooltip); — for types without an event time")
                   : tr("Latency p50");
    case LatencyP99:
        return tip ? tr("Data latency, 99th percentile of the last 10 s; amber above %1")
                         .arg(Format::latency(HighLatencyMs))
                   : tr("Latency p99");
    case Integrity:
        return tip ? tr("Integrity violations over the run: crossed or locked books, event time going "
                        "backwards, the same trade twice, frames that contradict the subscription")
                   : tr("Integrity");
    case Connection:
        return tip ? tr("The connection carrying it") : tr("Conn");
    case Consumers:
        return tip ? tr("Who asked for it") : tr("Consumers");
    case AckLatency:
        return tip ? tr("Time from the subscribe request to the server's acknowledgement") : tr("Ack");
    case Error:
        return tip ? tr("The server's error text, if it refused the subscription") : tr("Error");
    }
    return {};
}

bool SubscriptionsModel::isStale(int row) const
{
    return m_rows.at(row).status.stale;
}

Severity SubscriptionsModel::rowSeverity(const Row &r) const
{
    const Severity sev = severityOf(r.status.state);
    if (r.status.state == SubState::Active && (r.status.stale || r.connectionSilent))
        return Severity::Warning;
    if (m_paused && r.status.state == SubState::Restoring)
        return Severity::Neutral; // held on purpose: the user disconnected the pool
    return sev;
}

QVariant SubscriptionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const SubscriptionStatus &s = row.status;
    const qint64 age = s.lastAgeMs;
    const bool late = s.state == SubState::Active && (s.stale || row.connectionSilent);
    const int c = index.column();
    if (role == KeyRole)
        return s.subscription.canonical();
    if (role == RowSeverityRole)
        return QVariant::fromValue(rowSeverity(row));
    if (role == SeverityRole) {
        if (c == State)
            return QVariant::fromValue(rowSeverity(row));
        if (c == LastAge && late)
            return QVariant::fromValue(Severity::Warning);
        if ((c == LatencyP50 && s.latency.p50Ms > HighLatencyMs) ||
            (c == LatencyP99 && s.latency.p99Ms > HighLatencyMs) ||
            (c == Integrity && s.integrity.total() > 0))
            return QVariant::fromValue(Severity::Warning);
        return {};
    }
    if (role == FilterTextRole)
        return QString(QString::fromUtf8(s.subscription.canonical()) + u' ' + QString(nameOf(s.state)));
    if (role == Qt::TextAlignmentRole) {
        return c == MsgsPerSec || c == Rate10s || c == Total || c == LastAge || c == Connection ||
                       c == AckLatency || c == LatencyP50 || c == LatencyP99 || c == Integrity
                   ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                   : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole) {
        QStringList lines{QString::fromUtf8(s.subscription.canonical())};
        if (c == State || c == LastAge) {
            lines.append(tr("%1 (internal state: %2)").arg(Format::subState(s.state), nameOf(s.state)));
            if (s.state == SubState::Active && s.stale)
                lines.append(
                    tr("Data late: no message for %1, longer than its type allows").arg(Format::age(age)));
            if (s.state == SubState::Active && row.connectionSilent)
                lines.append(tr("Its connection #%1 is silent").arg(s.connection));
        }
        if (c == LatencyP50 || c == LatencyP99) {
            const Hl::TypeSpec *spec = Hl::findType(s.subscription.type());
            if (spec && !Hl::carriesEventTime(*spec))
                lines.append(tr("No latency: %1 frames carry no event time%2")
                                 .arg(s.subscription.type(), s.subscription.type() == u"candle"_s
                                                                 ? tr(" (their times are the bar's)")
                                                                 : QString()));
            else
                lines.append(Format::latencyDetails(s.latency, m_clock));
        }
        if (c == Integrity) {
            const IntegrityCounts &n = s.integrity;
            lines.append(tr("Crossed or locked book: %1").arg(n.crossedBook));
            lines.append(tr("Event time going backwards: %1").arg(n.timeBackwards));
            lines.append(tr("Same trade twice: %1").arg(n.duplicateTrade));
            lines.append(tr("Contradicting the subscription: %1").arg(n.contradicts));
        }
        if (!s.error.isEmpty())
            lines.append(s.error);
        return lines.join(u'\n');
    }
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (c) {
    case Type:
        return s.subscription.type();
    case Params:
        return paramsText(s.subscription);
    case State:
        if (raw)
            return static_cast<int>(s.state);
        if (s.state == SubState::Active && s.stale)
            return tr("%1 · data late").arg(Format::subState(s.state));
        if (late)
            return tr("%1 · connection silent").arg(Format::subState(s.state));
        if (s.state == SubState::Restoring && m_paused)
            return tr("held (pool disconnected)");
        if ((s.state == SubState::Restoring || s.state == SubState::Pending) && row.connectionWaitingBudget)
            return tr("%1 · waiting for the new-connection budget").arg(Format::subState(s.state));
        if ((s.state == SubState::Restoring || s.state == SubState::Pending) && row.connectionDown)
            return tr("%1 · connection down").arg(Format::subState(s.state));
        return Format::subState(s.state);
    case MsgsPerSec:
        return raw ? QVariant(s.rate1s) : QVariant(Format::rate(s.rate1s));
    case Rate10s:
        return raw ? QVariant(s.rate10s) : QVariant(Format::rate(s.rate10s));
    case Total:
        return raw ? QVariant(s.messages) : QVariant(QString::number(s.messages));
    case LastAge:
        return raw ? QVariant(age) : QVariant(Format::age(age));
    case LatencyP50:
        return raw ? QVariant(s.latency.p50Ms) : QVariant(Format::latency(s.latency.p50Ms));
    case LatencyP99:
        return raw ? QVariant(s.latency.p99Ms) : QVariant(Format::latency(s.latency.p99Ms));
    case Integrity:
        return raw ? QVariant(s.integrity.total()) : QVariant(QString::number(s.integrity.total()));
    case Connection:
        return s.connection >= 0 ? QVariant(s.connection)
                                 : QVariant(raw ? QVariant(-1) : QVariant(QString()));
    case Consumers:
        return raw ? QVariant(static_cast<int>(s.consumers.size())) : QVariant(s.consumers.join(u", "_s));
    case AckLatency:
        return raw ? QVariant(s.ackLatencyMs)
                   : QVariant(s.ackLatencyMs < 0 ? QString() : Format::duration(s.ackLatencyMs));
    case Error:
        return s.error;
    }
    return {};
}

void SubscriptionsModel::applySnapshot(const PoolSnapshot &snapshot)
{
    m_at = snapshot.at;
    m_clock = snapshot.clock;
    m_paused = snapshot.paused;
    QSet<int> silent, down, budget;
    for (const ConnectionStatus &c : snapshot.connections) {
        if (isSilent(c))
            silent.insert(c.id);
        if (c.state == ConnState::Backoff && c.waitingForBudget)
            budget.insert(c.id);
        if (c.state != ConnState::Open)
            down.insert(c.id);
    }
    QList<const SubscriptionStatus *> added;
    QSet<QByteArray> present;
    present.reserve(snapshot.subscriptions.size());
    for (const SubscriptionStatus &s : snapshot.subscriptions) {
        const QByteArray key = s.subscription.canonical();
        present.insert(key);
        auto it = m_index.constFind(key);
        if (it == m_index.constEnd()) {
            added.append(&s);
            continue;
        }
        Row &r = m_rows[*it];
        r.status = s;
        r.connectionSilent = silent.contains(s.connection);
        r.connectionDown = down.contains(s.connection);
        r.connectionWaitingBudget = budget.contains(s.connection);
    }
    bool removed = false;
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0; --row) {
        if (present.contains(m_rows.at(row).status.subscription.canonical()))
            continue;
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        endRemoveRows();
        removed = true;
    }
    if (!added.isEmpty()) {
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (const SubscriptionStatus *s : added)
            m_rows.append(Row{*s, silent.contains(s->connection), down.contains(s->connection),
                              budget.contains(s->connection)});
        endInsertRows();
    }
    if (removed || !added.isEmpty()) {
        m_index.clear();
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(m_rows.at(i).status.subscription.canonical(), i);
    }
    emitAllChanged(this, static_cast<int>(m_rows.size()));
}

const SubscriptionStatus *SubscriptionsModel::statusAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).status : nullptr;
}

int SubscriptionsModel::rowOf(const QByteArray &key) const
{
    return m_index.value(key, -1);
}

// ---------------------------------------------------------------------------------------------
// LatencyModel

int LatencyModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int LatencyModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LatencyModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Type:
        return tip ? tr("Subscription type: every subscription of it together") : tr("Type");
    case P50:
        return tip ? tr("Median data latency over the last 10 s") : tr("p50 10 s");
    case P99:
        return tip ? tr("99th percentile over the last 10 s; amber above %1")
                         .arg(Format::latency(SubscriptionsModel::HighLatencyMs))
                   : tr("p99 10 s");
    case Max:
        return tip ? tr("Largest over the last 10 s") : tr("max 10 s");
    case P50_5m:
        return tip ? tr("Median over the last 5 minutes") : tr("p50 5 min");
    case P99_5m:
        return tip ? tr("99th percentile over the last 5 minutes") : tr("p99 5 min");
    case Max_5m:
        return tip ? tr("Largest over the last 5 minutes") : tr("max 5 min");
    case Samples10s:
        return tip ? tr("Frames with an event time in the last 10 s") : tr("Samples 10 s");
    case Samples5m:
        return tip ? tr("Frames with an event time in the last 5 minutes") : tr("Samples 5 min");
    case Ahead:
        return tip ? tr("Frames in the last 5 minutes stamped later than they arrived (a clock is off); "
                        "in no percentile")
                   : tr("Ahead of clock");
    }
    return {};
}

QVariant LatencyModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TypeLatency &t = m_rows.at(index.row());
    const LatencyFigures &f = t.figures;
    const int c = index.column();
    if (role == KeyRole)
        return t.type;
    if (role == Qt::TextAlignmentRole)
        return c == Type ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                         : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == SeverityRole) {
        if ((c == P99 && f.p99Ms > SubscriptionsModel::HighLatencyMs) ||
            (c == P99_5m && f.p99Ms5m > SubscriptionsModel::HighLatencyMs) ||
            (c == Ahead && f.negative5m > 0))
            return QVariant::fromValue(Severity::Warning);
        return {};
    }
    if (role == Qt::ToolTipRole)
        return QStringList(QStringList{t.type} + Format::latencyDetails(f, m_clock)).join(u'\n');
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    auto ms = [raw](double v) { return raw ? QVariant(v) : QVariant(Format::latency(v)); };
    auto count = [raw](qint64 n) { return raw ? QVariant(n) : QVariant(QString::number(n)); };
    switch (c) {
    case Type:
        return t.type;
    case P50:
        return ms(f.p50Ms);
    case P99:
        return ms(f.p99Ms);
    case Max:
        return ms(f.maxMs);
    case P50_5m:
        return ms(f.p50Ms5m);
    case P99_5m:
        return ms(f.p99Ms5m);
    case Max_5m:
        return ms(f.maxMs5m);
    case Samples10s:
        return count(f.samples10s);
    case Samples5m:
        return count(f.samples5m);
    case Ahead:
        return count(f.negative5m);
    }
    return {};
}

void LatencyModel::applySnapshot(const PoolSnapshot &snapshot)
{
    m_clock = snapshot.clock;
    // Types only ever join (the pool keeps a type once it had a sample): insert the new ones, in
    // the pool's (name) order, then one dataChanged for the rest.
    const QList<TypeLatency> &in = snapshot.latencyByType;
    int i = 0;
    for (const TypeLatency &t : in) {
        while (i < m_rows.size() && m_rows.at(i).type < t.type) {
            beginRemoveRows({}, i, i); // gone from the pool (not expected; kept consistent)
            m_rows.removeAt(i);
            endRemoveRows();
        }
        if (i < m_rows.size() && m_rows.at(i).type == t.type) {
            m_rows[i] = t;
        } else {
            beginInsertRows({}, i, i);
            m_rows.insert(i, t);
            endInsertRows();
        }
        ++i;
    }
    if (i < m_rows.size()) {
        beginRemoveRows({}, i, static_cast<int>(m_rows.size()) - 1);
        m_rows.resize(i);
        endRemoveRows();
    }
    emitAllChanged(this, static_cast<int>(m_rows.size()));
}

const TypeLatency *LatencyModel::latencyAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

// ---------------------------------------------------------------------------------------------
// ReconnectsModel

ReconnectsModel::ReconnectsModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent), m_capacity(capacity)
{}

int ReconnectsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ReconnectsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ReconnectsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Time:
        return tip ? tr("When the connection was declared dead (UTC)") : tr("Time (UTC)");
    case ConnectionId:
        return tip ? tr("The connection that reconnected") : tr("Conn");
    case Cause:
        return tip ? tr("Why it went down (the raw cause in the tooltip)") : tr("Cause");
    case Manual:
        return tip ? tr("Asked for by you (Reconnect, Disconnect) rather than a failure") : tr("Manual");
    case Outage:
        return tip ? tr("Socket declared dead → last subscription acknowledged again") : tr("Outage");
    case DataGap:
        return tip ? tr("Last frame received → last subscription acknowledged again: the data you missed")
                   : tr("Data gap");
    case Restored:
        return tip ? tr("Subscriptions restored of those it carried") : tr("Restored");
    case Detail:
        return tip ? tr("The error or close reason") : tr("Detail");
    }
    return {};
}

QVariant ReconnectsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ReconnectRecord &r = m_rows.at(index.row());
    const Severity restoredSeverity = r.durationMs < 0        ? Severity::Warning
                                      : r.restored == r.total ? Severity::Good
                                                              : Severity::Bad;
    if (role == SeverityRole && index.column() == Restored)
        return QVariant::fromValue(restoredSeverity);
    if (role == RowSeverityRole)
        return QVariant::fromValue(restoredSeverity);
    if (role == FilterTextRole)
        return QString(nameOf(r.cause));
    if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Cause:
            return QString(tr("%1 (internal cause: %2)").arg(Format::cause(r.cause), nameOf(r.cause)) +
                           (r.detail.isEmpty() ? QString() : u'\n' + r.detail));
        case Detail:
            return r.detail.isEmpty() ? QVariant() : QVariant(r.detail);
        case Restored:
            return r.durationMs < 0 ? tr("Still restoring")
                                    : tr("%1 of %2 subscriptions came back").arg(r.restored).arg(r.total);
        default:
            return {};
        }
    }
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Time:
        return raw ? QVariant(r.startedAt) : QVariant(r.startedAt.toUTC().toString(u"HH:mm:ss.zzz"_s));
    case ConnectionId:
        return r.connection;
    case Cause:
        return raw ? QVariant(QString(nameOf(r.cause))) : QVariant(Format::cause(r.cause));
    case Manual:
        return raw ? QVariant(r.manual) : QVariant(r.manual ? tr("manual") : QString());
    case Outage:
        return raw ? QVariant(r.durationMs)
                   : QVariant(r.durationMs < 0 ? tr("restoring…") : Format::duration(r.durationMs));
    case DataGap:
        return raw ? QVariant(r.dataGapMs)
                   : QVariant(r.dataGapMs < 0 ? QString() : Format::duration(r.dataGapMs));
    case Restored:
        return raw ? QVariant(r.restored) : QVariant(u"%1/%2"_s.arg(r.restored).arg(r.total));
    case Detail:
        return r.detail;
    }
    return {};
}

void ReconnectsModel::applySnapshot(const PoolSnapshot &snapshot)
{
    QList<ReconnectRecord> incoming = snapshot.reconnects;
    if (incoming.size() > m_capacity)
        incoming = incoming.mid(incoming.size() - m_capacity);
    // Rows evicted at the front (the pool's ring moved on), then new rows at the end.
    auto same = [](const ReconnectRecord &a, const ReconnectRecord &b) {
        return a.connection == b.connection && a.startedAt == b.startedAt;
    };
    qsizetype drop = 0;
    while (drop < m_rows.size() && !incoming.isEmpty() && !same(m_rows.at(drop), incoming.constFirst()))
        ++drop;
    if (drop > 0) {
        beginRemoveRows({}, 0, static_cast<int>(drop) - 1);
        m_rows.remove(0, drop);
        endRemoveRows();
    }
    const qsizetype keep = std::min(m_rows.size(), incoming.size());
    for (qsizetype i = 0; i < keep; ++i)
        m_rows[i] = incoming.at(i);
    if (incoming.size() > m_rows.size()) {
        beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(incoming.size()) - 1);
        m_rows.append(incoming.mid(m_rows.size()));
        endInsertRows();
    }
    emitAllChanged(this, static_cast<int>(m_rows.size()));
}

} // namespace FeedScope

#include "poolmodels.h"

#include "budget.h"

#include <QJsonObject>

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
    for (const ConnectionStatus &c : snapshot.connections)
        s.connectionsUp += c.state == ConnState::Open;
    s.subscriptionsTotal = static_cast<int>(snapshot.subscriptions.size());
    for (const SubscriptionStatus &st : snapshot.subscriptions) {
        s.subscriptionsActive += st.state == SubState::Active;
        s.subscriptionsProblem += st.state == SubState::Rejected || st.state == SubState::Failed ||
                                  st.state == SubState::Unplaceable;
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

} // namespace Format

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
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Id:
        return tr("Id");
    case State:
        return tr("State");
    case Url:
        return tr("URL");
    case Rtt:
        return tr("RTT");
    case MsgsPerSec:
        return tr("Msgs/s");
    case KBPerSec:
        return tr("KB/s");
    case Subscriptions:
        return tr("Subs");
    case Uptime:
        return tr("Uptime");
    case Reconnects:
        return tr("Reconnects");
    case LastCause:
        return tr("Last close cause");
    case NextRetry:
        return tr("Next retry");
    }
    return {};
}

QVariant ConnectionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const ConnectionStatus &s = r.status;
    const qint64 uptime = s.state == ConnState::Open && s.openedAt.isValid() ? s.openedAt.msecsTo(m_at) : -1;
    const qint64 retry = s.state == ConnState::Backoff && s.nextAttemptAt.isValid()
                             ? std::max<qint64>(0, m_at.msecsTo(s.nextAttemptAt))
                             : -1;
    if (role == KeyRole)
        return s.id;
    if (role == SeverityRole)
        return index.column() == State ? QVariant::fromValue(severityOf(s.state)) : QVariant();
    if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        return c == Url || c == State || c == LastCause ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                                        : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole && index.column() == LastCause)
        return s.lastDetail;
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Id:
        return s.id;
    case State:
        return raw ? QVariant(static_cast<int>(s.state)) : QVariant(QString(nameOf(s.state)));
    case Url:
        return redactedUrl(s.url);
    case Rtt:
        return raw ? QVariant(s.rttMs)
                   : QVariant(s.rttMs < 0 ? QString() : QString::number(s.rttMs, 'f', 1) + u" ms"_s);
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
        return s.reconnects;
    case LastCause:
        return raw || s.lastCause == Cause::None
                   ? QVariant(QString(nameOf(s.lastCause)))
                   : QVariant(QString(nameOf(s.lastCause)) + u": "_s + s.lastDetail);
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
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Type:
        return tr("Type");
    case Params:
        return tr("Coin / user / params");
    case State:
        return tr("State");
    case MsgsPerSec:
        return tr("Msgs/s");
    case Rate10s:
        return tr("10 s avg");
    case Total:
        return tr("Total");
    case LastAge:
        return tr("Last message");
    case Connection:
        return tr("Conn");
    case Consumers:
        return tr("Consumers");
    case AckLatency:
        return tr("Ack");
    case Error:
        return tr("Error");
    }
    return {};
}

bool SubscriptionsModel::isStale(int row) const
{
    return m_rows.at(row).status.stale;
}

QVariant SubscriptionsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SubscriptionStatus &s = m_rows.at(index.row()).status;
    const qint64 age = s.lastAgeMs;
    if (role == KeyRole)
        return s.subscription.canonical();
    if (role == SeverityRole) {
        if (index.column() == State)
            return QVariant::fromValue(severityOf(s.state));
        if (index.column() == LastAge && isStale(index.row()))
            return QVariant::fromValue(Severity::Warning);
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        return c == MsgsPerSec || c == Rate10s || c == Total || c == LastAge || c == Connection ||
                       c == AckLatency
                   ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                   : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole)
        return QString(QString::fromUtf8(s.subscription.canonical()) +
                       (s.error.isEmpty() ? QString() : QString(u"\n"_s + s.error)));
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Type:
        return s.subscription.type();
    case Params:
        return paramsText(s.subscription);
    case State:
        return raw ? QVariant(static_cast<int>(s.state)) : QVariant(QString(nameOf(s.state)));
    case MsgsPerSec:
        return raw ? QVariant(s.rate1s) : QVariant(Format::rate(s.rate1s));
    case Rate10s:
        return raw ? QVariant(s.rate10s) : QVariant(Format::rate(s.rate10s));
    case Total:
        return raw ? QVariant(s.messages) : QVariant(QString::number(s.messages));
    case LastAge:
        return raw ? QVariant(age) : QVariant(Format::age(age));
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
        m_rows[*it].status = s;
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
        for (const SubscriptionStatus *s : added) {
            m_rows.append(Row{*s});
        }
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
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time (UTC)");
    case ConnectionId:
        return tr("Conn");
    case Cause:
        return tr("Cause");
    case Manual:
        return tr("Manual");
    case Outage:
        return tr("Outage");
    case DataGap:
        return tr("Data gap");
    case Restored:
        return tr("Restored");
    case Detail:
        return tr("Detail");
    }
    return {};
}

QVariant ReconnectsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ReconnectRecord &r = m_rows.at(index.row());
    if (role == SeverityRole && index.column() == Restored) {
        if (r.durationMs < 0)
            return QVariant::fromValue(Severity::Warning);
        return QVariant::fromValue(r.restored == r.total ? Severity::Good : Severity::Bad);
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
        return QString(nameOf(r.cause));
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

#include "livemodels.h"

#include "eventwords.h"
#include "poolmodels.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace FeedScope {

// ---------------------------------------------------------------------------------------------
// TimeSeriesSet

void TimeSeriesSet::add(const QString &series, qint64 atMs, double value)
{
    std::deque<QPointF> &d = m_series[series];
    d.emplace_back(static_cast<double>(atMs), value);
    const double oldest = static_cast<double>(atMs - std::chrono::milliseconds(m_window).count());
    while (!d.empty() && d.front().x() < oldest)
        d.pop_front();
}

QList<QPointF> TimeSeriesSet::points(const QString &series) const
{
    const auto it = m_series.constFind(series);
    if (it == m_series.constEnd())
        return {};
    return QList<QPointF>(it->cbegin(), it->cend());
}

QStringList TimeSeriesSet::names(const QString &prefix) const
{
    QStringList out;
    for (auto it = m_series.cbegin(); it != m_series.cend(); ++it)
        if (it.key().startsWith(prefix))
            out.append(it.key());
    out.sort();
    return out;
}

void TimeSeriesSet::prune(qint64 nowMs)
{
    const double oldest = static_cast<double>(nowMs - std::chrono::milliseconds(m_window).count());
    for (auto it = m_series.begin(); it != m_series.end();) {
        while (!it->empty() && it->front().x() < oldest)
            it->pop_front();
        it = it->empty() ? m_series.erase(it) : std::next(it);
    }
}

qsizetype TimeSeriesSet::pointCount() const
{
    qsizetype n = 0;
    for (const auto &d : m_series)
        n += static_cast<qsizetype>(d.size());
    return n;
}

// ---------------------------------------------------------------------------------------------
// SessionEventsModel

namespace {
bool isStats(const SessionEvent &e)
{
    return e.type == StatsEventType;
}
} // namespace

SessionEventsModel::SessionEventsModel(int capacity, int statsCapacity, QObject *parent)
    : QAbstractTableModel(parent), m_capacity(std::max(1, capacity)),
      m_statsCapacity(std::clamp(statsCapacity, 1, m_capacity))
{}

int SessionEventsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int SessionEventsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SessionEventsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Seq:
        return tr("#");
    case Time:
        return tr("Time");
    case Type:
        return tr("Type");
    case Summary:
        return tr("What happened");
    }
    return {};
}

QString SessionEventsModel::summarize(const SessionEvent &e)
{
    return summarizeEvent(e);
}

QVariant SessionEventsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionEvent &e = m_rows.at(static_cast<size_t>(index.row()));
    if (role == KeyRole)
        return e.seq;
    if (role == SeverityRole) {
        if (index.column() != Type)
            return {};
        if (e.type == u"serverError"_s || e.type == u"overflow"_s)
            return QVariant::fromValue(Severity::Bad);
        if (e.type == u"warning"_s ||
            (e.type == u"connection"_s && e.data.value(u"to"_s).toString() != u"open"_s))
            return QVariant::fromValue(Severity::Warning);
        if (e.type == u"reconnect"_s)
            return QVariant::fromValue(Severity::Good);
        return {};
    }
    if (role == Qt::ToolTipRole && index.column() == Summary) // the raw names, for experts
        return QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Indented));
    if (role == Qt::ToolTipRole && index.column() == Type)
        return tr("%1 (recorded as \"%2\")").arg(Words::eventType(e.type), e.type);
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Seq:
        return e.seq;
    case Time:
        return raw ? QVariant(e.at.toMSecsSinceEpoch())
                   : QVariant(e.at.toLocalTime().toString(u"HH:mm:ss.zzz"_s));
    case Type:
        return e.type;
    case Summary:
        return summarize(e);
    }
    return {};
}

void SessionEventsModel::enqueue(const SessionEvent &e)
{
    m_pending.append(e);
    if (m_pending.size() > m_capacity) // more than a whole ring in one tick: only the newest matter
        m_pending.remove(0, m_pending.size() - m_capacity);
}

void SessionEventsModel::eraseRows(size_t first, size_t count)
{
    const auto from = m_rows.begin() + static_cast<std::ptrdiff_t>(first);
    const auto to = from + static_cast<std::ptrdiff_t>(count);
    beginRemoveRows({}, static_cast<int>(first), static_cast<int>(first + count) - 1);
    m_statsRows -= static_cast<size_t>(std::count_if(from, to, isStats));
    m_rows.erase(from, to);
    endRemoveRows();
}

void SessionEventsModel::evictStats(size_t count)
{
    // The oldest snapshots, one removal per run of adjacent ones (they come once a second, so
    // there are few runs; between them sit the other events).
    size_t row = 0;
    while (count > 0 && row < m_rows.size()) {
        if (!isStats(m_rows[row])) {
            ++row;
            continue;
        }
        size_t end = row;
        while (end < m_rows.size() && end - row < count && isStats(m_rows[end]))
            ++end;
        eraseRows(row, end - row);
        count -= end - row;
    }
}

void SessionEventsModel::flush()
{
    if (m_pending.isEmpty())
        return;
    // Snapshots beyond their bound in this very batch never become rows.
    const auto statsCap = static_cast<size_t>(m_statsCapacity);
    auto incomingStats = static_cast<size_t>(std::count_if(m_pending.cbegin(), m_pending.cend(), isStats));
    for (qsizetype i = 0; incomingStats > statsCap && i < m_pending.size();) {
        if (isStats(m_pending.at(i))) {
            m_pending.remove(i);
            --incomingStats;
        } else {
            ++i;
        }
    }
    if (m_statsRows + incomingStats > statsCap)
        evictStats(m_statsRows + incomingStats - statsCap);
    const auto incoming = static_cast<size_t>(m_pending.size());
    const size_t cap = static_cast<size_t>(m_capacity);
    const size_t evict =
        std::min(m_rows.size(), m_rows.size() + incoming > cap ? m_rows.size() + incoming - cap : 0);
    if (evict > 0)
        eraseRows(0, evict);
    const int first = static_cast<int>(m_rows.size());
    beginInsertRows({}, first, first + static_cast<int>(incoming) - 1);
    m_rows.insert(m_rows.end(), m_pending.cbegin(), m_pending.cend());
    m_statsRows += incomingStats;
    endInsertRows();
    m_pending.clear();
}

void SessionEventsModel::reset(const QList<SessionEvent> &events)
{
    // The newest events within both bounds: an imported session of hours keeps its last
    // snapshots and every other event that fits, not hours of snapshots alone.
    std::deque<SessionEvent> rows;
    size_t stats = 0;
    for (auto it = events.crbegin(); it != events.crend() && rows.size() < static_cast<size_t>(m_capacity);
         ++it) {
        if (isStats(*it)) {
            if (stats == static_cast<size_t>(m_statsCapacity))
                continue;
            ++stats;
        }
        rows.push_front(*it);
    }
    beginResetModel();
    m_pending.clear();
    m_rows = std::move(rows);
    m_statsRows = stats;
    endResetModel();
}

const SessionEvent *SessionEventsModel::eventAt(int row) const
{
    return row >= 0 && static_cast<size_t>(row) < m_rows.size() ? &m_rows.at(static_cast<size_t>(row))
                                                                : nullptr;
}

// ---------------------------------------------------------------------------------------------
// DispatcherModel

int DispatcherModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int DispatcherModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DispatcherModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name:
        return tr("Consumer");
    case Kind:
        return tr("Runs");
    case Policy:
        return tr("Policy");
    case Queue:
        return tr("Queue");
    case HighWater:
        return tr("High-water");
    case ReceivedPerSec:
        return tr("In/s");
    case DropsPerSec:
        return tr("Drops/s");
    case CoalescedPerSec:
        return tr("Coalesced/s");
    case SyncFallbacks:
        return tr("Sync fallbacks");
    case LagP50:
        return tr("Lag p50");
    case LagP99:
        return tr("Lag p99");
    case Received:
        return tr("Received");
    case Dropped:
        return tr("Dropped");
    }
    return {};
}

QVariant DispatcherModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const ConsumerStats &s = r.stats;
    if (role == KeyRole)
        return s.name;
    if (role == SeverityRole) {
        switch (index.column()) {
        case Queue:
            if (s.inlineConsumer)
                return {};
            return QVariant::fromValue(s.queued >= s.capacity       ? Severity::Bad
                                       : s.queued * 2 >= s.capacity ? Severity::Warning
                                                                    : Severity::Good);
        case DropsPerSec:
            return r.dropsPerSec > 0 ? QVariant::fromValue(Severity::Bad) : QVariant();
        case SyncFallbacks:
            return s.syncFallbacks > 0 ? QVariant::fromValue(Severity::Warning) : QVariant();
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole)
        return index.column() >= Queue ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                                       : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Queue && !s.inlineConsumer)
        return tr("%1 of %2 queued").arg(s.queued).arg(s.capacity);
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Name:
        return s.name;
    case Kind:
        if (!s.enabled)
            return tr("worker (off)");
        return s.inlineConsumer ? tr("inline (I/O thread)") : tr("worker");
    case Policy:
        return s.inlineConsumer ? QString() : QString(nameOf(s.policy));
    case Queue:
        return raw ? QVariant(s.queued)
                   : QVariant(s.inlineConsumer ? QString() : u"%1 / %2"_s.arg(s.queued).arg(s.capacity));
    case HighWater:
        return raw ? QVariant(s.highWater)
                   : QVariant(s.inlineConsumer ? QString() : QString::number(s.highWater));
    case ReceivedPerSec:
        return raw ? QVariant(r.receivedPerSec) : QVariant(Format::rate(r.receivedPerSec));
    case DropsPerSec:
        return raw ? QVariant(r.dropsPerSec) : QVariant(Format::rate(r.dropsPerSec));
    case CoalescedPerSec:
        return raw ? QVariant(r.coalescedPerSec) : QVariant(Format::rate(r.coalescedPerSec));
    case SyncFallbacks:
        return raw ? QVariant(s.syncFallbacks) : QVariant(QString::number(s.syncFallbacks));
    case LagP50:
        return raw ? QVariant(s.lagP50Us) : QVariant(Format::micros(s.lagP50Us));
    case LagP99:
        return raw ? QVariant(s.lagP99Us) : QVariant(Format::micros(s.lagP99Us));
    case Received:
        return raw ? QVariant(s.received) : QVariant(QString::number(s.received));
    case Dropped:
        return raw ? QVariant(s.dropped) : QVariant(QString::number(s.dropped));
    }
    return {};
}

void DispatcherModel::applyStats(const QList<ConsumerStats> &stats, qint64 nowMs)
{
    // Consumers are only ever added (in order), so rows are appended and never move.
    if (stats.size() < m_rows.size()) {
        beginResetModel();
        m_rows.clear();
        endResetModel();
    }
    if (stats.size() > m_rows.size()) {
        beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(stats.size()) - 1);
        for (qsizetype i = m_rows.size(); i < stats.size(); ++i)
            m_rows.append(Row{stats.at(i), 0, 0, 0, stats.at(i), nowMs});
        endInsertRows();
    }
    for (qsizetype i = 0; i < stats.size(); ++i) {
        Row &r = m_rows[i];
        const ConsumerStats &s = stats.at(i);
        r.stats = s;
        const double dt = static_cast<double>(nowMs - r.baseAtMs) / 1000.0;
        if (dt >= 0.5) { // rates over at least half a second, so a 10 Hz tick does not jitter
            r.receivedPerSec = static_cast<double>(s.received - r.base.received) / dt;
            r.dropsPerSec = static_cast<double>(s.dropped - r.base.dropped) / dt;
            r.coalescedPerSec = static_cast<double>(s.coalesced - r.base.coalesced) / dt;
            r.base = s;
            r.baseAtMs = nowMs;
        }
    }
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(m_rows.size()) - 1, ColumnCount - 1));
}

const ConsumerStats *DispatcherModel::statsAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).stats : nullptr;
}

double DispatcherModel::dropsPerSecond(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).dropsPerSec : 0;
}

} // namespace FeedScope

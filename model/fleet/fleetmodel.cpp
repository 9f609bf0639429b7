#include "fleetmodel.h"

#include <QSettings>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

namespace {

using Reach = AgentStatus::Reach;

QString clockText(const QDateTime &t)
{
    return t.isValid() ? t.toLocalTime().toString(u"HH:mm:ss"_s) : QString();
}

QString dash()
{
    return u"\u2014"_s;
}

/// "3" from "3 (waiting to retry)".
QString connectionId(const QString &down)
{
    return down.section(u' ', 0, 0);
}

} // namespace

FleetModel::FleetModel(QObject *parent) : QAbstractTableModel(parent)
{
    m_tick.setInterval(250ms);
    connect(&m_tick, &QTimer::timeout, this, &FleetModel::tick);
    m_tick.start();
}

FleetModel::~FleetModel()
{
    m_rows.clear(); // the probes abort their requests
}

int FleetModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int FleetModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const AgentStatus &FleetModel::status(int row) const
{
    return m_rows.at(static_cast<size_t>(row)).probe->status();
}

const AgentAddress &FleetModel::address(int row) const
{
    return m_rows.at(static_cast<size_t>(row)).probe->address();
}

QList<AgentAddress> FleetModel::agents() const
{
    QList<AgentAddress> out;
    for (const Row &r : m_rows)
        out.append(r.probe->address());
    return out;
}

int FleetModel::rowOf(const QUrl &base) const
{
    for (size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].probe->address().base == base)
            return static_cast<int>(i);
    return -1;
}

bool FleetModel::addAgent(const AgentAddress &address, QString *error)
{
    if (rowOf(address.base) >= 0) {
        if (error)
            *error = tr("%1 is in the list already").arg(address.hostPort());
        return false;
    }
    auto probe = std::make_unique<AgentProbe>(address); // a network manager of its own (see AgentProbe)
    probe->setIntervalMs(m_intervalMs);
    probe->setTimeoutMs(m_timeoutMs);
    probe->setMaxBytes(m_maxBytes);
    AgentProbe *p = probe.get();
    connect(p, &AgentProbe::changed, this, [this, p] {
        const int row = rowOf(p->address().base);
        if (row >= 0)
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
    const int row = static_cast<int>(m_rows.size());
    beginInsertRows({}, row, row);
    m_rows.push_back(Row{std::move(probe)});
    endInsertRows();
    p->poll();
    Q_EMIT agentsChanged();
    return true;
}

void FleetModel::removeAgent(int row)
{
    if (row < 0 || row >= rowCount())
        return;
    beginRemoveRows({}, row, row);
    m_removedBytes += m_rows[static_cast<size_t>(row)].probe->status().bytesReceived;
    m_removedPolls += m_rows[static_cast<size_t>(row)].probe->status().polls;
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    Q_EMIT agentsChanged();
}

void FleetModel::clear()
{
    if (m_rows.empty())
        return;
    beginResetModel();
    for (const Row &r : m_rows) {
        m_removedBytes += r.probe->status().bytesReceived;
        m_removedPolls += r.probe->status().polls;
    }
    m_rows.clear();
    endResetModel();
    Q_EMIT agentsChanged();
}

QStringList FleetModel::loadFile(const QString &path)
{
    const FleetFile f = loadFleetFile(path);
    for (const AgentAddress &a : f.agents)
        if (rowOf(a.base) < 0)
            addAgent(a);
    return f.errors;
}

void FleetModel::setIntervalMs(qint64 ms)
{
    m_intervalMs = std::clamp<qint64>(ms, 200, 3600 * 1000);
    for (const Row &r : m_rows)
        r.probe->setIntervalMs(m_intervalMs);
}

void FleetModel::setTimeoutMs(qint64 ms)
{
    m_timeoutMs = ms;
    for (const Row &r : m_rows)
        r.probe->setTimeoutMs(ms);
}

void FleetModel::setMaxBytes(qint64 bytes)
{
    m_maxBytes = bytes;
    for (const Row &r : m_rows)
        r.probe->setMaxBytes(bytes);
}

void FleetModel::pollNow()
{
    for (const Row &r : m_rows)
        if (!r.probe->isBusy())
            r.probe->poll();
}

void FleetModel::tick()
{
    const qint64 now = AgentProbe::nowMs();
    for (const Row &r : m_rows)
        if (r.probe->isDue(now))
            r.probe->poll();
    if (now - m_lastAgesMs >= 1000) {
        m_lastAgesMs = now;
        refreshAges();
    }
}

void FleetModel::refreshAges()
{
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, LastSeen), index(rowCount() - 1, LastSeen),
                           {Qt::DisplayRole, Qt::ToolTipRole});
}

void FleetModel::save(QSettings &settings) const
{
    QVariantList list;
    for (const Row &r : m_rows)
        list.append(QVariantMap{{u"url"_s, r.probe->address().base.toString()},
                                {u"name"_s, r.probe->address().name}});
    settings.setValue(u"fleet/agents"_s, list);
    settings.setValue(u"fleet/intervalMs"_s, m_intervalMs);
}

void FleetModel::load(QSettings &settings)
{
    bool ok = false;
    const qint64 interval = settings.value(u"fleet/intervalMs"_s).toLongLong(&ok);
    if (ok && interval > 0)
        setIntervalMs(interval);
    for (const QVariant &v : settings.value(u"fleet/agents"_s).toList()) {
        const QVariantMap m = v.toMap();
        if (const auto a =
                AgentAddress::parse(m.value(u"url"_s).toString(), m.value(u"name"_s).toString(), nullptr))
            if (rowOf(a->base) < 0)
                addAgent(*a);
    }
}

qint64 FleetModel::bytesReceived() const
{
    qint64 n = m_removedBytes;
    for (const Row &r : m_rows)
        n += r.probe->status().bytesReceived;
    return n;
}

qint64 FleetModel::polls() const
{
    qint64 n = m_removedPolls;
    for (const Row &r : m_rows)
        n += r.probe->status().polls;
    return n;
}

// ---------------------------------------------------------------------------------------------
// what a row says

int FleetModel::problemRank(const AgentStatus &s)
{
    if (s.reach == Reach::Down || s.reach == Reach::BadAnswer)
        return 0;
    if (s.reach == Reach::Unknown)
        return 4;
    const AgentHealth &h = s.health;
    if (h.alertsFiring > 0)
        return 1;
    if (h.connectionsUp < h.connectionsTotal || h.connectionsTotal == 0 ||
        h.subscriptionsActive < h.subscriptionsTotal)
        return 2;
    if (s.dropsRecent > 0)
        return 3;
    return 5;
}

Severity FleetModel::rowSeverity(const AgentStatus &s)
{
    switch (s.reach) {
    case Reach::Down:
    case Reach::BadAnswer:
        return Severity::Bad;
    case Reach::Unknown:
        return Severity::Neutral;
    case Reach::Up:
        break;
    }
    const AgentHealth &h = s.health;
    if (h.criticalAlerts > 0 || h.connectionsTotal == 0 || h.connectionsUp == 0)
        return Severity::Bad;
    if (problemRank(s) < 5)
        return Severity::Warning;
    return Severity::Good;
}

QString FleetModel::problemText(const AgentStatus &s)
{
    switch (s.reach) {
    case Reach::Unknown:
        return tr("checking\u2026");
    case Reach::Down:
        return tr("unreachable: %1").arg(s.error);
    case Reach::BadAnswer:
        return tr("not a FeedScope answer: %1").arg(s.error);
    case Reach::Up:
        break;
    }
    const AgentHealth &h = s.health;
    QStringList parts;
    if (h.alertsFiring > 0) {
        QString texts = h.alertTexts.mid(0, 2).join(u"; "_s);
        if (h.alertTexts.size() > 2)
            texts += u"; \u2026"_s;
        parts.append(h.alertsFiring == 1 ? tr("1 alert: %1").arg(texts)
                                         : tr("%1 alerts: %2").arg(h.alertsFiring).arg(texts));
    }
    const int down = h.connectionsTotal - h.connectionsUp;
    if (h.connectionsTotal == 0) {
        parts.append(h.reason.isEmpty() ? tr("no connection") : h.reason);
    } else if (down == 1 && h.downConnections.size() == 1) {
        parts.append(tr("connection %1 down").arg(connectionId(h.downConnections.first())));
    } else if (down > 0) {
        QStringList ids;
        for (const QString &d : h.downConnections.mid(0, 5))
            ids.append(connectionId(d));
        if (down > ids.size())
            ids.append(u"\u2026"_s);
        parts.append(ids.isEmpty() ? tr("%1 connections down").arg(down)
                                   : tr("%1 connections down (%2)").arg(down).arg(ids.join(u", "_s)));
    }
    const int inactive = h.subscriptionsTotal - h.subscriptionsActive;
    if (inactive > 0)
        parts.append(
            Format::plural(inactive, tr("1 subscription not active"), tr("%1 subscriptions not active")));
    if (s.dropsRecent > 0)
        parts.append(Format::plural(static_cast<qint64>(s.dropsRecent), tr("1 frame dropped just now"),
                                    tr("%1 frames dropped just now")));
    return parts.join(u"; "_s);
}

QVariant FleetModel::display(const AgentStatus &s, const AgentAddress &a, int column) const
{
    const bool up = s.reach == Reach::Up;
    const AgentHealth &h = s.health;
    switch (column) {
    case Name:
        return a.displayName();
    case Reachable:
        switch (s.reach) {
        case Reach::Unknown:
            return tr("checking\u2026");
        case Reach::Up:
            return tr("yes");
        case Reach::Down:
            return tr("no, since %1").arg(clockText(s.since));
        case Reach::BadAnswer:
            return tr("bad answer");
        }
        return {};
    case Connections:
        return up ? u"%1/%2"_s.arg(h.connectionsUp).arg(h.connectionsTotal) : dash();
    case Subscriptions:
        return up ? u"%1/%2"_s.arg(h.subscriptionsActive).arg(h.subscriptionsTotal) : dash();
    case Rate:
        return up && s.messagesPerSecond >= 0 ? Format::rate(s.messagesPerSecond) : dash();
    case Reconnects:
        if (!up || s.reconnectsLastHour < 0)
            return dash();
        return s.reconnectsExact ? QString::number(s.reconnectsLastHour)
                                 : tr("%1 since %2")
                                       .arg(s.reconnectsLastHour)
                                       .arg(s.watchedSince.toLocalTime().toString(u"HH:mm"_s));
    case Drops:
        return up ? QString::number(static_cast<qint64>(s.counters.dropped)) : dash();
    case Problems:
        return problemText(s);
    case GatewayClients:
        return up && s.counters.gatewayClients >= 0 ? QString::number(s.counters.gatewayClients) : dash();
    case LastSeen:
        if (!s.lastSeen.isValid())
            return tr("never");
        if (const qint64 ago = s.lastSeen.msecsTo(QDateTime::currentDateTimeUtc()); ago < 60000)
            return tr("%1 s ago")
                .arg(std::max<qint64>(0, ago / 1000)); // whole seconds: polls are seconds apart
        else
            return tr("%1 ago").arg(Format::age(ago));
    }
    return {};
}

QVariant FleetModel::tooltip(const AgentStatus &s, const AgentAddress &a, int column) const
{
    const AgentHealth &h = s.health;
    const QString lastKnown = s.hasFigures && s.reach != Reach::Up
                                  ? tr("Last known at %1: ").arg(clockText(s.lastSeen))
                                  : QString();
    switch (column) {
    case Name: {
        QString t = tr("%1\nLive stream: %2").arg(a.base.toString(), a.liveUrl().toString());
        if (!s.counters.version.isEmpty())
            t += tr("\nFeedScope %1").arg(s.counters.version);
        return QString(t + tr("\nDouble-click or Enter to open it in a window of its own"));
    }
    case Reachable: {
        QString t = s.reach == Reach::Up ? tr("Answering since %1").arg(clockText(s.since))
                                         : tr("Failing since %1\nLast error: %2")
                                               .arg(clockText(s.since), s.error.isEmpty() ? dash() : s.error);
        if (s.failures > 0)
            t += tr("\n%1 failed polls in a row; next try %2 after the last")
                     .arg(s.failures)
                     .arg(Format::duration(s.nextPollInMs));
        return t;
    }
    case Connections:
        if (!s.hasFigures)
            return {};
        return QString(
            lastKnown + tr("%1 of %2 connections open").arg(h.connectionsUp).arg(h.connectionsTotal) +
            (h.downConnections.isEmpty() ? QString()
                                         : tr("\nNot open: %1").arg(h.downConnections.join(u", "_s))));
    case Subscriptions:
        if (!s.hasFigures)
            return {};
        return QString(
            lastKnown +
            tr("%1 of %2 subscriptions active").arg(h.subscriptionsActive).arg(h.subscriptionsTotal));
    case Rate:
        return tr("Data messages per second, between the last two polls");
    case Reconnects:
        if (!s.reconnectsExact && s.reconnectsLastHour >= 0)
            return tr("The agent runs for more than an hour: reconnects counted since this window began "
                      "watching "
                      "it at %1 (%2 since the agent started)")
                .arg(clockText(s.watchedSince))
                .arg(static_cast<qint64>(s.counters.reconnects));
        return tr("Reconnects of the agent's connections in the last hour (%1 since it started)")
            .arg(static_cast<qint64>(s.counters.reconnects));
    case Drops:
        return tr("Frames its dispatcher dropped since the agent started (all consumers)");
    case Problems: {
        const QString text = problemText(s);
        if (h.alertTexts.size() > 2 && s.reach == Reach::Up)
            return QString(text + u"\n\n"_s + h.alertTexts.join(u"\n"_s));
        return text.isEmpty() ? tr("No problem") : text;
    }
    case GatewayClients:
        return s.counters.gatewayClients >= 0 ? tr("Clients connected to the agent's gateway")
                                              : tr("The agent runs no gateway");
    case LastSeen:
        return s.lastSeen.isValid() ? tr("Last good answer at %1").arg(clockText(s.lastSeen))
                                    : tr("No good answer yet");
    }
    return {};
}

QVariant FleetModel::raw(const AgentStatus &s, const AgentAddress &a, int column) const
{
    const AgentHealth &h = s.health;
    const bool up = s.reach == Reach::Up;
    switch (column) {
    case Name: // problems first, then by name
        return u"%1 %2"_s.arg(problemRank(s)).arg(a.displayName().toLower());
    case Reachable:
        return static_cast<int>(s.reach);
    case Connections:
        return up ? h.connectionsUp - h.connectionsTotal : -1000000;
    case Subscriptions:
        return up ? h.subscriptionsActive - h.subscriptionsTotal : -1000000;
    case Rate:
        return up ? s.messagesPerSecond : -1.0;
    case Reconnects:
        return up ? s.reconnectsLastHour : -1;
    case Drops:
        return up ? s.counters.dropped : -1.0;
    case Problems:
        return problemText(s);
    case GatewayClients:
        return up ? s.counters.gatewayClients : -1;
    case LastSeen:
        return s.lastSeen.isValid() ? s.lastSeen.toMSecsSinceEpoch() : 0;
    }
    return {};
}

QVariant FleetModel::severity(const AgentStatus &s, int column) const
{
    const AgentHealth &h = s.health;
    const bool up = s.reach == Reach::Up;
    Severity v = Severity::Neutral;
    switch (column) {
    case Reachable:
        v = up ? Severity::Good : s.reach == Reach::Unknown ? Severity::Neutral : Severity::Bad;
        break;
    case Connections:
        if (up)
            v = h.connectionsTotal == 0 || h.connectionsUp == 0 ? Severity::Bad
                : h.connectionsUp < h.connectionsTotal          ? Severity::Warning
                                                                : Severity::Good;
        break;
    case Subscriptions:
        if (up)
            v = h.subscriptionsActive < h.subscriptionsTotal ? Severity::Warning : Severity::Good;
        break;
    case Drops:
        if (up && s.dropsRecent > 0)
            v = Severity::Warning;
        break;
    case Problems:
        v = rowSeverity(s);
        break;
    default:
        break;
    }
    return QVariant::fromValue(v);
}

QVariant FleetModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AgentStatus &s = status(index.row());
    const AgentAddress &a = address(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return display(s, a, column);
    case Qt::ToolTipRole:
        return tooltip(s, a, column);
    case Qt::TextAlignmentRole:
        if (column == Name || column == Reachable || column == Problems || column == LastSeen)
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case RawValueRole:
        return raw(s, a, column);
    case SeverityRole:
        return severity(s, column);
    case RowSeverityRole:
        return QVariant::fromValue(rowSeverity(s));
    case KeyRole:
        return a.base.toString();
    case FilterTextRole:
        return a.base.toString();
    case LiveUrlRole:
        return a.liveUrl();
    case ProblemRankRole:
        return problemRank(s);
    default:
        return {};
    }
}

QVariant FleetModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Name:
            return tr("Agent");
        case Reachable:
            return tr("Reachable");
        case Connections:
            return tr("Connections");
        case Subscriptions:
            return tr("Subscriptions");
        case Rate:
            return tr("Msgs/s");
        case Reconnects:
            return tr("Reconnects (1 h)");
        case Drops:
            return tr("Drops");
        case Problems:
            return tr("Alerts and problems");
        case GatewayClients:
            return tr("Gateway");
        case LastSeen:
            return tr("Last seen");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case Name:
            return tr("The agent's name, or its host:port");
        case Connections:
            return tr("Open connections / all connections of its pool");
        case Subscriptions:
            return tr("Active subscriptions / all of them");
        case GatewayClients:
            return tr("Downstream clients of its gateway (\u2014: no gateway)");
        default:
            break;
        }
    }
    return {};
}

} // namespace FeedScope

#include "alertsmodel.h"

#include "subscription.h"

#include <QJsonDocument>
#include <QLocale>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

std::optional<Hl::Subscription> subscriptionOf(const QString &subject)
{
    if (!subject.startsWith(u'{'))
        return std::nullopt;
    const QJsonDocument doc = QJsonDocument::fromJson(subject.toUtf8());
    if (!doc.isObject())
        return std::nullopt;
    return Hl::Subscription::fromJson(doc.object());
}

int connectionOf(const QString &subject)
{
    static const QRegularExpression re(u"^connection #?(\\d+)$"_s, QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = re.match(subject.trimmed());
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

/// Coin, user and parameters as the Channels table's "Coin / user / params" column shows them.
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

QString number(double v)
{
    // Whole numbers without decimals, others with up to one.
    if (std::abs(v - std::round(v)) < 1e-9)
        return QLocale().toString(static_cast<qint64>(std::llround(v)));
    return QLocale().toString(v, 'f', 1);
}

QString seconds(double s)
{
    return Format::duration(static_cast<qint64>(std::llround(s * 1000)));
}

QString timeText(const QDateTime &t, const QDateTime &now)
{
    if (!t.isValid())
        return {};
    const QDateTime local = t.toLocalTime();
    return local.date() == now.toLocalTime().date() ? local.toString(u"HH:mm:ss"_s)
                                                    : local.toString(u"yyyy-MM-dd HH:mm:ss"_s);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// AlertWords

QString AlertWords::kindName(AlertKind kind)
{
    switch (kind) {
    case AlertKind::SubscriptionStale:
        return AlertsModel::tr("Channel data late");
    case AlertKind::SubscriptionNotActive:
        return AlertsModel::tr("Channel not active");
    case AlertKind::SubscriptionRejected:
        return AlertsModel::tr("Channel rejected or failed");
    case AlertKind::ConnectionDown:
        return AlertsModel::tr("Connection down");
    case AlertKind::ReconnectStorm:
        return AlertsModel::tr("Many reconnects");
    case AlertKind::Drops:
        return AlertsModel::tr("Frames dropped");
    case AlertKind::LatencyP99:
        return AlertsModel::tr("Data latency high (p99)");
    case AlertKind::Integrity:
        return AlertsModel::tr("Integrity violations");
    case AlertKind::BudgetUse:
        return AlertsModel::tr("Per-IP budget nearly used");
    case AlertKind::GatewaySlowClient:
        return AlertsModel::tr("Gateway client cut off as slow");
    }
    return {};
}

bool AlertWords::usesThreshold(AlertKind kind)
{
    switch (kind) {
    case AlertKind::ReconnectStorm:
    case AlertKind::Drops:
    case AlertKind::LatencyP99:
    case AlertKind::Integrity:
    case AlertKind::BudgetUse:
        return true;
    default:
        return false;
    }
}

bool AlertWords::usesWindow(AlertKind kind)
{
    return kind == AlertKind::ReconnectStorm || kind == AlertKind::Drops || kind == AlertKind::Integrity;
}

bool AlertWords::usesFor(AlertKind kind)
{
    // A client cut off is an event: it fires at once.
    return kind != AlertKind::GatewaySlowClient;
}

QString AlertWords::thresholdUnit(AlertKind kind)
{
    switch (kind) {
    case AlertKind::ReconnectStorm:
        return AlertsModel::tr("reconnects");
    case AlertKind::Drops:
        return AlertsModel::tr("messages");
    case AlertKind::LatencyP99:
        return AlertsModel::tr("ms");
    case AlertKind::Integrity:
        return AlertsModel::tr("violations");
    case AlertKind::BudgetUse:
        return AlertsModel::tr("%");
    default:
        return {};
    }
}

double AlertWords::thresholdMinimum(AlertKind kind)
{
    return kind == AlertKind::LatencyP99 || kind == AlertKind::BudgetUse ? 1 : 0;
}

double AlertWords::thresholdMaximum(AlertKind kind)
{
    switch (kind) {
    case AlertKind::BudgetUse:
        return 100;
    case AlertKind::LatencyP99:
        return 3600000;
    default:
        return 1000000;
    }
}

QString AlertWords::subject(const QString &subject)
{
    if (const auto s = subscriptionOf(subject)) {
        const QString params = paramsText(*s);
        return params.isEmpty() ? s->type() : s->type() + u' ' + params;
    }
    if (const int id = connectionOf(subject); id >= 0)
        return AlertsModel::tr("connection #%1").arg(id);
    if (subject.isEmpty() || subject == u"pool"_s)
        return AlertsModel::tr("the pool");
    if (subject == u"+more"_s)
        return AlertsModel::tr("more subjects (over the cap)");
    return subject;
}

QString AlertWords::value(const Alert &a, const AlertRule *rule)
{
    const int window = rule ? rule->windowMinutes : 0;
    const QString in = window > 0 ? AlertsModel::tr(" in %1 min").arg(window) : QString();
    const QString after = rule && rule->forSeconds > 0
                              ? AlertsModel::tr(" (fires after %1)").arg(seconds(rule->forSeconds))
                              : QString();
    const QString limit = a.threshold > 0 ? AlertsModel::tr(" (more than %1)").arg(number(a.threshold))
                                          : AlertsModel::tr(" (any)");
    if (a.subject == u"+more"_s)
        return AlertsModel::tr("%1 more subjects").arg(number(a.value));
    switch (a.kind) {
    case AlertKind::SubscriptionStale:
        return AlertsModel::tr("no data for %1").arg(seconds(a.value)) + after;
    case AlertKind::SubscriptionNotActive:
        return AlertsModel::tr("not active for %1").arg(seconds(a.value)) + after;
    case AlertKind::ConnectionDown:
        return AlertsModel::tr("down for %1").arg(seconds(a.value)) + after;
    case AlertKind::SubscriptionRejected:
        // The server's words: "… rejected by the server: Invalid subscription …".
        if (const qsizetype colon = a.text.indexOf(u": "_s); colon > 0)
            return a.text.mid(colon + 2);
        return a.text.isEmpty() ? AlertsModel::tr("refused by the server or failed") : a.text;
    case AlertKind::ReconnectStorm:
        return AlertsModel::tr("%1 reconnects%2").arg(number(a.value), in) + limit;
    case AlertKind::Drops:
        return AlertsModel::tr("%1 messages dropped%2").arg(number(a.value), in) + limit;
    case AlertKind::LatencyP99:
        return AlertsModel::tr("p99 %1 ms (limit %2 ms)").arg(number(a.value), number(a.threshold));
    case AlertKind::Integrity:
        return AlertsModel::tr("%1 violations%2").arg(number(a.value), in) + limit;
    case AlertKind::BudgetUse:
        return AlertsModel::tr("%1 % used (limit %2 %)").arg(number(a.value), number(a.threshold));
    case AlertKind::GatewaySlowClient:
        return AlertsModel::tr("cut off");
    }
    return number(a.value);
}

QString AlertWords::severity(AlertSeverity s)
{
    return s == AlertSeverity::Critical ? AlertsModel::tr("critical") : AlertsModel::tr("warning");
}

// ---------------------------------------------------------------------------------------------
// AlertsModel

AlertsModel::AlertsModel(AlertEngine *engine, QObject *parent) : QAbstractTableModel(parent), m_engine(engine)
{
    if (engine) {
        connect(engine, &AlertEngine::fired, this, &AlertsModel::onFired);
        connect(engine, &AlertEngine::resolved, this, &AlertsModel::onResolved);
        connect(engine, &AlertEngine::updated, this, &AlertsModel::onUpdated);
    }
    reload();
}

AlertsModel::~AlertsModel() = default;

void AlertsModel::reload()
{
    beginResetModel();
    m_rows.clear();
    m_firing = 0;
    if (m_engine) {
        m_rows = m_engine->firing();
        m_firing = static_cast<int>(m_rows.size());
        m_rows.append(m_engine->history());
        if (m_rows.size() - m_firing > m_capacity)
            m_rows.resize(m_firing + m_capacity);
    }
    endResetModel();
    Q_EMIT firingChanged(m_firing, criticalCount());
}

int AlertsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int AlertsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const Alert *AlertsModel::alertAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

int AlertsModel::criticalCount() const
{
    int n = 0;
    for (int i = 0; i < m_firing; ++i)
        n += m_rows.at(i).severity == AlertSeverity::Critical ? 1 : 0;
    return n;
}

void AlertsModel::setHistoryCapacity(int n)
{
    m_capacity = std::max(0, n);
    trimHistory();
}

const AlertRule *AlertsModel::ruleOf(const QString &id) const
{
    if (!m_engine)
        return nullptr;
    for (const AlertRule &r : m_engine->rules())
        if (r.id == id)
            return &r;
    return nullptr;
}

int AlertsModel::firingRowOf(quint64 seq) const
{
    for (int i = 0; i < m_firing; ++i)
        if (m_rows.at(i).seq == seq)
            return i;
    return -1;
}

void AlertsModel::onFired(const Alert &a)
{
    if (firingRowOf(a.seq) >= 0)
        return;
    beginInsertRows({}, 0, 0);
    m_rows.prepend(a);
    ++m_firing;
    endInsertRows();
    Q_EMIT firingChanged(m_firing, criticalCount());
}

void AlertsModel::onResolved(const Alert &a)
{
    const int row = firingRowOf(a.seq);
    if (row < 0) {
        // Fired before the model existed and not in the engine's list then: straight to history.
        beginInsertRows({}, m_firing, m_firing);
        m_rows.insert(m_firing, a);
        endInsertRows();
    } else {
        // To the top of the history: the row just below the last firing one.
        const int to = m_firing - 1;
        if (row != to) {
            beginMoveRows({}, row, row, {}, to + 1);
            m_rows.move(row, to);
            endMoveRows();
        }
        --m_firing;
        m_rows[m_firing] = a;
        Q_EMIT dataChanged(index(m_firing, 0), index(m_firing, ColumnCount - 1));
    }
    trimHistory();
    Q_EMIT firingChanged(m_firing, criticalCount());
}

void AlertsModel::onUpdated(const Alert &a)
{
    const int row = firingRowOf(a.seq);
    if (row < 0)
        return;
    m_rows[row] = a;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void AlertsModel::trimHistory()
{
    const int rows = static_cast<int>(m_rows.size());
    if (rows - m_firing <= m_capacity)
        return;
    const int first = m_firing + m_capacity;
    beginRemoveRows({}, first, rows - 1);
    m_rows.resize(first);
    endRemoveRows();
}

void AlertsModel::refreshDurations()
{
    if (m_firing > 0)
        Q_EMIT dataChanged(index(0, Duration), index(m_firing - 1, Duration),
                           {Qt::DisplayRole, RawValueRole});
}

QVariant AlertsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Time:
        return tip ? tr("When the alert fired") : tr("Fired");
    case Rule:
        return tip ? tr("The rule that fired (Settings → Alerts edits the rules)") : tr("Rule");
    case Subject:
        return tip ? tr("What it is about: a channel as the Channels table names it, a connection, the pool…")
                   : tr("Subject");
    case Value:
        return tip ? tr("The value that fired it (the latest while it fires) and the rule's limit")
                   : tr("Value");
    case State:
        return tip ? tr("Firing, or resolved and when") : tr("State");
    case Duration:
        return tip ? tr("How long it has fired (or fired, once resolved)") : tr("For");
    }
    return {};
}

QVariant AlertsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Alert &a = m_rows.at(index.row());
    const bool firing = index.row() < m_firing;
    const int c = index.column();
    const Severity sev = !firing                                 ? Severity::Neutral
                         : a.severity == AlertSeverity::Critical ? Severity::Bad
                                                                 : Severity::Warning;
    switch (role) {
    case KeyRole:
        return a.seq;
    case RowSeverityRole:
        return QVariant::fromValue(sev);
    case SeverityRole:
        return c == State && firing ? QVariant::fromValue(sev) : QVariant();
    case AlertFiringRole:
        return firing;
    case AlertSubscriptionRole:
        if (const auto s = subscriptionOf(a.subject))
            return s->canonical();
        return {};
    case AlertConnectionRole:
        return connectionOf(a.subject);
    case FilterTextRole:
        return QString(a.ruleId + u' ' + a.subject + u' ' + a.text + u' ' + AlertWords::severity(a.severity) +
                       (firing ? u" firing"_s : u" resolved"_s));
    case Qt::TextAlignmentRole:
        return c == Duration ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                             : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ToolTipRole: {
        QStringList lines;
        if (!a.text.isEmpty())
            lines.append(a.text);
        const AlertRule *rule = ruleOf(a.ruleId);
        lines.append(tr("Rule: %1 (%2, %3)")
                         .arg(rule ? rule->describe() : AlertWords::kindName(a.kind), a.ruleId,
                              AlertWords::severity(a.severity)));
        if (c == Subject && !a.subject.isEmpty())
            lines.append(a.subject);
        if (c == Subject && (a.subject.startsWith(u'{') || connectionOf(a.subject) >= 0))
            lines.append(tr("Double-click to select it in its table"));
        lines.append(tr("Fired %1").arg(a.firedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s)));
        if (!firing)
            lines.append(
                tr("Resolved %1").arg(a.resolvedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s)));
        return lines.join(u'\n');
    }
    default:
        break;
    }
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    // A firing alert has lasted until now (refreshDurations() makes the views ask once a second).
    const QDateTime now = QDateTime::currentDateTime();
    const qint64 lastedMs = std::max<qint64>(0, a.firedAt.msecsTo(firing ? now : a.resolvedAt));
    switch (c) {
    case Time:
        return raw ? QVariant(a.firedAt.toMSecsSinceEpoch()) : QVariant(timeText(a.firedAt, now));
    case Rule:
        return AlertWords::kindName(a.kind);
    case Subject:
        return raw ? QVariant(a.subject) : QVariant(AlertWords::subject(a.subject));
    case Value:
        return raw ? QVariant(a.value) : QVariant(AlertWords::value(a, ruleOf(a.ruleId)));
    case State:
        if (raw)
            return firing ? 1 : 0;
        return firing ? tr("firing · %1").arg(AlertWords::severity(a.severity))
                      : tr("resolved %1").arg(timeText(a.resolvedAt, now));
    case Duration:
        return raw ? QVariant(lastedMs) : QVariant(Format::duration(lastedMs));
    }
    return {};
}

} // namespace FeedScope

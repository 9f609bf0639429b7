#include "alerts.h"

#include "eventwords.h"

#include <QHash>
#include <QJsonArray>
#include <QSet>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <functional>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

constexpr std::array<QLatin1StringView, AlertKindCount> KindNames{"subscriptionStale"_L1,
                                                                  "subscriptionNotActive"_L1,
                                                                  "subscriptionRejected"_L1,
                                                                  "connectionDown"_L1,
                                                                  "reconnectStorm"_L1,
                                                                  "drops"_L1,
                                                                  "latencyP99"_L1,
                                                                  "integrity"_L1,
                                                                  "budgetUse"_L1,
                                                                  "gatewaySlowClient"_L1};

QString kindList()
{
    QStringList names;
    for (const QLatin1StringView n : KindNames)
        names.append(QString(n));
    return names.join(u", "_s);
}

QString number(double v)
{
    if (std::abs(v - std::round(v)) < 1e-9)
        return QString::number(static_cast<qint64>(std::llround(v)));
    return QString::number(v, 'f', 1);
}

/// "ETH l2Book", "BTC candle interval=1m", "orderUpdates 0x1234…abcd".
QString subscriptionLabel(const Hl::Subscription &s)
{
    const QJsonObject j = s.json();
    QStringList parts;
    if (j.contains(u"coin"_s))
        parts.append(j.value(u"coin"_s).toVariant().toString());
    parts.append(s.type());
    for (auto it = j.constBegin(); it != j.constEnd(); ++it) {
        if (it.key() == u"type"_s || it.key() == u"coin"_s)
            continue;
        const QJsonValue v = it.value();
        QString text = v.isString() ? v.toString()
                       : v.isBool() ? (v.toBool() ? u"true"_s : u"false"_s)
                                    : number(v.toDouble());
        if (it.key() == u"user"_s) {
            if (text.size() > 12)
                text = text.left(6) + u"…"_s + text.right(4);
            parts.append(text);
        } else {
            parts.append(it.key() + u'=' + text);
        }
    }
    return parts.join(u' ');
}

/// The increase of a counter over a sliding window, from the values it had when it changed
/// (nothing stored while it stays put). The first value seen is the baseline: what happened
/// before the engine watched does not count.
class CounterWindow
{
public:
    /// @p fromZero: a counter first seen now started at 0 since the last evaluation (a new
    /// subject); otherwise its first value is the baseline.
    qint64 increase(qint64 value, qint64 nowMs, qint64 windowMs, bool fromZero)
    {
        if (m_changes.empty() || value < m_changes.back().second) { // first sight, or a reset
            m_changes.clear();
            m_changes.emplace_back(nowMs, fromZero ? 0 : value);
        }
        if (value != m_changes.back().second)
            m_changes.emplace_back(nowMs, value);
        const qint64 cutoff = nowMs - windowMs;
        // Keep the last change at or before the cutoff: the value at the window's start.
        while (m_changes.size() > 1 && m_changes[1].first <= cutoff)
            m_changes.pop_front();
        return value - m_changes.front().second;
    }

private:
    std::deque<std::pair<qint64, qint64>> m_changes; ///< (when, value)
};

struct Observation
{
    QString subject;
    double value = 0;
    QString pattern;            ///< the alert's text; "{v}" stands for the value
    bool durationValue = false; ///< value = seconds the condition has held
};

struct Track
{
    qint64 condSince = -1;
    qint64 clearSince = -1;
    bool firing = false;
    Alert alert;
};

struct RuleState
{
    AlertKind kind = AlertKind::SubscriptionStale;
    QHash<QString, Track> tracks;
    Track summary;
    int held = 0;        ///< subjects held back by the cap at the last evaluation
    bool primed = false; ///< evaluated once: counters seen later for the first time start at 0
    QHash<QString, CounterWindow> counters;
    QHash<QString, std::deque<qint64>> events; ///< GatewaySlowClient: cut times by client
};

} // namespace

QLatin1StringView nameOf(AlertKind kind)
{
    const auto i = static_cast<size_t>(kind);
    return i < KindNames.size() ? KindNames[i] : "unknown"_L1;
}

bool alertKindFromName(const QString &name, AlertKind *kind)
{
    for (size_t i = 0; i < KindNames.size(); ++i) {
        if (name == KindNames[i]) {
            *kind = static_cast<AlertKind>(i);
            return true;
        }
    }
    return false;
}

QLatin1StringView nameOf(AlertSeverity severity)
{
    return severity == AlertSeverity::Critical ? "critical"_L1 : "warning"_L1;
}

// ---------------------------------------------------------------------------------------------
// AlertRule

namespace {

AlertRule makeRule(const char *id, AlertKind kind, AlertSeverity severity, double threshold, int forSeconds,
                   int clearSeconds, int windowMinutes)
{
    AlertRule r;
    r.id = QString::fromLatin1(id);
    r.kind = kind;
    r.severity = severity;
    r.threshold = threshold;
    r.forSeconds = forSeconds;
    r.clearSeconds = clearSeconds;
    r.windowMinutes = windowMinutes;
    return r;
}

AlertRule defaultFor(AlertKind kind)
{
    for (const AlertRule &r : defaultAlertRules())
        if (r.kind == kind)
            return r;
    return {};
}

QString forText(int seconds)
{
    return seconds > 0 ? u" for more than %1 s"_s.arg(seconds) : QString();
}

} // namespace

QList<AlertRule> defaultAlertRules()
{
    using K = AlertKind;
    using S = AlertSeverity;
    return {
        makeRule("subscription-stale", K::SubscriptionStale, S::Warning, 0, 30, 10, 5),
        makeRule("subscription-not-active", K::SubscriptionNotActive, S::Warning, 0, 60, 10, 5),
        makeRule("subscription-rejected", K::SubscriptionRejected, S::Critical, 0, 0, 10, 5),
        makeRule("connection-down", K::ConnectionDown, S::Critical, 0, 30, 10, 5),
        makeRule("reconnect-storm", K::ReconnectStorm, S::Warning, 5, 0, 60, 10),
        makeRule("drops", K::Drops, S::Warning, 0, 0, 60, 5),
        makeRule("latency-p99", K::LatencyP99, S::Warning, 2000, 60, 30, 5),
        makeRule("integrity", K::Integrity, S::Warning, 0, 0, 60, 10),
        makeRule("budget-use", K::BudgetUse, S::Warning, 80, 10, 30, 5),
        makeRule("gateway-slow-client", K::GatewaySlowClient, S::Warning, 0, 0, 300, 5),
    };
}

QString AlertRule::describe() const
{
    const QString n = number(threshold);
    const QString window = u"%1 min"_s.arg(windowMinutes);
    switch (kind) {
    case AlertKind::SubscriptionStale:
        return u"A subscription's data stale"_s + forText(forSeconds);
    case AlertKind::SubscriptionNotActive:
        return u"A subscription not active (waiting, restoring or without room)"_s + forText(forSeconds);
    case AlertKind::SubscriptionRejected:
        return u"A subscription rejected by the server or failed"_s + forText(forSeconds);
    case AlertKind::ConnectionDown:
        return u"A connection down"_s + forText(forSeconds);
    case AlertKind::ReconnectStorm:
        return u"More than %1 reconnects in %2"_s.arg(n, window) + forText(forSeconds);
    case AlertKind::Drops:
        return (threshold > 0 ? u"More than %1 messages dropped in %2"_s.arg(n, window)
                              : u"Any message dropped in %1"_s.arg(window)) +
               forText(forSeconds);
    case AlertKind::LatencyP99:
        return u"Data latency p99 (last 10 s) above %1 ms"_s.arg(n) + forText(forSeconds);
    case AlertKind::Integrity:
        return (threshold > 0 ? u"More than %1 integrity violations in %2"_s.arg(n, window)
                              : u"Any integrity violation in %1"_s.arg(window)) +
               forText(forSeconds);
    case AlertKind::BudgetUse:
        return u"Outgoing or new-connection budget above %1 % used"_s.arg(n) + forText(forSeconds);
    case AlertKind::GatewaySlowClient:
        return u"A gateway client cut off as slow"_s;
    }
    return id;
}

QJsonObject AlertRule::toJson() const
{
    return QJsonObject{{u"id"_s, id},
                       {u"kind"_s, QString(nameOf(kind))},
                       {u"enabled"_s, enabled},
                       {u"severity"_s, QString(nameOf(severity))},
                       {u"threshold"_s, threshold},
                       {u"forSeconds"_s, forSeconds},
                       {u"clearSeconds"_s, clearSeconds},
                       {u"windowMinutes"_s, windowMinutes}};
}

bool AlertRule::fromJson(const QJsonObject &o, AlertRule *rule, QString *error)
{
    auto fail = [error](const QString &text) {
        if (error)
            *error = text;
        return false;
    };
    const QString id = o.value(u"id"_s).toString();
    if (!o.value(u"id"_s).isString() || id.trimmed().isEmpty())
        return fail(u"an alert rule needs an \"id\" (a non-empty text)"_s);
    for (const QChar c : id) {
        if (!(c.isLetterOrNumber() || c == u'-' || c == u'_' || c == u'.') || c.unicode() > 127)
            return fail(
                u"alert rule \"%1\": \"id\" may only contain letters, digits, '-', '_' and '.'"_s.arg(id));
    }
    const QString where = u"alert rule \"%1\": "_s.arg(id);
    static const QSet<QString> known{u"id"_s,           u"kind"_s,          u"enabled"_s,
                                     u"severity"_s,     u"threshold"_s,     u"forSeconds"_s,
                                     u"clearSeconds"_s, u"windowMinutes"_s, u"description"_s};
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        if (!known.contains(it.key()))
            return fail(where + u"unknown key \"%1\""_s.arg(it.key()));
    if (!o.value(u"kind"_s).isString())
        return fail(where + u"\"kind\" is missing (one of %1)"_s.arg(kindList()));
    AlertKind kind{};
    const QString kindName = o.value(u"kind"_s).toString();
    if (!alertKindFromName(kindName, &kind))
        return fail(where + u"unknown \"kind\" \"%1\" (one of %2)"_s.arg(kindName, kindList()));

    AlertRule r = defaultFor(kind); // what the profile leaves out keeps the kind's default
    r.id = id;
    r.kind = kind;
    r.enabled = true;
    if (o.contains(u"enabled"_s)) {
        if (!o.value(u"enabled"_s).isBool())
            return fail(where + u"\"enabled\" must be true or false"_s);
        r.enabled = o.value(u"enabled"_s).toBool();
    }
    if (o.contains(u"severity"_s)) {
        const QString s = o.value(u"severity"_s).toString();
        if (s == u"warning"_s)
            r.severity = AlertSeverity::Warning;
        else if (s == u"critical"_s)
            r.severity = AlertSeverity::Critical;
        else
            return fail(where + u"\"severity\" must be \"warning\" or \"critical\""_s);
    }
    if (o.contains(u"threshold"_s)) {
        const QJsonValue v = o.value(u"threshold"_s);
        if (!v.isDouble() || !std::isfinite(v.toDouble()) || v.toDouble() < 0)
            return fail(where + u"\"threshold\" must be a number of at least 0"_s);
        if (kind == AlertKind::BudgetUse && v.toDouble() > 100)
            return fail(where + u"\"threshold\" is a percentage of the budget: 0 to 100"_s);
        r.threshold = v.toDouble();
    }
    auto whole = [&](const QString &key, int min, int max, int *out) {
        if (!o.contains(key))
            return true;
        const QJsonValue v = o.value(key);
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d != std::floor(d) || d < min || d > max) {
            fail(where + u"\"%1\" must be a whole number from %2 to %3"_s.arg(key).arg(min).arg(max));
            return false;
        }
        *out = static_cast<int>(d);
        return true;
    };
    if (!whole(u"forSeconds"_s, 0, 86400, &r.forSeconds) ||
        !whole(u"clearSeconds"_s, 0, 86400, &r.clearSeconds) ||
        !whole(u"windowMinutes"_s, 1, 1440, &r.windowMinutes))
        return false;
    *rule = r;
    return true;
}

bool alertSettingsFromJson(const QJsonValue &json, AlertSettings *settings, QString *error,
                           const QString &prefix)
{
    auto fail = [error](const QString &text) {
        *error = text;
        return false;
    };
    QJsonObject o;
    if (json.isArray())
        o.insert(u"rules"_s, json); // a bare list of rules (an --alert-rules file)
    else if (json.isObject())
        o = json.toObject();
    else
        return fail(u"must be an object with \"rules\" (or a list of rules)"_s);
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        if (it.key() != u"rules"_s && it.key() != u"command"_s && it.key() != u"commandTimeoutSeconds"_s)
            return fail(
                u"unknown setting \"%1%2\" (rules, command, commandTimeoutSeconds)"_s.arg(prefix, it.key()));
    AlertSettings s;
    if (o.contains(u"command"_s)) {
        if (!o.value(u"command"_s).isString())
            return fail(u"\"%1command\" must be a text (a program and its arguments)"_s.arg(prefix));
        s.command = o.value(u"command"_s).toString().trimmed();
    }
    if (o.contains(u"commandTimeoutSeconds"_s)) {
        const QJsonValue v = o.value(u"commandTimeoutSeconds"_s);
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d != std::floor(d) || d < 1 || d > 3600)
            return fail(u"\"%1commandTimeoutSeconds\" must be a whole number from 1 to 3600"_s.arg(prefix));
        s.commandTimeoutS = static_cast<int>(d);
    }
    if (o.contains(u"rules"_s)) {
        if (!o.value(u"rules"_s).isArray())
            return fail(u"\"%1rules\" must be a list of rules"_s.arg(prefix));
        const QJsonArray rules = o.value(u"rules"_s).toArray();
        QSet<QString> seen;
        for (qsizetype i = 0; i < rules.size(); ++i) {
            const QString where = u"%1rules[%2]"_s.arg(prefix).arg(i);
            if (!rules.at(i).isObject())
                return fail(u"\"%1\" must be an object"_s.arg(where));
            QJsonObject r = rules.at(i).toObject();
            const QString id = r.value(u"id"_s).toString();
            qsizetype existing = -1;
            for (qsizetype k = 0; k < s.rules.size(); ++k)
                if (s.rules.at(k).id == id)
                    existing = k;
            if (existing >= 0 && !r.contains(u"kind"_s)) // a default, by its id
                r.insert(u"kind"_s, QString(nameOf(s.rules.at(existing).kind)));
            AlertRule rule;
            QString why;
            if (!AlertRule::fromJson(r, &rule, &why))
                return fail(u"\"%1\": %2"_s.arg(where, why));
            if (seen.contains(rule.id))
                return fail(u"\"%1\": the id \"%2\" is used twice"_s.arg(where, rule.id));
            seen.insert(rule.id);
            if (existing >= 0)
                s.rules[existing] = rule;
            else
                s.rules.append(rule);
        }
    }
    *settings = s;
    return true;
}

QJsonObject alertSettingsToJson(const AlertSettings &settings)
{
    const QList<AlertRule> defaults = defaultAlertRules();
    QJsonArray rules;
    for (const AlertRule &r : settings.rules) {
        const auto d = std::find_if(defaults.cbegin(), defaults.cend(),
                                    [&r](const AlertRule &x) { return x.id == r.id; });
        if (d == defaults.cend() || d->toJson() != r.toJson())
            rules.append(r.toJson());
    }
    QJsonObject o;
    if (!rules.isEmpty())
        o.insert(u"rules"_s, rules);
    if (!settings.command.isEmpty())
        o.insert(u"command"_s, settings.command);
    if (settings.commandTimeoutS != AlertSettings{}.commandTimeoutS)
        o.insert(u"commandTimeoutSeconds"_s, settings.commandTimeoutS);
    return o;
}

QJsonObject Alert::toJson() const
{
    QJsonObject o{{u"seq"_s, static_cast<double>(seq)},
                  {u"rule"_s, ruleId},
                  {u"kind"_s, QString(nameOf(kind))},
                  {u"severity"_s, QString(nameOf(severity))},
                  {u"subject"_s, subject},
                  {u"text"_s, text},
                  {u"value"_s, value},
                  {u"threshold"_s, threshold},
                  {u"state"_s, firing() ? u"firing"_s : u"resolved"_s},
                  {u"firedAt"_s, firedAt.toUTC().toString(Qt::ISODateWithMs)}};
    if (resolvedAt.isValid())
        o.insert(u"resolvedAt"_s, resolvedAt.toUTC().toString(Qt::ISODateWithMs));
    return o;
}

// ---------------------------------------------------------------------------------------------
// AlertEngine

struct AlertEngine::Private
{
    QHash<QString, RuleState> states; ///< by rule id (enabled rules only)
    std::deque<Alert> history;        ///< newest at the front
    int historyCapacity = 500;
    int maxFiringPerRule = 100;
    int newConnectionLimit = 30;
    quint64 seq = 0;
    /// Reconnects by (connection, start): the monotonic time they started, estimated once.
    QHash<QString, qint64> reconnectSeen;
};

AlertEngine::AlertEngine(QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    qRegisterMetaType<FeedScope::Alert>();
    setRules(defaultAlertRules());
}

AlertEngine::~AlertEngine() = default;

void AlertEngine::setHistoryCapacity(int n)
{
    d->historyCapacity = std::max(0, n);
    while (static_cast<int>(d->history.size()) > d->historyCapacity)
        d->history.pop_back();
}

int AlertEngine::historyCapacity() const
{
    return d->historyCapacity;
}

void AlertEngine::setNewConnectionLimit(int perMinute)
{
    d->newConnectionLimit = perMinute;
}

void AlertEngine::setMaxFiringPerRule(int n)
{
    d->maxFiringPerRule = std::max(1, n);
}

int AlertEngine::maxFiringPerRule() const
{
    return d->maxFiringPerRule;
}

const AlertRule *AlertEngine::rule(const QString &id) const
{
    for (const AlertRule &r : m_rules)
        if (r.id == id)
            return &r;
    return nullptr;
}

namespace {

void resolveTrack(Track &t, const QDateTime &wallNow, std::deque<Alert> &history, int capacity)
{
    t.firing = false;
    t.alert.resolvedAt = wallNow.isValid() ? wallNow : QDateTime::currentDateTimeUtc();
    if (capacity > 0) {
        history.push_front(t.alert);
        while (static_cast<int>(history.size()) > capacity)
            history.pop_back();
    }
}

} // namespace

void AlertEngine::setRules(const QList<AlertRule> &rules)
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<Alert> gone;
    QSet<QString> keep;
    for (const AlertRule &r : rules)
        if (r.enabled)
            keep.insert(r.id);
    for (auto it = d->states.begin(); it != d->states.end();) {
        const AlertRule *next = nullptr;
        for (const AlertRule &r : rules)
            if (r.id == it.key() && r.enabled)
                next = &r;
        if (next && next->kind == it->kind) {
            ++it;
            continue;
        }
        for (Track &t : it->tracks) {
            if (t.firing) {
                resolveTrack(t, now, d->history, d->historyCapacity);
                gone.append(t.alert);
            }
        }
        if (it->summary.firing) {
            resolveTrack(it->summary, now, d->history, d->historyCapacity);
            gone.append(it->summary.alert);
        }
        it = d->states.erase(it);
    }
    m_rules = rules;
    for (const AlertRule &r : std::as_const(m_rules)) {
        if (r.enabled && !d->states.contains(r.id)) {
            RuleState s;
            s.kind = r.kind;
            d->states.insert(r.id, s);
        }
    }
    // Firing alerts of a kept rule take its new threshold and severity.
    for (const AlertRule &r : std::as_const(m_rules)) {
        auto it = d->states.find(r.id);
        if (it == d->states.end())
            continue;
        for (Track &t : it->tracks) {
            t.alert.threshold = r.threshold;
            t.alert.severity = r.severity;
        }
    }
    for (const Alert &a : std::as_const(gone))
        Q_EMIT resolved(a);
}

namespace {

struct Changes
{
    QList<Alert> fired, resolved, updated;
};

QString applyPattern(const Observation &o, double value)
{
    QString text = o.pattern;
    return text.replace(u"{v}"_s, number(value));
}

void fireTrack(Track &t, const AlertRule &rule, const QString &subject, double value, const QString &text,
               const QDateTime &wallNow, quint64 &seq, Changes &out)
{
    t.firing = true;
    t.clearSince = -1;
    Alert a;
    a.seq = ++seq;
    a.ruleId = rule.id;
    a.kind = rule.kind;
    a.severity = rule.severity;
    a.subject = subject;
    a.text = text;
    a.value = value;
    a.threshold = rule.threshold;
    a.firedAt = wallNow.isValid() ? wallNow : QDateTime::currentDateTimeUtc();
    t.alert = a;
    out.fired.append(a);
}

/// One subject's step: @p cond true (with value and text) or false.
void step(Track &t, bool cond, double value, const QString &text, const AlertRule &rule, qint64 nowMs,
          Changes &out, std::deque<Alert> &history, int capacity, const QDateTime &wallNow)
{
    if (cond) {
        t.clearSince = -1;
        if (t.condSince < 0)
            t.condSince = nowMs;
        if (t.firing && (t.alert.value != value || t.alert.text != text)) {
            t.alert.value = value;
            t.alert.text = text;
            out.updated.append(t.alert);
        }
        return;
    }
    t.condSince = -1;
    if (!t.firing)
        return;
    if (t.clearSince < 0)
        t.clearSince = nowMs;
    if (nowMs - t.clearSince >= static_cast<qint64>(rule.clearSeconds) * 1000) {
        resolveTrack(t, wallNow, history, capacity);
        out.resolved.append(t.alert);
    }
}

/// The state machine of every subject of one rule: fires once after forSeconds, resolves once
/// after clearSeconds (hysteresis), at most maxFiring alerts, one summary for the rest.
void runRule(const AlertRule &rule, RuleState &rs, const QList<Observation> &obs, qint64 nowMs,
             const QDateTime &wallNow, int maxFiring, std::deque<Alert> &history, int capacity, quint64 &seq,
             Changes &out, const std::function<bool(const QString &)> &gone = {})
{
    {
        const qint64 forMs = static_cast<qint64>(rule.forSeconds) * 1000;
        QSet<QString> seen;
        seen.reserve(obs.size());
        struct Candidate
        {
            qint64 since;
            QString subject;
            double value;
            QString text;
        };
        QList<Candidate> candidates;
        int firingNow = 0;
        for (const Observation &o : obs) {
            if (seen.contains(o.subject))
                continue;
            seen.insert(o.subject);
            Track &t = rs.tracks[o.subject];
            if (t.condSince < 0)
                t.condSince = nowMs;
            const double value = o.durationValue ? std::floor(double(nowMs - t.condSince) / 1000) : o.value;
            const QString text = applyPattern(o, value);
            step(t, true, value, text, rule, nowMs, out, history, capacity, wallNow);
            if (t.firing)
                ++firingNow;
            else if (nowMs - t.condSince >= forMs)
                candidates.append({t.condSince, o.subject, value, text});
        }
        for (auto it = rs.tracks.begin(); it != rs.tracks.end();) {
            if (seen.contains(it.key())) {
                ++it;
                continue;
            }
            // A subject that is gone (the subscription removed, the connection closed for good)
            // resolves at once: hysteresis is for values that flap, not for what no longer exists.
            if (it->firing && gone && gone(it.key())) {
                resolveTrack(*it, wallNow, history, capacity);
                out.resolved.append(it->alert);
                it->condSince = -1;
            } else {
                step(*it, false, 0, QString(), rule, nowMs, out, history, capacity, wallNow);
            }
            if (!it->firing && it->condSince < 0)
                it = rs.tracks.erase(it);
            else {
                if (it->firing)
                    ++firingNow;
                ++it;
            }
        }
        std::sort(candidates.begin(), candidates.end(), [](const Candidate &a, const Candidate &b) {
            return a.since != b.since ? a.since < b.since : a.subject < b.subject;
        });
        int held = 0;
        for (const Candidate &c : std::as_const(candidates)) {
            if (firingNow >= maxFiring) {
                ++held;
                continue;
            }
            fireTrack(rs.tracks[c.subject], rule, c.subject, c.value, c.text, wallNow, seq, out);
            ++firingNow;
        }
        rs.held = held;
        // One summary alert stands for the subjects held back by the cap.
        const QString summaryText = u"and %1 more: %2"_s.arg(held).arg(rule.describe());
        const QString summarySubject = u"+more"_s;
        if (held > 0 && !rs.summary.firing) {
            fireTrack(rs.summary, rule, summarySubject, held, summaryText, wallNow, seq, out);
            rs.summary.condSince = nowMs;
        } else if (rs.summary.firing) {
            if (held > 0) {
                step(rs.summary, true, held, summaryText, rule, nowMs, out, history, capacity, wallNow);
            } else {
                step(rs.summary, false, 0, QString(), rule, nowMs, out, history, capacity, wallNow);
            }
        }
    }
}

} // namespace

void AlertEngine::evaluate(const PoolSnapshot &snapshot, const DispatcherFigures &dispatcher, qint64 nowMs,
                           const QDateTime &wallNow)
{
    Changes out;
    // Reconnects: each one's monotonic start, estimated once from its wall age at first sight.
    qint64 maxWindowMs = 60000;
    for (const AlertRule &r : std::as_const(m_rules))
        if (r.enabled && r.kind == AlertKind::ReconnectStorm)
            maxWindowMs = std::max<qint64>(maxWindowMs, static_cast<qint64>(r.windowMinutes) * 60000);
    QHash<QString, int> reconnectConnection;
    for (const ReconnectRecord &rec : snapshot.reconnects) {
        const QString key = u"%1@%2"_s.arg(rec.connection).arg(rec.startedAt.toMSecsSinceEpoch());
        reconnectConnection.insert(key, rec.connection);
        if (!d->reconnectSeen.contains(key)) {
            const qint64 age = rec.startedAt.isValid() && wallNow.isValid()
                                   ? std::max<qint64>(0, rec.startedAt.msecsTo(wallNow))
                                   : 0;
            d->reconnectSeen.insert(key, nowMs - age);
        }
    }
    for (auto it = d->reconnectSeen.begin(); it != d->reconnectSeen.end();) {
        if (nowMs - *it > maxWindowMs && !reconnectConnection.contains(it.key()))
            it = d->reconnectSeen.erase(it);
        else
            ++it;
    }

    // Which subjects still exist, to resolve at once the alerts of those that are gone.
    QSet<QByteArray> presentSubs;
    presentSubs.reserve(snapshot.subscriptions.size());
    for (const SubscriptionStatus &s : snapshot.subscriptions)
        presentSubs.insert(s.subscription.canonical());
    QSet<QString> presentConns;
    for (const ConnectionStatus &c : snapshot.connections)
        presentConns.insert(u"connection %1"_s.arg(c.id));
    const auto subscriptionGone = [&presentSubs](const QString &subject) {
        return subject != u"+more"_s && !presentSubs.contains(subject.toUtf8());
    };
    const auto connectionGone = [&presentConns](const QString &subject) {
        return subject != u"+more"_s && !presentConns.contains(subject);
    };

    for (const AlertRule &rule : std::as_const(m_rules)) {
        if (!rule.enabled)
            continue;
        RuleState &rs = d->states[rule.id];
        const qint64 windowMs = static_cast<qint64>(rule.windowMinutes) * 60000;
        QList<Observation> obs;
        switch (rule.kind) {
        case AlertKind::SubscriptionStale:
            if (snapshot.paused)
                break;
            for (const SubscriptionStatus &s : snapshot.subscriptions) {
                if (!s.stale || s.state != SubState::Active)
                    continue;
                obs.append({QString::fromUtf8(s.subscription.canonical()),
                            std::floor(double(std::max<qint64>(0, s.lastAgeMs)) / 1000),
                            subscriptionLabel(s.subscription) + u" data stale: nothing for {v} s"_s, false});
            }
            break;
        case AlertKind::SubscriptionNotActive:
            if (snapshot.paused)
                break;
            for (const SubscriptionStatus &s : snapshot.subscriptions) {
                if (s.state != SubState::Pending && s.state != SubState::Restoring &&
                    s.state != SubState::Unplaceable)
                    continue;
                obs.append({QString::fromUtf8(s.subscription.canonical()), 0,
                            subscriptionLabel(s.subscription) + u" not active for {v} s ("_s +
                                Words::subState(QString(nameOf(s.state))) + u')',
                            true});
            }
            break;
        case AlertKind::SubscriptionRejected:
            for (const SubscriptionStatus &s : snapshot.subscriptions) {
                if (s.state != SubState::Rejected && s.state != SubState::Failed)
                    continue;
                QString text = subscriptionLabel(s.subscription) +
                               (s.state == SubState::Rejected ? u" rejected by the server"_s : u" failed"_s);
                if (!s.error.isEmpty())
                    text += u": "_s + s.error;
                obs.append({QString::fromUtf8(s.subscription.canonical()), 1, text, false});
            }
            break;
        case AlertKind::ConnectionDown:
            if (snapshot.paused)
                break;
            for (const ConnectionStatus &c : snapshot.connections) {
                const bool down = c.state == ConnState::Connecting || c.state == ConnState::Backoff ||
                                  c.state == ConnState::Closing ||
                                  (c.state == ConnState::Idle && c.subscriptions > 0);
                if (!down)
                    continue;
                QString text = u"connection %1 down for {v} s (%2"_s.arg(c.id).arg(
                    Words::connState(QString(nameOf(c.state))));
                if (c.lastCause != Cause::None)
                    text += u", last: "_s + Words::cause(QString(nameOf(c.lastCause)));
                text += u')';
                obs.append({u"connection %1"_s.arg(c.id), 0, text, true});
            }
            break;
        case AlertKind::ReconnectStorm: {
            int count = 0;
            QList<int> conns;
            for (auto it = d->reconnectSeen.cbegin(); it != d->reconnectSeen.cend(); ++it) {
                if (nowMs - *it > windowMs)
                    continue;
                ++count;
                const int c = reconnectConnection.value(it.key(), -1);
                if (c >= 0 && !conns.contains(c))
                    conns.append(c);
            }
            if (count > rule.threshold) {
                std::sort(conns.begin(), conns.end());
                QStringList names;
                for (int c : std::as_const(conns))
                    names.append(QString::number(c));
                QString text = u"{v} reconnects in the last %1 min"_s.arg(rule.windowMinutes);
                if (!names.isEmpty())
                    text += (names.size() == 1 ? u" (connection "_s : u" (connections "_s) +
                            names.join(u", "_s) + u')';
                obs.append({u"pool"_s, double(count), text, false});
            }
            break;
        }
        case AlertKind::Drops: {
            QList<QPair<QString, qint64>> counters;
            if (dispatcher.consumers.isEmpty())
                counters.append({u"dispatcher"_s, dispatcher.dropped});
            for (const ConsumerStats &c : dispatcher.consumers)
                counters.append({c.name, c.dropped});
            QSet<QString> present;
            for (const auto &[name, dropped] : std::as_const(counters)) {
                present.insert(name);
                const qint64 inc = rs.counters[name].increase(dropped, nowMs, windowMs, rs.primed);
                if (inc > rule.threshold)
                    obs.append({name, double(inc),
                                u"consumer \"%1\" dropped {v} messages in the last %2 min"_s.arg(name).arg(
                                    rule.windowMinutes),
                                false});
            }
            for (auto it = rs.counters.begin(); it != rs.counters.end();)
                it = present.contains(it.key()) ? std::next(it) : rs.counters.erase(it);
            break;
        }
        case AlertKind::LatencyP99:
            for (const SubscriptionStatus &s : snapshot.subscriptions) {
                if (s.latency.p99Ms < 0 || s.latency.p99Ms <= rule.threshold)
                    continue;
                obs.append({QString::fromUtf8(s.subscription.canonical()), std::round(s.latency.p99Ms),
                            subscriptionLabel(s.subscription) + u" data latency p99 {v} ms (last 10 s)"_s,
                            false});
            }
            break;
        case AlertKind::Integrity: {
            QSet<QString> present;
            present.reserve(snapshot.subscriptions.size());
            for (const SubscriptionStatus &s : snapshot.subscriptions) {
                const qint64 total = s.integrity.total();
                const QString key = QString::fromUtf8(s.subscription.canonical());
                if (total == 0 && !rs.counters.contains(key))
                    continue; // the common case: nothing stored
                present.insert(key);
                CounterWindow &w = rs.counters[key];
                const qint64 inc = w.increase(total, nowMs, windowMs, rs.primed);
                if (inc > rule.threshold) {
                    QStringList parts;
                    const IntegrityCounts &i = s.integrity;
                    if (i.crossedBook > 0)
                        parts.append(u"crossed or locked book %1"_s.arg(i.crossedBook));
                    if (i.timeBackwards > 0)
                        parts.append(u"time going backwards %1"_s.arg(i.timeBackwards));
                    if (i.duplicateTrade > 0)
                        parts.append(u"duplicate trade %1"_s.arg(i.duplicateTrade));
                    if (i.contradicts > 0)
                        parts.append(u"contradicting frame %1"_s.arg(i.contradicts));
                    obs.append({key, double(inc),
                                subscriptionLabel(s.subscription) +
                                    u": {v} integrity violations in the last %1 min (run totals: %2)"_s
                                        .arg(rule.windowMinutes)
                                        .arg(parts.join(u", "_s)),
                                false});
                }
            }
            for (auto it = rs.counters.begin(); it != rs.counters.end();)
                it = present.contains(it.key()) ? std::next(it) : rs.counters.erase(it);
            break;
        }
        case AlertKind::BudgetUse: {
            const PoolCounters &c = snapshot.counters;
            if (c.outgoingCapacity > 0) {
                const double pct = std::floor(100.0 * c.outgoingUsed / c.outgoingCapacity);
                if (pct > rule.threshold)
                    obs.append({u"outgoing budget"_s, pct,
                                u"outgoing budget {v} % used (%1 of %2 frames a minute, %3 waiting)"_s
                                    .arg(c.outgoingUsed)
                                    .arg(c.outgoingCapacity)
                                    .arg(c.outgoingQueued),
                                false});
            }
            if (d->newConnectionLimit > 0) {
                const double pct = std::floor(100.0 * c.newConnectionsLastMinute / d->newConnectionLimit);
                if (pct > rule.threshold)
                    obs.append({u"new-connection budget"_s, pct,
                                u"new connections at {v} % of the limit (%1 of %2 a minute)"_s
                                    .arg(c.newConnectionsLastMinute)
                                    .arg(d->newConnectionLimit),
                                false});
            }
            break;
        }
        case AlertKind::GatewaySlowClient:
            for (auto it = rs.events.begin(); it != rs.events.end();) {
                std::deque<qint64> &cuts = *it;
                while (!cuts.empty() && nowMs - cuts.front() > windowMs)
                    cuts.pop_front();
                const qint64 clearMs = static_cast<qint64>(rule.clearSeconds) * 1000;
                const bool recent = !cuts.empty() && nowMs - cuts.back() < std::max<qint64>(clearMs, 1);
                if (recent)
                    obs.append(
                        {it.key(), double(cuts.size()),
                         u"gateway client %1 cut off as slow ({v} times in %2 min)"_s.arg(it.key()).arg(
                             rule.windowMinutes),
                         false});
                if (cuts.empty())
                    it = rs.events.erase(it);
                else
                    ++it;
            }
            break;
        }
        std::function<bool(const QString &)> gone;
        switch (rule.kind) {
        case AlertKind::SubscriptionStale:
        case AlertKind::SubscriptionNotActive:
        case AlertKind::SubscriptionRejected:
        case AlertKind::LatencyP99:
        case AlertKind::Integrity:
            gone = subscriptionGone;
            break;
        case AlertKind::ConnectionDown:
            gone = connectionGone;
            break;
        default:
            break;
        }
        runRule(rule, rs, obs, nowMs, wallNow, d->maxFiringPerRule, d->history, d->historyCapacity, d->seq,
                out, gone);
        rs.primed = true;
    }
    for (const Alert &a : std::as_const(out.resolved))
        Q_EMIT resolved(a);
    for (const Alert &a : std::as_const(out.fired))
        Q_EMIT fired(a);
    for (const Alert &a : std::as_const(out.updated))
        Q_EMIT updated(a);
}

void AlertEngine::noteSlowClientCut(const QString &client, qint64 nowMs, const QDateTime &wallNow)
{
    bool any = false;
    for (const AlertRule &rule : std::as_const(m_rules)) {
        if (!rule.enabled || rule.kind != AlertKind::GatewaySlowClient)
            continue;
        RuleState &rs = d->states[rule.id];
        auto &cuts = rs.events[client];
        cuts.push_back(nowMs);
        while (cuts.size() > 10000)
            cuts.pop_front();
        any = true;
    }
    if (!any)
        return;
    // Fire at once (an event, not a condition): evaluate only the gateway rules.
    Changes out;
    for (const AlertRule &rule : std::as_const(m_rules)) {
        if (!rule.enabled || rule.kind != AlertKind::GatewaySlowClient)
            continue;
        RuleState &rs = d->states[rule.id];
        const qint64 windowMs = static_cast<qint64>(rule.windowMinutes) * 60000;
        QList<Observation> obs;
        for (auto it = rs.events.cbegin(); it != rs.events.cend(); ++it) {
            qint64 n = 0;
            for (qint64 t : *it)
                n += nowMs - t <= windowMs ? 1 : 0;
            if (n > 0)
                obs.append({it.key(), double(n),
                            u"gateway client %1 cut off as slow ({v} times in %2 min)"_s.arg(it.key()).arg(
                                rule.windowMinutes),
                            false});
        }
        runRule(rule, rs, obs, nowMs, wallNow, d->maxFiringPerRule, d->history, d->historyCapacity, d->seq,
                out);
    }
    for (const Alert &a : std::as_const(out.resolved))
        Q_EMIT resolved(a);
    for (const Alert &a : std::as_const(out.fired))
        Q_EMIT fired(a);
    for (const Alert &a : std::as_const(out.updated))
        Q_EMIT updated(a);
}

QList<Alert> AlertEngine::firing() const
{
    QList<Alert> out;
    for (const RuleState &rs : std::as_const(d->states)) {
        for (const Track &t : rs.tracks)
            if (t.firing)
                out.append(t.alert);
        if (rs.summary.firing)
            out.append(rs.summary.alert);
    }
    std::sort(out.begin(), out.end(), [](const Alert &a, const Alert &b) { return a.seq > b.seq; });
    return out;
}

QList<Alert> AlertEngine::history() const
{
    return QList<Alert>(d->history.cbegin(), d->history.cend());
}

int AlertEngine::firingCount() const
{
    int n = 0;
    for (auto it = d->states.cbegin(); it != d->states.cend(); ++it)
        n += firingCount(it.key());
    return n;
}

int AlertEngine::firingCount(const QString &ruleId) const
{
    const auto it = d->states.constFind(ruleId);
    if (it == d->states.cend())
        return 0;
    int n = it->summary.firing ? 1 : 0;
    for (const Track &t : it->tracks)
        n += t.firing ? 1 : 0;
    return n;
}

int AlertEngine::subjectsFiring(const QString &ruleId) const
{
    const auto it = d->states.constFind(ruleId);
    if (it == d->states.cend())
        return 0;
    int n = it->summary.firing ? it->held : 0;
    for (const Track &t : it->tracks)
        n += t.firing ? 1 : 0;
    return n;
}

} // namespace FeedScope

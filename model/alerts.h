#pragma once

#include "pooltypes.h"
#include "report.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>

namespace FeedScope {

/// What an alert rule watches (issue 17). Every kind reads what the engine already knows: the
/// published PoolSnapshot and the dispatcher's figures.
enum class AlertKind : quint8 {
    SubscriptionStale,     ///< a subscription's data stale for `forSeconds`        (subject: subscription)
    SubscriptionNotActive, ///< pending/restoring/unplaceable for `forSeconds`       (subject: subscription)
    SubscriptionRejected,  ///< rejected or failed (threshold unused)                (subject: subscription)
    ConnectionDown,        ///< not open for `forSeconds`                            (subject: connection)
    ReconnectStorm,    ///< more than `threshold` reconnects in `windowMinutes`  (subject: pool or connection)
    Drops,             ///< dispatcher drops in the last `windowMinutes` > threshold (subject: consumer)
    LatencyP99,        ///< data-latency p99 (10 s) above `threshold` ms         (subject: subscription)
    Integrity,         ///< integrity violations in `windowMinutes` > threshold  (subject: subscription)
    BudgetUse,         ///< outgoing or new-connection budget above `threshold` % (subject: budget)
    GatewaySlowClient, ///< a gateway client cut off as slow (the gateway, issue 14)
};
inline constexpr int AlertKindCount = 10;

enum class AlertSeverity : quint8 { Warning, Critical };

/// The raw name of a kind (profiles, JSON, session log): "subscriptionStale", "connectionDown", ...
QLatin1StringView nameOf(AlertKind kind);
/// The kind of a raw name; false for an unknown one.
bool alertKindFromName(const QString &name, AlertKind *kind);
QLatin1StringView nameOf(AlertSeverity severity); ///< "warning", "critical"

/// One rule. Fires once when its condition has held for `forSeconds`, resolves once when the
/// condition has been false for `clearSeconds` (hysteresis: a flapping value does not re-fire).
struct AlertRule
{
    QString id; ///< stable, unique: profile key, metric label (`feedscope_alerts_firing{rule}`)
    AlertKind kind = AlertKind::SubscriptionStale;
    bool enabled = true;
    AlertSeverity severity = AlertSeverity::Warning;
    double threshold = 0;  ///< meaning depends on kind (count, ms, percent)
    int forSeconds = 0;    ///< the condition must hold this long before firing
    int clearSeconds = 10; ///< ... and be false this long before resolving
    int windowMinutes = 5; ///< for counting kinds (reconnects, drops, integrity)
    /// Human sentence for the Settings dialog and the Alerts panel, e.g. "A connection down for
    /// more than 30 s".
    QString describe() const;
    QJsonObject toJson() const;
    /// False with @p error for unknown kinds, negative values, missing id.
    static bool fromJson(const QJsonObject &o, AlertRule *rule, QString *error);
};

/// The rules FeedScope ships with, one per kind, enabled (GatewaySlowClient too: it can only
/// fire once a gateway runs).
QList<AlertRule> defaultAlertRules();

/// The `alerts` section of a profile (and the `--alert-rules` file):
/// `{"rules": [{"id": ..., "kind": ..., ...}], "command": "notify-send-alert --to ops",
/// "commandTimeoutSeconds": 10}`. A listed rule with the id of a default replaces that default ("kind" may
/// then be left out;
/// `"enabled": false` turns it off); a new id adds a rule. Defaults cannot be removed, only
/// disabled. Fields a rule leaves out keep its kind's default.
struct AlertSettings
{
    QList<AlertRule> rules = defaultAlertRules();
    QString command;          ///< run for every fired/resolved alert (headless); empty: none
    int commandTimeoutS = 10; ///< the command is killed after this long
};

/// Strict: unknown keys, bad rules and duplicate ids are errors naming the key, after @p prefix
/// (`"alerts.rules[2]": alert rule "x": "threshold" must be ...`).
bool alertSettingsFromJson(const QJsonValue &json, AlertSettings *settings, QString *error,
                           const QString &prefix = QString());
/// Only what differs from the defaults: the rules that are not a default as it ships, the
/// command and its time limit when set. Empty when everything is the default.
QJsonObject alertSettingsToJson(const AlertSettings &settings);

/// One firing of one rule on one subject.
struct Alert
{
    quint64 seq = 0; ///< increasing over the run
    QString ruleId;
    AlertKind kind = AlertKind::SubscriptionStale;
    AlertSeverity severity = AlertSeverity::Warning;
    QString subject;  ///< canonical subscription key, "connection 3", consumer name, ...
    QString text;     ///< one human line: "ETH l2Book stale for 42 s"
    double value = 0; ///< the value that fired it (and its latest while firing)
    double threshold = 0;
    QDateTime firedAt;    ///< wall clock
    QDateTime resolvedAt; ///< invalid while firing
    bool firing() const { return !resolvedAt.isValid(); }
    QJsonObject toJson() const; ///< what --alert-command gets on stdin and the session log keeps
};

/// Evaluates the rules against every published snapshot on its owner's thread (the engine's).
/// Never one signal per frame: at most one fired/resolved per rule and subject per evaluation.
class AlertEngine final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertEngine)

public:
    explicit AlertEngine(QObject *parent = nullptr);
    ~AlertEngine() override;

    void setRules(const QList<AlertRule> &rules); ///< firing alerts of removed/disabled rules resolve
    const QList<AlertRule> &rules() const { return m_rules; }

    /// @p nowMs a monotonic clock in ms (tests pass their own), @p wallNow for the alert times.
    void evaluate(const PoolSnapshot &snapshot, const DispatcherFigures &dispatcher, qint64 nowMs,
                  const QDateTime &wallNow);
    /// A gateway client cut off as slow (called by the gateway; fires GatewaySlowClient rules).
    void noteSlowClientCut(const QString &client, qint64 nowMs, const QDateTime &wallNow);

    QList<Alert> firing() const;  ///< newest first
    QList<Alert> history() const; ///< resolved ones, newest first, bounded (historyCapacity)
    int firingCount() const;
    int firingCount(const QString &ruleId) const;
    void setHistoryCapacity(int n);
    int historyCapacity() const;

    // Additions beyond the first contract (issue 17, alerts engineer):
    /// The new-connection budget's limit (PoolConfig::newConnectionsPerMinute; 30 unless set):
    /// BudgetUse compares PoolCounters::newConnectionsLastMinute against it.
    void setNewConnectionLimit(int perMinute);
    /// At most this many alerts fire per rule (100 unless set); beyond it one summary alert per
    /// rule ("and N more: <rule>", subject "+more", value N) stands for the rest.
    void setMaxFiringPerRule(int n);
    int maxFiringPerRule() const;
    /// Subjects whose condition fires for @p ruleId now: the firing alerts plus those held back
    /// by the cap (the summary alert itself not counted). The metric exports this.
    int subjectsFiring(const QString &ruleId) const;
    /// The rule with @p id, or nullptr.
    const AlertRule *rule(const QString &id) const;

Q_SIGNALS:
    void fired(const FeedScope::Alert &alert);
    void resolved(const FeedScope::Alert &alert);
    /// A firing alert's value changed (the Alerts panel refreshes it); at most once per evaluation.
    void updated(const FeedScope::Alert &alert);

private:
    struct Private;
    QList<AlertRule> m_rules;
    std::unique_ptr<Private> d;
};

} // namespace FeedScope

Q_DECLARE_METATYPE(FeedScope::Alert)

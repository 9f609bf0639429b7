#pragma once

#include "alerts.h"
#include "poolmodels.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QPointer>

namespace FeedScope {

/// Roles of the Alerts table beside the shared ModelRole ones.
enum AlertsModelRole {
    AlertSubscriptionRole = Qt::UserRole + 64, ///< the canonical subscription of the subject, if one
    AlertConnectionRole,                       ///< the connection id of the subject, else -1
    AlertFiringRole,                           ///< bool
};

/// What an alert kind measures, in words: the Settings page and the Alerts panel share it.
namespace AlertWords {
/// The rule's kind in a few words ("Channel data late").
QString kindName(AlertKind kind);
/// Whether the kind reads AlertRule::threshold / windowMinutes / forSeconds.
bool usesThreshold(AlertKind kind);
bool usesWindow(AlertKind kind);
bool usesFor(AlertKind kind);
/// The threshold's unit in words, plural ("reconnects", "ms", "%"); empty when unused.
QString thresholdUnit(AlertKind kind);
/// The threshold's range in the Settings page.
double thresholdMinimum(AlertKind kind);
double thresholdMaximum(AlertKind kind);
/// The subject as the other tables name it: a subscription "l2Book ETH" (as the Channels table),
/// "connection #3", the rest as it is.
QString subject(const QString &subject);
/// The value and the limit with units: "12 reconnects (more than 5 in 10 min)", "p99 340 ms
/// (limit 250 ms)", "stale 42 s (limit 30 s)".
QString value(const Alert &alert, const AlertRule *rule);
QString severity(AlertSeverity s);
} // namespace AlertWords

/// The alerts of an AlertEngine as a table: the firing ones first (newest first), then the
/// history (resolved, newest first, bounded). Columns: time, rule, subject, value, state and how
/// long it fired. Follows the engine's fired/resolved/updated signals (alerts are rare: one
/// insert or move each); the durations of the firing ones tick with refreshDurations().
class AlertsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertsModel)

public:
    enum Column { Time, Rule, Subject, Value, State, Duration, ColumnCount };
    Q_ENUM(Column)

    explicit AlertsModel(AlertEngine *engine, QObject *parent = nullptr);
    ~AlertsModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    const Alert *alertAt(int row) const;
    int firingCount() const { return m_firing; }
    /// Firing alerts of severity Critical.
    int criticalCount() const;
    /// Resolved alerts kept (the oldest go first); 500 by default.
    void setHistoryCapacity(int n);
    int historyCapacity() const { return m_capacity; }
    /// Reads the engine's alerts again (after its rules changed, say).
    void reload();
    /// The Duration column of the firing alerts changed (once a second from the window).
    void refreshDurations();

Q_SIGNALS:
    /// The number of firing alerts (or of critical ones) changed.
    void firingChanged(int firing, int critical);

private:
    void onFired(const Alert &a);
    void onResolved(const Alert &a);
    void onUpdated(const Alert &a);
    int firingRowOf(quint64 seq) const;
    void trimHistory();
    const AlertRule *ruleOf(const QString &id) const;

    QPointer<AlertEngine> m_engine;
    QList<Alert> m_rows; ///< [0, m_firing) firing, newest first; then resolved, newest first
    int m_firing = 0;
    int m_capacity = 500;
};

} // namespace FeedScope

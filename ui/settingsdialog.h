#pragma once

#include "alerts.h"
#include "profile.h"

#include <QDialog>
#include <QHash>

class QAbstractSpinBox;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;

namespace FeedScope {

/// Settings, grouped: the endpoint; connections; liveness (heartbeat, silence probes, stale
/// data); reconnect backoff; the per-IP budget; the dispatcher; the display. Every field has a
/// tooltip with its unit, its range and the venue's limit; a warning shows beside a value beyond
/// Hyperliquid's per-IP limits (PROTOCOL.md §3). Group titles say when the settings take effect
/// (the next start, or at once for the display). Saved with QSettings; the command line overrides
/// them; profiles import from and export to JSON files.
///
/// Values the run uses for itself only (runOnlyValues(): the demo feed's subscriptions per
/// connection) are shown and saved as the user's setting, with a note saying what the run uses.
class SettingsDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit SettingsDialog(const Profile &current, QWidget *parent = nullptr);

    /// The profile the fields describe; nullopt with @p error when a field is bad.
    std::optional<Profile> profile(QString *error) const;
    void setProfile(const Profile &p);
    bool importProfile(const QString &path, QString *error);
    /// Writes the profile as JSON (handshake header values left out).
    bool exportProfile(const QString &path, QString *error) const;

    /// The warning beside the field named @p field (its object name, e.g. "maxConnections");
    /// empty while the value is within the venue's limits.
    QString warning(const QString &field) const;
    /// The note on values this run uses for itself only (empty when there are none).
    QString runOnlyNote() const;
    /// The dialog's message line (errors, import and export results).
    QString statusText() const;

    /// Settings → Alerts: the rules (each on or off, severity, limit, for, clear after, window),
    /// the desktop notifications switch and a reset to the defaults. The rules are the profile's
    /// section "alerts" (Profile::alerts.rules, engine.alertRules): saved, imported and exported
    /// with the rest.
    enum Page { GeneralPage, AlertsPage };
    void showAlertsPage();
    QTabWidget *pages() const { return m_pages; }
    QTableWidget *alertRulesTable() const;
    void setAlertRules(const QList<AlertRule> &rules);
    /// The rules as edited; nullopt with @p error (naming the rule and the field in words).
    std::optional<QList<AlertRule>> alertRules(QString *error) const;
    bool notificationsEnabled() const;
    void setNotificationsEnabled(bool on);

    /// Settings → Gateway (issue 14): on or off, port, address, token (a password field; a token
    /// already set is never shown back, only replaced or removed), the slow-client policy and
    /// queue bound, max clients, idle close, the linger, the per-client limits. The profile's
    /// section "gateway". Saved changes restart the gateway (its clients reconnect).
    void showGatewayPage();
    QWidget *gatewayPage() const { return m_gatewayPage; }
    void setGatewaySettings(const GatewaySettings &s);
    /// The gateway as edited; nullopt with @p error naming the field in words.
    std::optional<GatewaySettings> gatewaySettings(QString *error) const;

public Q_SLOTS:
    void accept() override;

private:
    QWidget *field(QWidget *editor, const char *name, const QString &tooltip);
    void updateWarnings();
    void setWarning(const char *field, const QString &text, const QString &detail);
    QString humanError(const QString &error) const;
    QWidget *buildAlertsPage();
    std::optional<AlertRule> alertRuleAt(int row) const;
    void updateAlertRow(int row);
    QString thresholdTip(AlertKind kind) const;
    QWidget *buildGatewayPage();
    void updateGatewayFields();

    QLineEdit *m_url = nullptr;
    QSpinBox *m_maxConnections = nullptr, *m_perConnection = nullptr, *m_ping = nullptr, *m_stale = nullptr,
             *m_pong = nullptr, *m_backoffInitial = nullptr, *m_backoffMax = nullptr, *m_outgoing = nullptr,
             *m_newConnections = nullptr, *m_capacity = nullptr, *m_threads = nullptr, *m_ioThreads = nullptr,
             *m_refresh = nullptr, *m_silenceMinimum = nullptr, *m_probeTimeout = nullptr;
    QDoubleSpinBox *m_staleFactor = nullptr, *m_silenceFactor = nullptr;
    QComboBox *m_policy = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_runOnlyNote = nullptr;
    QHash<QString, QLabel *> m_warnings; ///< by field name
    QHash<QString, QString> m_labels;    ///< profile key ("pool.pingIntervalMs") → field label
    Profile m_base; ///< what the fields do not show (headers, subscriptions) comes from here
    QTabWidget *m_pages = nullptr;
    QTableWidget *m_alertRules = nullptr;
    QCheckBox *m_notifications = nullptr;
    QList<AlertRule> m_rules; ///< the rules shown (ids, kinds and what the table does not edit)
    // Settings → Gateway
    QWidget *m_gatewayPage = nullptr;
    QCheckBox *m_gwEnabled = nullptr;
    QLineEdit *m_gwPort = nullptr, *m_gwBind = nullptr, *m_gwToken = nullptr;
    QPushButton *m_gwRemoveToken = nullptr;
    QComboBox *m_gwPolicy = nullptr;
    QSpinBox *m_gwQueueKiB = nullptr, *m_gwMaxClients = nullptr, *m_gwIdle = nullptr, *m_gwLinger = nullptr,
             *m_gwMaxSubscriptions = nullptr, *m_gwMessagesPerMinute = nullptr, *m_gwFrameKiB = nullptr;
    GatewaySettings m_gwBase;      ///< what the page does not show (threads, metrics, hub limits)
    bool m_gwTokenRemoved = false; ///< the token set before is removed when saved
};

} // namespace FeedScope

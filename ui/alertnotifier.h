#pragma once

#include "alerts.h"

#include <QObject>
#include <QPointer>
#include <QSet>

#include <functional>

class QSystemTrayIcon;

namespace FeedScope {

/// Desktop notifications of fired alerts through the system tray (QSystemTrayIcon::showMessage),
/// once per alert, while the user did not turn them off (Settings → Alerts) and only where a
/// tray exists. Never in tests: FEEDSCOPE_NO_NOTIFICATIONS=1 turns them off for the process, the
/// offscreen platform has no tray, and tests replace the tray with setSink().
class AlertNotifier final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertNotifier)

public:
    /// The QSettings key of the user's choice (on by default).
    static QString settingsKey();
    /// The user's saved choice.
    static bool enabledInSettings();
    static void saveEnabled(bool on);
    /// Whether this process can show notifications: a system tray, not turned off by the environment.
    static bool trayAvailable();

    explicit AlertNotifier(AlertEngine *engine, QObject *parent = nullptr);
    ~AlertNotifier() override;

    void setEnabled(bool on);
    bool isEnabled() const { return m_enabled; }
    /// Whether a fired alert would be shown now (enabled, and a tray or a sink).
    bool isActive() const;

    /// Replaces the tray (tests): called with each notification instead of showMessage.
    using Sink = std::function<void(const QString &title, const QString &body, AlertSeverity severity)>;
    void setSink(Sink sink);
    /// Notifications shown so far (alerts fired together make one).
    int shownCount() const { return m_shown; }

Q_SIGNALS:
    /// The user clicked a notification or the tray icon: show the Alerts.
    void activated();

private:
    void onFired(const Alert &alert);
    void flush();
    void updateTray();

    QPointer<AlertEngine> m_engine;
    QSystemTrayIcon *m_tray = nullptr;
    Sink m_sink;
    QSet<quint64> m_notified; ///< seqs seen (once per fired alert)
    QList<Alert> m_pending;   ///< fired in this turn of the event loop: one notification
    bool m_enabled = true;
    int m_shown = 0;
};

} // namespace FeedScope

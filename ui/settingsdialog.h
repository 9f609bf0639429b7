#pragma once

#include "profile.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace FeedScope {

/// Settings: endpoint, pool limits, heartbeat, backoff, outgoing budget, dispatcher policy,
/// capacity and threads, UI refresh. Saved with QSettings (they apply at the next start; the
/// command line overrides them); profiles import from and export to JSON files.
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

public Q_SLOTS:
    void accept() override;

private:
    QLineEdit *m_url = nullptr;
    QSpinBox *m_maxConnections = nullptr, *m_perConnection = nullptr, *m_ping = nullptr, *m_stale = nullptr,
             *m_pong = nullptr, *m_backoffInitial = nullptr, *m_backoffMax = nullptr, *m_outgoing = nullptr,
             *m_newConnections = nullptr, *m_capacity = nullptr, *m_threads = nullptr, *m_ioThreads = nullptr,
             *m_refresh = nullptr;
    QDoubleSpinBox *m_staleFactor = nullptr;
    QComboBox *m_policy = nullptr;
    QLabel *m_status = nullptr;
    Profile m_base; ///< what the fields do not show (headers, subscriptions) comes from here
};

} // namespace FeedScope

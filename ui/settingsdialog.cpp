#include "settingsdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
QSpinBox *spin(QWidget *parent, int min, int max, const QString &suffix = {})
{
    auto *s = new QSpinBox(parent);
    s->setRange(min, max);
    s->setSuffix(suffix);
    s->setGroupSeparatorShown(true);
    return s;
}
} // namespace

SettingsDialog::SettingsDialog(const Profile &current, QWidget *parent) : QDialog(parent), m_base(current)
{
    setWindowTitle(tr("Settings"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_url = new QLineEdit(this);
    m_url->setPlaceholderText(tr("empty: the embedded demo feed; e.g. wss://api.hyperliquid.xyz/ws"));
    form->addRow(tr("Endpoint"), m_url);
    form->addRow(tr("Connections"), m_maxConnections = spin(this, 1, 1000));
    form->addRow(tr("Subscriptions per connection"), m_perConnection = spin(this, 1, 100000));
    form->addRow(tr("Ping interval"), m_ping = spin(this, 100, 3600000, u" ms"_s));
    form->addRow(tr("Pong timeout"), m_pong = spin(this, 100, 3600000, u" ms"_s));
    m_stale = spin(this, 0, 86400000, u" ms"_s);
    m_stale->setSpecialValueText(tr("2 × ping + 10 s"));
    form->addRow(tr("Reconnect when silent for"), m_stale);
    form->addRow(tr("Backoff first retry up to"), m_backoffInitial = spin(this, 1, 3600000, u" ms"_s));
    form->addRow(tr("Backoff at most"), m_backoffMax = spin(this, 1, 3600000, u" ms"_s));
    form->addRow(tr("Messages out per minute"), m_outgoing = spin(this, 10, 10000000));
    form->addRow(tr("New connections per minute"), m_newConnections = spin(this, 1, 100000));
    m_staleFactor = new QDoubleSpinBox(this);
    m_staleFactor->setRange(0.01, 1000);
    m_staleFactor->setSuffix(tr(" × the type's cadence"));
    form->addRow(tr("Data stale after"), m_staleFactor);
    m_policy = new QComboBox(this);
    for (DispatchPolicy p : {DispatchPolicy::Lossless, DispatchPolicy::DropOldest, DispatchPolicy::DropNewest,
                             DispatchPolicy::CoalesceLatest})
        m_policy->addItem(QString(nameOf(p)), QString(nameOf(p)));
    form->addRow(tr("Dispatch policy"), m_policy);
    form->addRow(tr("Queue per consumer"), m_capacity = spin(this, 1, 100000000));
    form->addRow(tr("Dispatcher threads"), m_threads = spin(this, 1, 64));
    form->addRow(tr("I/O threads"), m_ioThreads = spin(this, 1, 64));
    form->addRow(tr("UI refresh"), m_refresh = spin(this, 16, 10000, u" ms"_s));
    layout->addLayout(form);
    auto *note = new QLabel(
        tr("Saved settings apply at the next start; options on the command line override them."), this);
    note->setWordWrap(true);
    layout->addWidget(note);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Save | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    QPushButton *importButton = buttons->addButton(tr("&Import profile…"), QDialogButtonBox::ActionRole);
    QPushButton *exportButton = buttons->addButton(tr("&Export profile…"), QDialogButtonBox::ActionRole);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
        setProfile(Profile{});
        m_status->setText(tr("Defaults restored (not saved yet)"));
    });
    connect(importButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import profile"), QString(),
                                                          tr("FeedScope profiles (*.json);;All files (*)"));
        QString error;
        if (!path.isEmpty())
            m_status->setText(importProfile(path, &error) ? tr("Imported %1 (not saved yet)").arg(path)
                                                          : error);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export profile"), u"feedscope-profile.json"_s, tr("FeedScope profiles (*.json)"));
        QString error;
        if (!path.isEmpty())
            m_status->setText(exportProfile(path, &error)
                                  ? tr("Exported to %1 (header values left out)").arg(path)
                                  : error);
    });
    setProfile(current);
}

void SettingsDialog::setProfile(const Profile &p)
{
    const PoolConfig &c = p.engine.pool;
    m_url->setText(p.url.isEmpty() ? QString() : p.url.toString());
    m_maxConnections->setValue(c.maxConnections);
    m_perConnection->setValue(c.maxSubscriptionsPerConnection);
    m_ping->setValue(static_cast<int>(c.pingInterval.count()));
    m_pong->setValue(static_cast<int>(c.pongTimeout.count()));
    m_stale->setValue(static_cast<int>(c.staleTimeout.count()));
    m_backoffInitial->setValue(static_cast<int>(c.backoffInitial.count()));
    m_backoffMax->setValue(static_cast<int>(c.backoffMax.count()));
    m_outgoing->setValue(c.outgoingPerMinute);
    m_newConnections->setValue(c.newConnectionsPerMinute);
    m_staleFactor->setValue(c.dataStaleFactor);
    m_policy->setCurrentIndex(m_policy->findData(QString(nameOf(p.engine.policy))));
    m_capacity->setValue(static_cast<int>(std::min<qsizetype>(p.engine.queueCapacity, 100000000)));
    m_threads->setValue(p.engine.dispatchThreads);
    m_ioThreads->setValue(c.ioThreads);
    m_refresh->setValue(p.uiRefreshMs);
}

std::optional<Profile> SettingsDialog::profile(QString *error) const
{
    // Through the JSON form, so the dialog and the files share one validation.
    Profile p = m_base;
    PoolConfig &c = p.engine.pool;
    const QString url = m_url->text().trimmed();
    p.url = QUrl(url);
    c.maxConnections = m_maxConnections->value();
    c.maxSubscriptionsPerConnection = m_perConnection->value();
    c.pingInterval = std::chrono::milliseconds(m_ping->value());
    c.pongTimeout = std::chrono::milliseconds(m_pong->value());
    c.staleTimeout = std::chrono::milliseconds(m_stale->value());
    c.backoffInitial = std::chrono::milliseconds(m_backoffInitial->value());
    c.backoffMax = std::chrono::milliseconds(m_backoffMax->value());
    c.outgoingPerMinute = m_outgoing->value();
    c.newConnectionsPerMinute = m_newConnections->value();
    c.dataStaleFactor = m_staleFactor->value();
    c.ioThreads = m_ioThreads->value();
    p.engine.policy =
        dispatchPolicyFromName(m_policy->currentData().toString()).value_or(DispatchPolicy::Lossless);
    p.engine.queueCapacity = m_capacity->value();
    p.engine.dispatchThreads = m_threads->value();
    p.uiRefreshMs = m_refresh->value();
    QJsonObject json = profileToJson(p, true);
    json.insert(u"url"_s, url);
    return profileFromJson(QJsonDocument(json).toJson(), error);
}

bool SettingsDialog::importProfile(const QString &path, QString *error)
{
    const auto p = readProfile(path, error);
    if (!p)
        return false;
    m_base = *p;
    setProfile(*p);
    return true;
}

bool SettingsDialog::exportProfile(const QString &path, QString *error) const
{
    const auto p = profile(error);
    if (!p)
        return false;
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) ||
        f.write(QJsonDocument(profileToJson(*p, false)).toJson(QJsonDocument::Indented)) < 0 || !f.commit()) {
        *error = tr("Cannot write %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

void SettingsDialog::accept()
{
    QString error;
    const auto p = profile(&error);
    if (!p) {
        m_status->setText(error);
        return;
    }
    saveProfile(*p);
    QDialog::accept();
}

} // namespace FeedScope

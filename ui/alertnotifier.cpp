#include "alertnotifier.h"

#include "alertsmodel.h"

#include <QApplication>
#include <QGuiApplication>
#include <QSettings>
#include <QStyle>
#include <QSystemTrayIcon>

#include <algorithm>
#include <utility>

using namespace Qt::StringLiterals;

namespace FeedScope {

QString AlertNotifier::settingsKey()
{
    return u"UI/v1/alertNotifications"_s;
}

bool AlertNotifier::enabledInSettings()
{
    return QSettings().value(settingsKey(), true).toBool();
}

void AlertNotifier::saveEnabled(bool on)
{
    QSettings s;
    s.setValue(settingsKey(), on);
    s.sync();
}

bool AlertNotifier::trayAvailable()
{
    if (qEnvironmentVariableIntValue("FEEDSCOPE_NO_NOTIFICATIONS") != 0)
        return false;
    if (QGuiApplication::platformName() == u"offscreen"_s || QGuiApplication::platformName() == u"minimal"_s)
        return false;
    return QSystemTrayIcon::isSystemTrayAvailable() && QSystemTrayIcon::supportsMessages();
}

AlertNotifier::AlertNotifier(AlertEngine *engine, QObject *parent) : QObject(parent), m_engine(engine)
{
    if (engine)
        connect(engine, &AlertEngine::fired, this, &AlertNotifier::onFired);
    // Alerts firing before the notifier existed are not news.
    if (engine)
        for (const Alert &a : engine->firing())
            m_notified.insert(a.seq);
    m_enabled = enabledInSettings();
    updateTray();
}

AlertNotifier::~AlertNotifier() = default;

void AlertNotifier::setEnabled(bool on)
{
    m_enabled = on;
    updateTray();
}

bool AlertNotifier::isActive() const
{
    return m_enabled && (m_sink || m_tray);
}

void AlertNotifier::setSink(Sink sink)
{
    m_sink = std::move(sink);
    updateTray();
}

void AlertNotifier::updateTray()
{
    const bool want = m_enabled && !m_sink && trayAvailable();
    if (want && !m_tray) {
        m_tray = new QSystemTrayIcon(this);
        QIcon icon = QApplication::windowIcon();
        if (icon.isNull())
            icon = QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        m_tray->setIcon(icon);
        m_tray->setToolTip(tr("FeedScope: alerts"));
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, &AlertNotifier::activated);
        connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
            if (r == QSystemTrayIcon::Trigger || r == QSystemTrayIcon::DoubleClick)
                Q_EMIT activated();
        });
        m_tray->show();
    } else if (!want && m_tray) {
        m_tray->hide();
        m_tray->deleteLater();
        m_tray = nullptr;
    }
}

void AlertNotifier::onFired(const Alert &alert)
{
    if (m_notified.contains(alert.seq))
        return; // once per fired alert
    m_notified.insert(alert.seq);
    if (!isActive())
        return;
    // Alerts fired together (one evaluation) make one notification, not a pile.
    m_pending.append(alert);
    if (m_pending.size() == 1)
        QMetaObject::invokeMethod(this, &AlertNotifier::flush, Qt::QueuedConnection);
}

void AlertNotifier::flush()
{
    const QList<Alert> alerts = std::exchange(m_pending, {});
    if (alerts.isEmpty() || !isActive())
        return;
    const bool critical = std::any_of(alerts.cbegin(), alerts.cend(),
                                      [](const Alert &a) { return a.severity == AlertSeverity::Critical; });
    auto line = [](const Alert &a) {
        QString text = a.text.isEmpty() ? AlertWords::subject(a.subject) : a.text;
        if (a.text.isEmpty())
            text = AlertWords::kindName(a.kind) + u": "_s + text;
        return text;
    };
    QString title, body;
    if (alerts.size() == 1) {
        const Alert &a = alerts.constFirst();
        title = critical ? tr("FeedScope: critical — %1").arg(AlertWords::kindName(a.kind))
                         : tr("FeedScope: %1").arg(AlertWords::kindName(a.kind));
        body = line(a);
    } else {
        title = critical ? tr("FeedScope: %1 alerts fired, critical among them").arg(alerts.size())
                         : tr("FeedScope: %1 alerts fired").arg(alerts.size());
        QStringList lines;
        for (int i = 0; i < std::min<qsizetype>(alerts.size(), 3); ++i)
            lines.append(line(alerts.at(i)));
        if (alerts.size() > 3)
            lines.append(tr("… and %1 more in the Alerts tab").arg(alerts.size() - 3));
        body = lines.join(u'\n');
    }
    const AlertSeverity severity = critical ? AlertSeverity::Critical : AlertSeverity::Warning;
    ++m_shown;
    if (m_sink) {
        m_sink(title, body, severity);
        return;
    }
    if (m_tray)
        m_tray->showMessage(title, body, critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Warning,
                            10000);
}

} // namespace FeedScope

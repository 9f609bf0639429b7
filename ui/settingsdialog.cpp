#include "settingsdialog.h"

#include "alertnotifier.h"
#include "alertsmodel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSpinBox>
#include <QStyle>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

// Hyperliquid's per-IP limits (PROTOCOL.md §3).
constexpr int VenueConnections = 10;
constexpr int VenueNewConnectionsPerMinute = 30;
constexpr int VenueSubscriptions = 1000;
constexpr int VenueMessagesPerMinute = 2000;
constexpr int VenueIdleCloseMs = 60000;

QSpinBox *spin(QWidget *parent, int min, int max, const QString &suffix = {})
{
    auto *s = new QSpinBox(parent);
    s->setRange(min, max);
    s->setSuffix(suffix);
    s->setGroupSeparatorShown(true);
    return s;
}

QGroupBox *group(const QString &title, QFormLayout **form)
{
    auto *g = new QGroupBox(title);
    *form = new QFormLayout(g);
    (*form)->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    return g;
}

} // namespace

SettingsDialog::SettingsDialog(const Profile &current, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Settings"));
    const QString nextStart = tr("Applies when FeedScope next starts.");
    auto *layout = new QVBoxLayout(this);

    // The endpoint stays a direct child of the dialog: the first line edit it holds.
    auto *top = new QFormLayout;
    m_url = new QLineEdit(this);
    m_url->setObjectName(u"url"_s);
    m_url->setPlaceholderText(tr("empty: the embedded demo feed; e.g. wss://api.hyperliquid.xyz/ws"));
    m_url->setToolTip(tr("The WebSocket endpoint, ws:// or wss://; empty for the embedded demo feed.\n"
                         "Hyperliquid: wss://api.hyperliquid.xyz/ws (testnet: "
                         "wss://api.hyperliquid-testnet.xyz/ws).\n%1\nProfile: url; option --url")
                          .arg(nextStart));
    top->addRow(tr("&Endpoint (next start)"), m_url);
    layout->addLayout(top);

    auto *columns = new QHBoxLayout;
    auto *left = new QVBoxLayout;
    auto *right = new QVBoxLayout;
    columns->addLayout(left);
    columns->addLayout(right);
    // Pages: the engine's settings, and the alert rules (Settings → Alerts).
    m_pages = new QTabWidget(this);
    m_pages->setObjectName(u"pages"_s);
    auto *general = new QWidget;
    general->setLayout(columns);
    m_pages->addTab(general, tr("Gener&al"));
    layout->addWidget(m_pages);
    QFormLayout *form = nullptr;

    auto row = [&](const QString &label, const char *key, QWidget *editor, const QString &tip) {
        form->addRow(label, field(editor, key, tip));
        if (QWidget *l = form->labelForField(editor->parentWidget()))
            l->setToolTip(tip);
        if (auto *l = qobject_cast<QLabel *>(form->labelForField(editor->parentWidget())))
            l->setBuddy(editor);
        QString name = label;
        m_labels.insert(QString::fromLatin1(key), name.remove(u'&'));
    };

    left->addWidget(group(tr("Connections (next start)"), &form));
    row(tr("Co&nnections"), "pool.maxConnections", m_maxConnections = spin(this, 1, 1000),
        tr("How many WebSocket connections the pool opens, 1 to 1,000.\nHyperliquid allows %1 per IP "
           "address.\n%2\nProfile: pool.maxConnections; option --max-connections")
            .arg(VenueConnections)
            .arg(nextStart));
    row(tr("&Subscriptions per connection"), "pool.maxSubscriptionsPerConnection",
        m_perConnection = spin(this, 1, 100000),
        tr("The most subscriptions placed on one connection, 1 to 100,000.\nHyperliquid allows %L1 "
           "subscriptions per IP address in all, over every connection.\n%2\nProfile: "
           "pool.maxSubscriptionsPerConnection; option --max-subscriptions-per-connection")
            .arg(VenueSubscriptions)
            .arg(nextStart));
    row(tr("I/O &threads"), "pool.ioThreads", m_ioThreads = spin(this, 1, 64),
        tr("Event-loop threads the connections are spread over, 1 to 64 (1 is plenty below a few "
           "thousand messages a second).\n%1\nProfile: pool.ioThreads; option --io-threads")
            .arg(nextStart));

    left->addWidget(group(tr("Liveness (next start)"), &form));
    row(tr("&Ping interval"), "pool.pingIntervalMs", m_ping = spin(this, 100, 3600000, tr(" ms")),
        tr("A ping goes out after this long without sending, in milliseconds (100 ms to 1 h).\n"
           "Hyperliquid closes a connection after 60 s without a message: stay well below.\n%1\n"
           "Profile: pool.pingIntervalMs; option --ping-interval-ms")
            .arg(nextStart));
    row(tr("P&ong timeout"), "pool.pongTimeoutMs", m_pong = spin(this, 100, 3600000, tr(" ms")),
        tr("Reconnect when a ping has no pong within this long, in milliseconds (100 ms to 1 h).\n%1\n"
           "Profile: pool.pongTimeoutMs")
            .arg(nextStart));
    m_stale = spin(this, 0, 86400000, tr(" ms"));
    m_stale->setSpecialValueText(tr("2 × ping + 10 s"));
    row(tr("&Reconnect when silent for"), "pool.staleTimeoutMs", m_stale,
        tr("Reconnect a connection that received nothing at all (not even a pong) for this long, in "
           "milliseconds; 0: twice the ping interval plus 10 s. Must be longer than the ping interval.\n"
           "%1\nProfile: pool.staleTimeoutMs; option --stale-timeout-ms")
            .arg(nextStart));
    m_silenceFactor = new QDoubleSpinBox(this);
    m_silenceFactor->setRange(0, 1000);
    m_silenceFactor->setDecimals(1);
    m_silenceFactor->setSingleStep(0.5);
    m_silenceFactor->setSpecialValueText(tr("off"));
    m_silenceFactor->setSuffix(tr(" × its usual gap"));
    row(tr("Probe when &quiet for"), "pool.silenceFactor", m_silenceFactor,
        tr("Fast stall detection: a connection that stays silent for this many of its usual gaps "
           "between frames is probed with a ping at once. 0 turns it off; otherwise 1 to 1,000.\n%1\n"
           "Profile: pool.silenceFactor; option --silence-factor")
            .arg(nextStart));
    row(tr("…but not before"), "pool.silenceMinimumMs", m_silenceMinimum = spin(this, 0, 3600000, tr(" ms")),
        tr("A connection is probed after at least this much silence, in milliseconds (0 to 1 h), however "
           "short its usual gap.\n%1\nProfile: pool.silenceMinimumMs; option --silence-minimum-ms")
            .arg(nextStart));
    row(tr("Probe answer &within"), "pool.probeTimeoutMs",
        m_probeTimeout = spin(this, 100, 3600000, tr(" ms")),
        tr("A probed connection with no pong within this long is reconnected, in milliseconds "
           "(100 ms to 1 h).\n%1\nProfile: pool.probeTimeoutMs; option --probe-timeout-ms")
            .arg(nextStart));
    m_staleFactor = new QDoubleSpinBox(this);
    m_staleFactor->setRange(0.01, 1000);
    m_staleFactor->setSuffix(tr(" × the type's cadence"));
    row(tr("&Data stale after"), "pool.dataStaleFactor", m_staleFactor,
        tr("A channel's data counts as stale after this many of its type's expected intervals without "
           "a message (0.01 to 1,000); event-driven types are never stale.\n%1\nProfile: "
           "pool.dataStaleFactor; option --data-stale-factor")
            .arg(nextStart));

    right->addWidget(group(tr("Reconnect backoff (next start)"), &form));
    row(tr("&First retry within"), "pool.backoffInitialMs",
        m_backoffInitial = spin(this, 1, 3600000, tr(" ms")),
        tr("The first retry after a drop waits a random time up to this, in milliseconds (1 ms to 1 h); "
           "each further retry waits up to twice as long.\n%1\nProfile: pool.backoffInitialMs")
            .arg(nextStart));
    row(tr("Retries wait at &most"), "pool.backoffMaxMs", m_backoffMax = spin(this, 1, 3600000, tr(" ms")),
        tr("The longest wait between two attempts, in milliseconds (1 ms to 1 h); not below the first "
           "retry.\n%1\nProfile: pool.backoffMaxMs")
            .arg(nextStart));

    right->addWidget(group(tr("Per-IP budget (next start)"), &form));
    row(tr("Messa&ges out per minute"), "pool.outgoingPerMinute", m_outgoing = spin(this, 10, 10000000),
        tr("Frames the whole pool sends in any 60 s (subscribes, unsubscribes, pings), 10 to 10,000,000.\n"
           "Hyperliquid allows %L1 a minute per IP address; the default 1,800 leaves room.\n%2\n"
           "Profile: pool.outgoingPerMinute; option --outgoing-rate")
            .arg(VenueMessagesPerMinute)
            .arg(nextStart));
    row(tr("New conn&ections per minute"), "pool.newConnectionsPerMinute",
        m_newConnections = spin(this, 1, 100000),
        tr("Connections the pool opens in any 60 s, reconnects included, 1 to 100,000.\nHyperliquid "
           "allows %1 a minute per IP address.\n%2\nProfile: pool.newConnectionsPerMinute")
            .arg(VenueNewConnectionsPerMinute)
            .arg(nextStart));

    right->addWidget(group(tr("Dispatcher (next start)"), &form));
    m_policy = new QComboBox(this);
    m_policy->addItem(tr("Lossless"), QString(nameOf(DispatchPolicy::Lossless)));
    m_policy->addItem(tr("Drop the oldest"), QString(nameOf(DispatchPolicy::DropOldest)));
    m_policy->addItem(tr("Drop the newest"), QString(nameOf(DispatchPolicy::DropNewest)));
    m_policy->addItem(tr("Keep the latest per channel"), QString(nameOf(DispatchPolicy::CoalesceLatest)));
    row(tr("When a &queue is full"), "dispatcher.policy", m_policy,
        tr("What a consumer's full queue does: Lossless never drops (the I/O thread delivers the "
           "queued frames itself, which can slow reading); Drop the oldest / newest frame; Keep the "
           "latest per channel (for snapshots such as order books).\n%1\nProfile: dispatcher.policy "
           "(lossless, drop-oldest, drop-newest, coalesce-latest); option --dispatch-policy")
            .arg(nextStart));
    row(tr("Queue per cons&umer"), "dispatcher.queueCapacity", m_capacity = spin(this, 1, 100000000),
        tr("Frames each worker consumer may hold queued, 1 to 100,000,000.\n%1\nProfile: "
           "dispatcher.queueCapacity; option --queue-capacity")
            .arg(nextStart));
    row(tr("Dispatcher t&hreads"), "dispatcher.threads", m_threads = spin(this, 1, 64),
        tr("Worker threads of the dispatcher, 1 to 64.\n%1\nProfile: dispatcher.threads; option "
           "--dispatch-threads")
            .arg(nextStart));

    right->addWidget(group(tr("Display (applies at once)"), &form));
    row(tr("Refresh the &views every"), "ui.refreshMs", m_refresh = spin(this, 16, 10000, tr(" ms")),
        tr("How often the tables and gauges refresh, in milliseconds (16 to 10,000). Applies at once "
           "when saved.\nProfile: ui.refreshMs"));
    right->addStretch();
    left->addStretch();
    m_pages->addTab(buildAlertsPage(), tr("A&lerts"));
    m_pages->addTab(buildGatewayPage(), tr("Gatewa&y"));
    // Tab goes from the endpoint through the fields; the pages switch with Ctrl+Tab or Alt+A / Alt+L.
    m_pages->tabBar()->setFocusPolicy(Qt::ClickFocus);

    m_runOnlyNote = new QLabel(this);
    m_runOnlyNote->setObjectName(u"runOnlyNote"_s);
    m_runOnlyNote->setWordWrap(true);
    m_runOnlyNote->setVisible(false);
    layout->addWidget(m_runOnlyNote);
    auto *note = new QLabel(tr("Saved settings apply when FeedScope next starts (the view refresh at once); "
                               "options on the command line override them."),
                            this);
    note->setWordWrap(true);
    layout->addWidget(note);
    m_status = new QLabel(this);
    m_status->setObjectName(u"status"_s);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Save | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    QPushButton *importButton = buttons->addButton(tr("&Import profile…"), QDialogButtonBox::ActionRole);
    QPushButton *exportButton = buttons->addButton(tr("E&xport profile…"), QDialogButtonBox::ActionRole);
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
    for (QSpinBox *s : {m_maxConnections, m_perConnection, m_ping, m_outgoing, m_newConnections})
        connect(s, &QSpinBox::valueChanged, this, &SettingsDialog::updateWarnings);

    // What this run uses for itself only (the demo feed's spread) is not the user's setting.
    QList<RunOnlyValue> replaced;
    m_base = withoutRunOnlyValues(current, &replaced);
    QStringList parts;
    for (const RunOnlyValue &v : std::as_const(replaced)) {
        const QString label = m_labels.value(v.section + u'.' + v.key, v.key);
        const QString value = v.run.isDouble() ? QLocale().toString(v.run.toDouble()) : v.run.toString();
        parts.append(tr("“%1” is %2").arg(label, value));
    }
    if (!parts.isEmpty()) {
        m_runOnlyNote->setText(tr("This run (the demo feed) uses values of its own: %1. The fields show your "
                                  "settings, and Save keeps those.")
                                   .arg(parts.join(u"; "_s)));
        m_runOnlyNote->setVisible(true);
    }
    setProfile(m_base);
}

QWidget *SettingsDialog::field(QWidget *editor, const char *name, const QString &tooltip)
{
    const QString key = QString::fromLatin1(name);
    const QString shortName = key.mid(key.indexOf(u'.') + 1);
    auto *box = new QWidget;
    auto *h = new QHBoxLayout(box);
    h->setContentsMargins(0, 0, 0, 0);
    editor->setObjectName(shortName);
    editor->setToolTip(tooltip);
    h->addWidget(editor);
    auto *warning = new QLabel(box);
    warning->setObjectName(shortName + u"Warning"_s);
    warning->setVisible(false);
    h->addWidget(warning);
    h->addStretch();
    m_warnings.insert(shortName, warning);
    return box;
}

void SettingsDialog::setWarning(const char *field, const QString &text, const QString &detail)
{
    QLabel *l = m_warnings.value(QString::fromLatin1(field));
    if (!l)
        return;
    l->setText(text.isEmpty() ? QString() : u"⚠ "_s + text);
    l->setToolTip(detail);
    l->setVisible(!text.isEmpty());
}

void SettingsDialog::updateWarnings()
{
    setWarning("maxConnections",
               m_maxConnections->value() > VenueConnections
                   ? tr("Hyperliquid allows %1").arg(VenueConnections)
                   : QString(),
               tr("Hyperliquid accepts at most %1 WebSocket connections per IP address; more are refused "
                  "or closed.")
                   .arg(VenueConnections));
    const qint64 total = static_cast<qint64>(m_maxConnections->value()) * m_perConnection->value();
    QString perConnection;
    if (m_perConnection->value() > VenueSubscriptions)
        perConnection = tr("Hyperliquid allows %L1 in all").arg(VenueSubscriptions);
    else if (total > VenueSubscriptions)
        perConnection = tr("%L1 in the pool; Hyperliquid allows %L2").arg(total).arg(VenueSubscriptions);
    setWarning("maxSubscriptionsPerConnection", perConnection,
               tr("Hyperliquid accepts at most %L1 subscriptions per IP address, over all connections "
                  "together (connections × subscriptions per connection = %L2); the server refuses the rest.")
                   .arg(VenueSubscriptions)
                   .arg(total));
    setWarning("pingIntervalMs",
               m_ping->value() >= VenueIdleCloseMs ? tr("Hyperliquid closes quiet links after 60 s")
                                                   : QString(),
               tr("Hyperliquid closes a connection that sent nothing for 60 s: a quiet channel needs pings "
                  "well inside that (30 s is usual)."));
    setWarning("outgoingPerMinute",
               m_outgoing->value() > VenueMessagesPerMinute
                   ? tr("Hyperliquid allows %L1").arg(VenueMessagesPerMinute)
                   : QString(),
               tr("Hyperliquid accepts at most %L1 messages a minute per IP address from all connections "
                  "together; beyond that it answers with errors and may close connections.")
                   .arg(VenueMessagesPerMinute));
    setWarning("newConnectionsPerMinute",
               m_newConnections->value() > VenueNewConnectionsPerMinute
                   ? tr("Hyperliquid allows %1").arg(VenueNewConnectionsPerMinute)
                   : QString(),
               tr("Hyperliquid accepts at most %1 new WebSocket connections a minute per IP address; a "
                  "reconnect storm beyond that is refused.")
                   .arg(VenueNewConnectionsPerMinute));
}

QString SettingsDialog::warning(const QString &field) const
{
    const QLabel *l = m_warnings.value(field);
    return l && !l->isHidden() ? l->text() : QString();
}

QString SettingsDialog::runOnlyNote() const
{
    return m_runOnlyNote->isHidden() ? QString() : m_runOnlyNote->text();
}

QString SettingsDialog::statusText() const
{
    return m_status->text();
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
    m_silenceFactor->setValue(c.silenceFactor);
    m_silenceMinimum->setValue(static_cast<int>(c.silenceMinimum.count()));
    m_probeTimeout->setValue(static_cast<int>(c.probeTimeout.count()));
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
    setAlertRules(p.alerts.rules);
    setGatewaySettings(p.gateway);
    updateWarnings();
}

QString SettingsDialog::humanError(const QString &error) const
{
    // The profile's errors name keys ("pool.backoffMaxMs"); the dialog names its fields.
    QString out = error;
    for (auto it = m_labels.begin(); it != m_labels.end(); ++it)
        out.replace(u'"' + it.key() + u'"', u"“"_s + it.value() + u"”"_s);
    return out;
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
    c.silenceFactor = m_silenceFactor->value();
    c.silenceMinimum = std::chrono::milliseconds(m_silenceMinimum->value());
    c.probeTimeout = std::chrono::milliseconds(m_probeTimeout->value());
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
    const auto rules = alertRules(error);
    if (!rules)
        return std::nullopt;
    p.alerts.rules = *rules;
    p.engine.alertRules = *rules;
    const auto gateway = gatewaySettings(error);
    if (!gateway)
        return std::nullopt;
    p.gateway = *gateway;
    QJsonObject json = profileToJson(p, true);
    json.insert(u"url"_s, url);
    QString why;
    auto out = profileFromJson(QJsonDocument(json).toJson(), &why);
    if (!out)
        *error = humanError(why);
    if (out)
        out->gateway = *gateway; // as edited, the token included
    return out;
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
    if (!alertRules(&error)) {
        m_pages->setCurrentIndex(AlertsPage); // where the bad rule is
        m_status->setText(error);
        return;
    }
    if (!gatewaySettings(&error)) {
        m_pages->setCurrentWidget(m_gatewayPage); // where the bad field is
        m_status->setText(error);
        return;
    }
    const auto p = profile(&error);
    if (!p) {
        m_status->setText(error);
        return;
    }
    saveProfile(*p); // the rules with it: the profile's section "alerts"
    AlertNotifier::saveEnabled(notificationsEnabled());
    QDialog::accept();
}

// ---------------------------------------------------------------------------------------------
// Settings → Alerts

namespace {
enum AlertColumn { ColRule, ColSeverity, ColThreshold, ColFor, ColClear, ColWindow, ColFires, AlertColumns };
} // namespace

QWidget *SettingsDialog::buildAlertsPage()
{
    auto *page = new QWidget;
    page->setObjectName(u"alertsPage"_s);
    auto *v = new QVBoxLayout(page);
    auto *intro =
        new QLabel(tr("An alert fires once its rule's condition has held for “For”, and resolves once "
                      "it has been false for “Clear after” (a flapping value does not fire again). "
                      "Applies at once when saved."),
                   page);
    intro->setWordWrap(true);
    v->addWidget(intro);
    m_alertRules = new QTableWidget(0, AlertColumns, page);
    m_alertRules->setObjectName(u"alertRules"_s);
    m_alertRules->setHorizontalHeaderLabels({tr("Rule (on/off)"), tr("Severity"), tr("Limit"), tr("For"),
                                             tr("Clear after"), tr("Window"), tr("Fires when")});
    const QStringList tips{
        tr("Tick to turn the rule on; the name says what it watches"),
        tr("Critical alerts turn the status bar red, warnings amber"),
        tr("The rule's limit, in the unit beside it (count, milliseconds or percent); “—” when the rule has "
           "none"),
        tr("How long the condition must hold before the alert fires, in seconds"),
        tr("How long the condition must be false before the alert resolves, in seconds"),
        tr("The span, in minutes, over which counting rules (reconnects, drops, integrity) count"),
        tr("The rule in words, as you edit it")};
    for (int c = 0; c < AlertColumns; ++c)
        m_alertRules->horizontalHeaderItem(c)->setToolTip(tips.at(c));
    m_alertRules->verticalHeader()->setVisible(false);
    m_alertRules->setSelectionMode(QAbstractItemView::NoSelection);
    m_alertRules->horizontalHeader()->setStretchLastSection(true);
    m_alertRules->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Rows as tall as their editors, and every rule in sight without scrolling.
    // Two lines for the rule in words ("Fires when"), which wraps.
    m_alertRules->setWordWrap(true);
    m_alertRules->verticalHeader()->setDefaultSectionSize(
        std::max(QSpinBox().sizeHint().height() + 2, 2 * fontMetrics().lineSpacing() + 6));
    connect(m_alertRules, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (item->column() == ColRule)
            updateAlertRow(item->row());
    });
    v->addWidget(m_alertRules, 1);

    auto *bottom = new QHBoxLayout;
    m_notifications = new QCheckBox(tr("Show a desktop &notification when an alert fires"), page);
    m_notifications->setObjectName(u"alertNotifications"_s);
    const bool tray = AlertNotifier::trayAvailable();
    m_notifications->setToolTip(
        tray ? tr("A message from the system tray once per fired alert (alerts fired together make one).")
             : tr("A message from the system tray once per fired alert. This desktop has no system tray (or "
                  "notifications are off for this run): none can show here."));
    bottom->addWidget(m_notifications);
    if (!tray) {
        auto *none = new QLabel(tr("(no system tray here)"), page);
        none->setObjectName(u"noTray"_s);
        none->setForegroundRole(QPalette::PlaceholderText);
        bottom->addWidget(none);
    }
    bottom->addStretch(1);
    auto *reset = new QPushButton(tr("Reset alert rules to &defaults"), page);
    reset->setObjectName(u"resetAlerts"_s);
    reset->setToolTip(tr("The rules FeedScope ships with (not saved until Save)"));
    connect(reset, &QPushButton::clicked, this, [this] {
        setAlertRules(defaultAlertRules());
        m_status->setText(tr("Alert rules reset to the defaults (not saved yet)"));
    });
    bottom->addWidget(reset);
    v->addLayout(bottom);
    setAlertRules(defaultAlertRules());
    m_notifications->setChecked(AlertNotifier::enabledInSettings());
    return page;
}

void SettingsDialog::showAlertsPage()
{
    m_pages->setCurrentIndex(AlertsPage);
}

QTableWidget *SettingsDialog::alertRulesTable() const
{
    return m_alertRules;
}

bool SettingsDialog::notificationsEnabled() const
{
    return m_notifications->isChecked();
}

void SettingsDialog::setNotificationsEnabled(bool on)
{
    m_notifications->setChecked(on);
}

void SettingsDialog::setAlertRules(const QList<AlertRule> &rules)
{
    const QSignalBlocker block(m_alertRules);
    m_rules = rules;
    // The old editors go later (deleteLater): nameless at once, so only the new ones are found.
    for (int row = 0; row < m_alertRules->rowCount(); ++row)
        for (int c = 0; c < AlertColumns; ++c)
            if (QWidget *w = m_alertRules->cellWidget(row, c))
                w->setObjectName(QString());
    m_alertRules->clearContents();
    m_alertRules->setRowCount(static_cast<int>(rules.size()));
    for (int row = 0; row < rules.size(); ++row) {
        const AlertRule &r = rules.at(row);
        const QString name = AlertWords::kindName(r.kind);
        auto *item = new QTableWidgetItem(name);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        item->setCheckState(r.enabled ? Qt::Checked : Qt::Unchecked);
        item->setToolTip(tr("%1\nRule id: %2 (profile section “alerts”, metric label)").arg(name, r.id));
        m_alertRules->setItem(row, ColRule, item);

        auto *severity = new QComboBox;
        severity->setObjectName(u"severity:"_s + r.id);
        severity->addItem(tr("Warning"), static_cast<int>(AlertSeverity::Warning));
        severity->addItem(tr("Critical"), static_cast<int>(AlertSeverity::Critical));
        severity->setCurrentIndex(r.severity == AlertSeverity::Critical ? 1 : 0);
        connect(severity, &QComboBox::currentIndexChanged, this, [this, row] { updateAlertRow(row); });
        m_alertRules->setCellWidget(row, ColSeverity, severity);

        auto unused = [&](int column) {
            auto *none = new QTableWidgetItem(u"—"_s);
            none->setFlags(Qt::ItemIsEnabled);
            none->setToolTip(tr("Not used by this rule"));
            none->setTextAlignment(Qt::AlignCenter);
            m_alertRules->setItem(row, column, none);
        };
        if (AlertWords::usesThreshold(r.kind)) {
            auto *t = new QDoubleSpinBox;
            t->setObjectName(u"threshold:"_s + r.id);
            t->setDecimals(0);
            t->setRange(AlertWords::thresholdMinimum(r.kind), AlertWords::thresholdMaximum(r.kind));
            t->setSuffix(u' ' + AlertWords::thresholdUnit(r.kind));
            t->setGroupSeparatorShown(true);
            if (t->minimum() == 0)
                t->setSpecialValueText(tr("any"));
            t->setValue(r.threshold);
            t->setToolTip(thresholdTip(r.kind));
            connect(t, &QDoubleSpinBox::valueChanged, this, [this, row] { updateAlertRow(row); });
            m_alertRules->setCellWidget(row, ColThreshold, t);
        } else {
            unused(ColThreshold);
        }
        auto seconds = [&](int column, const QString &key, int value, const QString &tip) {
            auto *sb = new QSpinBox;
            sb->setObjectName(key + u':' + r.id);
            sb->setRange(0, 86400);
            sb->setSuffix(tr(" s"));
            sb->setGroupSeparatorShown(true);
            sb->setValue(value);
            sb->setToolTip(tip);
            connect(sb, &QSpinBox::valueChanged, this, [this, row] { updateAlertRow(row); });
            m_alertRules->setCellWidget(row, column, sb);
        };
        if (AlertWords::usesFor(r.kind))
            seconds(ColFor, u"for"_s, r.forSeconds,
                    tr("Fires once the condition has held this long, in seconds (0 to 86,400; 0: at once)"));
        else
            unused(ColFor);
        seconds(ColClear, u"clear"_s, r.clearSeconds,
                tr("Resolves once the condition has been false this long, in seconds (0 to 86,400)"));
        if (AlertWords::usesWindow(r.kind)) {
            auto *w = new QSpinBox;
            w->setObjectName(u"window:"_s + r.id);
            w->setRange(1, 1440);
            w->setSuffix(tr(" min"));
            w->setValue(std::max(1, r.windowMinutes));
            w->setToolTip(tr("Counts over the last this many minutes (1 to 1,440, a day)"));
            connect(w, &QSpinBox::valueChanged, this, [this, row] { updateAlertRow(row); });
            m_alertRules->setCellWidget(row, ColWindow, w);
        } else {
            unused(ColWindow);
        }
        auto *fires = new QTableWidgetItem;
        fires->setFlags(Qt::ItemIsEnabled);
        m_alertRules->setItem(row, ColFires, fires);
        updateAlertRow(row);
    }
    m_alertRules->resizeColumnsToContents();
    m_alertRules->setColumnWidth(ColThreshold, std::min(m_alertRules->columnWidth(ColThreshold), 120));
    // "Fires when" takes what is left (two lines, elided past that: its tooltip has it all).
    int width = 2 * m_alertRules->frameWidth() + 240;
    for (int c = 0; c < ColFires; ++c)
        width += m_alertRules->columnWidth(c);
    m_alertRules->setMinimumWidth(std::min(width, 900));
    m_alertRules->setMinimumHeight(m_alertRules->horizontalHeader()->sizeHint().height() +
                                   m_alertRules->rowCount() *
                                       m_alertRules->verticalHeader()->defaultSectionSize() +
                                   2 * m_alertRules->frameWidth());
}

QString SettingsDialog::thresholdTip(AlertKind kind) const
{
    switch (kind) {
    case AlertKind::ReconnectStorm:
        return tr("Fires when there are more than this many reconnects within the window (a count)");
    case AlertKind::Drops:
        return tr("Fires when more than this many frames were dropped within the window (0: any drop)");
    case AlertKind::LatencyP99:
        return tr("Fires when a channel's data latency p99 over 10 s is above this, in milliseconds");
    case AlertKind::Integrity:
        return tr("Fires when there are more than this many integrity violations within the window (0: any)");
    case AlertKind::BudgetUse:
        return tr(
            "Fires when a per-IP budget (messages out, new connections) is used beyond this, in percent "
            "(1 to 100)");
    default:
        return {};
    }
}

std::optional<AlertRule> SettingsDialog::alertRuleAt(int row) const
{
    if (row < 0 || row >= m_rules.size())
        return std::nullopt;
    AlertRule r = m_rules.at(row);
    if (const QTableWidgetItem *item = m_alertRules->item(row, ColRule))
        r.enabled = item->checkState() == Qt::Checked;
    if (auto *c = qobject_cast<QComboBox *>(m_alertRules->cellWidget(row, ColSeverity)))
        r.severity = static_cast<AlertSeverity>(c->currentData().toInt());
    if (auto *t = qobject_cast<QDoubleSpinBox *>(m_alertRules->cellWidget(row, ColThreshold)))
        r.threshold = t->value();
    if (auto *f = qobject_cast<QSpinBox *>(m_alertRules->cellWidget(row, ColFor)))
        r.forSeconds = f->value();
    if (auto *c = qobject_cast<QSpinBox *>(m_alertRules->cellWidget(row, ColClear)))
        r.clearSeconds = c->value();
    if (auto *w = qobject_cast<QSpinBox *>(m_alertRules->cellWidget(row, ColWindow)))
        r.windowMinutes = w->value();
    return r;
}

void SettingsDialog::updateAlertRow(int row)
{
    const auto r = alertRuleAt(row);
    QTableWidgetItem *fires = m_alertRules->item(row, ColFires);
    if (!r || !fires)
        return;
    const QString text = r->enabled ? r->describe() : tr("(off) %1").arg(r->describe());
    fires->setText(text);
    fires->setToolTip(text);
    fires->setForeground(r->enabled ? palette().color(QPalette::Text)
                                    : palette().color(QPalette::PlaceholderText));
}

std::optional<QList<AlertRule>> SettingsDialog::alertRules(QString *error) const
{
    QList<AlertRule> out;
    QSet<QString> ids;
    for (int row = 0; row < m_rules.size(); ++row) {
        const AlertRule r = *alertRuleAt(row);
        const QString name = AlertWords::kindName(r.kind);
        // Through the JSON form, so the dialog and the profile files share one validation.
        AlertRule back;
        QString why;
        if (!AlertRule::fromJson(r.toJson(), &back, &why)) {
            if (error) {
                why.replace(u"\"threshold\""_s, tr("“Limit”"))
                    .replace(u"\"forSeconds\""_s, tr("“For” (seconds)"))
                    .replace(u"\"clearSeconds\""_s, tr("“Clear after” (seconds)"))
                    .replace(u"\"windowMinutes\""_s, tr("“Window” (minutes)"));
                *error = tr("Alert rule “%1”: %2").arg(name, why);
            }
            return std::nullopt;
        }
        if (AlertWords::usesThreshold(r.kind) && (r.threshold < AlertWords::thresholdMinimum(r.kind) ||
                                                  r.threshold > AlertWords::thresholdMaximum(r.kind))) {
            if (error)
                *error = tr("Alert rule “%1”: the limit must be from %L2 to %L3 %4")
                             .arg(name)
                             .arg(AlertWords::thresholdMinimum(r.kind))
                             .arg(AlertWords::thresholdMaximum(r.kind))
                             .arg(AlertWords::thresholdUnit(r.kind));
            return std::nullopt;
        }
        if (ids.contains(r.id)) {
            if (error)
                *error = tr("Alert rule “%1”: the id “%2” is used twice").arg(name, r.id);
            return std::nullopt;
        }
        ids.insert(r.id);
        out.append(back);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Settings → Gateway (issue 14)

namespace {
constexpr int MinQueueKiB = 16;
constexpr int MaxQueueKiB = 1024 * 1024; // 1 GiB
constexpr int MaxFrameKiB = 64 * 1024;   // 64 MiB

/// A titled section of the Gateway page (not a QGroupBox: those are the General page's groups,
/// each titled with when it applies; the whole page applies when saved).
QWidget *gatewaySection(const QString &title, QFormLayout **form)
{
    auto *w = new QWidget;
    w->setObjectName(u"gatewaySection"_s);
    auto *v = new QVBoxLayout(w);
    v->setContentsMargins(0, 6, 0, 0);
    auto *label = new QLabel(title, w);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    v->addWidget(label);
    *form = new QFormLayout;
    (*form)->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    v->addLayout(*form);
    return w;
}
} // namespace

QWidget *SettingsDialog::buildGatewayPage()
{
    m_gatewayPage = new QWidget;
    m_gatewayPage->setObjectName(u"gatewayPage"_s);
    auto *v = new QVBoxLayout(m_gatewayPage);
    auto *intro =
        new QLabel(tr("With the gateway on, your bots and scripts connect to FeedScope instead of the "
                      "venue, their SDKs unchanged but for the URL: FeedScope subscribes once per "
                      "distinct subscription on its own connections and shares the data among them. "
                      "The Clients tab shows every bot."),
                   m_gatewayPage);
    intro->setWordWrap(true);
    v->addWidget(intro);
    m_gwEnabled = new QCheckBox(tr("&Run the gateway"), m_gatewayPage);
    m_gwEnabled->setObjectName(u"gatewayEnabled"_s);
    m_gwEnabled->setToolTip(tr("Listen for bots on the address and port below.\nProfile: gateway; option "
                               "--gateway-port"));
    v->addWidget(m_gwEnabled);

    auto *columns = new QHBoxLayout;
    auto *left = new QVBoxLayout;
    auto *right = new QVBoxLayout;
    columns->addLayout(left);
    columns->addLayout(right);
    v->addLayout(columns);
    QFormLayout *form = nullptr;
    auto row = [&](const QString &label, QWidget *editor, const char *name, const QString &tip) {
        editor->setObjectName(QString::fromLatin1(name));
        editor->setToolTip(tip);
        form->addRow(label, editor);
        if (auto *l = qobject_cast<QLabel *>(form->labelForField(editor))) {
            l->setToolTip(tip);
            l->setBuddy(editor);
        }
    };

    left->addWidget(gatewaySection(tr("Where bots connect"), &form));
    m_gwPort = new QLineEdit(m_gatewayPage);
    m_gwPort->setPlaceholderText(tr("0: any free port"));
    m_gwPort->setMaximumWidth(fontMetrics().horizontalAdvance(u"0: any free port (wide)"_s));
    row(tr("&Port"), m_gwPort, "gatewayPort",
        tr("The TCP port bots connect to, 1 to 65,535; 0 picks a free port at every start (the Clients tab "
           "shows it).\nProfile: gateway.port; option --gateway-port"));
    m_gwBind = new QLineEdit(m_gatewayPage);
    m_gwBind->setPlaceholderText(u"127.0.0.1"_s);
    m_gwBind->setMaximumWidth(fontMetrics().horizontalAdvance(u"0000:0000:0000:0000:00"_s));
    row(tr("&Address"), m_gwBind, "gatewayBind",
        tr("The address it listens on: 127.0.0.1 (this machine only, the default), ::1, or another of this "
           "machine's addresses, 0.0.0.0 for all. Anything but loopback needs a token.\nProfile: "
           "gateway.bind; "
           "option --gateway-bind"));
    auto *tokenBox = new QWidget(m_gatewayPage);
    auto *th = new QHBoxLayout(tokenBox);
    th->setContentsMargins(0, 0, 0, 0);
    m_gwToken = new QLineEdit(tokenBox);
    m_gwToken->setEchoMode(QLineEdit::Password);
    m_gwToken->setMinimumWidth(
        fontMetrics().horizontalAdvance(u"a token is set (not shown): type to replace"_s));
    m_gwRemoveToken = new QPushButton(tr("Re&move"), tokenBox);
    m_gwRemoveToken->setObjectName(u"gatewayRemoveToken"_s);
    m_gwRemoveToken->setToolTip(tr("No token when saved: only possible on a loopback address"));
    th->addWidget(m_gwToken, 1);
    th->addWidget(m_gwRemoveToken);
    const QString tokenTip = tr(
        "Bots must send it as the header Authorization: Bearer TOKEN, or ?token=TOKEN in the URL; others are "
        "refused (HTTP 401). Needed on any address but loopback. Never shown here once set, nor logged.\n"
        "Profile: gateway.token; option --gateway-token");
    m_gwToken->setObjectName(u"gatewayToken"_s);
    m_gwToken->setToolTip(tokenTip);
    form->addRow(tr("&Token"), tokenBox);
    if (auto *l = qobject_cast<QLabel *>(form->labelForField(tokenBox))) {
        l->setToolTip(tokenTip);
        l->setBuddy(m_gwToken);
    }
    connect(m_gwRemoveToken, &QPushButton::clicked, this, [this] {
        m_gwTokenRemoved = true;
        m_gwToken->clear();
        updateGatewayFields();
    });
    connect(m_gwToken, &QLineEdit::textEdited, this, [this] { updateGatewayFields(); });
    m_gwMaxClients = spin(m_gatewayPage, 1, 100000);
    row(tr("At most &clients"), m_gwMaxClients, "gatewayMaxClients",
        tr("Bots connected at once, 1 to 100,000; beyond, a bot is refused (HTTP 429).\nProfile: "
           "gateway.maxClients; option --gateway-max-clients"));

    left->addWidget(gatewaySection(tr("A bot that reads too slowly"), &form));
    m_gwPolicy = new QComboBox(m_gatewayPage);
    m_gwPolicy->addItem(tr("Disconnect it"), QString(Gw::nameOf(Gw::SlowPolicy::Disconnect)));
    m_gwPolicy->addItem(tr("Drop its oldest frames"), QString(Gw::nameOf(Gw::SlowPolicy::DropOldest)));
    m_gwPolicy->addItem(tr("Keep the latest per subscription"),
                        QString(Gw::nameOf(Gw::SlowPolicy::CoalesceLatest)));
    row(tr("&Over the bound"), m_gwPolicy, "gatewayPolicy",
        tr("What happens when a bot's queue goes over the bound: Disconnect it (close 1008 “slow consumer”, "
           "the default: it knows and can resubscribe); Drop its oldest frames (counted); Keep the latest "
           "per "
           "subscription (right for books and mids, counted as coalesced). Other bots are never delayed.\n"
           "Profile: gateway.policy (disconnect, drop-oldest, coalesce-latest); option --gateway-policy"));
    m_gwQueueKiB = spin(m_gatewayPage, MinQueueKiB, MaxQueueKiB, tr(" KiB"));
    row(tr("&Queue bound"), m_gwQueueKiB, "gatewayQueue",
        tr("Bytes queued for one bot and not yet written, %L1 KiB to 1 GiB (in KiB).\nProfile: "
           "gateway.queueBytes; option --gateway-queue-bytes")
            .arg(MinQueueKiB));
    m_gwIdle = spin(m_gatewayPage, 0, 86400, tr(" s"));
    m_gwIdle->setSpecialValueText(tr("never"));
    row(tr("Close when &idle for"), m_gwIdle, "gatewayIdle",
        tr("A bot that sends nothing (not even a ping) for this long is closed, in seconds (0: never, up to "
           "a "
           "day). The venue closes after 60 s.\nProfile: gateway.idleSeconds"));

    right->addWidget(gatewaySection(tr("Limits per bot (the venue's by default)"), &form));
    m_gwMaxSubscriptions = spin(m_gatewayPage, 1, 100000);
    row(tr("&Subscriptions"), m_gwMaxSubscriptions, "gatewayMaxSubscriptions",
        tr("Subscriptions one bot may hold, 1 to 100,000 (the venue: 1,000); beyond, the venue's error "
           "text.\nProfile: gateway.maxSubscriptions"));
    m_gwMessagesPerMinute = spin(m_gatewayPage, 1, 1000000);
    row(tr("&Messages a minute"), m_gwMessagesPerMinute, "gatewayMessagesPerMinute",
        tr("Requests one bot may send in any minute, 1 to 1,000,000 (the venue: 2,000); beyond, the venue's "
           "error text.\nProfile: gateway.maxMessagesPerMinute"));
    m_gwFrameKiB = spin(m_gatewayPage, 1, MaxFrameKiB, tr(" KiB"));
    row(tr("&Frame size"), m_gwFrameKiB, "gatewayFrame",
        tr("The largest frame a bot may send, 1 KiB to 64 MiB (in KiB); a larger one closes it (1009).\n"
           "Profile: gateway.maxFrameBytes"));
    right->addWidget(gatewaySection(tr("Sharing"), &form));
    m_gwLinger = spin(m_gatewayPage, 0, 600000, tr(" ms"));
    m_gwLinger->setSpecialValueText(tr("none"));
    row(tr("Keep a subscription &after the last bot"), m_gwLinger, "gatewayLinger",
        tr("When the last bot lets go of a subscription, it stays subscribed upstream this long, in "
           "milliseconds (0 to 10 min), so a bot restart causes no churn.\nProfile: gateway.lingerMs"));
    right->addStretch();
    left->addStretch();

    auto *note = new QLabel(tr("Applies when saved: the gateway restarts, so its bots are disconnected "
                               "(“gateway shutting down”) and reconnect by themselves."),
                            m_gatewayPage);
    note->setObjectName(u"gatewayNote"_s);
    note->setWordWrap(true);
    v->addWidget(note);
    v->addStretch(1);
    connect(m_gwEnabled, &QCheckBox::toggled, this, [this] { updateGatewayFields(); });
    setGatewaySettings(GatewaySettings{});
    return m_gatewayPage;
}

void SettingsDialog::showGatewayPage()
{
    m_pages->setCurrentWidget(m_gatewayPage);
}

void SettingsDialog::setGatewaySettings(const GatewaySettings &s)
{
    m_gwBase = s;
    m_gwTokenRemoved = false;
    const Gw::GatewayConfig &c = s.config.server;
    m_gwEnabled->setChecked(s.enabled);
    m_gwPort->setText(c.port == 0 ? QString() : QString::number(c.port)); // empty: the placeholder says 0
    m_gwBind->setText(c.bind.toString());
    m_gwToken->clear(); // never shown back
    m_gwPolicy->setCurrentIndex(std::max(0, m_gwPolicy->findData(QString(Gw::nameOf(c.policy)))));
    m_gwQueueKiB->setValue(
        static_cast<int>(std::clamp<qint64>(c.queueBytes / 1024, MinQueueKiB, MaxQueueKiB)));
    m_gwMaxClients->setValue(c.maxClients);
    m_gwIdle->setValue(
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(c.idleTimeout).count()));
    m_gwLinger->setValue(static_cast<int>(s.config.hub.linger.count()));
    m_gwMaxSubscriptions->setValue(c.maxSubscriptions);
    m_gwMessagesPerMinute->setValue(c.maxMessagesPerMinute);
    m_gwFrameKiB->setValue(static_cast<int>(std::clamp<qint64>(c.maxFrameBytes / 1024, 1, MaxFrameKiB)));
    updateGatewayFields();
}

void SettingsDialog::updateGatewayFields()
{
    const bool on = m_gwEnabled->isChecked();
    for (QWidget *w : m_gatewayPage->findChildren<QWidget *>(u"gatewaySection"_s))
        w->setEnabled(on);
    const bool set = !m_gwBase.config.server.token.isEmpty() && !m_gwTokenRemoved;
    m_gwToken->setPlaceholderText(set                ? tr("a token is set (not shown): type to replace")
                                  : m_gwTokenRemoved ? tr("none (removed when saved)")
                                                     : tr("none: loopback only"));
    m_gwRemoveToken->setEnabled(set || !m_gwToken->text().isEmpty());
}

std::optional<GatewaySettings> SettingsDialog::gatewaySettings(QString *error) const
{
    auto fail = [&](QWidget *field, const QString &text) -> std::optional<GatewaySettings> {
        if (error)
            *error = tr("Gateway: %1").arg(text);
        if (field && m_pages->currentWidget() == m_gatewayPage)
            field->setFocus(Qt::OtherFocusReason);
        return std::nullopt;
    };
    GatewaySettings s = m_gwBase;
    Gw::GatewayConfig &c = s.config.server;
    s.enabled = m_gwEnabled->isChecked();

    const QString portText = m_gwPort->text().trimmed();
    bool ok = portText.isEmpty();
    const int port = ok ? 0 : portText.toInt(&ok);
    if (!ok || port < 0 || port > 65535)
        return fail(
            m_gwPort,
            tr("the port “%1” is not a port number: use 1 to 65,535, or 0 for any free port").arg(portText));
    c.port = static_cast<quint16>(port);

    const QString bindText = m_gwBind->text().trimmed();
    QHostAddress bind;
    if (bindText.isEmpty() || bindText.compare(u"localhost"_s, Qt::CaseInsensitive) == 0)
        bind = QHostAddress(QHostAddress::LocalHost);
    else if (!bind.setAddress(bindText))
        return fail(m_gwBind,
                    tr("the address “%1” is not an IP address: use 127.0.0.1 (this machine only), ::1, "
                       "one of this machine's addresses, or 0.0.0.0 for all")
                        .arg(bindText));
    c.bind = bind;

    const QString typed = m_gwToken->text();
    if (!typed.isEmpty()) {
        for (QChar ch : typed)
            if (ch.unicode() <= 0x20 || ch.unicode() >= 0x7f)
                return fail(m_gwToken,
                            tr("the token may hold letters, digits and punctuation only (no spaces, "
                               "no accented letters)"));
        c.token = typed.toUtf8();
    } else if (m_gwTokenRemoved) {
        c.token.clear();
    }
    if (s.enabled && !c.bind.isLoopback() && c.token.isEmpty())
        return fail(m_gwToken,
                    tr("it listens on %1, which other machines can reach: set a token (bots send it "
                       "as Authorization: Bearer TOKEN or ?token=TOKEN), or listen on 127.0.0.1")
                        .arg(c.bind.toString()));

    c.policy =
        Gw::slowPolicyFromName(m_gwPolicy->currentData().toString()).value_or(Gw::SlowPolicy::Disconnect);
    c.queueBytes = static_cast<qint64>(m_gwQueueKiB->value()) * 1024;
    c.maxClients = m_gwMaxClients->value();
    c.idleTimeout = std::chrono::seconds(m_gwIdle->value());
    s.config.hub.linger = std::chrono::milliseconds(m_gwLinger->value());
    c.maxSubscriptions = m_gwMaxSubscriptions->value();
    c.maxMessagesPerMinute = m_gwMessagesPerMinute->value();
    c.maxFrameBytes = static_cast<qint64>(m_gwFrameKiB->value()) * 1024;
    return s;
}

} // namespace FeedScope

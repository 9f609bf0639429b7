#pragma once

#include "inspectorview.h"
#include "poolcontroller.h"
#include "sessioneventsview.h"
#include "sessionexport.h"

#include <QJsonObject>
#include <QMainWindow>
#include <QSortFilterProxyModel>

class QAction;
class QGroupBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QTableView;
class QTabWidget;
class QToolButton;

namespace FeedScope {

class ReplaySession;

class AlertNotifier;
class AlertsModel;
class AlertsView;
class ClientsView;
class GatewayService;
struct GatewaySettings;
class FreezeProxy;
class LiveTableView;
class RemoteClientsView;
class SeriesChart;
class SettingsDialog;
class TableProxy;

/// What the Chaos menu asks the demo feed to do.
enum class ChaosAction : quint8 { KillConnection, KillAll, StallConnection, Garbage, Flood, RestartServer };

/// FeedScope's main window. Every view reads the PoolController's models, which change at a fixed
/// rate (10 Hz; charts once a second), never per message. Connections with the per-IP budget
/// gauges; channels with the inspector of the selected one; tabs for the reconnect timeline,
/// throughput and RTT, the dispatcher and the session's events. Actions go to the controller;
/// Chaos (demo feed only) is reported as a signal for app/ to carry out.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(PoolController *controller, QWidget *parent = nullptr);
    ~MainWindow() override;

    void setDemoMode(bool demo);
    void setEndpoint(const QString &url);
    /// A permanent warning in the status bar (e.g. TLS verification off).
    void setInsecureWarning(const QString &text);
    /// Issue 18: the window shows a replayed recording: the replay's bar above the tables, the
    /// title says which recording.
    void setReplay(FeedScope::ReplaySession *session);
    /// Issue 18: the window shows a remote agent (the controller's remote mode): the title and
    /// the status bar say which agent and whether it is attached; a banner above the tables when
    /// it is gone (its last state stays, marked as such); actions act on the agent with its
    /// control token, disabled with the reason without it; the agent's answers in the status bar.
    void setAttached();
    /// The banner shown while the agent is away (hidden while attached).
    QLabel *attachBanner() const { return m_attachBanner; }
    /// The status bar's "attached to HOST:PORT" / "attaching…" / "agent gone".
    QLabel *attachStatus() const { return m_attachStatus; }
    /// File → Attach to agent…
    QAction *attachAction() const { return m_attachAgent; }
    QAction *addSubscriptionsAction() const { return m_addSubscriptions; }
    /// The agent's gateway clients (a tab once the agent has a gateway); null until then.
    RemoteClientsView *remoteClientsView() const { return m_remoteClients; }

    QTableView *connectionsView() const { return m_connectionsView; }
    QTableView *subscriptionsView() const { return m_subscriptionsView; }
    QTableView *reconnectsView() const { return m_reconnectsView; }
    QTableView *dispatcherView() const { return m_dispatcherView; }
    QTableView *eventsView() const { return m_eventsView; }
    SessionEventsView *eventsPage() const { return m_eventsPage; }
    QTabWidget *tabs() const { return m_tabs; }
    QList<SeriesChart *> charts() const { return m_charts; }
    QAction *reconnectSelectedAction() const { return m_reconnectSelected; }
    QAction *reconnectAllAction() const { return m_reconnectAll; }
    QAction *unsubscribeAction() const { return m_unsubscribe; }
    QAction *poolConnectedAction() const { return m_poolConnected; }
    QAction *recordAction() const { return m_record; }
    /// Starts recording to @p path (what the Record action does after its file dialog).
    bool startRecording(const QString &path);
    InspectorView *inspector() const { return m_inspector; }
    InspectorListView *inspectorList() const { return m_inspector->list(); }
    QPlainTextEdit *inspectorText() const { return m_inspector->text(); }
    QProgressBar *budgetGauge(int i) const { return m_gauges.value(i); }
    QString summaryText() const;
    /// Pause updates: the tables keep what they show, the engine keeps running.
    QAction *pauseUpdatesAction() const { return m_pauseUpdates; }
    /// Problems first: rows with problems, then warnings, on top of Channels and Connections.
    QAction *problemsFirstAction() const { return m_problemsFirst; }
    QAction *findChannelAction() const { return m_findChannel; }
    QAction *settingsAction() const { return m_settings; }
    /// The status bar's problems summary (hidden while all is well); a click selects them.
    QToolButton *problemsButton() const { return m_problemsButton; }
    /// "12 of 49 channels" beside the filter box.
    QString channelCountText() const;
    TableProxy *channelsProxy() const { return m_subscriptionsProxy; }
    TableProxy *connectionsProxy() const { return m_connectionsProxy; }
    /// What a connection's *Show its subscriptions* does: the filter box says conn:N.
    void showConnectionSubscriptions(int connection);
    /// Selects the channels (and connections) with problems, as the problems button does.
    void selectProblems();

    /// The Alerts tab (issue 17): firing alerts first, then the history.
    AlertsView *alertsView() const { return m_alertsView; }
    AlertsModel *alertsModel() const { return m_alertsModel; }
    AlertNotifier *alertNotifier() const { return m_alertNotifier; }
    /// The status bar's "⚠ 2 alerts firing" (hidden while none fires); a click shows the Alerts tab.
    QToolButton *alertsButton() const { return m_alertsButton; }
    /// Shows the Alerts tab.
    void showAlerts();
    /// Opens Settings on its Alerts page (what the Alerts tab's button does).
    void openAlertSettings();
    /// Selects the channel @p canonical in Channels (clearing a filter that hides it); false when
    /// it is not subscribed (any more).
    bool selectChannel(const QByteArray &canonical);
    /// Selects the connection @p id in Connections; false when there is none.
    bool selectConnectionRow(int id);

    /// Connection ids selected in the connections table.
    QList<int> selectedConnections() const;
    /// Subscriptions selected in the channels table.
    QList<Hl::Subscription> selectedSubscriptions() const;
    /// Subscribes what the Add dialog returned (the dialog's code path, minus the dialog).
    void addSubscriptions(const QList<Hl::Subscription> &subscriptions);
    /// Exports the session log off the GUI thread with a progress dialog; exportFinished() tells.
    void exportSession(const QString &path, ExportFormat format);
    /// Shows an exported JSONL session in the events view as a file view (a banner, live events
    /// kept apart, Back to live), and says so in the status bar.
    bool importSession(const QString &path, QString *error);
    /// Adds the messages that arrived since the last refresh to the inspector (with Follow on);
    /// the inspector follows the selected channel by itself.
    void refreshInspector();

    /// The gateway (issue 14): takes @p gateway (running, on the controller's engine; the window
    /// owns it from now on), adds the Clients tab and the status bar's "gateway: N clients".
    /// Settings → Gateway restarts it with new settings, or starts one in a window started without.
    void setGateway(FeedScope::GatewayService *gateway);
    /// A gateway that should run but did not start: the Clients tab says why (Settings can fix it).
    void setGatewayError(const FeedScope::GatewaySettings &settings, const QString &error);
    /// Starts a gateway with @p settings on the controller's engine (replacing the one running);
    /// false with @p error, shown in the Clients tab.
    bool startGateway(const FeedScope::GatewaySettings &settings, QString *error);
    /// Closes every client and deletes the gateway (before the controller shuts down).
    void stopGateway();
    GatewayService *gateway() const { return m_gateway; }
    /// Null until a gateway runs or failed to start.
    ClientsView *clientsView() const { return m_clientsView; }
    QToolButton *gatewayButton() const { return m_gatewayButton; }
    /// Shows the Clients tab.
    void showClients();
    /// Opens Settings on its Gateway page.
    void openGatewaySettings();

Q_SIGNALS:
    void chaosRequested(FeedScope::ChaosAction action, int connection);
    /// The Chaos menu's data faults (issue 17): a fault in the demo feed's control format
    /// (`Sim::Fault::fromJson`), e.g. {"fault":"crossed","subscription":{...}} or
    /// {"fault":"delay","amount":500}, for app/ to apply to the demo feed.
    void chaosFaultRequested(const QJsonObject &fault);
    void exportFinished(const FeedScope::ExportResult &result);
    /// File → Replay recording…: the user chose @p path, for app/ to open in a window of its own.
    void replayRequested(const QString &path);
    /// File → Attach to agent…: the user chose an agent, for app/ to open in a window (a process)
    /// of its own. @p token empty: read-only.
    void attachRequested(const QUrl &url, const QByteArray &token, const QString &caFile);
    /// Issue 18: File → Fleet… (app/ opens or raises the fleet window).
    void fleetRequested();

protected:
    void closeEvent(QCloseEvent *event) override;
    /// Line edits would eat the window's shortcuts (Ctrl+E ends the line): they are let through.
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void buildActions();
    void buildViews();
    void updateWidgets();
    void onUpdated();
    void onSeriesUpdated();
    LiveTableView *makeTable(QAbstractItemModel *model, bool sortable);
    TableProxy *proxyFor(QAbstractItemModel *model);
    void setUpdatesPaused(bool paused);
    void updateHealth();
    void updateChannelCount();
    QList<LiveTableView *> tables() const;
    void copySelectedJson();
    void buildAlerts();
    void updateAlertsIndicator();
    void markTitleWithAlerts();
    void prepareAlertSettings(SettingsDialog &dialog);
    void applyAlertSettings(const SettingsDialog &dialog);

    PoolController *m_controller;
    QTableView *m_connectionsView = nullptr;
    QTableView *m_subscriptionsView = nullptr;
    QTableView *m_reconnectsView = nullptr;
    QTableView *m_dispatcherView = nullptr;
    QTableView *m_eventsView = nullptr;
    TableProxy *m_subscriptionsProxy = nullptr;
    TableProxy *m_connectionsProxy = nullptr;
    QList<FreezeProxy *> m_freezers;
    QAction *m_pauseUpdates = nullptr;
    QAction *m_problemsFirst = nullptr;
    QAction *m_findChannel = nullptr;
    QAction *m_settings = nullptr;
    QToolButton *m_problemsButton = nullptr;
    QLabel *m_channelCount = nullptr;
    QLabel *m_pausedLabel = nullptr;
    QList<std::pair<QKeySequence, QAction *>> m_windowShortcuts; ///< with Ctrl, let through line edits
    SessionEventsView *m_eventsPage = nullptr;
    QLineEdit *m_filter = nullptr;
    QTabWidget *m_tabs = nullptr;
    QList<SeriesChart *> m_charts;
    SeriesChart *m_reconnectChart = nullptr;
    InspectorView *m_inspector = nullptr;
    QList<QProgressBar *> m_gauges;
    QAction *m_reconnectSelected = nullptr;
    QAction *m_reconnectAll = nullptr;
    QAction *m_unsubscribe = nullptr;
    QAction *m_poolConnected = nullptr;
    QAction *m_record = nullptr;
    QLabel *m_recordingLabel = nullptr;
    QAction *m_followInspector = nullptr;
    QMenu *m_chaosMenu = nullptr;
    void addDataFaultEntries(); ///< the Chaos menu's integrity and event-time faults
    QLabel *m_summary = nullptr;
    QLabel *m_endpoint = nullptr;
    qint64 m_startedMs = 0;
    bool m_exporting = false;
    bool m_demo = false;
    QString m_titleSource; ///< " — replay of FILE" (issue 18)
    AlertsModel *m_alertsModel = nullptr;
    AlertsView *m_alertsView = nullptr;
    AlertNotifier *m_alertNotifier = nullptr;
    QToolButton *m_alertsButton = nullptr;
    QString m_titleMark;             ///< the alerts' mark at the end of the window title
    QString m_titleMarkShown;        ///< the mark the title carries now
    bool m_settingsOnAlerts = false; ///< the next Settings opens on its Alerts page
    // The gateway (issue 14).
    void ensureClientsTab();
    void updateGatewayIndicator();
    GatewaySettings gatewaySettingsShown() const;
    void applyGatewaySettings(const SettingsDialog &dialog);
    GatewayService *m_gateway = nullptr;
    std::unique_ptr<GatewaySettings> m_gatewaySettings; ///< the settings it runs with (or failed with)
    ClientsView *m_clientsView = nullptr;
    QToolButton *m_gatewayButton = nullptr;
    bool m_settingsOnGateway = false; ///< the next Settings opens on its Gateway page
    QString m_gatewayError;           ///< why the gateway that should run does not
    // Issue 18: attached to a remote agent.
    void updateAttachState();
    void updateRemoteControls();
    void onControlReplied(const QString &what, bool ok, const QString &error, const QJsonObject &result);
    void updateRemoteClients();
    RemoteClientsView *m_remoteClients = nullptr;
    QAction *m_attachAgent = nullptr;
    QAction *m_addSubscriptions = nullptr;
    QLabel *m_attachBanner = nullptr;
    QLabel *m_attachStatus = nullptr;
    QHash<QAction *, QString> m_localToolTips; ///< the actions' tooltips, while control is allowed
    QString m_staleMark;                       ///< in the title while the agent is gone
    QHash<QGroupBox *, QString> m_boxTitles;   ///< the tables' titles (marked while the agent is gone)
};

} // namespace FeedScope

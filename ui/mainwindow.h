#pragma once

#include "poolcontroller.h"
#include "sessioneventsview.h"
#include "sessionexport.h"

#include <QMainWindow>
#include <QSortFilterProxyModel>

class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QPlainTextEdit;
class QProgressBar;
class QTableView;
class QTabWidget;

namespace FeedScope {

class SeriesChart;

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
    QListWidget *inspectorList() const { return m_inspectorList; }
    QPlainTextEdit *inspectorText() const { return m_inspectorText; }
    QProgressBar *budgetGauge(int i) const { return m_gauges.value(i); }
    QString summaryText() const;

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
    /// Refreshes the inspector from the selected channel now.
    void refreshInspector();

Q_SIGNALS:
    void chaosRequested(FeedScope::ChaosAction action, int connection);
    void exportFinished(const FeedScope::ExportResult &result);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildViews();
    void updateWidgets();
    void onUpdated();
    void onSeriesUpdated();
    QTableView *makeTable(QAbstractItemModel *model, bool sortable);
    void showConnectionSubscriptions(int connection);
    void copySelectedJson();
    void showInspectorMessage(int row);

    PoolController *m_controller;
    QTableView *m_connectionsView = nullptr;
    QTableView *m_subscriptionsView = nullptr;
    QTableView *m_reconnectsView = nullptr;
    QTableView *m_dispatcherView = nullptr;
    QTableView *m_eventsView = nullptr;
    QSortFilterProxyModel *m_subscriptionsProxy = nullptr;
    SessionEventsView *m_eventsPage = nullptr;
    QLineEdit *m_filter = nullptr;
    QTabWidget *m_tabs = nullptr;
    QList<SeriesChart *> m_charts;
    SeriesChart *m_reconnectChart = nullptr;
    QListWidget *m_inspectorList = nullptr;
    QPlainTextEdit *m_inspectorText = nullptr;
    QLabel *m_inspectorTitle = nullptr;
    QList<QByteArray> m_inspectorRaw;
    QList<QProgressBar *> m_gauges;
    QAction *m_reconnectSelected = nullptr;
    QAction *m_reconnectAll = nullptr;
    QAction *m_unsubscribe = nullptr;
    QAction *m_poolConnected = nullptr;
    QAction *m_record = nullptr;
    QLabel *m_recordingLabel = nullptr;
    QAction *m_followInspector = nullptr;
    QMenu *m_chaosMenu = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_endpoint = nullptr;
    qint64 m_startedMs = 0;
    bool m_exporting = false;
    bool m_demo = false;
};

} // namespace FeedScope

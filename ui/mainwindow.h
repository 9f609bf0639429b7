#pragma once

#include "poolmodels.h"

#include <QMainWindow>

class QAction;
class QLabel;
class QLineEdit;
class QMenu;
class QSortFilterProxyModel;
class QTableView;

namespace FeedScope {

/// What the Chaos menu asks the demo feed to do.
enum class ChaosAction : quint8 { KillConnection, KillAll, StallConnection, Garbage, Flood, RestartServer };

/// FeedScope's main window: connections, channels and reconnects, all from models fed at a fixed
/// rate; actions are reported as signals and wired in app/.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    MainWindow(ConnectionsModel *connections, SubscriptionsModel *subscriptions, ReconnectsModel *reconnects,
               QWidget *parent = nullptr);
    ~MainWindow() override;

    void setDemoMode(bool demo);
    void setEndpoint(const QString &url);
    void setSummary(const PoolSummary &summary, double messagesPerSecond);
    QTableView *connectionsView() const { return m_connectionsView; }
    QTableView *subscriptionsView() const { return m_subscriptionsView; }
    QTableView *reconnectsView() const { return m_reconnectsView; }
    QAction *reconnectSelectedAction() const { return m_reconnectSelected; }
    QAction *reconnectAllAction() const { return m_reconnectAll; }
    /// Connection ids selected in the connections table.
    QList<int> selectedConnections() const;

Q_SIGNALS:
    void reconnectRequested(const QList<int> &connections);
    void reconnectAllRequested();
    void chaosRequested(FeedScope::ChaosAction action, int connection);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void buildViews();
    void updateWidgets();
    QTableView *makeTable(QAbstractItemModel *model, bool sortable);
    void showConnectionSubscriptions(int connection);

    ConnectionsModel *m_connections;
    SubscriptionsModel *m_subscriptions;
    ReconnectsModel *m_reconnects;
    QTableView *m_connectionsView = nullptr;
    QTableView *m_subscriptionsView = nullptr;
    QTableView *m_reconnectsView = nullptr;
    QSortFilterProxyModel *m_subscriptionsProxy = nullptr;
    QLineEdit *m_filter = nullptr;
    QAction *m_reconnectSelected = nullptr;
    QAction *m_reconnectAll = nullptr;
    QMenu *m_chaosMenu = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_endpoint = nullptr;
    qint64 m_startedMs = 0;
};

} // namespace FeedScope

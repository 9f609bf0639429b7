#pragma once

#include <QPointer>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableView;

namespace FeedScope {

class ClientsModel;
class GatewayService;
class LiveTableView;
class TableProxy;

/// The Clients tab (issue 14): the gateway's downstream clients, one row each (ClientsModel), with
/// a summary line above them (the URL it listens on, clients N of max, the slow-client policy,
/// totals), a filter box like the other tabs, and *Disconnect client* (button and context menu,
/// asked first; the client is closed with "disconnected by the operator"). With no client it says
/// how to connect a bot, with the gateway's real URL; with the gateway not running, why.
/// The rows follow refresh(), once per UI tick, and at once when a client comes or goes.
class ClientsView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientsView)

public:
    explicit ClientsView(QWidget *parent = nullptr);
    ~ClientsView() override;

    /// The gateway shown (not owned); nullptr: none runs.
    void setService(GatewayService *service);
    GatewayService *service() const { return m_service; }
    /// Why the gateway is not running (shown instead of the rows); empty: no error.
    void setStartError(const QString &error);

    /// One UI tick: the rows from the server's clients, the summary line (once a second while the
    /// tab is hidden, so the rates are right when it shows).
    void refresh();
    /// Pause updates: the rows keep what they show.
    void setFrozen(bool frozen);

    ClientsModel *model() const { return m_model; }
    QTableView *table() const;
    TableProxy *proxy() const { return m_proxy; }
    QLineEdit *filter() const { return m_filter; }
    QPushButton *disconnectButton() const { return m_disconnect; }
    QString summaryText() const;
    QString countText() const;
    bool emptyStateShown() const;
    QString emptyStateText() const;

    /// Client ids of the selected rows.
    QList<int> selectedClients() const;
    /// Disconnects @p ids after asking (unless @p ask is false); false when nothing was closed.
    bool disconnectClients(const QList<int> &ids, bool ask = true);

Q_SIGNALS:
    /// The empty state's button: Settings → Gateway.
    void settingsRequested();
    /// A client's *Show its channels*: the Channels filter for its subscriptions.
    void channelsRequested(const QString &filter);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void updateState();
    void updateSummary();
    void scheduleRefresh();

    QPointer<GatewayService> m_service;
    QString m_error;
    bool m_frozen = false;
    bool m_refreshPending = false;
    qint64 m_lastSampleMs = -1;
    static constexpr qint64 HiddenSampleMs = 1000;
    ClientsModel *m_model = nullptr;
    TableProxy *m_proxy = nullptr;
    LiveTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_count = nullptr;
    QPushButton *m_disconnect = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_emptyText = nullptr;
    QPushButton *m_settingsButton = nullptr;
};

} // namespace FeedScope

#pragma once

#include <QWidget>

class QAction;
class QLabel;

namespace FeedScope {

class LiveTableView;
class PoolController;
class TableProxy;

/// The Clients tab of a window attached to an agent (issue 18): the agent's gateway clients as its
/// live stream carries them (name, peer, subscriptions, frames out, queue, drops), in the model the
/// local gateway's tab uses. With the agent's control token a client can be disconnected (the
/// context menu, or the button); without it the action says why it is disabled.
class RemoteClientsView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteClientsView)

public:
    explicit RemoteClientsView(PoolController *controller, QWidget *parent = nullptr);
    ~RemoteClientsView() override;

    LiveTableView *table() const { return m_table; }
    QAction *disconnectAction() const { return m_disconnect; }
    /// Once per tick: the header line and the action's state.
    void refresh();

private:
    PoolController *m_controller;
    TableProxy *m_proxy = nullptr;
    LiveTableView *m_table = nullptr;
    QLabel *m_header = nullptr;
    QAction *m_disconnect = nullptr;
};

} // namespace FeedScope

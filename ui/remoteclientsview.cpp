#include "remoteclientsview.h"

#include "budget.h"
#include "clientsmodel.h"
#include "livesource.h"
#include "livetableview.h"
#include "poolcontroller.h"
#include "tableproxy.h"

#include <QAction>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenu>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

RemoteClientsView::RemoteClientsView(PoolController *controller, QWidget *parent)
    : QWidget(parent), m_controller(controller)
{
    m_proxy = new TableProxy(this);
    m_proxy->setSourceModel(controller->remoteClients());
    m_proxy->setProblemsFirst(true);
    m_table = new LiveTableView(this);
    m_table->setObjectName(u"remoteClients"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ClientsModel::Name, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEmptyText(tr("No client is connected to the agent's gateway."));
    // What the stream does not carry stays hidden rather than showing zeros.
    for (int c :
         {ClientsModel::Connected, ClientsModel::KBPerSec, ClientsModel::HighWater, ClientsModel::Coalesced,
          ClientsModel::RateLimited, ClientsModel::Malformed, ClientsModel::LastError})
        m_table->setColumnHidden(c, true);

    m_disconnect = new QAction(tr("&Disconnect client"), this);
    m_disconnect->setObjectName(u"disconnectRemoteClient"_s);
    connect(m_disconnect, &QAction::triggered, this, [this] {
        const QModelIndex i = m_table->selectionModel()->currentIndex();
        if (!i.isValid())
            return;
        const int id = i.siblingAtColumn(0).data(KeyRole).toInt();
        m_controller->disconnectClient(
            id, m_proxy->index(i.row(), ClientsModel::Name).data(RawValueRole).toString());
    });
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex idx = m_table->indexAt(pos);
        if (!idx.isValid())
            return;
        m_table->selectionModel()->setCurrentIndex(idx, QItemSelectionModel::ClearAndSelect |
                                                            QItemSelectionModel::Rows);
        QMenu menu;
        menu.setToolTipsVisible(true);
        menu.addAction(m_disconnect);
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &RemoteClientsView::refresh);

    m_header = new QLabel(this);
    m_header->setObjectName(u"remoteClientsHeader"_s);
    m_header->setWordWrap(true);
    auto *button = new QToolButton(this);
    button->setDefaultAction(m_disconnect);
    auto *top = new QHBoxLayout;
    top->addWidget(m_header, 1);
    top->addWidget(button);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    refresh();
}

RemoteClientsView::~RemoteClientsView() = default;

void RemoteClientsView::refresh()
{
    const int n = m_controller->remoteClients()->rowCount();
    m_header->setText(
        m_controller->agentHasGateway()
            ? tr("The gateway of the agent %1: %2")
                  .arg(m_controller->agentName(), Format::plural(n, tr("1 client"), tr("%1 clients")))
            : tr("The agent %1 runs no gateway (start it with --gateway-port N).")
                  .arg(m_controller->agentName()));
    const QString why = m_controller->controlRefusal();
    const bool selected = m_table->selectionModel()->currentIndex().isValid();
    m_disconnect->setEnabled(why.isEmpty() && selected);
    m_disconnect->setToolTip(!why.isEmpty() ? why
                             : selected ? tr("Close the selected client's connection to the agent's gateway")
                                        : tr("Select a client first"));
}

} // namespace FeedScope

#include "clientsview.h"

#include "budget.h"
#include "clientsmodel.h"
#include "emptystate.h"
#include "gatewayservice.h"
#include "livetableview.h"
#include "tableproxy.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

/// The URL a bot on this machine uses (a gateway on every address is reached on loopback).
QString localUrl(const Gw::GatewayServer &server)
{
    QUrl url = server.url();
    const QHostAddress bind = server.config().bind;
    if (bind == QHostAddress::Any || bind == QHostAddress::AnyIPv4)
        url.setHost(u"127.0.0.1"_s);
    else if (bind == QHostAddress::AnyIPv6)
        url.setHost(u"::1"_s);
    return url.toString();
}

QString policyText(Gw::SlowPolicy p, qint64 bound)
{
    const QString b = Format::bytes(static_cast<double>(bound));
    switch (p) {
    case Gw::SlowPolicy::Disconnect:
        return ClientsView::tr("a slow client is disconnected over %1 queued").arg(b);
    case Gw::SlowPolicy::DropOldest:
        return ClientsView::tr("a slow client loses its oldest frames over %1 queued").arg(b);
    case Gw::SlowPolicy::CoalesceLatest:
        return ClientsView::tr("a slow client gets the latest frame per subscription over %1 queued").arg(b);
    }
    return QString(Gw::nameOf(p));
}

} // namespace

ClientsView::ClientsView(QWidget *parent) : QWidget(parent)
{
    m_model = new ClientsModel(this);
    m_proxy = new TableProxy(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setProblemsFirst(true); // clients near their bound on top
    m_table = new LiveTableView(this);
    m_table->setObjectName(u"clients"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ClientsModel::Connected, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setWidestText(ClientsModel::Connected, u"23:59:59 · "_s + tr("for 59 min"));
    m_table->setWidestText(ClientsModel::Queue, tr("%1 of %2").arg(u"999.9 KiB"_s, u"4.0 MiB"_s));
    m_table->setEmptyText(tr("No client matches the filter."));
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex idx = m_table->indexAt(pos);
        if (!idx.isValid())
            return;
        const int id = idx.data(KeyRole).toInt();
        const QString name = m_proxy->index(idx.row(), ClientsModel::Name).data(RawValueRole).toString();
        const QString peer = m_proxy->index(idx.row(), ClientsModel::Peer).data().toString();
        QList<int> ids = selectedClients();
        if (!ids.contains(id))
            ids = {id};
        QMenu menu;
        QAction *disconnect = menu.addAction(ids.size() == 1 ? tr("&Disconnect “%1”…").arg(name)
                                                             : tr("&Disconnect %1 clients…").arg(ids.size()),
                                             this, [this, ids] { disconnectClients(ids); });
        disconnect->setObjectName(u"disconnectClientAction"_s);
        menu.addAction(tr("Show its &channels"), this, [this, name, id] {
            Q_EMIT channelsRequested(u"gateway: %1 #%2"_s.arg(name).arg(id));
        });
        menu.addAction(tr("&Copy name and address"), this,
                       [name, peer] { QApplication::clipboard()->setText(name + u' ' + peer); });
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &i) {
        const QString name = m_proxy->index(i.row(), ClientsModel::Name).data(RawValueRole).toString();
        Q_EMIT channelsRequested(u"gateway: %1 #%2"_s.arg(name).arg(i.data(KeyRole).toInt()));
    });

    m_summary = new QLabel(this);
    m_summary->setObjectName(u"clientsSummary"_s);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // One line, never asking the window for width (the tooltip has it all, and more).
    m_summary->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    m_filter = new QLineEdit(this);
    m_filter->setObjectName(u"clientsFilter"_s);
    m_filter->setPlaceholderText(tr("Filter clients: words in any order (bot-a, 127.0.0.1, closing)"));
    m_filter->setToolTip(
        tr("Every word must match some column (name, address, last error…) or the user agent, "
           "in any order, ignoring case"));
    m_filter->setClearButtonEnabled(true);
    m_filter->installEventFilter(this);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterWords(text);
        updateState();
    });
    m_count = new QLabel(this);
    m_count->setObjectName(u"clientsCount"_s);
    m_disconnect = new QPushButton(tr("Dis&connect client…"), this);
    m_disconnect->setObjectName(u"disconnectClient"_s);
    m_disconnect->setToolTip(
        tr("Close the selected clients' links (asked first); they are told “disconnected "
           "by the operator” and may reconnect"));
    m_disconnect->setEnabled(false);
    connect(m_disconnect, &QPushButton::clicked, this, [this] { disconnectClients(selectedClients()); });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { m_disconnect->setEnabled(m_service && !selectedClients().isEmpty()); });

    // The empty state: how to connect a bot, or why the gateway is not running.
    const EmptyState es = makeEmptyState(tr("Settings → Gateway…"), this);
    m_emptyText = es.text;
    m_emptyText->setObjectName(u"clientsEmptyText"_s);
    m_emptyText->setTextInteractionFlags(Qt::TextSelectableByMouse); // the URL, to copy
    m_settingsButton = es.button;
    m_settingsButton->setObjectName(u"clientsSettings"_s);
    connect(m_settingsButton, &QPushButton::clicked, this, &ClientsView::settingsRequested);
    QScrollArea *emptyArea = es.area;
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(emptyArea);
    m_stack->addWidget(m_table);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_summary);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_count);
    bar->addWidget(m_disconnect);
    layout->addLayout(bar);
    layout->addWidget(m_stack, 1);

    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, &ClientsView::updateState);
    updateState();
    updateSummary();
}

ClientsView::~ClientsView() = default;

QTableView *ClientsView::table() const
{
    return m_table;
}

void ClientsView::setService(GatewayService *service)
{
    if (m_service)
        disconnect(m_service, nullptr, this, nullptr);
    m_service = service;
    m_model->clear();
    if (service) {
        m_error.clear();
        connect(service, &GatewayService::clientsChanged, this, &ClientsView::scheduleRefresh);
        connect(&service->server(), &Gw::GatewayServer::clientDisconnected, this,
                [this](const Gw::ClientStats &c, Gw::CloseReason reason, int code, const QString &detail) {
                    m_model->noteDeparted(c, reason, code, detail, QDateTime::currentDateTime());
                });
        connect(service, &QObject::destroyed, this, [this] {
            m_model->clear();
            updateState();
            updateSummary();
        });
    }
    refresh();
}

void ClientsView::setStartError(const QString &error)
{
    m_error = error;
    updateState();
    updateSummary();
}

void ClientsView::setFrozen(bool frozen)
{
    m_frozen = frozen;
    if (!frozen)
        refresh();
}

void ClientsView::scheduleRefresh()
{
    // Clients that come or go together (a fleet restarting) make one refresh.
    if (m_refreshPending)
        return;
    m_refreshPending = true;
    QTimer::singleShot(0, this, [this] {
        m_refreshPending = false;
        refresh();
    });
}

void ClientsView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

void ClientsView::refresh()
{
    if (m_frozen)
        return;
    // Hidden, a sample a second keeps the rates right for when the tab is shown again.
    const qint64 now = monotonicMs();
    if (!isVisible() && m_lastSampleMs >= 0 && now - m_lastSampleMs < HiddenSampleMs)
        return;
    m_lastSampleMs = now;
    if (m_service && m_service->isRunning())
        m_model->applyClients(m_service->server().clients(), now, QDateTime::currentDateTime());
    else
        m_model->clear();
    updateState();
    updateSummary();
}

void ClientsView::updateSummary()
{
    if (!m_service || !m_service->isRunning()) {
        m_summary->setText(m_error.isEmpty() ? tr("The gateway is not running.")
                                             : tr("The gateway is not running: %1").arg(m_error));
        m_summary->setToolTip(QString());
        return;
    }
    const Gw::GatewayServer &server = m_service->server();
    const Gw::GatewayConfig &cfg = server.config();
    const Gw::GatewayCounters &n = server.counters();
    const int clients = server.clientCount();
    // The least telling last: a narrow window cuts the end of the line.
    QStringList parts;
    parts.append(
        tr("Listening on %1 (%2)")
            .arg(server.url().toString(), cfg.token.isEmpty() ? tr("no token") : tr("token required")));
    parts.append(tr("%1 of %2 clients").arg(clients).arg(cfg.maxClients));
    parts.append(Format::plural(m_service->hub().sharedCount(), tr("1 subscription upstream"),
                                tr("%1 subscriptions upstream")));
    parts.append(
        tr("sent %L1 frames, %2").arg(n.framesOut).arg(Format::bytes(static_cast<double>(n.bytesOut))));
    parts.append(tr("drops %L1").arg(n.dropped));
    parts.append(policyText(cfg.policy, cfg.queueBytes));
    m_summary->setText(parts.join(u" · "_s));

    QStringList tip{
        parts.join(u'\n'),
        tr("Accepted %L1 clients; refused %L2 for a wrong or missing token, %L3 with the gateway full")
            .arg(n.accepted)
            .arg(n.refusedToken)
            .arg(n.refusedFull),
        tr("Dropped %L1, coalesced %L2, malformed %L3, rate limited %L4, oversized %L5")
            .arg(n.dropped)
            .arg(n.coalesced)
            .arg(n.malformed)
            .arg(n.rateLimited)
            .arg(n.oversized)};
    QStringList closes;
    for (int r = 0; r < Gw::CloseReasonCount; ++r)
        if (n.closed.at(static_cast<size_t>(r)) > 0)
            closes.append(u"%1 %2"_s.arg(ClientsModel::reasonText(static_cast<Gw::CloseReason>(r)))
                              .arg(n.closed.at(static_cast<size_t>(r))));
    if (!closes.isEmpty())
        tip.append(tr("Gone: %1").arg(closes.join(u", "_s)));
    const auto &gone = m_model->departed();
    if (!gone.empty()) {
        tip.append(tr("Last to go (newest first):"));
        int shown = 0;
        for (auto it = gone.crbegin(); it != gone.crend() && shown < 8; ++it, ++shown)
            tip.append(tr("• %1 %2 #%3 from %4:%5, %6; sent %L7 frames (%8), %L9 dropped")
                           .arg(it->at.toLocalTime().toString(u"HH:mm:ss"_s), it->stats.name)
                           .arg(it->stats.id)
                           .arg(it->stats.peerAddress.toString())
                           .arg(it->stats.peerPort)
                           .arg(it->reason)
                           .arg(it->stats.framesOut)
                           .arg(Format::bytes(static_cast<double>(it->stats.bytesOut)))
                           .arg(it->stats.dropped));
    }
    m_summary->setToolTip(tip.join(u'\n'));
}

void ClientsView::updateState()
{
    const int total = m_model->rowCount();
    const bool running = m_service && m_service->isRunning();
    m_stack->setCurrentIndex(total == 0 ? 0 : 1);
    m_filter->setEnabled(running);
    m_disconnect->setEnabled(running && !selectedClients().isEmpty());
    m_settingsButton->setVisible(!running); // running: the text is the point (Settings is in File)
    if (!running) {
        m_emptyText->setText(
            m_error.isEmpty() ? tr("The gateway is off.\nTurn it on in Settings → Gateway: your bots then "
                                   "connect to FeedScope instead of the venue, and share its pool.")
                              : tr("The gateway is not running: %1\nChange its port or address in Settings → "
                                   "Gateway.")
                                    .arg(m_error));
    } else {
        const Gw::GatewayServer &server = m_service->server();
        const QString url = localUrl(server);
        QString text = tr("No client is connected.\n\nPoint a bot at %1 instead of "
                          "wss://api.hyperliquid.xyz/ws: its SDK "
                          "works unchanged, and every bot shares FeedScope's connections.\nAdd ?name=my-bot "
                          "to the URL to "
                          "name it here, e.g. %1?name=my-bot")
                           .arg(url);
        if (!server.config().token.isEmpty())
            text += u'\n' + tr("The gateway asks for its token: send the header Authorization: Bearer TOKEN, "
                               "or add &token=TOKEN to the URL.");
        m_emptyText->setText(text);
    }
    m_count->setText(m_proxy->isFiltering()
                         ? Format::plural(total, tr("%1 of 1 client").arg(m_proxy->rowCount()),
                                          tr("%1 of %2 clients").arg(m_proxy->rowCount()).arg(u"%1"_s))
                         : Format::plural(total, tr("1 client"), tr("%1 clients")));
}

QString ClientsView::summaryText() const
{
    return m_summary->text();
}

QString ClientsView::countText() const
{
    return m_count->text();
}

bool ClientsView::emptyStateShown() const
{
    return m_stack->currentIndex() == 0;
}

QString ClientsView::emptyStateText() const
{
    return m_emptyText->text();
}

QList<int> ClientsView::selectedClients() const
{
    QList<int> out;
    if (!m_table->selectionModel())
        return out;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        out.append(i.data(KeyRole).toInt());
    return out;
}

bool ClientsView::disconnectClients(const QList<int> &ids, bool ask)
{
    if (!m_service || ids.isEmpty())
        return false;
    QStringList names;
    for (int id : ids) {
        const int row = m_model->rowOf(id);
        if (const Gw::ClientStats *s = m_model->statsAt(row))
            names.append(
                tr("“%1” (#%2, %3:%4)").arg(s->name).arg(id).arg(s->peerAddress.toString()).arg(s->peerPort));
    }
    if (names.isEmpty())
        return false;
    if (ask) {
        const auto answer = QMessageBox::question(
            this, tr("Disconnect client"),
            (names.size() == 1
                 ? tr("Disconnect %1?").arg(names.constFirst())
                 : tr("Disconnect these %1 clients?\n%2").arg(names.size()).arg(names.join(u'\n'))) +
                u"\n\n"_s +
                tr("Its link is closed with “disconnected by the operator”. An SDK usually reconnects by "
                   "itself; the other clients are not affected."),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Yes || !m_service)
            return false;
    }
    bool any = false;
    for (int id : ids)
        any |= m_service->server().disconnectClient(id, u"disconnected by the operator"_s);
    refresh();
    return any;
}

bool ClientsView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape && !m_filter->text().isEmpty()) {
        m_filter->clear(); // Esc: every client again
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace FeedScope

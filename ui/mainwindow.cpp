#include "mainwindow.h"

#include "budget.h"
#include "severitydelegate.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
constexpr auto SettingsPrefix = "UI/v1/";
}

MainWindow::MainWindow(ConnectionsModel *connections, SubscriptionsModel *subscriptions,
                       ReconnectsModel *reconnects, QWidget *parent)
    : QMainWindow(parent), m_connections(connections), m_subscriptions(subscriptions),
      m_reconnects(reconnects), m_startedMs(monotonicMs())
{
    setWindowTitle(tr("FeedScope"));
    buildActions();
    buildViews();
    // Actions follow the models, whoever feeds them.
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_connections, signal, this, &MainWindow::updateWidgets);
    connect(m_connections, &QAbstractItemModel::modelReset, this, &MainWindow::updateWidgets);
    QSettings settings;
    restoreGeometry(settings.value(QLatin1StringView(SettingsPrefix) + u"geometry"_s).toByteArray());
    restoreState(settings.value(QLatin1StringView(SettingsPrefix) + u"state"_s).toByteArray());
    if (!settings.contains(QLatin1StringView(SettingsPrefix) + u"geometry"_s))
        resize(1400, 900);
    updateWidgets();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_reconnectSelected = new QAction(tr("&Reconnect selected"), this);
    m_reconnectSelected->setShortcut(QKeySequence(u"Ctrl+R"_s));
    m_reconnectSelected->setToolTip(tr("Reconnect the selected connections now, skipping any backoff wait"));
    connect(m_reconnectSelected, &QAction::triggered, this, [this] {
        const QList<int> ids = selectedConnections();
        if (!ids.isEmpty()) {
            Q_EMIT reconnectRequested(ids);
            statusBar()->showMessage(tr("Reconnecting connection(s) %1").arg(QString::number(ids.size())),
                                     4000);
        }
    });
    m_reconnectAll = new QAction(tr("Reconnect &all"), this);
    m_reconnectAll->setShortcut(QKeySequence(u"Ctrl+Shift+R"_s));
    m_reconnectAll->setToolTip(tr("Reconnect every connection, staggered"));
    connect(m_reconnectAll, &QAction::triggered, this, [this] {
        Q_EMIT reconnectAllRequested();
        statusBar()->showMessage(tr("Reconnecting all connections (staggered)"), 4000);
    });

    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu *conn = menuBar()->addMenu(tr("&Connections"));
    conn->addAction(m_reconnectSelected);
    conn->addAction(m_reconnectAll);

    m_chaosMenu = menuBar()->addMenu(tr("C&haos"));
    m_chaosMenu->setToolTipsVisible(true);
    auto chaos = [this](const QString &text, ChaosAction a, const QString &tip,
                        const QString &shortcut = {}) {
        QAction *act = m_chaosMenu->addAction(text);
        act->setToolTip(tip);
        if (!shortcut.isEmpty())
            act->setShortcut(QKeySequence(shortcut));
        connect(act, &QAction::triggered, this, [this, a, text] {
            const QList<int> sel = selectedConnections();
            Q_EMIT chaosRequested(a, sel.isEmpty() ? -1 : sel.constFirst());
            statusBar()->showMessage(tr("Chaos: %1").arg(QString(text).remove(u'&')), 4000);
        });
    };
    chaos(tr("&Kill a connection"), ChaosAction::KillConnection,
          tr("The server aborts the selected (or first) connection without a close frame"), u"Ctrl+K"_s);
    chaos(tr("Kill &all connections"), ChaosAction::KillAll, tr("The server aborts every connection"));
    chaos(tr("&Stall a connection"), ChaosAction::StallConnection,
          tr("The server stops sending and answering pings on the selected connection (half-open)"));
    chaos(tr("Send &garbage"), ChaosAction::Garbage,
          tr("Malformed frames of every kind on every connection"));
    chaos(tr("&Flood"), ChaosAction::Flood,
          tr("100 000 trades frames on one subscription as fast as possible"));
    chaos(tr("&Restart the server"), ChaosAction::RestartServer,
          tr("The server goes away for 2 s, then comes back"));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About FeedScope"), this, [this] {
        statusBar()->showMessage(tr("FeedScope %1 — live monitor for pools of WebSocket subscriptions")
                                     .arg(QStringLiteral(FEEDSCOPE_VERSION)),
                                 8000);
    });

    QToolBar *tb = addToolBar(tr("Main"));
    tb->setObjectName(u"mainToolbar"_s);
    tb->addAction(m_reconnectSelected);
    tb->addAction(m_reconnectAll);
}

QTableView *MainWindow::makeTable(QAbstractItemModel *model, bool sortable)
{
    auto *view = new QTableView(this);
    view->setModel(model);
    view->setItemDelegate(new SeverityDelegate(view));
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view->setAlternatingRowColors(true);
    view->setSortingEnabled(sortable);
    view->setWordWrap(false);
    view->verticalHeader()->setVisible(false);
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
    view->horizontalHeader()->setStretchLastSection(true);
    view->horizontalHeader()->setHighlightSections(false);
    return view;
}

void MainWindow::buildViews()
{
    auto *connProxy = new QSortFilterProxyModel(this);
    connProxy->setSourceModel(m_connections);
    connProxy->setSortRole(RawValueRole);
    m_connectionsView = makeTable(connProxy, true);
    m_connectionsView->sortByColumn(ConnectionsModel::Id, Qt::AscendingOrder);
    m_connectionsView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_connectionsView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex idx = m_connectionsView->indexAt(pos);
        if (!idx.isValid())
            return;
        const int id = idx.data(KeyRole).toInt();
        QMenu menu;
        menu.addAction(tr("Reconnect connection %1").arg(id), this,
                       [this, id] { Q_EMIT reconnectRequested({id}); });
        menu.addAction(tr("Show its subscriptions"), this, [this, id] { showConnectionSubscriptions(id); });
        menu.exec(m_connectionsView->viewport()->mapToGlobal(pos));
    });
    connect(m_connectionsView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateWidgets);

    m_subscriptionsProxy = new QSortFilterProxyModel(this);
    m_subscriptionsProxy->setSourceModel(m_subscriptions);
    m_subscriptionsProxy->setSortRole(RawValueRole);
    m_subscriptionsProxy->setFilterKeyColumn(-1);
    m_subscriptionsProxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_subscriptionsView = makeTable(m_subscriptionsProxy, true);
    m_subscriptionsView->sortByColumn(SubscriptionsModel::Type, Qt::AscendingOrder);

    auto *recProxy = new QSortFilterProxyModel(this);
    recProxy->setSourceModel(m_reconnects);
    recProxy->setSortRole(RawValueRole);
    m_reconnectsView = makeTable(recProxy, true);
    m_reconnectsView->sortByColumn(ReconnectsModel::Time, Qt::DescendingOrder);

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter channels (type, coin, user, state, error…)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_subscriptionsProxy,
            &QSortFilterProxyModel::setFilterFixedString);

    auto box = [this](const QString &title, QWidget *inner, QWidget *top = nullptr) {
        auto *g = new QGroupBox(title, this);
        auto *l = new QVBoxLayout(g);
        l->setContentsMargins(4, 4, 4, 4);
        if (top)
            l->addWidget(top);
        l->addWidget(inner);
        return g;
    };
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(u"mainSplitter"_s);
    splitter->addWidget(box(tr("Connections"), m_connectionsView));
    splitter->addWidget(box(tr("Channels"), m_subscriptionsView, m_filter));
    auto *tabs = new QTabWidget(this);
    tabs->addTab(m_reconnectsView, tr("Reconnect timeline"));
    splitter->addWidget(tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 5);
    splitter->setStretchFactor(2, 2);
    setCentralWidget(splitter);

    m_endpoint = new QLabel(this);
    m_summary = new QLabel(this);
    statusBar()->addPermanentWidget(m_endpoint);
    statusBar()->addPermanentWidget(m_summary);
}

void MainWindow::setDemoMode(bool demo)
{
    m_chaosMenu->menuAction()->setVisible(demo);
    updateWidgets();
}

void MainWindow::setEndpoint(const QString &url)
{
    m_endpoint->setText(url);
}

void MainWindow::setSummary(const PoolSummary &s, double messagesPerSecond)
{
    QString text = tr("Connections %1/%2 up · Subscriptions %3/%4 active · %5 msg/s · reconnects %6 · "
                      "out %7/%8 per min · uptime %9")
                       .arg(s.connectionsUp)
                       .arg(s.connectionsTotal)
                       .arg(s.subscriptionsActive)
                       .arg(s.subscriptionsTotal)
                       .arg(Format::rate(messagesPerSecond))
                       .arg(s.reconnects)
                       .arg(s.outgoingUsed)
                       .arg(s.outgoingCapacity)
                       .arg(Format::duration(monotonicMs() - m_startedMs));
    if (s.subscriptionsProblem > 0)
        text += tr(" · %1 with problems").arg(s.subscriptionsProblem);
    if (s.malformed > 0)
        text += tr(" · malformed %1").arg(s.malformed);
    m_summary->setText(text);
    updateWidgets();
}

QList<int> MainWindow::selectedConnections() const
{
    QList<int> ids;
    for (const QModelIndex &i : m_connectionsView->selectionModel()->selectedRows())
        ids.append(i.data(KeyRole).toInt());
    return ids;
}

void MainWindow::showConnectionSubscriptions(int connection)
{
    m_filter->clear();
    m_subscriptionsProxy->setFilterKeyColumn(SubscriptionsModel::Connection);
    m_subscriptionsProxy->setFilterRegularExpression(u"^%1$"_s.arg(connection));
    statusBar()->showMessage(
        tr("Showing the channels of connection %1 — type in the filter box to show all").arg(connection),
        6000);
    connect(
        m_filter, &QLineEdit::textEdited, this, [this] { m_subscriptionsProxy->setFilterKeyColumn(-1); },
        Qt::SingleShotConnection);
}

void MainWindow::updateWidgets()
{
    m_reconnectSelected->setEnabled(!selectedConnections().isEmpty());
    m_reconnectAll->setEnabled(m_connections->rowCount() > 0);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QLatin1StringView(SettingsPrefix) + u"geometry"_s, saveGeometry());
    settings.setValue(QLatin1StringView(SettingsPrefix) + u"state"_s, saveState());
    settings.sync();
    event->accept();
}

} // namespace FeedScope

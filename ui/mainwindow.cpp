#include "mainwindow.h"

#include "addsubscriptiondialog.h"
#include "alertnotifier.h"
#include "alertsmodel.h"
#include "alertsview.h"
#include "attachdialog.h"
#include "budget.h"
#include "chartdata.h"
#include "clientsmodel.h"
#include "clientsview.h"
#include "consumerstooltip.h"
#include "eventwords.h"
#include "freezeproxy.h"
#include "gatewayservice.h"
#include "latencyview.h"
#include "livesource.h"
#include "livetableview.h"
#include "remoteclientsview.h"
#include "replaybar.h"
#include "rowselection.h"
#include "serieschart.h"
#include "settingsdialog.h"
#include "severitydelegate.h"
#include "tableproxy.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <atomic>
#include <utility>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
constexpr auto SettingsPrefix = "UI/v1/";

QString settingsKey(const char *name)
{
    return QLatin1StringView(SettingsPrefix) + QLatin1StringView(name);
}

/// The venue's per-IP limits (PROTOCOL.md §3); the gauges measure against the limits in force.
struct ServerLimit
{
    const char *label;
    const char *shortLabel; ///< inside the gauge
    int limit;
};
constexpr ServerLimit Limits[] = {
    {QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Subscriptions"),
     QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Subs"), 1000},
    {QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Distinct users"),
     QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Users"), 10},
    {QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Messages out / min"),
     QT_TRANSLATE_NOOP("FeedScope::MainWindow", "Sent/min"), 2000},
    {QT_TRANSLATE_NOOP("FeedScope::MainWindow", "New connections / min"),
     QT_TRANSLATE_NOOP("FeedScope::MainWindow", "New conns/min"), 30},
};
} // namespace

MainWindow::MainWindow(PoolController *controller, QWidget *parent)
    : QMainWindow(parent), m_controller(controller), m_startedMs(monotonicMs())
{
    setWindowTitle(tr("FeedScope"));
    buildActions();
    buildViews();
    connect(m_controller, &PoolController::updated, this, &MainWindow::onUpdated);
    connect(m_controller, &PoolController::seriesUpdated, this, &MainWindow::onSeriesUpdated);
    connect(m_controller, &PoolController::updated, this, [this] { // the gateway's clients, once per tick
        if (m_clientsView)
            m_clientsView->refresh();
    });
    connect(m_controller, &PoolController::warning, this,
            [this](const QString &w) { statusBar()->showMessage(w, 8000); });
    ConnectionsModel *connections = m_controller->connections();
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(connections, signal, this, &MainWindow::updateWidgets);
    connect(connections, &QAbstractItemModel::modelReset, this, &MainWindow::updateWidgets);
    QSettings settings;
    restoreGeometry(settings.value(settingsKey("geometry")).toByteArray());
    restoreState(settings.value(settingsKey("state")).toByteArray());
    if (!settings.contains(settingsKey("geometry")))
        resize(1500, 950);
    // Column widths: those of the last run (sized to contents or set by the user), else sized to
    // their contents once the first rows appear. ("columns/" held the unsized 100 px defaults.)
    for (LiveTableView *v : tables())
        v->restoreColumns(settings.value(settingsKey("columns-v2/") + v->objectName()).toByteArray());
    for (QSplitter *s : findChildren<QSplitter *>())
        s->restoreState(settings.value(settingsKey("splitters/") + s->objectName()).toByteArray());
    m_tabs->setCurrentIndex(settings.value(settingsKey("tab"), 0).toInt());
    // The window's shortcuts work whatever has focus, a filter box included.
    for (QAction *a : findChildren<QAction *>())
        for (const QKeySequence &k : a->shortcuts())
            if (k.count() == 1 && (k[0].keyboardModifiers() & Qt::ControlModifier))
                m_windowShortcuts.append({k, a});
    for (QLineEdit *edit : findChildren<QLineEdit *>())
        edit->installEventFilter(this);
    updateWidgets();
    updateHealth();
}

QList<LiveTableView *> MainWindow::tables() const
{
    QList<LiveTableView *> out;
    for (QTableView *v :
         {m_connectionsView, m_subscriptionsView, m_reconnectsView, m_dispatcherView, m_eventsView})
        if (auto *l = qobject_cast<LiveTableView *>(v))
            out.append(l);
    return out;
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    const QEvent::Type type = event->type();
    if (type == QEvent::KeyPress && watched == m_filter &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape && !m_filter->text().isEmpty()) {
        m_filter->clear(); // Esc: every channel again
        return true;
    }
    if ((type == QEvent::ShortcutOverride || type == QEvent::KeyPress) &&
        qobject_cast<QLineEdit *>(watched)) {
        auto *key = static_cast<QKeyEvent *>(event);
        // Editing keys (copy, paste, undo, select all…) stay the line edit's.
        if (key->matches(QKeySequence::Copy) || key->matches(QKeySequence::Cut) ||
            key->matches(QKeySequence::Paste) || key->matches(QKeySequence::Undo) ||
            key->matches(QKeySequence::Redo) || key->matches(QKeySequence::SelectAll))
            return QMainWindow::eventFilter(watched, event);
        const QKeySequence pressed(key->keyCombination());
        for (const auto &[sequence, action] : std::as_const(m_windowShortcuts)) {
            if (sequence != pressed)
                continue;
            if (type == QEvent::ShortcutOverride) {
                event->ignore(); // not the line edit's: the shortcut map fires the action
                return true;
            }
            // A key press that reached the line edit all the same (no shortcut took it).
            if (action->isEnabled())
                action->trigger();
            event->accept();
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_reconnectSelected = new QAction(tr("&Reconnect selected"), this);
    m_reconnectSelected->setShortcut(QKeySequence(u"Ctrl+R"_s));
    m_reconnectSelected->setToolTip(tr("Reconnect the selected connections now, skipping any backoff wait"));
    connect(m_reconnectSelected, &QAction::triggered, this, [this] {
        const QList<int> ids = selectedConnections();
        if (ids.isEmpty())
            return;
        m_controller->reconnect(ids);
        QStringList names;
        for (int id : ids)
            names.append(u"#%1"_s.arg(id));
        statusBar()->showMessage(tr("Reconnecting %1").arg(names.join(u", "_s)), 4000);
    });
    m_reconnectAll = new QAction(tr("Reconnect &all"), this);
    m_reconnectAll->setShortcut(QKeySequence(u"Ctrl+Shift+R"_s));
    m_reconnectAll->setToolTip(tr("Reconnect every connection, staggered"));
    connect(m_reconnectAll, &QAction::triggered, this, [this] {
        m_controller->reconnectAll();
        statusBar()->showMessage(tr("Reconnecting all connections (staggered)"), 4000);
    });
    m_poolConnected = new QAction(tr("&Connected"), this);
    m_poolConnected->setCheckable(true);
    m_poolConnected->setChecked(m_controller->poolConnected());
    m_poolConnected->setToolTip(tr("Connect or disconnect the whole pool; the subscriptions are kept and "
                                   "restored on connect"));
    connect(m_poolConnected, &QAction::toggled, this, [this](bool on) {
        m_controller->setPoolConnected(on);
        m_poolConnected->setText(on ? tr("&Connected") : tr("Dis&connected"));
        updateWidgets();
        statusBar()->showMessage(on ? tr("Connecting the pool; every subscription will be restored")
                                    : tr("Pool disconnected; subscriptions kept"),
                                 4000);
    });
    m_record = new QAction(tr("&Record raw frames…"), this);
    m_record->setCheckable(true);
    m_record->setToolTip(
        tr("Record every data frame to a JSONL file (replayable with feedscope-sim --replay)"));
    connect(m_record, &QAction::triggered, this, [this](bool on) {
        if (m_controller->isRemote()) { // issue 18: the agent records, to a file it names
            const QSignalBlocker block(m_record);
            m_record->setChecked(!on); // as the agent's answer says
            m_controller->setRemoteRecording(on);
            return;
        }
        if (!on) {
            m_controller->engine().stopRecording();
            return;
        }
        m_record->setChecked(false); // checked when the recording really started
        const QString path = QFileDialog::getSaveFileName(this, tr("Record raw frames"),
                                                          u"feedscope-frames.jsonl"_s, tr("JSONL (*.jsonl)"));
        if (!path.isEmpty())
            startRecording(path);
    });
    connect(&m_controller->engine(), &Engine::recordingChanged, this,
            [this](bool on, const QString &path, qint64 frames) {
                const QSignalBlocker block(m_record);
                m_record->setChecked(on);
                m_recordingLabel->setVisible(on);
                m_recordingLabel->setText(tr("● REC %1").arg(QFileInfo(path).fileName()));
                m_recordingLabel->setToolTip(path);
                if (!on)
                    statusBar()->showMessage(tr("Recording stopped: %n frame(s) in %1", nullptr,
                                                static_cast<int>(std::min<qint64>(frames, INT_MAX)))
                                                 .arg(path),
                                             8000);
            });
    auto *add = new QAction(tr("&Add subscriptions…"), this);
    m_addSubscriptions = add;
    add->setShortcut(QKeySequence::New);
    add->setToolTip(tr("Subscribe to more channels, by type and parameters or from a JSON file"));
    connect(add, &QAction::triggered, this, [this] {
        AddSubscriptionDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted)
            addSubscriptions(dialog.result());
    });
    m_unsubscribe = new QAction(tr("&Unsubscribe"), this);
    m_unsubscribe->setShortcut(QKeySequence::Delete);
    m_unsubscribe->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_unsubscribe, &QAction::triggered, this, [this] {
        const QList<Hl::Subscription> subs = selectedSubscriptions();
        if (subs.isEmpty())
            return;
        m_controller->unsubscribe(subs);
        statusBar()->showMessage(tr("Unsubscribing %n channel(s)", nullptr, static_cast<int>(subs.size())),
                                 4000);
    });
    auto *copyJson = new QAction(tr("&Copy JSON"), this);
    copyJson->setShortcut(QKeySequence::Copy);
    copyJson->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copyJson, &QAction::triggered, this, &MainWindow::copySelectedJson);
    auto *exportAct = new QAction(tr("&Export session log…"), this);
    exportAct->setShortcut(QKeySequence(u"Ctrl+E"_s));
    connect(exportAct, &QAction::triggered, this, [this] {
        QString filter;
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export session log"), u"feedscope-session.jsonl"_s,
                                         tr("JSONL, lossless (*.jsonl);;CSV, one row per event (*.csv);;HAR "
                                            "1.2, for Chrome DevTools (*.har)"),
                                         &filter);
        if (path.isEmpty())
            return;
        // The extension typed decides (a ".har" is HAR whatever the filter); the filter only
        // when there is none, and then its extension is added.
        const ExportFormat f = exportFormatFor(path, filter);
        exportSession(withExportExtension(path, f), f);
    });
    auto *importAct = new QAction(tr("&Open exported session…"), this);
    importAct->setShortcut(QKeySequence::Open);
    connect(importAct, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open exported session"), QString(),
                                                          tr("FeedScope sessions (*.jsonl);;All files (*)"));
        QString error;
        if (!path.isEmpty() && !importSession(path, &error))
            statusBar()->showMessage(error, 10000);
    });

    auto *settingsAct = new QAction(tr("&Settings…"), this);
    m_settings = settingsAct;
    {
        QList<QKeySequence> keys{QKeySequence(u"Ctrl+,"_s)};
        for (const QKeySequence &k : QKeySequence::keyBindings(QKeySequence::Preferences))
            if (!k.isEmpty() && !keys.contains(k))
                keys.append(k);
        settingsAct->setShortcuts(keys);
    }
    settingsAct->setMenuRole(QAction::PreferencesRole);
    connect(settingsAct, &QAction::triggered, this, [this] {
        Profile current;
        current.engine = m_controller->engine().config();
        current.url = m_demo ? QUrl() : current.engine.pool.url;
        current.uiRefreshMs = static_cast<int>(current.engine.publishInterval.count());
        if (QString error; const auto saved = savedProfile(&error)) {
            current.engine.pool.headers = saved->engine.pool.headers; // kept, not shown
            current.subscriptions = saved->subscriptions;
            current.alerts = saved->alerts; // the alert command too, kept (not shown)
        }
        current.gateway = gatewaySettingsShown();
        SettingsDialog dialog(current, this);
        prepareAlertSettings(dialog);
        if (m_settingsOnGateway)
            dialog.showGatewayPage();
        if (dialog.exec() != QDialog::Accepted)
            return;
        QString error;
        if (const auto p = dialog.profile(&error))
            m_controller->host().setPublishInterval(std::chrono::milliseconds(p->uiRefreshMs)); // live
        statusBar()->showMessage(tr("Settings saved; the UI refresh applies now, the rest at the next start"),
                                 8000);
        applyAlertSettings(dialog);
        applyGatewaySettings(dialog);
    });

    QAction *replayAct = new QAction(tr("Re&play recording…"), this);
    replayAct->setToolTip(tr("Play a recording (File → Record raw frames, or --record) through the pool in a "
                             "window of its own, at the recorded pace or faster"));
    connect(replayAct, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Replay recording"), QString(),
                                                          tr("Recordings (*.jsonl);;All files (*)"));
        if (!path.isEmpty())
            Q_EMIT replayRequested(path);
    });

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(add);
    file->addSeparator();
    file->addAction(exportAct);
    file->addAction(importAct);
    file->addAction(replayAct);
    // Issue 18: another agent's pool, in a window of its own.
    m_attachAgent = new QAction(tr("A&ttach to agent…"), this);
    m_attachAgent->setToolTip(tr("Show a FeedScope agent running on another host (its live stream) in a "
                                 "window of its own"));
    connect(m_attachAgent, &QAction::triggered, this, [this] {
        AttachDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted)
            Q_EMIT attachRequested(dialog.url(), dialog.token(), dialog.caFile());
    });
    file->addAction(m_attachAgent);
    // Issue 18: the fleet view, a window of its own listing headless agents.
    file->addAction(tr("F&leet…"), this, &MainWindow::fleetRequested)
        ->setToolTip(tr("Watch many headless agents in one list: reachable, connections, subscriptions, "
                        "rates, alerts; double-click one to open it"));
    file->addSeparator();
    file->addAction(settingsAct);
    file->addSeparator();
    file->addAction(m_record);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu *conn = menuBar()->addMenu(tr("&Connections"));
    conn->addAction(m_reconnectSelected);
    conn->addAction(m_reconnectAll);
    conn->addSeparator();
    conn->addAction(m_poolConnected);
    QMenu *channels = menuBar()->addMenu(tr("C&hannels"));
    channels->addAction(add);
    channels->addAction(m_unsubscribe);
    channels->addAction(copyJson);

    m_findChannel = new QAction(tr("&Find channel…"), this);
    m_findChannel->setShortcut(QKeySequence::Find);
    m_findChannel->setToolTip(tr("Go to the channel filter (words in any order; conn:3 for a connection)"));
    connect(m_findChannel, &QAction::triggered, this, [this] {
        m_filter->setFocus(Qt::ShortcutFocusReason);
        m_filter->selectAll();
    });
    m_pauseUpdates = new QAction(tr("&Pause updates"), this);
    m_pauseUpdates->setCheckable(true);
    m_pauseUpdates->setShortcuts({QKeySequence(u"Ctrl+Shift+P"_s), QKeySequence(Qt::Key_Pause)});
    m_pauseUpdates->setToolTip(tr("Freeze what the tables show to read them; the pool, the charts and the "
                                  "status bar keep running (Ctrl+Shift+P)"));
    connect(m_pauseUpdates, &QAction::toggled, this, &MainWindow::setUpdatesPaused);
    m_problemsFirst = new QAction(tr("Problems &first"), this);
    m_problemsFirst->setCheckable(true);
    m_problemsFirst->setChecked(true);
    m_problemsFirst->setToolTip(tr("Rows with problems (red), then warnings (amber), on top of Channels and "
                                   "Connections, whatever the sort column"));
    connect(m_problemsFirst, &QAction::toggled, this, [this](bool on) {
        m_subscriptionsProxy->setProblemsFirst(on);
        m_connectionsProxy->setProblemsFirst(on);
    });
    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_findChannel);
    view->addAction(m_problemsFirst);
    view->addSeparator();
    view->addAction(m_pauseUpdates);

    m_chaosMenu = menuBar()->addMenu(tr("Ch&aos"));
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
    addDataFaultEntries();

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
    tb->addAction(m_poolConnected);
    tb->addSeparator();
    tb->addAction(add);
    tb->addAction(m_unsubscribe);
    tb->addSeparator();
    tb->addAction(exportAct);
    tb->addAction(m_record);
    tb->addSeparator();
    tb->addAction(m_pauseUpdates);

    // The channel table's own shortcuts (Delete, Ctrl+C) act on its selection.
    addAction(m_unsubscribe);
    addAction(copyJson);
}

LiveTableView *MainWindow::makeTable(QAbstractItemModel *model, bool sortable)
{
    auto *view = new LiveTableView(this);
    view->setModel(model);
    view->setSortingEnabled(sortable);
    return view;
}

TableProxy *MainWindow::proxyFor(QAbstractItemModel *model)
{
    // model → freezer (Pause updates) → sort, filter and hold → view.
    auto *freezer = new FreezeProxy(model, this);
    m_freezers.append(freezer);
    auto *p = new TableProxy(this);
    p->setSourceModel(freezer);
    return p;
}

void MainWindow::buildViews()
{
    m_connectionsProxy = proxyFor(m_controller->connections());
    m_connectionsProxy->setProblemsFirst(true);
    m_connectionsView = makeTable(m_connectionsProxy, true);
    static_cast<LiveTableView *>(m_connectionsView)
        ->setEmptyText(tr("No connections yet: they open as soon as there are subscriptions."));
    m_connectionsView->setObjectName(u"connections"_s);
    static_cast<LiveTableView *>(m_connectionsView)
        ->setWidestText(ConnectionsModel::State, tr("open · silent 99 s"));
    m_connectionsView->sortByColumn(ConnectionsModel::Id, Qt::AscendingOrder);
    m_connectionsView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_connectionsView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex idx = m_connectionsView->indexAt(pos);
        if (!idx.isValid())
            return;
        const int id = idx.data(KeyRole).toInt();
        QMenu menu;
        menu.addAction(tr("Reconnect connection %1").arg(id), this,
                       [this, id] { m_controller->reconnect({id}); });
        menu.addAction(tr("Show its subscriptions"), this, [this, id] { showConnectionSubscriptions(id); });
        menu.exec(m_connectionsView->viewport()->mapToGlobal(pos));
    });
    connect(m_connectionsView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateWidgets);

    m_subscriptionsProxy = proxyFor(m_controller->subscriptions());
    m_subscriptionsProxy->setProblemsFirst(true);
    m_subscriptionsProxy->addFilterKey(u"conn"_s, SubscriptionsModel::Connection);
    m_subscriptionsProxy->addFilterKey(u"type"_s, SubscriptionsModel::Type);
    m_subscriptionsView = makeTable(m_subscriptionsProxy, true);
    m_subscriptionsView->setObjectName(u"channels"_s);
    static_cast<LiveTableView *>(m_subscriptionsView)
        ->setWidestText(SubscriptionsModel::State, tr("restoring · connection down"));
    m_subscriptionsView->sortByColumn(SubscriptionsModel::Type, Qt::AscendingOrder);
    m_subscriptionsView->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_subscriptionsView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        if (!m_subscriptionsView->indexAt(pos).isValid())
            return;
        QMenu menu;
        menu.addAction(m_unsubscribe);
        menu.addAction(tr("&Inspect"), this, [this] {
            m_followInspector->setChecked(true);
            refreshInspector();
        });
        menu.addAction(tr("&Copy JSON"), this, &MainWindow::copySelectedJson);
        menu.exec(m_subscriptionsView->viewport()->mapToGlobal(pos));
    });
    connect(m_subscriptionsView->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::updateWidgets);

    m_reconnectsView = makeTable(proxyFor(m_controller->reconnects()), true);
    m_reconnectsView->setObjectName(u"reconnects"_s);
    static_cast<LiveTableView *>(m_reconnectsView)->setEmptyText(tr("No reconnects so far."));
    m_reconnectsView->sortByColumn(ReconnectsModel::Time, Qt::DescendingOrder);
    m_dispatcherView = makeTable(proxyFor(m_controller->dispatcher()), false);
    m_dispatcherView->setObjectName(u"dispatcher"_s);

    m_filter = new QLineEdit(this);
    m_filter->setObjectName(u"channelFilter"_s);
    m_filter->setPlaceholderText(
        tr("Filter channels: words in any order (bbo SOL, rejected, conn:3)  Ctrl+F"));
    m_filter->setToolTip(tr("Every word must match some column (type, coin, user, state, error…), in any "
                            "order, ignoring case; conn:N shows the channels of connection N, type:T those "
                            "of type T"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_subscriptionsProxy->setFilterWords(text);
        updateChannelCount();
    });
    m_channelCount = new QLabel(this);
    m_channelCount->setObjectName(u"channelCount"_s);
    m_channelCount->setMinimumWidth(
        m_channelCount->fontMetrics().horizontalAdvance(tr("%1 of %2 channels").arg(9999).arg(9999)));
    m_channelCount->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_subscriptionsProxy, signal, this, &MainWindow::updateChannelCount);
    connect(m_subscriptionsProxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateChannelCount);
    connect(m_subscriptionsProxy, &QAbstractItemModel::layoutChanged, this, &MainWindow::updateChannelCount);
    auto *problemsFirstBox = new QToolButton(this);
    problemsFirstBox->setDefaultAction(m_problemsFirst);
    problemsFirstBox->setAutoRaise(true);
    auto *channelsBar = new QWidget(this);
    auto *cbl = new QHBoxLayout(channelsBar);
    cbl->setContentsMargins(0, 0, 0, 0);
    cbl->addWidget(m_filter, 1);
    cbl->addWidget(m_channelCount);
    cbl->addWidget(problemsFirstBox);

    auto box = [this](const QString &title, QWidget *inner, QWidget *top = nullptr) {
        auto *g = new QGroupBox(title, this);
        auto *l = new QVBoxLayout(g);
        l->setContentsMargins(4, 4, 4, 4);
        if (top)
            l->addWidget(top);
        l->addWidget(inner);
        return g;
    };
    auto stack = [this](std::initializer_list<QWidget *> widgets, Qt::Orientation o, const QString &name) {
        auto *s = new QSplitter(o, this);
        s->setObjectName(name);
        for (QWidget *w : widgets)
            s->addWidget(w);
        return s;
    };

    // Budget gauges against the real server's per-IP limits.
    auto *budget = new QWidget(this);
    auto *bl = new QVBoxLayout(budget);
    bl->setContentsMargins(2, 2, 2, 2);
    bl->setSpacing(3);
    for (const ServerLimit &l : Limits) {
        // One compact bar per limit, its name inside: four rows beside Connections.
        auto *bar = new QProgressBar(budget);
        bar->setRange(0, l.limit);
        bar->setFormat(tr(l.shortLabel) + u" %v / %m"_s);
        bar->setMinimumWidth(130);
        bar->setMaximumHeight(bar->fontMetrics().height() + 6);
        bar->setAccessibleName(tr(l.label));
        bl->addWidget(bar);
        m_gauges.append(bar);
    }
    bl->addStretch();
    budget->setToolTip(tr("The limits the pool works within, shared by every connection: the venue's per-IP "
                          "limits unless the settings or the profile change them"));

    // Inspector of the selected channel.
    m_inspector = new InspectorView(&m_controller->engine().inspector(), this);
    auto *inspector = m_inspector;
    m_followInspector = m_inspector->followAction();
    m_inspector->watchChannels(m_subscriptionsView, m_controller->subscriptions());
    connect(m_inspector, &InspectorView::notice, this,
            [this](const QString &t) { statusBar()->showMessage(t, 3000); });

    // Charts: throughput and RTT per connection, dispatcher pressure, reconnect markers.
    auto chart = [this](const QString &title, const QString &prefix, const QString &suffix,
                        const QString &unit) {
        auto *c = new SeriesChart(title, prefix, suffix, unit, this);
        m_charts.append(c);
        return c;
    };
    QWidget *traffic = stack({chart(tr("Messages/s per connection"), u"conn/"_s, u"/msgs"_s, tr("msg/s")),
                              chart(tr("Ping RTT per connection"), u"conn/"_s, u"/rtt"_s, tr("ms"))},
                             Qt::Horizontal, u"trafficSplitter"_s);
    QWidget *pressure =
        stack({chart(tr("Queue depth per consumer"), u"disp/"_s, u"/queue"_s, tr("frames")),
               chart(tr("Drops/s per consumer"), u"disp/"_s, u"/drops"_s, tr("frames/s")),
               chart(tr("Dispatch lag p99 per consumer"), u"disp/"_s, u"/lagP99"_s, tr("ms"))},
              Qt::Horizontal, u"pressureSplitter"_s);
    // One point per reconnect: the seconds of data lost (last frame → every subscription back),
    // simultaneous ones side by side, one in progress growing (onSeriesUpdated).
    m_reconnectChart = chart(tr("Reconnects: data lost per reconnect (last 5 minutes)"), u"none/"_s,
                             u"/none"_s, tr("seconds of data lost"));

    m_tabs = new QTabWidget(this);
    QSplitter *timeline = stack({m_reconnectsView, m_reconnectChart}, Qt::Horizontal, u"reconnectSplitter"_s);
    timeline->setSizes({1000, 1000}); // half each until the user moves it (the table's hint is wide)
    // Chart pages scroll rather than squeeze the window: Channels keeps its room in a small one.
    auto scrollable = [this](QWidget *page) {
        auto *area = new QScrollArea(this);
        area->setWidget(page);
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        return area;
    };
    m_tabs->addTab(scrollable(timeline), tr("Reconnect &timeline"));
    m_tabs->addTab(scrollable(traffic), tr("Through&put / RTT"));
    // Every consumer's row visible (statistics, inspector, recorder and one more) above the charts.
    m_dispatcherView->setMinimumHeight(m_dispatcherView->horizontalHeader()->sizeHint().height() +
                                       4 * m_dispatcherView->verticalHeader()->defaultSectionSize() + 4);
    m_tabs->addTab(scrollable(stack({m_dispatcherView, pressure}, Qt::Vertical, u"dispatcherSplitter"_s)),
                   tr("&Dispatcher"));
    // Session events: live, or an opened export on its own (SessionEventsView).
    m_eventsPage = new SessionEventsView(m_controller->sessionEvents(), this);
    m_eventsView = m_eventsPage->table();
    m_tabs->addTab(m_eventsPage, tr("Session &events"));
    // Data latency per type (issue 17), the clock's state above it (last: the other tabs keep their
    // places).
    m_tabs->addTab(scrollable(new LatencyView(m_controller, this)), tr("&Latency"));

    auto *top = stack({box(tr("Connections"), m_connectionsView), box(tr("Limits (per IP)"), budget)},
                      Qt::Horizontal, u"topSplitter"_s);
    top->setStretchFactor(0, 5);
    top->setStretchFactor(1, 1);
    auto *middle =
        stack({box(tr("Channels"), m_subscriptionsView, channelsBar), box(tr("Inspector"), inspector)},
              Qt::Horizontal, u"middleSplitter"_s);
    middle->setStretchFactor(0, 3);
    middle->setStretchFactor(1, 1);
    middle->setSizes({3000, 1000});
    auto *main = stack({top, middle, m_tabs}, Qt::Vertical, u"mainSplitter"_s);
    // Channels, the main view, gets the most room; Connections about five rows.
    main->setStretchFactor(0, 1);
    main->setStretchFactor(1, 4);
    main->setStretchFactor(2, 2);
    main->setSizes({180, 470, 330});
    setCentralWidget(main);

    m_endpoint = new QLabel(this);
    m_summary = new QLabel(this);
    m_recordingLabel = new QLabel(this);
    {
        QPalette p = m_recordingLabel->palette();
        p.setColor(QPalette::WindowText, QColor(0xcf, 0x22, 0x2e));
        m_recordingLabel->setPalette(p);
    }
    m_recordingLabel->setVisible(false);
    m_pausedLabel = new QLabel(tr("Display paused"), this);
    m_pausedLabel->setObjectName(u"pausedLabel"_s);
    m_pausedLabel->setToolTip(tr("The tables are frozen; the pool keeps running. View → Pause updates "
                                 "(Ctrl+Shift+P) to resume"));
    {
        QFont f = m_pausedLabel->font();
        f.setBold(true);
        m_pausedLabel->setFont(f);
    }
    m_pausedLabel->setVisible(false);
    m_problemsButton = new QToolButton(this);
    m_problemsButton->setObjectName(u"problemsButton"_s);
    m_problemsButton->setAutoRaise(false);
    m_problemsButton->setAutoFillBackground(true);
    m_problemsButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_problemsButton->setToolTip(tr("Click to select them in the tables"));
    m_problemsButton->setVisible(false);
    connect(m_problemsButton, &QToolButton::clicked, this, &MainWindow::selectProblems);
    statusBar()->addPermanentWidget(m_pausedLabel);
    statusBar()->addPermanentWidget(m_problemsButton);
    statusBar()->addPermanentWidget(m_recordingLabel);
    statusBar()->addPermanentWidget(m_endpoint);
    statusBar()->addPermanentWidget(m_summary);
    buildAlerts();
}

void MainWindow::addDataFaultEntries()
{
    // Integrity faults (issue 17): one bad frame of a demo subscription; the Channels table's
    // Integrity column and the Session log show it. Delay and clock offset make the data latency
    // visible (on until switched off).
    m_chaosMenu->addSeparator();
    auto fault = [this](const QString &text, const QJsonObject &f, const QString &tip) {
        QAction *act = m_chaosMenu->addAction(text);
        act->setToolTip(tip);
        act->setObjectName(u"chaos-"_s + f.value(u"fault"_s).toString());
        connect(act, &QAction::triggered, this, [this, text, f] {
            Q_EMIT chaosFaultRequested(f);
            statusBar()->showMessage(tr("Chaos: %1").arg(QString(text).remove(u'&')), 4000);
        });
    };
    auto subscription = [](const char *type) {
        return QJsonObject{{u"type"_s, QString::fromLatin1(type)}, {u"coin"_s, u"BTC"_s}};
    };
    fault(tr("&Cross a book"), {{u"fault"_s, u"crossed"_s}, {u"subscription"_s, subscription("bbo")}},
          tr("One BTC best bid and offer whose bid is above its ask"));
    fault(tr("Send &time backwards"),
          {{u"fault"_s, u"backwards"_s}, {u"subscription"_s, subscription("l2Book")}},
          tr("One BTC order book stamped a second before the previous one"));
    fault(tr("Send a trade t&wice"),
          {{u"fault"_s, u"duplicate"_s}, {u"subscription"_s, subscription("trades")}},
          tr("The last BTC trade sent again, same trade id"));
    auto toggle = [this](const QString &text, const QString &kind, const char *key, int on,
                         const QString &tip) {
        QAction *act = m_chaosMenu->addAction(text);
        act->setCheckable(true);
        act->setToolTip(tip);
        act->setObjectName(u"chaos-"_s + kind);
        connect(act, &QAction::toggled, this, [this, text, kind, key, on](bool checked) {
            Q_EMIT chaosFaultRequested({{u"fault"_s, kind}, {QLatin1StringView(key), checked ? on : 0}});
            statusBar()->showMessage(checked ? tr("Chaos: %1").arg(QString(text).remove(u'&'))
                                             : tr("Chaos: %1 ended").arg(QString(text).remove(u'&')),
                                     4000);
        });
    };
    toggle(tr("&Delay frames by 500 ms"), u"delay"_s, "amount", 500,
           tr("Every frame's event time 500 ms before it is sent, until switched off"));
    toggle(tr("Clock 2 s a&head"), u"offset"_s, "ms", 2000,
           tr("The feed's clock runs 2 s ahead of this machine's, until switched off"));
}

void MainWindow::setDemoMode(bool demo)
{
    m_demo = demo;
    m_chaosMenu->menuAction()->setVisible(demo);
    updateWidgets();
}

void MainWindow::setReplay(ReplaySession *session)
{
    m_titleSource = tr(" — replay of %1").arg(QFileInfo(session->path()).fileName());
    addToolBarBreak();
    addToolBar(new ReplayBar(session, this));
    updateWidgets();
}

void MainWindow::setEndpoint(const QString &url)
{
    m_endpoint->setText(url);
}

void MainWindow::setInsecureWarning(const QString &text)
{
    auto *label = new QLabel(text, this);
    label->setObjectName(u"insecureWarning"_s);
    QPalette p = label->palette();
    p.setColor(QPalette::WindowText, QColor(0xcf, 0x22, 0x2e));
    label->setPalette(p);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    statusBar()->insertPermanentWidget(0, label);
}

bool MainWindow::startRecording(const QString &path)
{
    QString error;
    if (m_controller->engine().startRecording(path, &error)) {
        statusBar()->showMessage(tr("Recording every data frame to %1").arg(path), 4000);
        return true;
    }
    statusBar()->showMessage(tr("Not recording: %1").arg(error), 10000); // non-modal, as every action
    return false;
}

QString MainWindow::summaryText() const
{
    return m_summary->text();
}

void MainWindow::onUpdated()
{
    const PoolSummary s = m_controller->summary();
    QString text =
        tr("Connections %1/%2 up · Subscriptions %3/%4 active · %5 msg/s · drops %6 · reconnects %7 · "
           "uptime %8")
            .arg(s.connectionsUp)
            .arg(s.connectionsTotal)
            .arg(s.subscriptionsActive)
            .arg(s.subscriptionsTotal)
            .arg(Format::rate(m_controller->messagesPerSecond()))
            .arg(m_controller->droppedTotal())
            .arg(s.reconnects)
            .arg(Format::duration(monotonicMs() - m_startedMs));
    if (!m_controller->poolConnected())
        text.prepend(tr("POOL DISCONNECTED · "));
    // Problems are the red button beside this text (a click selects them).
    if (s.malformed > 0)
        text += tr(" · malformed %1").arg(s.malformed);
    if (const PoolCounters &k = m_controller->lastSnapshot().counters; k.waitingForConnectionBudget > 0) {
        const QDateTime at = m_controller->lastSnapshot().at;
        text +=
            tr(" · %1 waiting for the new-connection budget%2")
                .arg(Format::plural(k.waitingForConnectionBudget, tr("1 connection"), tr("%1 connections")),
                     k.nextConnectionSlotAt.isValid() && at.isValid()
                         ? tr(" (next in %1)").arg(Format::budgetWait(at.msecsTo(k.nextConnectionSlotAt)))
                         : QString());
    }
    m_summary->setText(text);
    updateHealth();
    updateChannelCount();
    if (!m_subscriptionsView->selectionModel()->currentIndex().isValid() &&
        m_subscriptionsView->model()->rowCount() > 0)
        m_subscriptionsView->selectionModel()->setCurrentIndex(m_subscriptionsView->model()->index(0, 0),
                                                               QItemSelectionModel::NoUpdate);

    const PoolSnapshot &snap = m_controller->lastSnapshot();
    QSet<QString> users;
    for (const SubscriptionStatus &x : snap.subscriptions)
        if (!x.subscription.user().isEmpty())
            users.insert(x.subscription.user());
    const int values[] = {static_cast<int>(snap.subscriptions.size()), static_cast<int>(users.size()),
                          snap.counters.outgoingUsed, snap.counters.newConnectionsLastMinute};
    // The limits in force (the pool's configuration), and whether they are the venue's own.
    const int inForce[] = {snap.limits.subscriptions, snap.limits.users, snap.limits.messagesPerMinute,
                           snap.limits.newConnectionsPerMinute};
    const PoolLimits d = PoolLimits::of(PoolConfig{});
    const int defaults[] = {d.subscriptions, d.users, d.messagesPerMinute, d.newConnectionsPerMinute};
    for (int i = 0; i < m_gauges.size(); ++i) {
        QProgressBar *bar = m_gauges.at(i);
        if (inForce[i] > 0 && bar->maximum() != inForce[i])
            bar->setRange(0, inForce[i]);
        bar->setValue(std::min(values[i], bar->maximum()));
        bar->setFormat(tr(Limits[i].shortLabel) + u" %1 / %2"_s.arg(values[i]).arg(bar->maximum()));
        const double used = static_cast<double>(values[i]) / bar->maximum();
        // The bar turns amber from 70 % and red from 90 % of the server's limit.
        QPalette pal = palette();
        const bool dark = pal.color(QPalette::Window).lightnessF() < 0.5;
        if (used >= 0.9)
            pal.setColor(QPalette::Highlight, dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e));
        else if (used >= 0.7)
            pal.setColor(QPalette::Highlight, dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00));
        bar->setPalette(pal);
        const QString source =
            bar->maximum() == Limits[i].limit ? tr("the venue's limit per IP address")
            : bar->maximum() == defaults[i]
                ? tr("FeedScope's default, under the venue's %1 per IP address").arg(Limits[i].limit)
                : tr("the limit in force, set in the settings or the profile (the venue allows %1 per IP "
                     "address)")
                      .arg(Limits[i].limit);
        bar->setToolTip(tr("%1: %2 of %3, %4%5")
                            .arg(tr(Limits[i].label))
                            .arg(values[i])
                            .arg(bar->maximum())
                            .arg(source, used >= 0.9 ? tr(" — near the limit") : QString()));
    }
    updateWidgets();
}

void MainWindow::onSeriesUpdated()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    // Reconnect markers: the data lost per reconnect within the window (so far, for one still in
    // progress), manual ones apart, simultaneous ones spread so each shows.
    QList<QPointF> automatic, manual, pending;
    QStringList automaticTips, manualTips, pendingTips;
    const qint64 window = std::chrono::milliseconds(m_controller->series().window()).count();
    for (const ReconnectPoint &p : reconnectPoints(m_controller->lastSnapshot().reconnects, now, window,
                                                   m_reconnectChart->markerSpacingMs())) {
        const QString when = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(p.startedMs))
                                 .toLocalTime()
                                 .toString(u"HH:mm:ss"_s);
        const QString lost = Format::duration(static_cast<qint64>(p.gapSeconds * 1000));
        QString tip;
        if (p.inProgress)
            tip = tr("Connection #%1 at %2: %3, still reconnecting\nData lost so far: %4")
                      .arg(p.connection)
                      .arg(when, Words::cause(p.cause), lost);
        else
            tip = tr("Connection #%1 at %2: %3\nData lost: %4 (outage %5)")
                      .arg(p.connection)
                      .arg(when, p.manual ? Words::cause(u"manual"_s) : Words::cause(p.cause), lost,
                           Format::duration(static_cast<qint64>(p.outageMs)));
        QList<QPointF> &points = p.inProgress ? pending : p.manual ? manual : automatic;
        QStringList &tips = p.inProgress ? pendingTips : p.manual ? manualTips : automaticTips;
        points.append(QPointF(p.xMs, p.gapSeconds));
        tips.append(tip);
    }
    m_reconnectChart->setMarkers(tr("automatic"), automatic, automaticTips);
    m_reconnectChart->setMarkers(tr("manual"), manual, manualTips, QScatterSeries::MarkerShapeRectangle);
    m_reconnectChart->setMarkers(tr("in progress"), pending, pendingTips,
                                 QScatterSeries::MarkerShapeTriangle);
    for (SeriesChart *c : std::as_const(m_charts))
        c->refresh(m_controller->series(), now);
    if (m_followInspector->isChecked())
        refreshInspector();
}

QList<int> MainWindow::selectedConnections() const
{
    QList<int> ids;
    for (const QModelIndex &i : m_connectionsView->selectionModel()->selectedRows())
        ids.append(i.data(KeyRole).toInt());
    return ids;
}

QList<Hl::Subscription> MainWindow::selectedSubscriptions() const
{
    QList<Hl::Subscription> out;
    SubscriptionsModel *model = m_controller->subscriptions();
    for (const QModelIndex &i : m_subscriptionsView->selectionModel()->selectedRows()) {
        // By key: while paused the table's rows are not the model's rows.
        if (const SubscriptionStatus *s = model->statusAt(model->rowOf(i.data(KeyRole).toByteArray())))
            out.append(s->subscription);
    }
    return out;
}

void MainWindow::addSubscriptions(const QList<Hl::Subscription> &subscriptions)
{
    if (subscriptions.isEmpty())
        return;
    // The new rows are selected and scrolled to as they arrive (a filter that would hide them is
    // cleared first, or they could not be shown).
    QSet<QByteArray> keys;
    for (const Hl::Subscription &sub : subscriptions)
        keys.insert(sub.canonical());
    if (!m_filter->text().isEmpty())
        m_filter->clear();
    PendingRowSelection::start(m_subscriptionsView, keys, KeyRole);
    m_controller->subscribe(subscriptions, u"user"_s);
    m_controller->engine().noteManual(u"subscribe"_s, {{u"count"_s, static_cast<int>(subscriptions.size())}});
    statusBar()->showMessage(tr("Subscribing %n channel(s)", nullptr, static_cast<int>(subscriptions.size())),
                             4000);
}

void MainWindow::copySelectedJson()
{
    QStringList lines;
    for (const Hl::Subscription &s : selectedSubscriptions())
        lines.append(QString::fromUtf8(s.canonical()));
    if (lines.isEmpty())
        return;
    // One subscription: its object; several: a JSON array in the --subscriptions format.
    QApplication::clipboard()->setText(lines.size() == 1 ? lines.constFirst()
                                                         : u"["_s + lines.join(u",\n"_s) + u"]"_s);
    statusBar()->showMessage(tr("Copied %n subscription(s) as JSON", nullptr, static_cast<int>(lines.size())),
                             3000);
}

void MainWindow::refreshInspector()
{
    m_inspector->refresh();
}

void MainWindow::exportSession(const QString &path, ExportFormat format)
{
    if (m_exporting) {
        statusBar()->showMessage(tr("An export is already running"), 4000);
        return;
    }
    m_exporting = true;
    Engine &engine = m_controller->engine();
    const QList<SessionEvent> events = m_controller->sessionEventList(); // the agent's, attached
    // HAR carries frames: the inspector's last messages of every subscription, in time order.
    QList<RecordedFrame> frames;
    if (format == ExportFormat::Har) {
        for (const SubscriptionStatus &s : m_controller->lastSnapshot().subscriptions)
            for (const MessageInspector::Message &m : engine.inspector().messages(s.subscription.canonical()))
                frames.append(RecordedFrame{m.at, m.receivedNs, m.connection, m.raw, false, false});
        frames.append(engine.sentFrames()); // subscribe, unsubscribe, ping, post: "send" messages
        std::stable_sort(frames.begin(), frames.end(), [](const RecordedFrame &a, const RecordedFrame &b) {
            return a.wallTime < b.wallTime;
        });
    }
    auto *progress = new QProgressDialog(tr("Exporting the session log…"), tr("Cancel"), 0, 1000, this);
    progress->setWindowModality(Qt::NonModal);
    progress->setMinimumDuration(300);
    progress->setAttribute(Qt::WA_DeleteOnClose);
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    connect(progress, &QProgressDialog::canceled, this, [cancelled] { *cancelled = true; });
    QPointer<QProgressDialog> guard(progress);
    const QUrl url = m_controller->poolUrl();
    QThread *worker = QThread::create([=, this] {
        const ExportResult r =
            FeedScope::exportSession(events, frames, url, format, path, [=](qint64 done, qint64 total) {
                QMetaObject::invokeMethod(progress, [guard, done, total] {
                    if (guard)
                        guard->setValue(total > 0 ? static_cast<int>(done * 1000 / total) : 0);
                });
                return !cancelled->load();
            });
        QMetaObject::invokeMethod(this, [this, r, path, guard] {
            m_exporting = false;
            if (guard)
                guard->close();
            if (r.ok)
                statusBar()->showMessage(tr("Exported %1 item(s) to %2").arg(r.items).arg(path), 8000);
            else if (r.cancelled)
                statusBar()->showMessage(tr("Export cancelled; nothing was written"), 6000);
            else
                statusBar()->showMessage(tr("Export failed: %1").arg(r.error), 15000);
            m_controller->engine().noteManual(
                u"export"_s,
                {{u"path"_s, path}, {u"ok"_s, r.ok}, {u"items"_s, static_cast<double>(r.items)}});
            Q_EMIT exportFinished(r);
        });
    });
    connect(worker, &QThread::finished, worker, &QObject::deleteLater);
    worker->start();
}

bool MainWindow::importSession(const QString &path, QString *error)
{
    const auto events = importSessionJsonl(path, error);
    if (!events)
        return false;
    m_eventsPage->showFile(path, *events);
    m_tabs->setCurrentWidget(m_eventsPage);
    statusBar()->showMessage(tr("Showing %n event(s) from %1; “Back to live” above the table returns to "
                                "the live session",
                                nullptr, static_cast<int>(events->size()))
                                 .arg(path),
                             10000);
    return true;
}

void MainWindow::showConnectionSubscriptions(int connection)
{
    // The filter box shows it: clear or edit it to show the others.
    m_filter->setText(u"conn:%1"_s.arg(connection));
    statusBar()->showMessage(
        tr("Showing the channels of connection %1 — clear the filter box to show all").arg(connection), 6000);
}

void MainWindow::updateHealth()
{
    const PoolSnapshot &snap = m_controller->lastSnapshot();
    const PoolSummary s = summarize(snap);
    // Connections the user disconnected are not a problem; the status bar says POOL DISCONNECTED.
    const bool connected = m_controller->poolConnected();
    const int down = connected ? s.connectionsTotal - s.connectionsUp : 0;
    QStringList bad, warn;
    if (down > 0)
        bad.append(Format::plural(s.connectionsTotal, tr("%1 of 1 connection down").arg(down),
                                  tr("%1 of %2 connections down").arg(down).arg(u"%1"_s)));
    if (s.subscriptionsProblem > 0)
        bad.append(Format::plural(s.subscriptionsProblem, tr("1 channel with problems"),
                                  tr("%1 channels with problems")));
    if (s.connectionsSilent > 0)
        warn.append(
            Format::plural(s.connectionsSilent, tr("1 connection silent"), tr("%1 connections silent")));
    if (s.subscriptionsStale > 0)
        warn.append(Format::plural(s.subscriptionsStale, tr("1 channel late"), tr("%1 channels late")));
    const QStringList all = bad + warn;
    const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
    const QColor red = dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    const QColor amber = dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00);
    const QString paused =
        m_pauseUpdates && m_pauseUpdates->isChecked() ? tr(" (display paused)") : QString();
    if (all.isEmpty()) {
        m_problemsButton->setVisible(false);
        setWindowTitle(tr("FeedScope") + m_titleSource + m_staleMark + paused);
        m_summary->setPalette(palette());
        m_summary->setFont(font());
        return;
    }
    const QString text = u"⚠ "_s + all.join(u" · "_s);
    m_problemsButton->setText(text);
    m_problemsButton->setToolTip(tr("%1 — click to select them in the tables").arg(all.join(u", "_s)));
    QPalette p = m_problemsButton->palette();
    const QColor fill = bad.isEmpty() ? amber : red;
    p.setColor(QPalette::Button, fill);
    p.setColor(QPalette::Window, fill);
    p.setColor(QPalette::ButtonText, dark ? QColor(Qt::black) : QColor(Qt::white));
    m_problemsButton->setPalette(p);
    {
        QFont f = m_problemsButton->font();
        f.setBold(true);
        m_problemsButton->setFont(f);
    }
    m_problemsButton->setVisible(true);
    QPalette sp = palette();
    sp.setColor(QPalette::WindowText, fill);
    m_summary->setPalette(sp);
    setWindowTitle(u"⚠ "_s + tr("FeedScope — %1").arg(all.join(u", "_s)) + m_titleSource + m_staleMark +
                   paused);
}

void MainWindow::selectProblems()
{
    // Every problem row visible and on top, then selected; the first scrolled to.
    m_filter->clear();
    m_problemsFirst->setChecked(true);
    auto select = [](QTableView *v, bool warnings) {
        QItemSelection sel;
        QAbstractItemModel *m = v->model();
        QModelIndex first;
        for (int r = 0; r < m->rowCount(); ++r) {
            const QModelIndex i = m->index(r, 0);
            const auto sev = i.data(RowSeverityRole).value<Severity>();
            if (sev == Severity::Bad || (warnings && sev == Severity::Warning)) {
                sel.select(i, m->index(r, m->columnCount() - 1));
                if (!first.isValid())
                    first = i;
            }
        }
        v->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        if (first.isValid()) {
            v->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
            v->scrollTo(first);
        }
        return static_cast<int>(sel.size());
    };
    const int channels = select(m_subscriptionsView, true);
    const int connections = select(m_connectionsView, true);
    m_subscriptionsView->setFocus(Qt::OtherFocusReason);
    statusBar()->showMessage(Format::plural(channels, tr("Selected 1 channel"), tr("Selected %1 channels")) +
                                 u" and "_s +
                                 Format::plural(connections, tr("1 connection"), tr("%1 connections")) +
                                 tr(" with problems or warnings"),
                             6000);
}

void MainWindow::updateChannelCount()
{
    const int shown = m_subscriptionsProxy->rowCount();
    const int total = m_controller->subscriptions()->rowCount();
    m_channelCount->setText(m_subscriptionsProxy->isFiltering()
                                ? Format::plural(total, tr("%1 of 1 channel").arg(shown),
                                                 tr("%1 of %2 channels").arg(shown).arg(u"%1"_s))
                                : Format::plural(total, tr("1 channel"), tr("%1 channels")));
    auto *v = static_cast<LiveTableView *>(m_subscriptionsView);
    if (m_pauseUpdates && m_pauseUpdates->isChecked() && total == 0 && shown == 0)
        v->setEmptyText(tr("No channels (display paused)."));
    else if (m_controller->subscriptions()->rowCount() == 0)
        v->setEmptyText(tr("No subscriptions yet: File → Add subscriptions… (Ctrl+N)."));
    else
        v->setEmptyText(tr("No channel matches “%1”. Clear the filter to see all %2.")
                            .arg(m_filter->text().trimmed())
                            .arg(total));
}

QString MainWindow::channelCountText() const
{
    return m_channelCount->text();
}

void MainWindow::setUpdatesPaused(bool paused)
{
    // The selection and the current row stay on the same rows across the freeze and the thaw.
    struct Kept
    {
        LiveTableView *view;
        QList<QVariant> keys;
        QVariant current;
    };
    QList<Kept> kept;
    for (LiveTableView *v : tables())
        kept.append({v, v->selectedKeys(), v->currentKey()});
    for (FreezeProxy *f : std::as_const(m_freezers))
        f->setFrozen(paused);
    m_eventsPage->setFrozen(paused);
    if (m_clientsView)
        m_clientsView->setFrozen(paused);
    for (const Kept &k : std::as_const(kept))
        if (!k.keys.isEmpty() || k.current.isValid())
            if (k.view->selectedKeys() != k.keys || k.view->currentKey() != k.current)
                k.view->selectKeys(k.keys, k.current);
    m_pausedLabel->setVisible(paused);
    m_pauseUpdates->setText(paused ? tr("Resume &updates") : tr("&Pause updates"));
    statusBar()->showMessage(
        paused ? tr("Display paused: the tables keep what they show, the pool keeps running")
               : tr("Display resumed"),
        4000);
    updateChannelCount();
    updateHealth();
}

void MainWindow::updateWidgets()
{
    const bool connected = m_controller->poolConnected();
    m_reconnectSelected->setEnabled(connected && !selectedConnections().isEmpty());
    m_reconnectAll->setEnabled(connected && m_controller->connections()->rowCount() > 0);
    m_unsubscribe->setEnabled(m_subscriptionsView->selectionModel()->hasSelection());
    if (m_controller->isRemote())
        updateRemoteControls();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(settingsKey("geometry"), saveGeometry());
    settings.setValue(settingsKey("state"), saveState());
    for (LiveTableView *v : tables()) {
        const QByteArray columns = v->saveColumns();
        if (columns.isEmpty())
            settings.remove(settingsKey("columns-v2/") + v->objectName());
        else
            settings.setValue(settingsKey("columns-v2/") + v->objectName(), columns);
    }
    for (QSplitter *s : findChildren<QSplitter *>())
        settings.setValue(settingsKey("splitters/") + s->objectName(), s->saveState());
    settings.setValue(settingsKey("tab"), m_tabs->currentIndex());
    settings.sync();
    event->accept();
}

// ---------------------------------------------------------------------------------------------
// Alerts (issue 17): the tab, the status bar's count, the title mark, notifications, Settings.

void MainWindow::buildAlerts()
{
    AlertEngine &engine = m_controller->engine().alerts();
    m_alertsModel = new AlertsModel(&engine, this);
    m_alertsView = new AlertsView(m_alertsModel, this);
    m_alertsView->setRules(engine.rules());
    m_tabs->addTab(m_alertsView, tr("&Alerts"));
    connect(m_alertsView, &AlertsView::settingsRequested, this, &MainWindow::openAlertSettings);
    connect(m_alertsView, &AlertsView::subscriptionActivated, this,
            [this](const QByteArray &key) { selectChannel(key); });
    connect(m_alertsView, &AlertsView::connectionActivated, this,
            [this](int id) { selectConnectionRow(id); });
    connect(m_alertsModel, &AlertsModel::firingChanged, this, &MainWindow::updateAlertsIndicator);

    m_alertsButton = new QToolButton(this);
    m_alertsButton->setObjectName(u"alertsButton"_s);
    m_alertsButton->setAutoRaise(false);
    m_alertsButton->setAutoFillBackground(true);
    m_alertsButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_alertsButton->setVisible(false);
    connect(m_alertsButton, &QToolButton::clicked, this, &MainWindow::showAlerts);
    statusBar()->insertPermanentWidget(0, m_alertsButton);

    m_alertNotifier = new AlertNotifier(&engine, this);
    connect(m_alertNotifier, &AlertNotifier::activated, this, [this] {
        showNormal();
        raise();
        activateWindow();
        showAlerts();
    });

    // The firing alerts' durations tick once a second while someone can see them.
    auto *tick = new QTimer(this);
    tick->setInterval(std::chrono::seconds(1));
    connect(tick, &QTimer::timeout, this, [this] {
        if (m_alertsModel->firingCount() > 0 && m_alertsView->isVisible())
            m_alertsModel->refreshDurations();
    });
    tick->start();
    // The title keeps its mark whatever else retitles the window (updateHealth does, often).
    connect(this, &QWidget::windowTitleChanged, this, &MainWindow::markTitleWithAlerts);
    updateAlertsIndicator();
}

void MainWindow::updateAlertsIndicator()
{
    const int firing = m_alertsModel->firingCount();
    const int critical = m_alertsModel->criticalCount();
    const int index = m_tabs->indexOf(m_alertsView);
    m_tabs->setTabText(index, firing > 0 ? tr("&Alerts (%1)").arg(firing) : tr("&Alerts"));
    if (firing == 0) {
        m_alertsButton->setVisible(false);
        m_titleMark.clear();
        markTitleWithAlerts();
        return;
    }
    const QString text = Format::plural(firing, tr("⚠ 1 alert firing"), tr("⚠ %1 alerts firing"));
    m_alertsButton->setText(text);
    QStringList lines;
    for (int row = 0; row < std::min(firing, 8); ++row) {
        const Alert *a = m_alertsModel->alertAt(row);
        lines.append(u"• "_s + (a->text.isEmpty() ? AlertWords::kindName(a->kind) + u": "_s +
                                                        AlertWords::subject(a->subject)
                                                  : a->text));
    }
    if (firing > 8)
        lines.append(tr("… and %1 more").arg(firing - 8));
    m_alertsButton->setToolTip((critical > 0 ? tr("%1 firing, %2 critical:").arg(firing).arg(critical)
                                             : tr("%1 firing:").arg(firing)) +
                               u'\n' + lines.join(u'\n') + u'\n' + tr("Click to show the Alerts tab"));
    const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
    const QColor red = dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    const QColor amber = dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00);
    const QColor fill = critical > 0 ? red : amber;
    QPalette p = m_alertsButton->palette();
    p.setColor(QPalette::Button, fill);
    p.setColor(QPalette::Window, fill);
    p.setColor(QPalette::ButtonText, dark ? QColor(Qt::black) : QColor(Qt::white));
    m_alertsButton->setPalette(p);
    QFont f = m_alertsButton->font();
    f.setBold(true);
    m_alertsButton->setFont(f);
    m_alertsButton->setVisible(true);
    m_titleMark = Format::plural(firing, tr(" · 1 alert firing"), tr(" · %1 alerts firing"));
    markTitleWithAlerts();
}

void MainWindow::markTitleWithAlerts()
{
    // At the end: the title's start is the problems' ("⚠ FeedScope — 2 connections down").
    QString title = windowTitle();
    if (!m_titleMarkShown.isEmpty() && title.endsWith(m_titleMarkShown))
        title.chop(m_titleMarkShown.size());
    title.append(m_titleMark);
    m_titleMarkShown = m_titleMark;
    if (title != windowTitle())
        setWindowTitle(title); // once more through here, then unchanged
}

void MainWindow::showAlerts()
{
    m_tabs->setCurrentWidget(m_alertsView);
    m_alertsView->table()->setFocus(Qt::OtherFocusReason);
}

void MainWindow::openAlertSettings()
{
    m_settingsOnAlerts = true;
    m_settings->trigger();
    m_settingsOnAlerts = false;
}

void MainWindow::prepareAlertSettings(SettingsDialog &dialog)
{
    dialog.setAlertRules(m_controller->engine().alerts().rules());
    dialog.setNotificationsEnabled(m_alertNotifier->isEnabled());
    if (m_settingsOnAlerts)
        dialog.showAlertsPage();
}

void MainWindow::applyAlertSettings(const SettingsDialog &dialog)
{
    QString error;
    const auto rules = dialog.alertRules(&error);
    if (!rules)
        return; // the dialog does not close with bad rules
    AlertEngine &engine = m_controller->engine().alerts();
    engine.setRules(*rules);
    m_alertsView->setRules(engine.rules());
    m_alertNotifier->setEnabled(dialog.notificationsEnabled());
    statusBar()->showMessage(
        tr("Settings saved; the alert rules and the UI refresh apply now, the rest at the next start"), 8000);
}

bool MainWindow::selectChannel(const QByteArray &canonical)
{
    auto find = [this, &canonical] {
        QAbstractItemModel *m = m_subscriptionsView->model();
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data(KeyRole).toByteArray() == canonical)
                return r;
        return -1;
    };
    int row = find();
    if (row < 0 && !m_filter->text().isEmpty()) {
        m_filter->clear(); // the filter hid it
        row = find();
    }
    if (row < 0) {
        statusBar()->showMessage(tr("That channel is not subscribed any more"), 5000);
        return false;
    }
    const QModelIndex i = m_subscriptionsView->model()->index(row, 0);
    m_subscriptionsView->selectionModel()->setCurrentIndex(i, QItemSelectionModel::ClearAndSelect |
                                                                  QItemSelectionModel::Rows);
    m_subscriptionsView->scrollTo(i);
    m_subscriptionsView->setFocus(Qt::OtherFocusReason);
    return true;
}

bool MainWindow::selectConnectionRow(int id)
{
    QAbstractItemModel *m = m_connectionsView->model();
    for (int r = 0; r < m->rowCount(); ++r) {
        const QModelIndex i = m->index(r, 0);
        if (i.data(KeyRole).toInt() != id)
            continue;
        m_connectionsView->selectionModel()->setCurrentIndex(i, QItemSelectionModel::ClearAndSelect |
                                                                    QItemSelectionModel::Rows);
        m_connectionsView->scrollTo(i);
        m_connectionsView->setFocus(Qt::OtherFocusReason);
        return true;
    }
    statusBar()->showMessage(tr("Connection #%1 is gone").arg(id), 5000);
    return false;
}

// ---------------------------------------------------------------------------------------------
// The gateway (issue 14): the Clients tab, the status bar's client count, Settings → Gateway.

namespace {
bool sameGateway(const GatewaySettings &a, const GatewaySettings &b)
{
    const Gw::GatewayConfig &x = a.config.server, &y = b.config.server;
    return a.enabled == b.enabled && x.bind == y.bind && x.port == y.port && x.token == y.token &&
           x.maxClients == y.maxClients && x.policy == y.policy && x.queueBytes == y.queueBytes &&
           x.queueFrames == y.queueFrames && x.idleTimeout == y.idleTimeout &&
           x.maxSubscriptions == y.maxSubscriptions && x.maxMessagesPerMinute == y.maxMessagesPerMinute &&
           x.maxFrameBytes == y.maxFrameBytes && a.config.hub.linger == b.config.hub.linger;
}
} // namespace

void MainWindow::ensureClientsTab()
{
    if (m_clientsView)
        return;
    m_clientsView = new ClientsView(this);
    m_tabs->addTab(m_clientsView, tr("Cl&ients"));
    connect(m_clientsView, &ClientsView::settingsRequested, this, &MainWindow::openGatewaySettings);
    connect(m_clientsView, &ClientsView::channelsRequested, this, [this](const QString &filter) {
        m_filter->setText(filter);
        statusBar()->showMessage(tr("Channels: those of %1").arg(filter), 4000);
    });
    // A subscription shared by several bots: Consumers has room for one, its tooltip lists them all.
    static_cast<LiveTableView *>(m_subscriptionsView)
        ->setWidestText(SubscriptionsModel::Consumers, u"user, gateway: bot-a #1"_s);
    new ConsumersToolTip(m_subscriptionsView, SubscriptionsModel::Consumers, this);
    m_gatewayButton = new QToolButton(this);
    m_gatewayButton->setObjectName(u"gatewayButton"_s);
    m_gatewayButton->setAutoRaise(true);
    m_gatewayButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_gatewayButton->setVisible(false);
    connect(m_gatewayButton, &QToolButton::clicked, this, &MainWindow::showClients);
    statusBar()->insertPermanentWidget(0, m_gatewayButton);
}

void MainWindow::setGateway(GatewayService *gateway)
{
    if (m_gateway && m_gateway != gateway)
        stopGateway();
    m_gateway = gateway;
    if (!m_gatewaySettings)
        m_gatewaySettings = std::make_unique<GatewaySettings>();
    m_gatewayError.clear();
    ensureClientsTab();
    if (gateway) {
        gateway->setParent(this);
        m_gatewaySettings->enabled = true;
        m_gatewaySettings->config = gateway->config();
        // In the view's context: the view is the older child, gone before the gateway when the
        // window goes, so a gateway closing its clients then calls nothing of the window.
        connect(gateway, &GatewayService::clientsChanged, m_clientsView,
                [this] { updateGatewayIndicator(); });
    }
    m_clientsView->setService(gateway);
    updateGatewayIndicator();
}

void MainWindow::setGatewayError(const GatewaySettings &settings, const QString &error)
{
    stopGateway();
    m_gatewaySettings = std::make_unique<GatewaySettings>(settings);
    m_gatewayError = error;
    ensureClientsTab();
    m_clientsView->setStartError(error);
    updateGatewayIndicator();
}

bool MainWindow::startGateway(const GatewaySettings &settings, QString *error)
{
    stopGateway();
    ensureClientsTab(); // before the gateway: see setGateway
    auto *gateway = new GatewayService(m_controller->engine(), settings.config, this);
    QString why;
    if (!gateway->start(&why)) {
        delete gateway;
        setGatewayError(settings, why);
        if (error)
            *error = why;
        return false;
    }
    setGateway(gateway);
    m_gatewaySettings->metricsPerClient = settings.metricsPerClient;
    return true;
}

void MainWindow::stopGateway()
{
    if (!m_gateway)
        return;
    GatewayService *gateway = std::exchange(m_gateway, nullptr);
    if (m_clientsView)
        m_clientsView->setService(nullptr);
    gateway->stop(); // every client closed (1001), then the hub lets go of their subscriptions
    delete gateway;
    updateGatewayIndicator();
}

void MainWindow::updateGatewayIndicator()
{
    if (!m_clientsView)
        return;
    const int index = m_tabs->indexOf(m_clientsView);
    const bool running = m_gateway && m_gateway->isRunning();
    QPalette p = statusBar()->palette();
    if (running) {
        const int n = m_gateway->server().clientCount();
        m_tabs->setTabText(index, n > 0 ? tr("Cl&ients (%1)").arg(n) : tr("Cl&ients"));
        m_gatewayButton->setText(Format::plural(n, tr("gateway: 1 client"), tr("gateway: %1 clients")));
        m_gatewayButton->setToolTip(tr("The gateway listens on %1; click to show the Clients tab")
                                        .arg(m_gateway->server().url().toString()));
        m_gatewayButton->setVisible(true);
    } else if (m_gatewaySettings && m_gatewaySettings->enabled && !m_gatewayError.isEmpty()) {
        m_tabs->setTabText(index, tr("Cl&ients"));
        m_gatewayButton->setText(tr("gateway: not running"));
        m_gatewayButton->setToolTip(
            tr("The gateway did not start: %1\nClick to show the Clients tab").arg(m_gatewayError));
        const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
        p.setColor(QPalette::ButtonText, dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e));
        m_gatewayButton->setVisible(true);
    } else {
        m_tabs->setTabText(index, tr("Cl&ients"));
        m_gatewayButton->setVisible(false);
    }
    m_gatewayButton->setPalette(p);
}

void MainWindow::showClients()
{
    if (!m_clientsView)
        return;
    m_tabs->setCurrentWidget(m_clientsView);
    m_clientsView->table()->setFocus(Qt::OtherFocusReason);
}

void MainWindow::openGatewaySettings()
{
    m_settingsOnGateway = true;
    m_settings->trigger();
    m_settingsOnGateway = false;
}

GatewaySettings MainWindow::gatewaySettingsShown() const
{
    if (m_gatewaySettings)
        return *m_gatewaySettings;
    QString error;
    if (const auto saved = savedProfile(&error))
        return saved->gateway;
    return {};
}

void MainWindow::applyGatewaySettings(const SettingsDialog &dialog)
{
    if (m_controller->isRemote())
        return; // issue 18: an attached window runs no pool of its own for a gateway to share
    QString error;
    const auto p = dialog.profile(&error);
    if (!p)
        return; // the dialog does not close with bad settings
    const GatewaySettings &want = p->gateway;
    const bool running = m_gateway && m_gateway->isRunning();
    if (!want.enabled) {
        if (!running && m_gatewayError.isEmpty())
            return; // none ran, none should
        stopGateway();
        m_gatewaySettings = std::make_unique<GatewaySettings>(want);
        m_gatewayError.clear();
        m_clientsView->setStartError(QString());
        updateGatewayIndicator();
        statusBar()->showMessage(tr("Settings saved; the gateway is off, its clients were disconnected"),
                                 8000);
        return;
    }
    if (running && m_gatewaySettings && sameGateway(*m_gatewaySettings, want))
        return; // unchanged: the clients stay connected
    if (startGateway(want, &error))
        statusBar()->showMessage(tr("Settings saved; the gateway (re)started on %1: its clients reconnect")
                                     .arg(m_gateway->server().url().toString()),
                                 10000);
    else
        statusBar()->showMessage(tr("Settings saved, but the gateway did not start: %1").arg(error), 15000);
}

// ---------------------------------------------------------------------------------------------
// Issue 18: the window attached to a remote agent (PoolController's remote mode).

void MainWindow::setAttached()
{
    if (!m_controller->isRemote() || m_attachStatus)
        return;
    m_titleSource = tr(" — attached to %1").arg(m_controller->agentName());
    m_chaosMenu->menuAction()->setVisible(false); // the agent's feed is not this window's to break
    // The banner above the tables while the agent is away.
    m_attachBanner = new QLabel(this);
    m_attachBanner->setObjectName(u"attachBanner"_s);
    m_attachBanner->setWordWrap(true);
    m_attachBanner->setAutoFillBackground(true);
    m_attachBanner->setMargin(6);
    {
        QPalette p = m_attachBanner->palette();
        const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
        p.setColor(QPalette::Window, dark ? QColor(0x5a, 0x1d, 0x1d) : QColor(0xff, 0xeb, 0xe9));
        p.setColor(QPalette::WindowText, dark ? QColor(0xff, 0xd7, 0xd5) : QColor(0x82, 0x07, 0x1e));
        m_attachBanner->setPalette(p);
        QFont f = m_attachBanner->font();
        f.setBold(true);
        m_attachBanner->setFont(f);
    }
    m_attachBanner->setVisible(false);
    QWidget *tables = takeCentralWidget();
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_attachBanner);
    layout->addWidget(tables, 1);
    setCentralWidget(central);

    m_attachStatus = new QLabel(this);
    m_attachStatus->setObjectName(u"attachStatus"_s);
    {
        QFont f = m_attachStatus->font();
        f.setBold(true);
        m_attachStatus->setFont(f);
    }
    statusBar()->insertPermanentWidget(0, m_attachStatus);
    setEndpoint(tr("agent %1").arg(m_controller->live()->url().toString()));
    connect(m_controller, &PoolController::sourceStatusChanged, this, [this] {
        updateAttachState();
        updateWidgets();
    });
    connect(m_controller, &PoolController::controlReplied, this, &MainWindow::onControlReplied);
    connect(m_controller, &PoolController::updated, this, &MainWindow::updateRemoteClients);
    // The inspector shows the agent's last messages of the channel the user is on.
    connect(m_subscriptionsView->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    m_controller->setInspected(current.data(KeyRole).toByteArray());
            });
    // "Again in N s" counts down.
    auto *tick = new QTimer(this);
    tick->setInterval(std::chrono::seconds(1));
    connect(tick, &QTimer::timeout, this, [this] {
        if (m_controller->live()->status() == LiveSource::Status::Retrying)
            updateAttachState();
    });
    tick->start();
    for (QAction *a :
         {m_reconnectSelected, m_reconnectAll, m_unsubscribe, m_poolConnected, m_record, m_addSubscriptions})
        m_localToolTips.insert(a, a->toolTip());
    m_record->setText(tr("&Record on the agent"));
    m_localToolTips.insert(m_record, tr("The agent records every data frame to a file it names, in its "
                                        "working directory"));
    updateAttachState();
    updateWidgets();
}

void MainWindow::updateRemoteClients()
{
    if (!m_remoteClients) {
        if (!m_controller->agentHasGateway())
            return;
        m_remoteClients = new RemoteClientsView(m_controller, this);
        m_tabs->addTab(m_remoteClients, tr("Cl&ients"));
    }
    const int n = m_controller->remoteClients()->rowCount();
    m_tabs->setTabText(m_tabs->indexOf(m_remoteClients), n > 0 ? tr("Cl&ients (%1)").arg(n) : tr("Cl&ients"));
    m_remoteClients->refresh();
}

void MainWindow::updateAttachState()
{
    if (!m_attachStatus)
        return;
    LiveSource *live = m_controller->live();
    const QString agent = m_controller->agentName();
    const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
    QColor colour;
    QString text;
    QString banner;
    QString stale;
    switch (live->status()) {
    case LiveSource::Status::Attached:
        text = tr("● attached to %1").arg(agent);
        colour = dark ? QColor(0x7e, 0xe7, 0x87) : QColor(0x1a, 0x7f, 0x37);
        break;
    case LiveSource::Status::Connecting:
        text = tr("◌ attaching to %1…").arg(agent);
        colour = dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00);
        break;
    case LiveSource::Status::Retrying:
    case LiveSource::Status::Detached: {
        const qint64 left = (live->retryInMs() + 999) / 1000;
        const QString why = live->lastError().isEmpty() ? tr("no answer") : live->lastError();
        text = live->status() == LiveSource::Status::Retrying ? tr("✖ agent gone — again in %1 s").arg(left)
                                                              : tr("✖ not attached");
        colour = dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
        if (live->state().valid) {
            const QDateTime at = live->lastSnapshot().at;
            banner = tr("The agent %1 is gone (%2). Showing its last state%3, not live; %4")
                         .arg(agent, why,
                              at.isValid() ? tr(" from %1").arg(at.toLocalTime().toString(u"HH:mm:ss"_s))
                                           : QString(),
                              live->status() == LiveSource::Status::Retrying
                                  ? tr("attaching again in %1 s.").arg(left)
                                  : tr("not trying again."));
            stale = tr(" (agent gone: last state)");
        } else {
            banner = tr("Cannot attach to the agent %1 (%2); %3")
                         .arg(agent, why,
                              live->status() == LiveSource::Status::Retrying
                                  ? tr("trying again in %1 s.").arg(left)
                                  : tr("not trying again."));
            stale = tr(" (not attached)");
        }
        break;
    }
    }
    m_attachStatus->setText(text);
    QPalette p = m_attachStatus->palette();
    p.setColor(QPalette::WindowText, colour);
    m_attachStatus->setPalette(p);
    const Live::AgentInfo &info = live->state().agent;
    m_attachStatus->setToolTip(
        live->state().valid
            ? tr("%1\nAgent FeedScope %2, started %3, its pool on %4\nControl: %5")
                  .arg(live->statusText(), info.version,
                       info.startedAt.isValid()
                           ? info.startedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s)
                           : tr("(unknown)"),
                       info.url.isEmpty() ? tr("(unknown)") : info.url,
                       m_controller->canControl() ? tr("yes") : m_controller->controlRefusal())
            : live->statusText());
    m_attachBanner->setText(banner);
    m_attachBanner->setVisible(!banner.isEmpty());
    if (stale != m_staleMark) {
        m_staleMark = stale;
        updateHealth(); // the title
        // Every table's title says what it shows is not live.
        if (m_boxTitles.isEmpty())
            for (QGroupBox *g : findChildren<QGroupBox *>())
                m_boxTitles.insert(g, g->title());
        for (auto it = m_boxTitles.cbegin(); it != m_boxTitles.cend(); ++it)
            it.key()->setTitle(stale.isEmpty()       ? it.value()
                               : live->state().valid ? tr("%1 — last state, not live").arg(it.value())
                                                     : tr("%1 — not attached").arg(it.value()));
    }
}

void MainWindow::updateRemoteControls()
{
    const QString why = m_controller->controlRefusal();
    const bool can = why.isEmpty();
    {
        const QSignalBlocker block(m_poolConnected); // the agent's state, not a click
        const bool on = m_controller->poolConnected();
        m_poolConnected->setChecked(on);
        m_poolConnected->setText(on ? tr("&Connected") : tr("Dis&connected"));
    }
    for (auto it = m_localToolTips.cbegin(); it != m_localToolTips.cend(); ++it) {
        QAction *a = it.key();
        if (!can)
            a->setEnabled(false);
        else if (a == m_poolConnected || a == m_record || a == m_addSubscriptions)
            a->setEnabled(true);
        a->setToolTip(can ? it.value() : why);
    }
}

void MainWindow::onControlReplied(const QString &what, bool ok, const QString &error,
                                  const QJsonObject &result)
{
    const QString agent = m_controller->agentName();
    if (!ok) {
        statusBar()->showMessage(tr("The agent %1 refused to %2: %3").arg(agent, what, error), 15000);
        return;
    }
    if (result.contains("paused"_L1))
        updateWidgets();
    if (what == tr("start recording") || what == tr("stop recording")) {
        const bool on = what == tr("start recording");
        const QString path = result.value("path"_L1).toString();
        const QSignalBlocker block(m_record);
        m_record->setChecked(on);
        m_recordingLabel->setVisible(on);
        m_recordingLabel->setText(tr("● REC on the agent %1").arg(QFileInfo(path).fileName()));
        m_recordingLabel->setToolTip(path);
        statusBar()->showMessage(on ? tr("The agent %1 records to %2").arg(agent, path)
                                    : tr("The agent %1 stopped recording").arg(agent),
                                 8000);
        return;
    }
    statusBar()->showMessage(tr("The agent %1 did it: %2").arg(agent, what), 6000);
}

} // namespace FeedScope

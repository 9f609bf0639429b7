#include "fleetwindow.h"

#include "fleetmodel.h"
#include "livetableview.h"
#include "tableproxy.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

FleetWindow::FleetWindow(QWidget *parent)
    : QWidget(parent, Qt::Window), m_model(new FleetModel(this)), m_proxy(new TableProxy(this))
{
    setWindowTitle(tr("FeedScope \u2014 Fleet"));
    setObjectName(u"fleetWindow"_s);
    m_proxy->setSourceModel(m_model);
    m_proxy->setProblemsFirst(true);

    auto *view = new LiveTableView(this);
    view->setObjectName(u"fleet"_s);
    view->setModel(m_proxy);
    view->setSortingEnabled(true);
    view->sortByColumn(FleetModel::Name, Qt::AscendingOrder);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setEmptyText(
        tr("No agents yet. Add one (its --metrics-port, e.g. http://host:9100) or load a fleet file."));
    view->setWidestText(FleetModel::Name, tr("frankfurt bot 12"));
    view->setWidestText(FleetModel::Reachable, tr("no, since 23:59:59"));
    view->setWidestText(FleetModel::Problems, tr("2 alerts: subscription stale for 30 s; connection 3 down"));
    view->horizontalHeader()->setStretchLastSection(true);
    m_table = view;
    connect(view, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) {
        if (index.isValid())
            Q_EMIT attachRequested(liveUrlAt(index.row()));
    });
    view->installEventFilter(this); // Enter (or Return) on a row attaches, as a double-click does

    auto *add = m_add = new QPushButton(tr("&Add agent\u2026"), this);
    add->setToolTip(tr("Add a headless agent by the URL of its metrics port (http://host:9100 or "
                       "ws://host:9100/live) and an optional name"));
    connect(add, &QPushButton::clicked, this, &FleetWindow::showAddDialog);
    m_remove = new QPushButton(tr("&Remove"), this);
    m_remove->setToolTip(tr("Remove the selected agent from the list"));
    connect(m_remove, &QPushButton::clicked, this, &FleetWindow::removeSelected);
    auto *load = new QPushButton(tr("&Load file\u2026"), this);
    load->setToolTip(
        tr("Add the agents of a fleet file: one per line, URL then an optional name, # for comments"));
    connect(load, &QPushButton::clicked, this, &FleetWindow::chooseFile);
    m_attach = new QPushButton(tr("A&ttach"), this);
    m_attach->setToolTip(tr("Open the selected agent in a window of its own (its live stream); also a "
                            "double-click or Enter"));
    connect(m_attach, &QPushButton::clicked, this, &FleetWindow::attachCurrent);

    m_interval = new QSpinBox(this);
    m_interval->setObjectName(u"pollInterval"_s);
    m_interval->setRange(1, 3600);
    m_interval->setSuffix(tr(" s"));
    m_interval->setValue(static_cast<int>(m_model->intervalMs() / 1000));
    m_interval->setToolTip(tr("How often every agent is asked for its figures (unreachable ones back off "
                              "up to a minute)"));
    connect(m_interval, &QSpinBox::valueChanged, this, [this](int s) {
        m_model->setIntervalMs(qint64{s} * 1000);
        saveSettings();
    });
    auto *pollLabel = new QLabel(tr("&Poll every"), this);
    pollLabel->setBuddy(m_interval);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(m_remove);
    buttons->addWidget(load);
    buttons->addSpacing(12);
    buttons->addWidget(m_attach);
    buttons->addStretch(1);
    buttons->addWidget(pollLabel);
    buttons->addWidget(m_interval);

    m_fileErrors = new QLabel(this);
    m_fileErrors->setObjectName(u"fileErrors"_s);
    m_fileErrors->setWordWrap(true);
    m_fileErrors->setTextFormat(Qt::PlainText);
    m_fileErrors->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fileErrors->hide();
    m_status = new QLabel(this);
    m_status->setObjectName(u"fleetStatus"_s);
    m_status->setTextFormat(Qt::PlainText);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_fileErrors);
    layout->addWidget(view, 1);
    layout->addWidget(m_status);

    connect(m_model, &FleetModel::agentsChanged, this, &FleetWindow::saveSettings);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &FleetWindow::updateStatus);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &FleetWindow::updateStatus);
    connect(m_model, &QAbstractItemModel::modelReset, this, &FleetWindow::updateStatus);
    connect(view->selectionModel(), &QItemSelectionModel::currentChanged, this, &FleetWindow::updateButtons);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &FleetWindow::updateButtons);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &FleetWindow::updateButtons);
    auto *statusTimer = new QTimer(this);
    statusTimer->setInterval(1000);
    connect(statusTimer, &QTimer::timeout, this, &FleetWindow::updateStatus);
    statusTimer->start();
    updateStatus();
    updateButtons();
    resize(1100, 420);
}

FleetWindow::~FleetWindow() = default;

bool FleetWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Return || key == Qt::Key_Enter) {
            attachCurrent();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void FleetWindow::setPersistent(bool on)
{
    m_persistent = false; // loading is no change to save
    if (on) {
        QSettings settings;
        m_model->load(settings);
        const QSignalBlocker block(m_interval);
        m_interval->setValue(static_cast<int>(std::max<qint64>(1, m_model->intervalMs() / 1000)));
    }
    m_persistent = on;
    updateStatus();
}

void FleetWindow::saveSettings() const
{
    if (!m_persistent)
        return;
    QSettings settings;
    m_model->save(settings);
}

QStringList FleetWindow::loadFile(const QString &path)
{
    const int before = m_model->rowCount();
    const QStringList errors = m_model->loadFile(path);
    const int added = m_model->rowCount() - before;
    if (errors.isEmpty()) {
        m_fileErrors->hide();
    } else {
        m_fileErrors->setText(tr("%1: %2 added; %3 not understood:\n%4")
                                  .arg(QFileInfo(path).fileName(),
                                       added == 1 ? tr("1 agent") : tr("%1 agents").arg(added),
                                       errors.size() == 1 ? tr("1 line") : tr("%1 lines").arg(errors.size()),
                                       errors.mid(0, 10).join(u'\n')) +
                              (errors.size() > 10 ? u"\n\u2026"_s : QString()));
        m_fileErrors->show();
    }
    return errors;
}

bool FleetWindow::addAgent(const QString &url, const QString &name, QString *error)
{
    const std::optional<AgentAddress> a = AgentAddress::parse(url, name, error);
    return a && m_model->addAgent(*a, error);
}

QUrl FleetWindow::liveUrlAt(int viewRow) const
{
    const QModelIndex i = m_proxy->index(viewRow, 0);
    return i.isValid() ? i.data(FleetModel::LiveUrlRole).toUrl() : QUrl();
}

void FleetWindow::attachCurrent()
{
    const QModelIndex current = m_table->currentIndex();
    if (current.isValid())
        Q_EMIT attachRequested(liveUrlAt(current.row()));
}

void FleetWindow::showAddDialog()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Add agent"));
    auto *url = new QLineEdit(&dialog);
    url->setObjectName(u"agentUrl"_s);
    url->setPlaceholderText(u"http://host:9100"_s);
    url->setToolTip(tr("The agent's metrics port (--metrics-port): http://host:port, https://host:port, or "
                       "its live stream ws://host:port/live"));
    auto *name = new QLineEdit(&dialog);
    name->setObjectName(u"agentName"_s);
    name->setPlaceholderText(tr("optional, e.g. bot-3 Tokyo"));
    auto *error = new QLabel(&dialog);
    error->setObjectName(u"agentError"_s);
    error->setTextFormat(Qt::PlainText);
    error->setWordWrap(true);
    auto *box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    auto *form = new QFormLayout(&dialog);
    form->addRow(tr("&URL:"), url);
    form->addRow(tr("&Name:"), name);
    form->addRow(error);
    form->addRow(box);
    connect(box, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    connect(box, &QDialogButtonBox::accepted, &dialog, [&] {
        QString why;
        if (addAgent(url->text(), name->text(), &why))
            dialog.accept();
        else
            error->setText(why); // the dialog stays, with what was typed
    });
    dialog.resize(460, dialog.sizeHint().height());
    dialog.exec();
}

void FleetWindow::removeSelected()
{
    const QModelIndex current = m_table->currentIndex();
    if (current.isValid())
        m_model->removeAgent(m_proxy->mapToSource(current).row());
}

void FleetWindow::chooseFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Load fleet file"), QString(),
                                                      tr("Fleet files (*.txt *.fleet);;All files (*)"));
    if (!path.isEmpty())
        loadFile(path);
}

void FleetWindow::updateButtons()
{
    const bool any = m_table->currentIndex().isValid();
    m_attach->setEnabled(any);
    m_remove->setEnabled(any);
}

QString FleetWindow::statusText() const
{
    int unreachable = 0, problems = 0;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const AgentStatus &s = m_model->status(r);
        if (s.reach == AgentStatus::Reach::Down || s.reach == AgentStatus::Reach::BadAnswer)
            ++unreachable;
        else if (FleetModel::problemRank(s) < 4)
            ++problems;
    }
    QString text = Format::plural(m_model->rowCount(), tr("1 agent"), tr("%1 agents"));
    if (unreachable > 0)
        text += tr(", %1 unreachable").arg(unreachable);
    if (problems > 0)
        text += tr(", %1 with problems").arg(problems);
    text += tr(" \u00b7 polled every %1 \u00b7 %2/s received")
                .arg(Format::duration(m_model->intervalMs()), Format::bytes(m_bytesPerSecond));
    if (!m_persistent)
        text += tr(" \u00b7 this list is not saved");
    return text;
}

void FleetWindow::updateStatus()
{
    const qint64 now = AgentProbe::nowMs();
    // Received bytes per second over the last ~10 s (polls come every few seconds, not every second).
    m_received.emplace_back(now, m_model->bytesReceived());
    while (m_received.size() > 2 && now - m_received.front().first > 10000)
        m_received.pop_front();
    const auto &[t0, b0] = m_received.front();
    if (now > t0)
        m_bytesPerSecond = static_cast<double>(std::max<qint64>(0, m_received.back().second - b0)) * 1000.0 /
                           static_cast<double>(now - t0);
    m_status->setText(statusText());
}

} // namespace FeedScope

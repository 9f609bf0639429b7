#include "sessioneventsview.h"

#include "freezeproxy.h"
#include "livetableview.h"
#include "poolmodels.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

void EventsProxy::setShowStatistics(bool show)
{
    m_showStatistics = show;
    invalidateFilter();
}

bool EventsProxy::filterAcceptsRow(int row, const QModelIndex &parent) const
{
    if (!m_showStatistics &&
        sourceModel()->index(row, SessionEventsModel::Type, parent).data().toString() == StatsEventType)
        return false;
    return TableProxy::filterAcceptsRow(row, parent);
}

SessionEventsView::SessionEventsView(SessionEventsModel *live, QWidget *parent)
    : QWidget(parent), m_live(live)
{
    // live → freezer (Pause updates) → words, statistics toggle, sort → the table.
    m_liveFrozen = new FreezeProxy(m_live, this);
    m_proxy = new EventsProxy(this);
    m_proxy->setSourceModel(m_liveFrozen);

    m_table = new LiveTableView(this);
    m_table->setObjectName(u"events"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(SessionEventsModel::Seq, Qt::DescendingOrder);
    m_table->setEmptyText(tr("No event matches the filter."));

    m_filter = new QLineEdit(this);
    m_filter->setObjectName(u"eventsFilter"_s);
    m_filter->setPlaceholderText(tr("Filter events (type, connection, subscription, cause…)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(tr("Every word must match some column, in any order, ignoring case"));
    m_filter->installEventFilter(this);
    m_count = new QLabel(this);
    m_count->setObjectName(u"eventsCount"_s);
    auto updateCount = [this] {
        const int total = m_proxy->sourceModel() ? m_proxy->sourceModel()->rowCount() : 0;
        m_count->setText(m_filter->text().trimmed().isEmpty()
                             ? tr("%n event(s)", nullptr, m_proxy->rowCount())
                             : tr("%1 of %2 events").arg(m_proxy->rowCount()).arg(total));
    };
    connect(m_filter, &QLineEdit::textChanged, this, [this, updateCount](const QString &text) {
        m_proxy->setFilterWords(text);
        updateCount();
    });
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_proxy, signal, this, updateCount);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, updateCount);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, updateCount);

    auto *showStats = new QCheckBox(tr("Show statistics snapshots"), this);
    showStats->setObjectName(u"showStats"_s);
    showStats->setToolTip(tr("The once-a-second statistics events: the last %1 are kept here and in an "
                             "export, a session log file (--session-log) keeps all")
                              .arg(m_live->statsCapacity()));
    connect(showStats, &QCheckBox::toggled, m_proxy, &EventsProxy::setShowStatistics);

    // The file banner: a notice in the palette's tooltip colours, so it reads in dark mode too.
    m_banner = new QWidget(this);
    m_banner->setObjectName(u"fileBanner"_s);
    m_banner->setAutoFillBackground(true);
    {
        QPalette p = m_banner->palette();
        p.setColor(QPalette::Window, p.color(QPalette::ToolTipBase));
        p.setColor(QPalette::WindowText, p.color(QPalette::ToolTipText));
        m_banner->setPalette(p);
    }
    auto *bl = new QHBoxLayout(m_banner);
    bl->setContentsMargins(6, 3, 6, 3);
    m_bannerText = new QLabel(m_banner);
    m_bannerText->setObjectName(u"fileBannerText"_s);
    m_bannerText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_backToLive = new QPushButton(tr("Back to live"), m_banner);
    m_backToLive->setObjectName(u"backToLive"_s);
    m_backToLive->setToolTip(tr("Show the live session's events again"));
    connect(m_backToLive, &QPushButton::clicked, this, &SessionEventsView::showLive);
    bl->addWidget(m_bannerText);
    bl->addWidget(m_backToLive);
    bl->addStretch(1);
    m_banner->setVisible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_banner);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_count);
    bar->addWidget(showStats);
    layout->addLayout(bar);
    layout->addWidget(m_table);
}

SessionEventsView::~SessionEventsView()
{
    m_proxy->setSourceModel(nullptr); // before the file model goes
}

QTableView *SessionEventsView::table() const
{
    return m_table;
}

void SessionEventsView::setFrozen(bool frozen)
{
    m_liveFrozen->setFrozen(frozen);
}

bool SessionEventsView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape && !m_filter->text().isEmpty()) {
        m_filter->clear(); // Esc: every event again
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void SessionEventsView::showFile(const QString &path, const QList<SessionEvent> &events)
{
    const int n = static_cast<int>(std::min<qsizetype>(events.size(), SessionFileViewCapacity));
    auto model = std::make_unique<SessionEventsModel>(std::max(1, n), std::max(1, n));
    model->reset(events);
    m_proxy->setSourceModel(model.get());
    m_fileModel = std::move(model); // the previous file's model goes after the switch
    const QString name = QFileInfo(path).fileName();
    const QString count = events.size() > n    ? tr("the last %1 of %2 events").arg(n).arg(events.size())
                          : events.size() == 1 ? tr("1 event")
                                               : tr("%1 events").arg(events.size());
    m_bannerText->setText(tr("Showing %1 (%2) —").arg(name, count));
    m_bannerText->setToolTip(tr("%1\nThe live session's events are not shown meanwhile; they are still "
                                "recorded.")
                                 .arg(path));
    m_banner->setVisible(true);
    Q_EMIT showingFileChanged(true);
}

void SessionEventsView::showLive()
{
    if (!m_fileModel)
        return;
    m_proxy->setSourceModel(m_liveFrozen);
    m_fileModel.reset();
    m_banner->setVisible(false);
    m_bannerText->clear();
    Q_EMIT showingFileChanged(false);
}

QString SessionEventsView::bannerText() const
{
    return m_banner->isHidden() ? QString() : m_bannerText->text() + u' ' + m_backToLive->text();
}

} // namespace FeedScope

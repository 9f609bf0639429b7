#include "livetableview.h"

#include "poolmodels.h"
#include "severitydelegate.h"
#include "tableproxy.h"

#include <QEvent>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QMenu>
#include <QStyle>
#include <QTimer>
#include <QToolTip>

namespace FeedScope {

LiveTableView::LiveTableView(QWidget *parent) : QTableView(parent)
{
    setItemDelegate(new SeverityDelegate(this));
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setAlternatingRowColors(true);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    verticalHeader()->setVisible(false);
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    verticalHeader()->setMinimumSectionSize(fontMetrics().height());
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 3); // compact: more rows in view
    QHeaderView *h = horizontalHeader();
    h->setStretchLastSection(true);
    h->setHighlightSections(false);
    h->setResizeContentsPrecision(SizingSampleRows);
    h->setMinimumSectionSize(fontMetrics().horizontalAdvance(QLatin1Char('0')) * 3);
    // A width set by the user (or restored) is kept: never sized to contents after that. The
    // stretched last section follows the viewport, which says nothing about the user.
    connect(h, &QHeaderView::sectionResized, this, [this, h](int logical) {
        if (m_sizing || !model() || (m_sized && !m_sizePending))
            return;
        if (h->stretchLastSection() && h->visualIndex(logical) == h->count() - 1)
            return;
        m_sized = true;
        m_sizePending = false;
    });
    // Every header has a tooltip: the model's, else its whole title (which may be clipped).
    h->viewport()->installEventFilter(this);
    // Right-click on the header: show or hide columns (saved with the widths).
    h->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(h, &QWidget::customContextMenuRequested, this, [this, h](const QPoint &pos) {
        if (!model())
            return;
        QMenu menu;
        for (int c = 0; c < model()->columnCount(); ++c) {
            QAction *a = menu.addAction(model()->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
            a->setCheckable(true);
            a->setChecked(!h->isSectionHidden(c));
            connect(a, &QAction::toggled, this, [this, h, c](bool on) {
                int shown = 0;
                for (int i = 0; i < h->count(); ++i)
                    shown += !h->isSectionHidden(i);
                if (!on && shown <= 1)
                    return; // never hide the last column
                h->setSectionHidden(c, !on);
                m_sized = true; // the user's choice is kept like a width
                m_sizePending = false;
            });
        }
        menu.exec(h->viewport()->mapToGlobal(pos));
    });
    m_empty = new QLabel(viewport());
    m_empty->setObjectName(QStringLiteral("emptyText"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setVisible(false);
    m_empty->setAttribute(Qt::WA_TransparentForMouseEvents);
}

LiveTableView::~LiveTableView() = default;

void LiveTableView::setModel(QAbstractItemModel *m)
{
    QTableView::setModel(m);
    if (!m)
        return;
    using M = QAbstractItemModel;
    auto changed = [this] {
        updateEmpty();
        maybeSize();
    };
    connect(m, &M::rowsInserted, this, changed);
    connect(m, &M::rowsRemoved, this, changed);
    connect(m, &M::modelReset, this, changed);
    connect(m, &M::layoutChanged, this, changed);
    updateEmpty();
    maybeSize();
}

void LiveTableView::setEmptyText(const QString &text)
{
    m_empty->setText(text);
    updateEmpty();
}

QString LiveTableView::emptyText() const
{
    return m_empty->text();
}

bool LiveTableView::emptyTextShown() const
{
    return !m_empty->isHidden();
}

void LiveTableView::updateEmpty()
{
    const bool show = model() && model()->rowCount() == 0 && !m_empty->text().isEmpty();
    m_empty->setVisible(show);
    if (show)
        m_empty->setGeometry(viewport()->rect().adjusted(8, 4, -8, -4));
}

void LiveTableView::hideEvent(QHideEvent *event)
{
    // Hidden under the pointer (another tab): no Leave comes, the rows would stay held.
    m_hovered = false;
    updateHold();
    QTableView::hideEvent(event);
}

void LiveTableView::resizeEvent(QResizeEvent *event)
{
    QTableView::resizeEvent(event);
    updateEmpty();
}

void LiveTableView::maybeSize()
{
    if (m_sized || !model() || model()->rowCount() == 0)
        return;
    // Once, soon after the first rows appear (batched inserts arrive together, one pass for all).
    m_sized = true;
    m_sizePending = true;
    QTimer::singleShot(0, this, [this] {
        if (m_sizePending) // not restored nor set by the user meanwhile
            sizeColumnsToContents();
    });
}

void LiveTableView::setWidestText(int column, const QString &text)
{
    m_widest.insert(column, text);
}

int LiveTableView::widestTextWidth(int column) const
{
    const auto it = m_widest.constFind(column);
    if (it == m_widest.constEnd())
        return 0;
    // The text, the cell's margins and a severity icon's room.
    return fontMetrics().horizontalAdvance(*it) + 4 * fontMetrics().horizontalAdvance(QLatin1Char('0')) +
           style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
}

void LiveTableView::sizeColumnsToContents()
{
    if (!model())
        return;
    m_sizing = true;
    m_sized = true;
    m_sizePending = false;
    QHeaderView *h = horizontalHeader();
    const int columns = model()->columnCount();
    const int pad = fontMetrics().horizontalAdvance(QLatin1Char('0'));
    const int margin = style()->pixelMetric(QStyle::PM_HeaderMargin, nullptr, h) + 2;
    const int arrow = style()->pixelMetric(QStyle::PM_HeaderMarkSize, nullptr, h) + margin;
    for (int c = 0; c < columns; ++c) {
        if (h->isSectionHidden(c) || (h->stretchLastSection() && h->visualIndex(c) == columns - 1))
            continue;
        // The header's text and a sample of rows (setResizeContentsPrecision), capped. The header's
        // own hint reserves room for a sort arrow in every column: only the sorted one gets it.
        const QString title = model()->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
        const int header = h->fontMetrics().horizontalAdvance(title) + 2 * margin +
                           (h->sortIndicatorSection() == c ? arrow : 0);
        // Numbers grow ("107 ms" → "1:02:03"): right-aligned columns get room for a few more digits.
        const bool numeric = (model()->index(0, c).data(Qt::TextAlignmentRole).toInt() & Qt::AlignRight) != 0;
        const int wanted =
            std::max({sizeHintForColumn(c) + (numeric ? 3 * pad : pad), header, widestTextWidth(c)});
        h->resizeSection(c, std::clamp(wanted, h->minimumSectionSize(), MaxAutoColumnWidth));
    }
    m_sizing = false;
}

bool LiveTableView::restoreColumns(const QByteArray &state)
{
    if (state.isEmpty())
        return false;
    m_sizing = true;
    const bool ok =
        horizontalHeader()->restoreState(state) && horizontalHeader()->count() == model()->columnCount();
    m_sizing = false;
    if (ok) {
        m_sized = true;
        m_sizePending = false;
        for (auto it = m_widest.constBegin(); it != m_widest.constEnd(); ++it)
            if (horizontalHeader()->sectionSize(it.key()) < widestTextWidth(it.key()))
                horizontalHeader()->resizeSection(it.key(), widestTextWidth(it.key()));
    }
    return ok;
}

QByteArray LiveTableView::saveColumns() const
{
    return m_sized ? horizontalHeader()->saveState() : QByteArray();
}

QList<QVariant> LiveTableView::selectedKeys() const
{
    QList<QVariant> keys;
    if (!selectionModel())
        return keys;
    for (const QModelIndex &i : selectionModel()->selectedRows())
        keys.append(i.data(KeyRole));
    return keys;
}

QVariant LiveTableView::currentKey() const
{
    return currentIndex().isValid() ? currentIndex().siblingAtColumn(0).data(KeyRole) : QVariant();
}

void LiveTableView::selectKeys(const QList<QVariant> &keys, const QVariant &current)
{
    if (!model() || !selectionModel())
        return;
    QItemSelection sel;
    QModelIndex currentIdx;
    for (int r = 0; r < model()->rowCount(); ++r) {
        const QModelIndex i = model()->index(r, 0);
        const QVariant key = i.data(KeyRole);
        if (keys.contains(key))
            sel.select(i, i.siblingAtColumn(model()->columnCount() - 1));
        if (current.isValid() && key == current)
            currentIdx = i;
    }
    selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (currentIdx.isValid())
        selectionModel()->setCurrentIndex(currentIdx, QItemSelectionModel::NoUpdate);
}

QString LiveTableView::headerToolTip(int section) const
{
    if (!model() || section < 0)
        return {};
    const QString tip = model()->headerData(section, Qt::Horizontal, Qt::ToolTipRole).toString();
    return tip.isEmpty() ? model()->headerData(section, Qt::Horizontal, Qt::DisplayRole).toString() : tip;
}

bool LiveTableView::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::ToolTip && watched == horizontalHeader()->viewport()) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString tip = headerToolTip(horizontalHeader()->logicalIndexAt(help->pos()));
        if (tip.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), tip, horizontalHeader()->viewport());
        return true;
    }
    return QTableView::eventFilter(watched, event);
}

bool LiveTableView::viewportEvent(QEvent *event)
{
    switch (event->type()) {
    case QEvent::ContextMenu: {
        // The slot of customContextMenuRequested runs its menu here: rows keep still meanwhile.
        ++m_menus;
        updateHold();
        const bool done = QTableView::viewportEvent(event);
        --m_menus;
        updateHold();
        return done;
    }
    case QEvent::Enter:
    case QEvent::HoverEnter:
        m_hovered = true;
        updateHold();
        break;
    case QEvent::Leave:
    case QEvent::HoverLeave:
        m_hovered = false;
        updateHold();
        break;
    default:
        break;
    }
    return QTableView::viewportEvent(event);
}

bool LiveTableView::event(QEvent *event)
{
    if (event->type() != QEvent::ContextMenu)
        return QTableView::event(event);
    // The slot of customContextMenuRequested runs its menu here: rows keep still meanwhile.
    ++m_menus;
    updateHold();
    const bool done = QTableView::event(event);
    --m_menus;
    updateHold();
    return done;
}

void LiveTableView::updateHold()
{
    if (auto *proxy = qobject_cast<TableProxy *>(model()))
        proxy->setHeld(m_hovered || m_menus > 0);
}

} // namespace FeedScope

#include "severitydelegate.h"

#include "poolmodels.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QHelpEvent>
#include <QPalette>
#include <QStyle>
#include <QToolTip>

namespace FeedScope {

namespace {
QColor textColour(Severity s, bool dark)
{
    switch (s) {
    case Severity::Good:
        return dark ? QColor(0x6f, 0xd0, 0x8c) : QColor(0x1a, 0x7f, 0x37);
    case Severity::Warning:
        return dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00);
    case Severity::Bad:
        return dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
    case Severity::Neutral:
        break;
    }
    return {};
}
} // namespace

QColor SeverityDelegate::rowTint(int severity, const QPalette &palette)
{
    const auto s = static_cast<Severity>(severity);
    if (s != Severity::Warning && s != Severity::Bad)
        return Qt::transparent;
    const bool dark = palette.color(QPalette::Base).lightnessF() < 0.5;
    QColor c = textColour(s, dark);
    c.setAlpha(dark ? 70 : 45);
    return c;
}

void SeverityDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    const bool dark = option->palette.color(QPalette::Base).lightnessF() < 0.5;
    const QVariant row = index.data(RowSeverityRole);
    if (row.isValid()) {
        const auto rs = row.value<Severity>();
        const QColor tint = rowTint(static_cast<int>(rs), option->palette);
        if (tint.alpha() > 0)
            option->backgroundBrush = tint;
        if (index.column() == 0 && (rs == Severity::Bad || rs == Severity::Warning)) {
            const QStyle *style = option->widget ? option->widget->style() : QApplication::style();
            option->icon = style->standardIcon(rs == Severity::Bad ? QStyle::SP_MessageBoxCritical
                                                                   : QStyle::SP_MessageBoxWarning);
            const int side = option->fontMetrics.height() - 2;
            option->decorationSize = QSize(side, side);
            option->features |= QStyleOptionViewItem::HasDecoration;
        }
    }
    const QVariant v = index.data(SeverityRole);
    if (!v.isValid())
        return;
    const auto s = v.value<Severity>();
    const QColor c = textColour(s, dark);
    if (!c.isValid())
        return;
    option->palette.setColor(QPalette::Text, c);
    option->palette.setColor(QPalette::HighlightedText, c.lighter(dark ? 100 : 180));
    option->font.setBold(s != Severity::Good);
}

QStyleOptionViewItem SeverityDelegate::styleOptionFor(const QModelIndex &index,
                                                      const QStyleOptionViewItem &base) const
{
    QStyleOptionViewItem o = base;
    initStyleOption(&o, index);
    return o;
}

bool SeverityDelegate::isClipped(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QStyleOptionViewItem o = option;
    initStyleOption(&o, index);
    if (o.text.isEmpty())
        return false;
    const QWidget *w = o.widget;
    const QStyle *style = w ? w->style() : QApplication::style();
    const QRect text = style->subElementRect(QStyle::SE_ItemViewItemText, &o, w);
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, w) + 1;
    return QFontMetrics(o.font).horizontalAdvance(o.text) > text.width() - 2 * margin;
}

bool SeverityDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view,
                                 const QStyleOptionViewItem &option, const QModelIndex &index)
{
    if (event && event->type() == QEvent::ToolTip && index.isValid()) {
        const QString tip = index.data(Qt::ToolTipRole).toString();
        if (tip.isEmpty()) {
            if (isClipped(option, index)) {
                QToolTip::showText(event->globalPos(), index.data().toString(), view->viewport(),
                                   option.rect);
                return true;
            }
            QToolTip::hideText();
            return true;
        }
    }
    return QStyledItemDelegate::helpEvent(event, view, option, index);
}

} // namespace FeedScope

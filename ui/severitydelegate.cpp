#include "severitydelegate.h"

#include "poolmodels.h"

#include <QApplication>
#include <QPalette>

namespace FeedScope {

void SeverityDelegate::initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    const QVariant v = index.data(SeverityRole);
    if (!v.isValid())
        return;
    const bool dark = option->palette.color(QPalette::Base).lightnessF() < 0.5;
    QColor c;
    switch (v.value<Severity>()) {
    case Severity::Good:
        c = dark ? QColor(0x6f, 0xd0, 0x8c) : QColor(0x1a, 0x7f, 0x37);
        break;
    case Severity::Warning:
        c = dark ? QColor(0xf0, 0xc0, 0x4a) : QColor(0xa8, 0x64, 0x00);
        break;
    case Severity::Bad:
        c = dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e);
        break;
    case Severity::Neutral:
        return;
    }
    option->palette.setColor(QPalette::Text, c);
    option->palette.setColor(QPalette::HighlightedText, c.lighter(dark ? 100 : 180));
    option->font.setBold(v.value<Severity>() != Severity::Good);
}

} // namespace FeedScope

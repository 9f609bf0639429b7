#include "consumerstooltip.h"

#include "poolmodels.h"

#include <QAbstractItemView>
#include <QHelpEvent>
#include <QToolTip>

using namespace Qt::StringLiterals;

namespace FeedScope {

ConsumersToolTip::ConsumersToolTip(QAbstractItemView *view, int column, QObject *parent)
    : QObject(parent), m_view(view), m_column(column)
{
    view->viewport()->installEventFilter(this);
}

QString ConsumersToolTip::text(const QString &consumers, int count)
{
    QStringList others, clients;
    for (const QString &c : consumers.split(u", "_s, Qt::SkipEmptyParts))
        (c.startsWith(u"gateway: "_s) ? clients : others).append(c);
    QStringList lines{Format::plural(count, tr("1 consumer:"), tr("%1 consumers:"))};
    for (const QString &c : std::as_const(others))
        lines.append(u"• "_s + c);
    if (!clients.isEmpty()) {
        lines.append(Format::plural(clients.size(), tr("1 gateway client:"), tr("%1 gateway clients:")));
        for (const QString &c : std::as_const(clients))
            lines.append(u"• "_s + c.mid(9)); // without "gateway: "
    }
    return lines.join(u'\n');
}

bool ConsumersToolTip::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::ToolTip && watched == m_view->viewport()) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QModelIndex index = m_view->indexAt(help->pos());
        if (index.isValid() && index.column() == m_column) {
            const QString consumers = index.data().toString();
            if (consumers.isEmpty())
                return false;
            QToolTip::showText(help->globalPos(), text(consumers, index.data(RawValueRole).toInt()),
                               m_view->viewport(), m_view->visualRect(index));
            return true;
        }
    }
    return QObject::eventFilter(watched, event);
}

} // namespace FeedScope

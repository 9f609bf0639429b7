#include "rowselection.h"

#include <QAbstractItemView>
#include <QItemSelectionModel>

namespace FeedScope {

int selectRowsByKey(QAbstractItemView *view, const QSet<QByteArray> &keys, int keyRole)
{
    QAbstractItemModel *model = view ? view->model() : nullptr;
    QItemSelectionModel *selection = view ? view->selectionModel() : nullptr;
    if (!model || !selection || keys.isEmpty())
        return 0;
    QItemSelection rows;
    QModelIndex first;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex i = model->index(row, 0);
        if (!keys.contains(i.data(keyRole).toByteArray()))
            continue;
        rows.select(i, model->index(row, model->columnCount() - 1));
        if (!first.isValid())
            first = i;
    }
    if (!first.isValid())
        return 0;
    selection->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
    selection->select(rows, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    view->scrollTo(first);
    int n = 0;
    for (const QItemSelectionRange &r : std::as_const(rows))
        n += r.height();
    return n;
}

PendingRowSelection *PendingRowSelection::start(QAbstractItemView *view, const QSet<QByteArray> &keys,
                                                int keyRole, int updates)
{
    return new PendingRowSelection(view, keys, keyRole, updates);
}

PendingRowSelection::PendingRowSelection(QAbstractItemView *view, const QSet<QByteArray> &keys, int keyRole,
                                         int updates)
    : QObject(view), m_view(view), m_keys(keys), m_role(keyRole), m_updatesLeft(updates)
{
    if (QAbstractItemModel *model = view ? view->model() : nullptr) {
        connect(model, &QAbstractItemModel::rowsInserted, this, &PendingRowSelection::attempt);
        connect(model, &QAbstractItemModel::modelReset, this, &PendingRowSelection::attempt);
        connect(model, &QAbstractItemModel::layoutChanged, this, &PendingRowSelection::attempt);
    }
    // After the caller's current work (the subscribe call), so the first look sees what is there.
    QMetaObject::invokeMethod(this, &PendingRowSelection::attempt, Qt::QueuedConnection);
}

void PendingRowSelection::attempt()
{
    if (!m_view) {
        deleteLater();
        return;
    }
    m_found = selectRowsByKey(m_view, m_keys, m_role);
    if (m_found >= m_keys.size()) {
        Q_EMIT done(m_found);
        deleteLater();
    } else if (--m_updatesLeft <= 0) {
        deleteLater();
    }
}

} // namespace FeedScope

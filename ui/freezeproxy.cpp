#include "freezeproxy.h"

#include "poolmodels.h"

namespace FeedScope {

namespace {
/// What the views, the proxy and the delegate read; anything else reads empty while frozen.
constexpr int CachedRoles[] = {Qt::DisplayRole, Qt::ToolTipRole, Qt::TextAlignmentRole, RawValueRole,
                               SeverityRole,    KeyRole,         RowSeverityRole,       FilterTextRole};
constexpr int RoleCount = static_cast<int>(std::size(CachedRoles));

int roleSlot(int role)
{
    for (int i = 0; i < RoleCount; ++i)
        if (CachedRoles[i] == role)
            return i;
    return -1;
}
} // namespace

FreezeProxy::FreezeProxy(QAbstractItemModel *source, QObject *parent)
    : QAbstractTableModel(parent), m_source(source)
{
    using M = QAbstractItemModel;
    connect(source, &M::dataChanged, this,
            [this](const QModelIndex &tl, const QModelIndex &br, const QList<int> &roles) {
                if (!m_frozen)
                    Q_EMIT dataChanged(index(tl.row(), tl.column()), index(br.row(), br.column()), roles);
            });
    connect(source, &M::headerDataChanged, this, [this](Qt::Orientation o, int first, int last) {
        if (!m_frozen)
            Q_EMIT headerDataChanged(o, first, last);
    });
    connect(source, &M::rowsAboutToBeInserted, this, [this](const QModelIndex &, int first, int last) {
        if (!m_frozen)
            beginInsertRows({}, first, last);
    });
    connect(source, &M::rowsInserted, this, [this] {
        if (!m_frozen)
            endInsertRows();
    });
    connect(source, &M::rowsAboutToBeRemoved, this, [this](const QModelIndex &, int first, int last) {
        if (!m_frozen)
            beginRemoveRows({}, first, last);
    });
    connect(source, &M::rowsRemoved, this, [this] {
        if (!m_frozen)
            endRemoveRows();
    });
    // Flat tables: a layout change (never sent by our models) is passed on as a reset.
    auto about = [this] {
        if (!m_frozen)
            beginResetModel();
    };
    auto done = [this] {
        if (!m_frozen)
            endResetModel();
    };
    connect(source, &M::modelAboutToBeReset, this, about);
    connect(source, &M::layoutAboutToBeChanged, this, about);
    connect(source, &M::modelReset, this, done);
    connect(source, &M::layoutChanged, this, done);
}

QVariant FreezeProxy::rowKey(int row) const
{
    const QModelIndex i = m_source->index(row, 0);
    const QVariant key = i.data(KeyRole);
    return key.isValid() ? key : i.data();
}

void FreezeProxy::setFrozen(bool frozen)
{
    if (frozen == m_frozen || !m_source)
        return;
    if (frozen) {
        m_rows = m_source->rowCount();
        m_columns = m_source->columnCount();
        m_cells.clear();
        m_cells.reserve(qsizetype(m_rows) * m_columns * RoleCount);
        m_keys.clear();
        m_keys.reserve(m_rows);
        for (int r = 0; r < m_rows; ++r) {
            m_keys.append(rowKey(r));
            for (int c = 0; c < m_columns; ++c) {
                const QModelIndex i = m_source->index(r, c);
                for (int role : CachedRoles)
                    m_cells.append(i.data(role));
            }
        }
        m_frozen = true; // the same contents as a moment ago: nothing to signal
        return;
    }
    // Thaw: the same rows (keys in the same order) catch up with one dataChanged, else a reset.
    bool same = m_source->rowCount() == m_rows && m_source->columnCount() == m_columns;
    for (int r = 0; same && r < m_rows; ++r)
        same = rowKey(r) == m_keys.at(r);
    if (same) {
        m_frozen = false;
        m_cells.clear();
        m_keys.clear();
        if (m_rows > 0 && m_columns > 0)
            Q_EMIT dataChanged(index(0, 0), index(m_rows - 1, m_columns - 1));
        return;
    }
    beginResetModel();
    m_frozen = false;
    m_cells.clear();
    m_keys.clear();
    endResetModel();
}

int FreezeProxy::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_source)
        return 0;
    return m_frozen ? m_rows : m_source->rowCount();
}

int FreezeProxy::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid() || !m_source)
        return 0;
    return m_frozen ? m_columns : m_source->columnCount();
}

QVariant FreezeProxy::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (!m_frozen)
        return m_source->index(index.row(), index.column()).data(role);
    const int slot = roleSlot(role == Qt::EditRole ? Qt::DisplayRole : role);
    if (slot < 0)
        return {};
    return m_cells.at((qsizetype(index.row()) * m_columns + index.column()) * RoleCount + slot);
}

QVariant FreezeProxy::headerData(int section, Qt::Orientation orientation, int role) const
{
    return m_source ? m_source->headerData(section, orientation, role) : QVariant();
}

} // namespace FeedScope

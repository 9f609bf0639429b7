#pragma once

#include <QAbstractTableModel>
#include <QPointer>

namespace FeedScope {

/// A flat table model passed through as it is, or frozen: *Pause updates* shows the rows as they
/// were when it was paused while the model underneath keeps changing. Frozen, it answers from a
/// copy of the roles the views read and ignores the source's signals; thawed, it catches up with
/// one dataChanged when the rows are still the same ones (by KeyRole), else with one reset.
class FreezeProxy final : public QAbstractTableModel
{
    Q_OBJECT

public:
    explicit FreezeProxy(QAbstractItemModel *source, QObject *parent = nullptr);

    void setFrozen(bool frozen);
    bool isFrozen() const { return m_frozen; }
    QAbstractItemModel *source() const { return m_source; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QVariant rowKey(int row) const;

    QPointer<QAbstractItemModel> m_source;
    bool m_frozen = false;
    int m_rows = 0;
    int m_columns = 0;
    QList<QVariant> m_cells; ///< row-major, CachedRoles per cell
    QList<QVariant> m_keys;  ///< the frozen rows' keys
};

} // namespace FeedScope

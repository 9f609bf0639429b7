#include "tableproxy.h"

#include "poolmodels.h"

using namespace Qt::StringLiterals;

namespace FeedScope {

TableProxy::TableProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(RawValueRole);
    setFilterKeyColumn(-1);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void TableProxy::addFilterKey(const QString &key, int column)
{
    m_keys.insert(key.toLower(), column);
}

void TableProxy::setFilterWords(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    m_words.clear();
    m_keyed.clear();
    for (const QString &word : text.split(u' ', Qt::SkipEmptyParts)) {
        const qsizetype colon = word.indexOf(u':');
        if (colon > 0 && colon < word.size() - 1) {
            const auto it = m_keys.constFind(word.left(colon).toLower());
            if (it != m_keys.constEnd()) {
                m_keyed.append({*it, word.mid(colon + 1)});
                continue;
            }
        }
        m_words.append(word);
    }
    invalidateFilter();
}

void TableProxy::setProblemsFirst(bool on)
{
    if (on == m_problemsFirst)
        return;
    m_problemsFirst = on;
    invalidate();
}

void TableProxy::setHeld(bool held)
{
    if (held == m_held)
        return;
    m_held = held;
    setDynamicSortFilter(!held);
    if (!held)
        invalidate(); // what changed meanwhile: sorted and filtered now (selection kept)
}

QVariant TableProxy::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role == Qt::ToolTipRole && orientation == Qt::Horizontal) {
        const QVariant tip = QSortFilterProxyModel::headerData(section, orientation, role);
        if (tip.isValid() && !tip.toString().isEmpty())
            return tip;
        return QSortFilterProxyModel::headerData(section, orientation, Qt::DisplayRole);
    }
    return QSortFilterProxyModel::headerData(section, orientation, role);
}

bool TableProxy::filterAcceptsRow(int row, const QModelIndex &parent) const
{
    if (m_words.isEmpty() && m_keyed.isEmpty())
        return true;
    const QAbstractItemModel *m = sourceModel();
    for (const auto &[column, value] : m_keyed)
        if (m->index(row, column, parent).data().toString().compare(value, Qt::CaseInsensitive) != 0)
            return false;
    if (m_words.isEmpty())
        return true;
    QStringList cells;
    const int columns = m->columnCount(parent);
    cells.reserve(columns + 1);
    for (int c = 0; c < columns; ++c)
        cells.append(m->index(row, c, parent).data().toString());
    cells.append(m->index(row, 0, parent).data(FilterTextRole).toString());
    for (const QString &word : m_words) {
        const bool found = std::any_of(cells.cbegin(), cells.cend(), [&word](const QString &cell) {
            return cell.contains(word, Qt::CaseInsensitive);
        });
        if (!found)
            return false;
    }
    return true;
}

int TableProxy::problemRank(const QModelIndex &sourceIndex) const
{
    const QVariant v = sourceModel()->index(sourceIndex.row(), 0, sourceIndex.parent()).data(RowSeverityRole);
    if (!v.isValid())
        return 0;
    switch (v.value<Severity>()) {
    case Severity::Bad:
        return 2;
    case Severity::Warning:
        return 1;
    case Severity::Neutral:
    case Severity::Good:
        return 0;
    }
    return 0;
}

bool TableProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    if (m_problemsFirst) {
        const int a = problemRank(left);
        const int b = problemRank(right);
        if (a != b) // problems first in either order: the base reverses the result when descending
            return sortOrder() == Qt::AscendingOrder ? a > b : a < b;
    }
    return QSortFilterProxyModel::lessThan(left, right);
}

} // namespace FeedScope

#pragma once

#include <QHash>
#include <QSortFilterProxyModel>
#include <QStringList>

namespace FeedScope {

/// The view policy of a live table: sorting on raw values, problems first, a filter of words,
/// a hold that keeps rows still while the user points at them, and header tooltips.
///
/// Filter: every word must appear (case-insensitive, any order) in some cell of the row or in its
/// FilterTextRole; a word `key:value` whose key was registered with addFilterKey() must equal the
/// cell of that column instead (`conn:3`). Problems first: rows whose RowSeverityRole is Bad come
/// first, then Warning, whatever the sort column and order. Held: data changes neither re-sort
/// nor re-filter; released, the rows are sorted and filtered again at once.
class TableProxy : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit TableProxy(QObject *parent = nullptr);

    void setFilterWords(const QString &text);
    QString filterWords() const { return m_text; }
    /// `key:value` in the filter matches @p column exactly (case-insensitive).
    void addFilterKey(const QString &key, int column);
    bool isFiltering() const { return !m_words.isEmpty() || !m_keyed.isEmpty(); }

    void setProblemsFirst(bool on);
    bool problemsFirst() const { return m_problemsFirst; }

    void setHeld(bool held);
    bool isHeld() const { return m_held; }

    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    int problemRank(const QModelIndex &sourceIndex) const;

    QString m_text;
    QStringList m_words;
    QList<std::pair<int, QString>> m_keyed; ///< column, value
    QHash<QString, int> m_keys;             ///< lower-case key → column
    bool m_problemsFirst = false;
    bool m_held = false;
};

} // namespace FeedScope

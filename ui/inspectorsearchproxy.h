#pragma once

#include <QSortFilterProxyModel>

namespace FeedScope {

/// The inspector list's search: keeps the messages whose raw JSON (RawValueRole) contains the
/// text, ignoring case. New rows are tested as they arrive (one test each), not the whole list.
class InspectorSearchProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorSearchProxy)

public:
    explicit InspectorSearchProxy(QObject *parent = nullptr);
    void setSearch(const QString &text);
    QString search() const { return m_text; }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override;

private:
    QString m_text;
    QByteArray m_latin1; ///< the text as Latin-1 when it is plain ASCII: no decoding per row
};

} // namespace FeedScope

#pragma once

#include <QSortFilterProxyModel>

namespace FeedScope {

/// The inspector list's search: keeps the messages whose raw JSON (RawValueRole) contains the
/// text, ignoring case; text copied from the indented view ("coin": "BTC") also finds the compact
/// frame. New rows are tested as they arrive (one test each), not the whole list.
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
    bool contains(const QByteArray &raw, const QString &text, const QByteArray &latin1) const;

    QString m_text;
    QString m_compact;   ///< m_text without the indented view's spaces after ':' and ','
    QByteArray m_latin1; ///< m_text as Latin-1 when it is plain ASCII: no decoding per row
    QByteArray m_compactLatin1;
};

} // namespace FeedScope

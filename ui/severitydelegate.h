#pragma once

#include <QStyledItemDelegate>

namespace FeedScope {

/// Colours a cell's text by its SeverityRole and tints the whole row by its RowSeverityRole (red
/// for problems, amber for warnings, with an icon in the first column), with colours derived from
/// the current palette so that dark and light themes both read well. A cell whose text does not
/// fit shows the whole text as its tooltip when the model gives none.
class SeverityDelegate final : public QStyledItemDelegate
{
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    /// The option a cell is painted with (public for tests).
    QStyleOptionViewItem styleOptionFor(const QModelIndex &index, const QStyleOptionViewItem &base) const;
    /// The row tint of a severity on @p palette (transparent for none).
    static QColor rowTint(int severity, const QPalette &palette);
    /// Whether @p index's text is wider than its cell in @p option.
    bool isClipped(const QStyleOptionViewItem &option, const QModelIndex &index) const;

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};

} // namespace FeedScope

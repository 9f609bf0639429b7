#pragma once

#include <QStyledItemDelegate>

namespace FeedScope {

/// Colours a cell's text by its SeverityRole, with colours derived from the current palette so
/// that dark and light themes both read well.
class SeverityDelegate final : public QStyledItemDelegate
{
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;
};

} // namespace FeedScope

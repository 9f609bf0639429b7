#pragma once

#include <QListView>

namespace FeedScope {

/// The inspector's message list: one line per message, compact (a few rows tall by default, so
/// the message text below gets most of the height).
class InspectorListView final : public QListView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorListView)

public:
    explicit InspectorListView(QWidget *parent = nullptr);
    /// Rows shown (after the search).
    int count() const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

private:
    int rowHeight() const;
};

} // namespace FeedScope

#include "inspectorlistview.h"

namespace FeedScope {

namespace {
constexpr int PreferredRows = 4;
constexpr int MinimumRows = 2;
} // namespace

InspectorListView::InspectorListView(QWidget *parent) : QListView(parent)
{
    setUniformItemSizes(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setWordWrap(false);
    setTextElideMode(Qt::ElideRight);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // a row elides; the tooltip has it all
}

int InspectorListView::count() const
{
    return model() ? model()->rowCount(rootIndex()) : 0;
}

QSize InspectorListView::sizeHint() const
{
    const int row = fontMetrics().height() + 4;
    return {QListView::sizeHint().width(), PreferredRows * row + 2 * frameWidth()};
}

QSize InspectorListView::minimumSizeHint() const
{
    const int row = fontMetrics().height() + 4;
    return {QListView::minimumSizeHint().width(), MinimumRows * row + 2 * frameWidth()};
}

} // namespace FeedScope

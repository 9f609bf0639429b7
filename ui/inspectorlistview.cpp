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

int InspectorListView::rowHeight() const
{
    const int measured = model() && model()->rowCount(rootIndex()) > 0 ? sizeHintForRow(0) : -1;
    return measured > 0 ? measured : fontMetrics().height() + 4;
}

int InspectorListView::count() const
{
    return model() ? model()->rowCount(rootIndex()) : 0;
}

QSize InspectorListView::sizeHint() const
{
    return {QListView::sizeHint().width(), PreferredRows * rowHeight() + 2 * frameWidth()};
}

QSize InspectorListView::minimumSizeHint() const
{
    return {QListView::minimumSizeHint().width(), MinimumRows * rowHeight() + 2 * frameWidth()};
}

} // namespace FeedScope

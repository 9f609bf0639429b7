#include "inspectorsearchproxy.h"

#include "poolmodels.h"

#include <algorithm>

namespace FeedScope {

InspectorSearchProxy::InspectorSearchProxy(QObject *parent) : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(true);
}

void InspectorSearchProxy::setSearch(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    const bool ascii = std::all_of(text.cbegin(), text.cend(), [](QChar c) { return c.unicode() < 0x80; });
    m_latin1 = ascii ? text.toLatin1() : QByteArray();
    invalidateFilter();
}

bool InspectorSearchProxy::filterAcceptsRow(int row, const QModelIndex &parent) const
{
    if (m_text.isEmpty())
        return true;
    const QByteArray raw = sourceModel()->index(row, 0, parent).data(RawValueRole).toByteArray();
    // UTF-8 multi-byte sequences never hold ASCII bytes, so an ASCII search can read the bytes
    // as Latin-1 without decoding them.
    if (!m_latin1.isEmpty())
        return QLatin1StringView(raw).contains(QLatin1StringView(m_latin1), Qt::CaseInsensitive);
    return QString::fromUtf8(raw).contains(m_text, Qt::CaseInsensitive);
}

} // namespace FeedScope

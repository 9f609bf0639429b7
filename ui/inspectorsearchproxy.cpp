#include "inspectorsearchproxy.h"

#include "poolmodels.h"

#include <algorithm>

using namespace Qt::StringLiterals;

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
    m_compact = text;
    m_compact.replace(u"\": "_s, u"\":"_s).replace(u", \""_s, u",\""_s);
    if (m_compact == m_text)
        m_compact.clear();
    const bool ascii = std::all_of(text.cbegin(), text.cend(), [](QChar c) { return c.unicode() < 0x80; });
    m_latin1 = ascii ? text.toLatin1() : QByteArray();
    m_compactLatin1 = ascii ? m_compact.toLatin1() : QByteArray();
    invalidateFilter();
}

bool InspectorSearchProxy::contains(const QByteArray &raw, const QString &text,
                                    const QByteArray &latin1) const
{
    // UTF-8 multi-byte sequences never hold ASCII bytes, so an ASCII search can read the bytes
    // as Latin-1 without decoding them.
    if (!latin1.isEmpty())
        return QLatin1StringView(raw).contains(QLatin1StringView(latin1), Qt::CaseInsensitive);
    return QString::fromUtf8(raw).contains(text, Qt::CaseInsensitive);
}

bool InspectorSearchProxy::filterAcceptsRow(int row, const QModelIndex &parent) const
{
    if (m_text.isEmpty())
        return true;
    const QByteArray raw = sourceModel()->index(row, 0, parent).data(RawValueRole).toByteArray();
    return contains(raw, m_text, m_latin1) ||
           (!m_compact.isEmpty() && contains(raw, m_compact, m_compactLatin1));
}

} // namespace FeedScope

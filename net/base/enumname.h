#pragma once

#include <QByteArray>
#include <QHash>
#include <QLatin1StringView>
#include <QMetaEnum>

namespace FeedScope {

/// The name of a Q_ENUM value with its first letter lowered ("CloseFrame" → "closeFrame"): the
/// spelling used in reports, logs and metrics.
template<typename E> QLatin1StringView lowerCamelName(E value)
{
    static const QHash<int, QByteArray> names = [] {
        QHash<int, QByteArray> h;
        const QMetaEnum m = QMetaEnum::fromType<E>();
        for (int i = 0; i < m.keyCount(); ++i) {
            QByteArray key = m.key(i);
            key[0] = static_cast<char>(QChar::toLower(static_cast<char32_t>(key[0])));
            h.insert(m.value(i), key);
        }
        return h;
    }();
    const auto it = names.constFind(static_cast<int>(value));
    return it == names.cend() ? QLatin1StringView("?") : QLatin1StringView(*it);
}

} // namespace FeedScope

// libFuzzer target: the --subscriptions file parser; every accepted entry must round-trip through
// its canonical form.
#include "subscription.h"

#include <QJsonDocument>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    QString error;
    const auto list = FeedScope::Hl::Subscription::listFromJson(json, &error);
    if (!list) {
        if (error.isEmpty())
            __builtin_trap(); // a refusal always says why
        return 0;
    }
    for (const FeedScope::Hl::Subscription &s : *list) {
        const auto again =
            FeedScope::Hl::Subscription::fromJson(QJsonDocument::fromJson(s.canonical()).object());
        if (!again || again->canonical() != s.canonical())
            __builtin_trap();
    }
    return 0;
}

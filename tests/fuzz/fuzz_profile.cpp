// libFuzzer target: the profile parser; an accepted profile must survive a write and a re-read.
#include "profile.h"

#include <QJsonDocument>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray json(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    QString error;
    const auto p = FeedScope::profileFromJson(json, &error);
    if (!p) {
        if (error.isEmpty())
            __builtin_trap();
        return 0;
    }
    const auto again =
        FeedScope::profileFromJson(QJsonDocument(FeedScope::profileToJson(*p, true)).toJson(), &error);
    if (!again || again->engine.pool.maxConnections != p->engine.pool.maxConnections ||
        again->subscriptions != p->subscriptions)
        __builtin_trap();
    return 0;
}

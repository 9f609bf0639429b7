// libFuzzer target: the session-log importer (exported JSONL, or a --session-log file).
#include "sessionexport.h"

#include <QBuffer>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QByteArray bytes(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    QBuffer in(&bytes);
    in.open(QIODevice::ReadOnly);
    QString error;
    const auto events = FeedScope::parseSessionJsonl(&in, QStringLiteral("fuzz"), &error);
    if (!events && error.isEmpty())
        __builtin_trap();
    if (events)
        for (const FeedScope::SessionEvent &e : *events)
            if (e.seq < 0 || e.type.isEmpty() || !e.at.isValid())
                __builtin_trap();
    return 0;
}

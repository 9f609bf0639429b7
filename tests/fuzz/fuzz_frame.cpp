// libFuzzer target: one server frame through the decoder (routing, control frames, error texts)
// and, for data frames, the routing key against a subscription built from the frame's echo.
#include "codec.h"

#include <QCoreApplication>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FeedScope::Hl::FrameDecoder decoder;
    const QByteArray frame(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const FeedScope::Hl::Envelope e = decoder.decode(frame);
    if (e.kind == FeedScope::Hl::FrameKind::Data && e.routeKey.isEmpty() &&
        e.error == FeedScope::Hl::DecodeError::None)
        __builtin_trap(); // a data frame without a route key must be reported as an error
    if (e.kind == FeedScope::Hl::FrameKind::Error)
        (void)FeedScope::Hl::classifyServerError(e.serverError.text);
    if (e.channel == "fastAssetCtxs")
        (void)FeedScope::Hl::inflateFastAssetCtxs(frame, nullptr, 1 << 20);
    return 0;
}

// libFuzzer target: client bytes through the gateway's RFC 6455 decoder (net/gateway/wsframe.h),
// fed in two pieces split where the first byte says. Invariants: the decoder ends in a wait, a
// message or an error with a close code the server may send (1002, 1007, 1009); no message is
// over the bound; every text message and close reason is UTF-8 by Qt's own decoder too; and a
// message's payload, masked into a client frame again, decodes to itself.
#include "wsframe.h"

#include <QStringDecoder>

namespace Ws = FeedScope::Gw::Ws;

namespace {

bool qtValidUtf8(const QByteArray &b)
{
    QStringDecoder d(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    (void)d.decode(b);
    return !d.hasError();
}

QByteArray clientFrame(quint8 op, const QByteArray &payload)
{
    QByteArray server = Ws::encodeFrame(op, payload);
    const qsizetype h = server.size() - payload.size();
    QByteArray out = server.left(h);
    out[1] = static_cast<char>(out[1] | 0x80);
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    out.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        out.append(static_cast<char>(payload[i] ^ mask[i & 3]));
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    constexpr qint64 Max = 4096;
    const QByteArray all(reinterpret_cast<const char *>(data) + 1, static_cast<qsizetype>(size - 1));
    const qsizetype cut = all.isEmpty() ? 0 : data[0] % (all.size() + 1);
    Ws::Decoder d(Max);
    Ws::Message m;
    int messages = 0;
    for (const QByteArray &piece : {all.left(cut), all.mid(cut)}) {
        d.append(piece);
        for (;;) {
            const Ws::Decoder::Result r = d.next(m);
            if (r == Ws::Decoder::Result::NeedMore)
                break;
            if (r == Ws::Decoder::Result::Error) {
                const int code = d.errorCode();
                if (code != 1002 && code != 1007 && code != 1009)
                    __builtin_trap();
                if (d.next(m) != Ws::Decoder::Result::Error) // stays in error
                    __builtin_trap();
                return 0;
            }
            ++messages;
            if (m.payload.size() > Max)
                __builtin_trap();
            if (m.kind == Ws::Message::Kind::Text && !qtValidUtf8(m.payload))
                __builtin_trap();
            if (m.kind == Ws::Message::Kind::Close && m.closeCode != 1005 &&
                !Ws::isValidCloseCode(m.closeCode))
                __builtin_trap();
            if (m.kind == Ws::Message::Kind::Text || m.kind == Ws::Message::Kind::Binary) {
                Ws::Decoder again(Max);
                Ws::Message back;
                again.append(
                    clientFrame(m.kind == Ws::Message::Kind::Text ? Ws::Text : Ws::Binary, m.payload));
                if (again.next(back) != Ws::Decoder::Result::Message || back.payload != m.payload)
                    __builtin_trap();
            }
        }
    }
    (void)messages;
    return 0;
}

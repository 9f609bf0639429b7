#pragma once

// The server side of RFC 6455 for the gateway's downstream links: the opening handshake's
// accept key, server frames (unmasked, so their bytes are the same for every client and are
// encoded once per upstream frame), and a decoder of client frames that checks everything a
// strict peer must (masking, reserved bits, opcodes, control frame rules, fragmentation, sizes,
// UTF-8 of text and close reasons). No extensions: permessage-deflate is declined by not
// answering it. Header-only so that the fuzz target builds it without the server.

#include <QByteArray>
#include <QByteArrayView>
#include <QCryptographicHash>
#include <QString>

#include <cstring>

namespace FeedScope::Gw::Ws {

enum Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

/// Sec-WebSocket-Accept for the client's Sec-WebSocket-Key (RFC 6455 §4.2.2).
inline QByteArray acceptKey(QByteArrayView key)
{
    QCryptographicHash h(QCryptographicHash::Sha1);
    h.addData(key);
    h.addData(QByteArrayView("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    return h.result().toBase64();
}

/// Bytes of a server (unmasked) frame header for @p payload bytes.
inline qsizetype headerSize(qint64 payload)
{
    return payload < 126 ? 2 : payload < 65536 ? 4 : 10;
}

/// One final, unmasked server frame.
inline QByteArray encodeFrame(quint8 opcode, QByteArrayView payload)
{
    const qint64 n = payload.size();
    const qsizetype h = headerSize(n);
    QByteArray out(h + n, Qt::Uninitialized);
    auto *p = reinterpret_cast<uchar *>(out.data());
    p[0] = static_cast<uchar>(0x80 | (opcode & 0x0f));
    if (n < 126) {
        p[1] = static_cast<uchar>(n);
    } else if (n < 65536) {
        p[1] = 126;
        p[2] = static_cast<uchar>(n >> 8);
        p[3] = static_cast<uchar>(n);
    } else {
        p[1] = 127;
        for (int i = 0; i < 8; ++i)
            p[2 + i] = static_cast<uchar>(static_cast<quint64>(n) >> (56 - 8 * i));
    }
    if (n > 0)
        std::memcpy(p + h, payload.data(), static_cast<size_t>(n));
    return out;
}

/// The payload bytes of a frame made by encodeFrame().
inline qint64 payloadSizeOf(const QByteArray &wire)
{
    if (wire.size() < 2)
        return 0;
    const int len = static_cast<uchar>(wire[1]) & 0x7f;
    return wire.size() - (len < 126 ? 2 : len == 126 ? 4 : 10);
}

inline bool isValidUtf8(QByteArrayView s)
{
    const auto *p = reinterpret_cast<const uchar *>(s.data());
    const qsizetype n = s.size();
    qsizetype i = 0;
    while (i < n) {
        const uchar c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        int more = 0;
        quint32 cp = 0, min = 0;
        if ((c & 0xe0) == 0xc0) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (int k = 1; k <= more; ++k) {
            if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += more + 1;
    }
    return true;
}

/// A close code a peer may send (RFC 6455 §7.4; 1005, 1006 and 1015 never go on the wire).
inline bool isValidCloseCode(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/// A server close frame: @p code and @p reason (cut to fit 125 bytes at a character boundary).
inline QByteArray closeFrame(int code, const QString &reason)
{
    QByteArray r = reason.toUtf8();
    if (r.size() > 123) {
        qsizetype cut = 123;
        while (cut > 0 && (static_cast<uchar>(r[cut]) & 0xc0) == 0x80)
            --cut;
        r.truncate(cut);
    }
    QByteArray payload(2, Qt::Uninitialized);
    payload[0] = static_cast<char>((code >> 8) & 0xff);
    payload[1] = static_cast<char>(code & 0xff);
    payload += r;
    return encodeFrame(Close, payload);
}

/// A message or a control frame from the client.
struct Message
{
    enum class Kind : quint8 { Text, Binary, Ping, Pong, Close };
    Kind kind = Kind::Text;
    QByteArray payload;   ///< Text/Binary: the whole message; Ping/Pong: the payload
    int closeCode = 1005; ///< Close: the code, 1005 when the frame carried none
    QString closeReason;  ///< Close
};

/// Decodes client-to-server frames (RFC 6455 §5): masked frames only, no extensions, messages
/// reassembled from their fragments with control frames in between. Total: any bytes give
/// messages, a wait for more, or an error with the close code to answer (1002 protocol, 1007 not
/// UTF-8, 1009 too big); after an error it stays in error. Buffers nothing while idle.
class Decoder
{
public:
    enum class Result : quint8 { NeedMore, Message, Error };

    explicit Decoder(qint64 maxMessage = 1024 * 1024) : m_max(maxMessage) {}

    void setMaxMessage(qint64 bytes) { m_max = bytes; }
    void append(const QByteArray &data)
    {
        if (m_buf.isEmpty())
            m_buf = data;
        else
            m_buf.append(data);
    }

    /// The next message or control frame into @p out.
    Result next(Message &out)
    {
        if (m_error)
            return Result::Error;
        for (;;) {
            const qsizetype avail = m_buf.size() - m_pos;
            if (avail < 2)
                return needMore();
            const auto *p = reinterpret_cast<const uchar *>(m_buf.constData()) + m_pos;
            const bool fin = p[0] & 0x80;
            const int op = p[0] & 0x0f;
            if (p[0] & 0x70)
                return fail(1002, QStringLiteral("reserved bits set without an extension"));
            if (op != Continuation && op != Text && op != Binary && op != Close && op != Ping && op != Pong)
                return fail(1002, QStringLiteral("unknown opcode %1").arg(op));
            const bool control = op & 0x8;
            quint64 len = p[1] & 0x7f;
            if (control && (!fin || len > 125))
                return fail(1002, QStringLiteral("a control frame fragmented or over 125 bytes"));
            if (!(p[1] & 0x80))
                return fail(1002, QStringLiteral("a client frame that is not masked"));
            qsizetype h = 2;
            if (len == 126) {
                if (avail < 4)
                    return needMore();
                len = (quint64(p[2]) << 8) | p[3];
                h = 4;
            } else if (len == 127) {
                if (avail < 10)
                    return needMore();
                len = 0;
                for (int i = 0; i < 8; ++i)
                    len = (len << 8) | p[2 + i];
                if (len >> 63)
                    return fail(1002, QStringLiteral("a frame length over 2^63"));
                h = 10;
            }
            if (!control) {
                if (op == Continuation && m_opcode < 0)
                    return fail(1002, QStringLiteral("a continuation frame without a message"));
                if (op != Continuation && m_opcode >= 0)
                    return fail(1002, QStringLiteral("a new message inside a fragmented one"));
                if (len > static_cast<quint64>(m_max) ||
                    static_cast<quint64>(m_message.size()) + len > static_cast<quint64>(m_max))
                    return fail(1009, QStringLiteral("a message over %1 bytes").arg(m_max));
            }
            if (static_cast<quint64>(avail) < h + 4 + len)
                return needMore();
            const uchar *mask = p + h;
            const uchar *src = mask + 4;
            QByteArray data(static_cast<qsizetype>(len), Qt::Uninitialized);
            auto *dst = reinterpret_cast<uchar *>(data.data());
            for (quint64 i = 0; i < len; ++i)
                dst[i] = src[i] ^ mask[i & 3];
            m_pos += h + 4 + static_cast<qsizetype>(len);
            if (control) {
                out.payload = std::move(data);
                out.closeCode = 1005;
                out.closeReason.clear();
                if (op == Ping) {
                    out.kind = Message::Kind::Ping;
                } else if (op == Pong) {
                    out.kind = Message::Kind::Pong;
                } else {
                    out.kind = Message::Kind::Close;
                    if (len == 1)
                        return fail(1002, QStringLiteral("a close frame of one byte"));
                    if (len >= 2) {
                        const int code =
                            (static_cast<uchar>(out.payload[0]) << 8) | static_cast<uchar>(out.payload[1]);
                        if (!isValidCloseCode(code))
                            return fail(1002, QStringLiteral("close code %1").arg(code));
                        const QByteArrayView reason = QByteArrayView(out.payload).sliced(2);
                        if (!isValidUtf8(reason))
                            return fail(1007, QStringLiteral("a close reason that is not UTF-8"));
                        out.closeCode = code;
                        out.closeReason = QString::fromUtf8(reason);
                    }
                }
                release();
                return Result::Message;
            }
            if (op != Continuation)
                m_opcode = op;
            if (!fin) {
                m_message.append(data);
                continue;
            }
            if (m_message.isEmpty())
                out.payload = std::move(data);
            else
                out.payload = std::exchange(m_message, {}) + data;
            out.kind = m_opcode == Text ? Message::Kind::Text : Message::Kind::Binary;
            m_opcode = -1;
            if (out.kind == Message::Kind::Text && !isValidUtf8(out.payload))
                return fail(1007, QStringLiteral("a text message that is not UTF-8"));
            release();
            return Result::Message;
        }
    }

    int errorCode() const { return m_error; }
    const QString &errorText() const { return m_errorText; }
    /// Bytes held (a partial frame, a fragmented message).
    qsizetype buffered() const { return m_buf.size() - m_pos + m_message.size(); }

private:
    Result needMore()
    {
        if (m_pos > 0) {
            m_buf.remove(0, m_pos);
            m_pos = 0;
        }
        release();
        return Result::NeedMore;
    }
    void release()
    {
        if (m_pos >= m_buf.size()) {
            m_buf = QByteArray();
            m_pos = 0;
        }
    }
    Result fail(int code, const QString &why)
    {
        m_error = code;
        m_errorText = why;
        m_buf = QByteArray();
        m_message = QByteArray();
        m_pos = 0;
        return Result::Error;
    }

    QByteArray m_buf;
    qsizetype m_pos = 0;
    QByteArray m_message;
    int m_opcode = -1;
    qint64 m_max;
    int m_error = 0;
    QString m_errorText;
};

} // namespace FeedScope::Gw::Ws

#pragma once
// A raw WebSocket client for the gateway's link tests: the handshake by hand, frames read off the
// socket as they come (tst_gatewaylinks, tst_gatewayshards).
#include "wsframe.h"

#include <QTcpSocket>
#include <QTest>

namespace GwTest {

using namespace FeedScope;
namespace Ws = FeedScope::Gw::Ws;

constexpr int Long = 20000;

QByteArray clientFrame(quint8 op, const QByteArray &payload, bool fin = true, bool masked = true,
                       quint8 rsv = 0)
{
    QByteArray out;
    out.append(static_cast<char>((fin ? 0x80 : 0) | rsv | op));
    const qsizetype n = payload.size();
    const char m = masked ? char(0x80) : char(0);
    if (n < 126) {
        out.append(static_cast<char>(m | n));
    } else if (n < 65536) {
        out.append(static_cast<char>(m | 126));
        out.append(static_cast<char>(n >> 8));
        out.append(static_cast<char>(n & 0xff));
    } else {
        out.append(static_cast<char>(m | 127));
        for (int i = 7; i >= 0; --i)
            out.append(static_cast<char>((static_cast<quint64>(n) >> (8 * i)) & 0xff));
    }
    if (!masked)
        return out + payload;
    const char mask[4] = {0x37, char(0xfa), 0x21, 0x3d};
    out.append(mask, 4);
    for (qsizetype i = 0; i < n; ++i)
        out.append(static_cast<char>(payload[i] ^ mask[i & 3]));
    return out;
}

/// Server frames as a test client reads them.
struct ServerFrame
{
    quint8 opcode = 0;
    QByteArray payload;
    int closeCode() const
    {
        return payload.size() >= 2 ? (static_cast<uchar>(payload[0]) << 8) | static_cast<uchar>(payload[1])
                                   : 1005;
    }
};

/// A raw client: the handshake by hand, frames read off the socket.
struct RawClient
{
    QTcpSocket sock;
    QByteArray response; ///< the HTTP response head
    QByteArray wire;     ///< every byte after the head
    QList<ServerFrame> frames;
    bool unmaskedOnly = true;

    bool connect(quint16 port, const QByteArray &extraHeaders = {})
    {
        sock.connectToHost(QHostAddress::LocalHost, port);
        if (!sock.waitForConnected(Long))
            return false;
        sock.write(
            "GET /feed?name=raw HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            extraHeaders + "\r\n");
        QObject::connect(&sock, &QTcpSocket::readyRead, [this] { read(); });
        return QTest::qWaitFor([&] { return !response.isEmpty(); }, Long);
    }
    void read()
    {
        QByteArray in = sock.readAll();
        if (response.isEmpty()) {
            wire += in;
            const qsizetype end = wire.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            response = wire.left(end + 4);
            wire.remove(0, end + 4);
        } else {
            wire += in;
        }
        parse();
    }
    void parse()
    {
        qsizetype pos = 0;
        for (;;) {
            if (wire.size() - pos < 2)
                break;
            const auto *p = reinterpret_cast<const uchar *>(wire.constData()) + pos;
            quint64 len = p[1] & 0x7f;
            qsizetype h = 2;
            if (p[1] & 0x80)
                unmaskedOnly = false;
            if (len == 126) {
                if (wire.size() - pos < 4)
                    break;
                len = (p[2] << 8) | p[3];
                h = 4;
            } else if (len == 127) {
                if (wire.size() - pos < 10)
                    break;
                len = 0;
                for (int i = 0; i < 8; ++i)
                    len = (len << 8) | p[2 + i];
                h = 10;
            }
            if (static_cast<quint64>(wire.size() - pos) < h + len)
                break;
            frames.append({static_cast<quint8>(p[0] & 0x0f), wire.mid(pos + h, static_cast<qsizetype>(len))});
            pos += h + static_cast<qsizetype>(len);
        }
        wire.remove(0, pos);
    }
    void send(const QByteArray &bytes) { sock.write(bytes); }
    void text(const QByteArray &t) { send(clientFrame(Ws::Text, t)); }
    bool waitFrames(qsizetype n)
    {
        return QTest::qWaitFor([&] { return frames.size() >= n; }, Long);
    }
    bool waitClosed()
    {
        return QTest::qWaitFor([&] { return sock.state() == QAbstractSocket::UnconnectedState; }, Long);
    }
    const ServerFrame *closeFrame() const
    {
        for (const ServerFrame &f : frames)
            if (f.opcode == Ws::Close)
                return &f;
        return nullptr;
    }
};

} // namespace GwTest

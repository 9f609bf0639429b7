// The gateway's downstream links at the byte level: the server side of RFC 6455 (wsframe.h) on
// its own and in the real GatewayServer against raw TCP clients — the handshake, every frame a
// strict peer must refuse (with its close code), fragmentation, ping/pong, the close handshake,
// and a data frame encoded once and the same bytes delivered to every client.
#include "gatewayserver.h"
#include "gwrawclient.h"
#include "wsframe.h"

#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

using namespace FeedScope;
using namespace FeedScope::Gw;
using namespace Qt::StringLiterals;

using namespace GwTest;

namespace {

GatewayConfig quiet()
{
    GatewayConfig c;
    c.idleTimeout = std::chrono::milliseconds(0);
    return c;
}

} // namespace

class tst_GatewayLinks : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptKeyOfTheRfc();
    void decoderRefusesWhatAStrictPeerMust_data();
    void decoderRefusesWhatAStrictPeerMust();
    void decoderByteByByte();
    void utf8Validator();
    void handshakeDeclinesExtensions();
    void notAnUpgradeIsRefused();
    void protocolErrorsClose_data();
    void protocolErrorsClose();
    void fragmentsAndPingBetween();
    void clientCloseIsEchoedOnce();
    void broadcastEncodesOnce();
    void socketLostAndSilentHandshake();
};

void tst_GatewayLinks::acceptKeyOfTheRfc()
{
    // RFC 6455 §1.3's example.
    QCOMPARE(Ws::acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    const QByteArray big(70000, 'x');
    const QByteArray f = Ws::encodeFrame(Ws::Text, big);
    QCOMPARE(f.size(), 70000 + 10);
    QCOMPARE(Ws::payloadSizeOf(f), 70000);
    QCOMPARE(Ws::payloadSizeOf(Ws::encodeFrame(Ws::Text, QByteArray(300, 'y'))), 300);
    QCOMPARE(Ws::encodeFrame(Ws::Text, "hi"), QByteArray("\x81\x02hi"));
}

void tst_GatewayLinks::decoderRefusesWhatAStrictPeerMust_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    QTest::newRow("unmasked") << clientFrame(Ws::Text, "{}", true, false) << 1002;
    QTest::newRow("reserved bit") << clientFrame(Ws::Text, "{}", true, true, 0x40) << 1002;
    QTest::newRow("opcode 3") << clientFrame(3, "{}") << 1002;
    QTest::newRow("opcode 11") << clientFrame(0xB, "") << 1002;
    QTest::newRow("fragmented ping") << clientFrame(Ws::Ping, "x", false) << 1002;
    QTest::newRow("long ping") << clientFrame(Ws::Ping, QByteArray(126, 'p')) << 1002;
    QTest::newRow("lone continuation") << clientFrame(Ws::Continuation, "x") << 1002;
    QTest::newRow("text inside a fragmented text")
        << clientFrame(Ws::Text, "a", false) + clientFrame(Ws::Text, "b") << 1002;
    QTest::newRow("not utf-8") << clientFrame(Ws::Text, "\xc3\x28") << 1007;
    QTest::newRow("surrogate") << clientFrame(Ws::Text, "\xed\xa0\x80") << 1007;
    QTest::newRow("overlong") << clientFrame(Ws::Text, "\xc0\xaf") << 1007;
    QTest::newRow("utf-8 split over fragments, broken")
        << clientFrame(Ws::Text, "\xe2\x82", false) + clientFrame(Ws::Continuation, "x") << 1007;
    QTest::newRow("close of one byte") << clientFrame(Ws::Close, "\x03") << 1002;
    QTest::newRow("close code 1005") << clientFrame(Ws::Close, "\x03\xed") << 1002;
    QTest::newRow("close code 999") << clientFrame(Ws::Close, "\x03\xe7") << 1002;
    QTest::newRow("close reason not utf-8") << clientFrame(Ws::Close, "\x03\xe8\xff") << 1007;
    QTest::newRow("over the bound") << clientFrame(Ws::Text, QByteArray(2000, 'x')) << 1009;
    QTest::newRow("fragments over the bound") << clientFrame(Ws::Text, QByteArray(600, 'x'), false) +
                                                     clientFrame(Ws::Continuation, QByteArray(600, 'x'))
                                              << 1009;
    // A 64-bit length announced: refused from the header alone, before any payload.
    QTest::newRow("2^40 announced") << QByteArray("\x81\xff\x00\x00\x01\x00\x00\x00\x00\x00", 10) << 1009;
    QTest::newRow("length with the top bit")
        << QByteArray("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01", 10) << 1002;
}

void tst_GatewayLinks::decoderRefusesWhatAStrictPeerMust()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    Ws::Decoder d(1024);
    d.append(bytes);
    Ws::Message m;
    Ws::Decoder::Result r;
    while ((r = d.next(m)) == Ws::Decoder::Result::Message) {
    }
    QCOMPARE(r, Ws::Decoder::Result::Error);
    QCOMPARE(d.errorCode(), code);
    QVERIFY(!d.errorText().isEmpty());
    QCOMPARE(d.next(m), Ws::Decoder::Result::Error); // stays in error
}

void tst_GatewayLinks::decoderByteByByte()
{
    const QByteArray text = u"{\"method\":\"ping\",\"x\":\"é€😀\"}"_s.toUtf8();
    const QByteArray bytes = clientFrame(Ws::Text, text.left(5), false) + clientFrame(Ws::Ping, "p") +
                             clientFrame(Ws::Continuation, text.mid(5, 20), false) +
                             clientFrame(Ws::Continuation, text.mid(25)) +
                             clientFrame(Ws::Binary, QByteArray(300, 'b')) +
                             clientFrame(Ws::Close, "\x03\xe8"
                                                    "bye");
    Ws::Decoder d(1024);
    QList<Ws::Message> got;
    for (char c : bytes) {
        d.append(QByteArray(1, c));
        Ws::Message m;
        Ws::Decoder::Result r;
        while ((r = d.next(m)) == Ws::Decoder::Result::Message)
            got.append(m);
        QCOMPARE(r, Ws::Decoder::Result::NeedMore);
    }
    QCOMPARE(got.size(), 4);
    QCOMPARE(got.at(0).kind, Ws::Message::Kind::Ping);
    QCOMPARE(got.at(0).payload, QByteArray("p"));
    QCOMPARE(got.at(1).kind, Ws::Message::Kind::Text);
    QCOMPARE(got.at(1).payload, text);
    QCOMPARE(got.at(2).kind, Ws::Message::Kind::Binary);
    QCOMPARE(got.at(2).payload.size(), 300);
    QCOMPARE(got.at(3).kind, Ws::Message::Kind::Close);
    QCOMPARE(got.at(3).closeCode, 1000);
    QCOMPARE(got.at(3).closeReason, u"bye"_s);
    QCOMPARE(d.buffered(), 0); // nothing held once idle
}

void tst_GatewayLinks::utf8Validator()
{
    QVERIFY(Ws::isValidUtf8(""));
    QVERIFY(Ws::isValidUtf8(u"plain é € 😀 \U0010FFFF"_s.toUtf8()));
    QVERIFY(!Ws::isValidUtf8("\xf4\x90\x80\x80")); // over U+10FFFF
    QVERIFY(!Ws::isValidUtf8("\xf8\x88\x80\x80\x80"));
    QVERIFY(!Ws::isValidUtf8("abc\xe2\x82"));  // cut short
    QVERIFY(!Ws::isValidUtf8("\xe0\x80\xaf")); // overlong
    QVERIFY(!Ws::isValidUtf8("\x80"));
}

void tst_GatewayLinks::handshakeDeclinesExtensions()
{
    GatewayServer server(quiet());
    QVERIFY(server.listen());
    RawClient c;
    QVERIFY(
        c.connect(server.port(), "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    QVERIFY2(c.response.startsWith("HTTP/1.1 101 "), c.response.constData());
    QVERIFY(c.response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    QVERIFY(!c.response.toLower().contains("sec-websocket-extensions"));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, Long);
    QCOMPARE(server.clients().constFirst().name, u"raw"_s);
    QCOMPARE(server.clients().constFirst().path, u"/feed"_s);
    c.text(R"({"method":"ping"})");
    QVERIFY(c.waitFrames(1));
    QCOMPARE(c.frames.at(0).opcode, Ws::Text);
    QCOMPARE(c.frames.at(0).payload, pongFrame());
    QVERIFY(c.unmaskedOnly);
}

void tst_GatewayLinks::notAnUpgradeIsRefused()
{
    GatewayServer server(quiet());
    QVERIFY(server.listen());
    QSignalSpy refused(&server, &GatewayServer::handshakeRefused);
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(s.waitForConnected(Long));
    s.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QVERIFY(refused.wait(Long));
    QCOMPARE(refused.constFirst().at(1).toInt(), 400);
    QTRY_VERIFY_WITH_TIMEOUT(s.bytesAvailable() > 0 || s.state() == QAbstractSocket::UnconnectedState, Long);
    QVERIFY(s.readAll().startsWith("HTTP/1.1 400 "));
    QCOMPARE(server.clientCount(), 0);
}

void tst_GatewayLinks::protocolErrorsClose_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    QTest::newRow("unmasked") << clientFrame(Ws::Text, R"({"method":"ping"})", true, false) << 1002;
    QTest::newRow("reserved bit") << clientFrame(Ws::Text, "{}", true, true, 0x20) << 1002;
    QTest::newRow("bad opcode") << clientFrame(6, "{}") << 1002;
    QTest::newRow("not utf-8") << clientFrame(Ws::Text, "\xff\xfe") << 1007;
    QTest::newRow("oversized") << QByteArray("\x81\xff\x00\x00\x00\x00\x7f\x00\x00\x00\x01\x02\x03\x04", 14)
                               << 1009;
}

void tst_GatewayLinks::protocolErrorsClose()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    GatewayConfig cfg = quiet();
    cfg.maxFrameBytes = 64 * 1024;
    GatewayServer server(cfg);
    QVERIFY(server.listen());
    QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
    RawClient bad, good;
    QVERIFY(bad.connect(server.port()));
    QVERIFY(good.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 2, Long);
    bad.send(bytes);
    QVERIFY(bad.waitClosed());
    const ServerFrame *close = bad.closeFrame();
    QVERIFY(close);
    QCOMPARE(close->closeCode(), code);
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, Long);
    QCOMPARE(gone.constFirst().at(2).toInt(), code);
    QCOMPARE(server.counters().malformed, 1);
    QCOMPARE(server.counters().oversized, code == 1009 ? 1 : 0);
    // The other client is untouched.
    good.text(R"({"method":"ping"})");
    QVERIFY(good.waitFrames(1));
    QCOMPARE(good.frames.at(0).payload, pongFrame());
}

void tst_GatewayLinks::fragmentsAndPingBetween()
{
    GatewayServer server(quiet());
    QVERIFY(server.listen());
    RawClient c;
    QVERIFY(c.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, Long);
    const QByteArray sub = R"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})";
    c.send(clientFrame(Ws::Text, sub.left(10), false) + clientFrame(Ws::Ping, "are you there") +
           clientFrame(Ws::Continuation, sub.mid(10)));
    QVERIFY(c.waitFrames(2));
    QCOMPARE(c.frames.at(0).opcode, Ws::Pong); // the pong comes first: the message was not complete
    QCOMPARE(c.frames.at(0).payload, QByteArray("are you there"));
    QCOMPARE(c.frames.at(1).opcode, Ws::Text);
    QVERIFY(c.frames.at(1).payload.startsWith(R"({"channel":"subscriptionResponse")"));
    QCOMPARE(server.clients().constFirst().subscriptions, 1);
    // A binary message gets the venue's parse error, as before.
    c.send(clientFrame(Ws::Binary, "\x00\x01"));
    QVERIFY(c.waitFrames(3));
    QCOMPARE(c.frames.at(2).payload, errorFrame(parseErrorText("<binary frame>")));
}

void tst_GatewayLinks::clientCloseIsEchoedOnce()
{
    GatewayServer server(quiet());
    QVERIFY(server.listen());
    QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
    RawClient c;
    QVERIFY(c.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, Long);
    c.send(clientFrame(Ws::Close, QByteArray("\x0f\xa0", 2) + "going")); // 4000
    c.send(clientFrame(Ws::Text, R"({"method":"ping"})"));               // after the close: ignored
    QVERIFY(c.waitClosed());
    int closes = 0;
    for (const ServerFrame &f : c.frames) {
        QVERIFY(f.opcode == Ws::Close); // no pong after the close
        ++closes;
    }
    QCOMPARE(closes, 1);
    QCOMPARE(c.frames.at(0).closeCode(), 4000);
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, Long);
    QCOMPARE(gone.constFirst().at(1).value<CloseReason>(), CloseReason::ClientClosed);
    QCOMPARE(gone.constFirst().at(2).toInt(), 4000);
    QCOMPARE(gone.constFirst().at(3).toString(), u"going"_s);
    QCOMPARE(server.clientCount(), 0);

    // The server closes (the operator): one close frame; the client's answer ends the link.
    RawClient d;
    QVERIFY(d.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, Long);
    QVERIFY(server.disconnectClient(server.clientIds().constFirst(), u"bye now"_s));
    QVERIFY(d.waitFrames(1));
    QCOMPARE(d.frames.at(0).opcode, Ws::Close);
    QCOMPARE(d.frames.at(0).closeCode(), 1000);
    QCOMPARE(d.frames.at(0).payload.mid(2), QByteArray("bye now"));
    d.send(clientFrame(Ws::Close, QByteArray("\x03\xe8", 2)));
    QVERIFY(d.waitClosed());
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 2, Long);
    QCOMPARE(gone.at(1).at(1).value<CloseReason>(), CloseReason::Operator);
    QCOMPARE(server.counters().closed[static_cast<size_t>(CloseReason::Aborted)], 0);
}

void tst_GatewayLinks::broadcastEncodesOnce()
{
    GatewayServer server(quiet());
    QVERIFY(server.listen());
    constexpr int N = 5;
    std::vector<std::unique_ptr<RawClient>> cs;
    for (int i = 0; i < N; ++i) {
        cs.push_back(std::make_unique<RawClient>());
        QVERIFY(cs.back()->connect(server.port()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), N, Long);
    const QByteArray key = R"({"coin":"BTC","type":"trades"})";
    QList<QByteArray> sent;
    for (int i = 0; i < 200; ++i) {
        QByteArray frame = R"({"channel":"trades","data":[{"tid":)" + QByteArray::number(i) + "}]}";
        if (i == 7)
            frame += QByteArray(70000, ' '); // a 64-bit length
        if (i == 8)
            frame += QByteArray(300, ' '); // a 16-bit length
        sent.append(frame);
        server.sendData(server.clientIds(), key, frame);
    }
    for (auto &c : cs) {
        QVERIFY(c->waitFrames(sent.size()));
        QCOMPARE(c->frames.size(), sent.size());
        for (qsizetype i = 0; i < sent.size(); ++i) {
            QCOMPARE(c->frames.at(i).opcode, Ws::Text);
            QCOMPARE(c->frames.at(i).payload, sent.at(i));
        }
    }
    for (const ClientStats &st : server.clients()) {
        QCOMPARE(st.dataFramesOut, sent.size());
        QCOMPARE(st.queuedBytes, 0);
    }
    QCOMPARE(server.counters().framesOut, N * sent.size());
}

void tst_GatewayLinks::socketLostAndSilentHandshake()
{
    GatewayConfig cfg = quiet();
    cfg.handshakeTimeout = std::chrono::milliseconds(300);
    GatewayServer server(cfg);
    QVERIFY(server.listen());
    QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
    // The TCP connection goes away without a close frame: the link ends, code 0.
    RawClient c;
    QVERIFY(c.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 1, Long);
    c.sock.abort();
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, Long);
    QCOMPARE(gone.constFirst().at(1).value<CloseReason>(), CloseReason::ClientClosed);
    QCOMPARE(gone.constFirst().at(2).toInt(), 0);
    QCOMPARE(server.clientCount(), 0);
    // A connection that never sends its request head is dropped after the handshake timeout.
    QTcpSocket silent;
    silent.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(silent.waitForConnected(Long));
    QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, Long);
    QCOMPARE(server.clientCount(), 0);
}

QTEST_GUILESS_MAIN(tst_GatewayLinks)
#include "tst_gatewaylinks.moc"

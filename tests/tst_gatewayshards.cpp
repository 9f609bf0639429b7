// The gateway's links sharded over threads (--gateway-threads, issue 14): raw clients spread over
// 2-4 link threads get exact frames in order with no duplicates, the backend is called on the
// server's thread in each client's order, disconnect-client, idle close and the slow-client
// policies work on every shard, the counters' totals equal the clients' sums, the client bound
// holds across shards, and close/destroy with clients connected sends 1001 and returns.
#include "gatewayserver.h"
#include "gwrawclient.h"
#include "profile.h"
#include "wsframe.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <sys/socket.h>

using namespace FeedScope;
using namespace FeedScope::Gw;
using namespace GwTest;
using namespace Qt::StringLiterals;

namespace {

GatewayConfig sharded(int threads)
{
    GatewayConfig c;
    c.threads = threads;
    c.idleTimeout = std::chrono::milliseconds(0);
    return c;
}

const QByteArray Subscribe = R"({"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}})";
const QByteArray Key = R"({"coin":"BTC","type":"trades"})";

QByteArray trade(int i)
{
    return R"({"channel":"trades","data":[{"tid":)" + QByteArray::number(i) + "}]}";
}

/// tids of the client's trade frames, in arrival order.
QList<int> tids(const RawClient &c)
{
    QList<int> out;
    for (const ServerFrame &f : c.frames) {
        const QJsonObject o = QJsonDocument::fromJson(f.payload).object();
        if (o.value("channel"_L1).toString() == "trades"_L1)
            out.append(o.value("data"_L1).toArray().at(0).toObject().value("tid"_L1).toInt());
    }
    return out;
}

/// Records the calls the server makes (and on which thread), acknowledging subscriptions.
struct Backend final : GatewayBackend
{
    GatewayServer *server = nullptr;
    QList<QString> calls;
    bool offThread = false;
    void note(const QString &c)
    {
        offThread |= QThread::currentThread() != server->thread();
        calls.append(c);
    }
    void clientSubscribe(int client, const Hl::Subscription &s) override
    {
        note(u"sub %1 %2"_s.arg(client).arg(s.json().value("coin"_L1).toString()));
        server->acknowledge(client, s);
    }
    void clientUnsubscribe(int client, const Hl::Subscription &s) override
    {
        note(u"unsub %1 %2"_s.arg(client).arg(s.json().value("coin"_L1).toString()));
    }
    void clientPost(int client, qint64 id, const QByteArray &) override
    {
        note(u"post %1 %2"_s.arg(client).arg(id));
        server->sendText(client, R"({"channel":"post","data":{"id":)" + QByteArray::number(id) + "}}");
    }
    void clientGone(int client) override { note(u"gone %1"_s.arg(client)); }
};

} // namespace

class tst_GatewayShards : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fanOutExactInOrder_data();
    void fanOutExactInOrder();
    void backendOnTheServersThreadInOrder();
    void disconnectAndIdleAcrossShards();
    void slowClientPerShard_data();
    void slowClientPerShard();
    void clientBoundAcrossShards();
    void closeAndDestroySend1001();
    void threadsOptionAndProfileRange();
};

void tst_GatewayShards::fanOutExactInOrder_data()
{
    QTest::addColumn<int>("threads");
    QTest::newRow("2 threads") << 2;
    QTest::newRow("4 threads") << 4;
}

void tst_GatewayShards::fanOutExactInOrder()
{
    QFETCH(int, threads);
    GatewayServer server(sharded(threads));
    QCOMPARE(server.threadCount(), threads);
    QVERIFY(server.listen());
    const int n = threads * 2;
    std::vector<std::unique_ptr<RawClient>> cs;
    for (int i = 0; i < n; ++i) {
        cs.push_back(std::make_unique<RawClient>());
        QVERIFY(cs.back()->connect(server.port()));
        cs.back()->text(Subscribe);
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), n, Long);
    // Spread: every shard serves its share.
    QCOMPARE(server.clientsPerShard(), QList<int>(threads, 2));
    for (auto &c : cs)
        QVERIFY(c->waitFrames(1)); // the ack
    constexpr int Frames = 400;
    for (int i = 0; i < Frames; ++i)
        server.sendData(server.clientIds(), Key, trade(i));
    QList<int> expected;
    for (int i = 0; i < Frames; ++i)
        expected.append(i);
    for (auto &c : cs) {
        QVERIFY(c->waitFrames(1 + Frames));
        QCOMPARE(QJsonDocument::fromJson(c->frames.constFirst().payload)["channel"_L1].toString(),
                 u"subscriptionResponse"_s);
        QCOMPARE(tids(*c), expected); // every frame, once, in order
    }
    // The counters' totals equal the clients' sums, read at one moment.
    auto agree = [&] {
        const GatewayServer::Snapshot snap = server.snapshot();
        qint64 frames = 0, bytes = 0;
        for (const ClientStats &st : snap.clients)
            frames += st.framesOut, bytes += st.bytesOut;
        return snap.clients.size() == n && frames == n * (1 + Frames) && snap.counters.framesOut == frames &&
               snap.counters.bytesOut == bytes;
    };
    QTRY_VERIFY_WITH_TIMEOUT(agree(), Long);
    for (const ClientStats &st : server.clients()) {
        QCOMPARE(st.dataFramesOut, Frames);
        QCOMPARE(st.subscriptions, 1);
    }
    QCOMPARE(server.counters().accepted, n);
}

void tst_GatewayShards::backendOnTheServersThreadInOrder()
{
    GatewayServer server(sharded(3));
    Backend backend;
    backend.server = &server;
    server.setBackend(&backend);
    QVERIFY(server.listen());
    std::vector<std::unique_ptr<RawClient>> cs;
    for (int i = 0; i < 3; ++i) {
        cs.push_back(std::make_unique<RawClient>());
        QVERIFY(cs.back()->connect(server.port()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 3, Long);
    const QList<int> ids = server.clientIds();
    QCOMPARE(server.clientsPerShard(), QList<int>({1, 1, 1}));
    for (auto &c : cs) {
        c->text(Subscribe);
        c->text(R"({"method":"subscribe","subscription":{"type":"trades","coin":"ETH"}})");
        c->text(R"({"method":"post","id":7,"request":{"type":"info","payload":{}}})");
        c->text(R"({"method":"unsubscribe","subscription":{"type":"trades","coin":"BTC"}})");
    }
    for (auto &c : cs)
        QVERIFY(c->waitFrames(4)); // two acks, the post's answer, the unsubscribe's ack
    for (auto &c : cs)
        c->sock.abort();
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 0, Long);
    QVERIFY(!backend.offThread);
    for (int id : ids) {
        QList<QString> mine;
        for (const QString &call : std::as_const(backend.calls))
            if (call.section(u' ', 1, 1).toInt() == id)
                mine.append(call.section(u' ', 0, 0) + u' ' + call.section(u' ', 2));
        QCOMPARE(mine, QList<QString>({u"sub BTC"_s, u"sub ETH"_s, u"post 7"_s, u"unsub BTC"_s, u"gone "_s}));
    }
    for (auto &c : cs) {
        // The unsubscribe is answered by the link at once, the rest by the backend: each once.
        QCOMPARE(c->frames.size(), 4);
        int posts = 0;
        for (const ServerFrame &f : c->frames)
            posts += f.payload.contains(R"("id":7)") ? 1 : 0;
        QCOMPARE(posts, 1);
    }
    server.setBackend(nullptr);
}

void tst_GatewayShards::disconnectAndIdleAcrossShards()
{
    GatewayConfig cfg = sharded(2);
    cfg.idleTimeout = std::chrono::milliseconds(400);
    GatewayServer server(cfg);
    QVERIFY(server.listen());
    QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
    RawClient a, b, c;
    QVERIFY(a.connect(server.port()));
    QVERIFY(b.connect(server.port()));
    QVERIFY(c.connect(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 3, Long);
    const QList<int> ids = server.clientIds();
    QCOMPARE(server.clientsPerShard().size(), 2);
    // The operator closes the second client (on the other shard than the first).
    QVERIFY(server.disconnectClient(ids.at(1), u"bye"_s));
    QVERIFY(!server.disconnectClient(9999));
    QVERIFY(b.waitClosed());
    QVERIFY(b.closeFrame());
    QCOMPARE(b.closeFrame()->closeCode(), 1000);
    QCOMPARE(b.closeFrame()->payload.mid(2), QByteArray("bye"));
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, Long);
    QCOMPARE(gone.constFirst().at(1).value<CloseReason>(), CloseReason::Operator);
    // The others, sending nothing, are closed as idle on their shards.
    QVERIFY(a.waitClosed());
    QVERIFY(c.waitClosed());
    for (RawClient *r : {&a, &c}) {
        QVERIFY(r->closeFrame());
        QCOMPARE(r->closeFrame()->closeCode(), 1000);
        QVERIFY(r->closeFrame()->payload.contains("idle"));
    }
    QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 3, Long);
    QCOMPARE(server.clientCount(), 0);
    const GatewayCounters &n = server.counters();
    QCOMPARE(n.closed[static_cast<size_t>(CloseReason::Operator)], 1);
    QCOMPARE(n.closed[static_cast<size_t>(CloseReason::Idle)], 2);
}

void tst_GatewayShards::slowClientPerShard_data()
{
    QTest::addColumn<SlowPolicy>("policy");
    QTest::newRow("disconnect") << SlowPolicy::Disconnect;
    QTest::newRow("drop-oldest") << SlowPolicy::DropOldest;
    QTest::newRow("coalesce-latest") << SlowPolicy::CoalesceLatest;
}

void tst_GatewayShards::slowClientPerShard()
{
    QFETCH(SlowPolicy, policy);
    GatewayConfig cfg = sharded(2);
    cfg.policy = policy;
    cfg.queueBytes = 256 * 1024;
    cfg.socketBudgetBytes = 16 * 1024;
    cfg.closeGrace = std::chrono::milliseconds(200);
    GatewayServer server(cfg);
    QVERIFY(server.listen());
    QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
    // Two readers, one on each shard, and a client on the first shard that reads nothing.
    RawClient r1, r2, stalled;
    QVERIFY(r1.connect(server.port()));
    QVERIFY(r2.connect(server.port()));
    stalled.sock.setReadBufferSize(1024);
    QVERIFY(stalled.connect(server.port()));
    QObject::disconnect(&stalled.sock, &QTcpSocket::readyRead, nullptr, nullptr);
    const int small = 4096;
    ::setsockopt(static_cast<int>(stalled.sock.socketDescriptor()), SOL_SOCKET, SO_RCVBUF, &small,
                 sizeof small);
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 3, Long);
    const QList<int> ids = server.clientIds();
    // 16 MB to each, in steps the readers take (they read on this thread): far over what the
    // stalled client's kernel buffers and its queue hold.
    constexpr int Frames = 1000;
    const QByteArray pad(16000, ' ');
    for (int i = 0; i < Frames;) {
        for (int k = 0; k < 10; ++k, ++i)
            server.sendData(ids, Key, trade(i).chopped(3) + ",\"pad\":\"" + pad + "\"}]}");
        QVERIFY(r1.waitFrames(i));
        QVERIFY(r2.waitFrames(i));
    }
    QList<int> expected;
    for (int i = 0; i < Frames; ++i)
        expected.append(i);
    for (RawClient *r : {&r1, &r2}) {
        QVERIFY(r->waitFrames(Frames));
        QCOMPARE(tids(*r), expected); // the stalled client delayed no one
    }
    const int slow = ids.at(2);
    if (policy == SlowPolicy::Disconnect) {
        QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 1, Long);
        QCOMPARE(gone.constFirst().at(0).value<ClientStats>().id, slow);
        QCOMPARE(gone.constFirst().at(1).value<CloseReason>(), CloseReason::SlowConsumer);
        QVERIFY(server.counters().dropped > 0);
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(server.client(slow) && server.client(slow)->queuedBytes > 0, Long);
        const ClientStats st = *server.client(slow);
        QVERIFY(st.queuedBytes <= cfg.queueBytes);
        QVERIFY(st.highWaterBytes <= cfg.queueBytes);
        if (policy == SlowPolicy::DropOldest)
            QVERIFY(st.dropped > 0);
        else
            QVERIFY(st.coalesced > 0);
        QCOMPARE(gone.size(), 0);
        for (const ClientStats &c : server.clients())
            if (c.id != slow)
                QCOMPARE(c.dropped + c.coalesced, 0);
    }
}

void tst_GatewayShards::clientBoundAcrossShards()
{
    GatewayConfig cfg = sharded(2);
    cfg.maxClients = 3;
    GatewayServer server(cfg);
    QVERIFY(server.listen());
    std::vector<std::unique_ptr<RawClient>> cs;
    int upgraded = 0, full = 0;
    for (int i = 0; i < 5; ++i) {
        cs.push_back(std::make_unique<RawClient>());
        QVERIFY(cs.back()->connect(server.port()));
        upgraded += cs.back()->response.startsWith("HTTP/1.1 101") ? 1 : 0;
        full += cs.back()->response.startsWith("HTTP/1.1 429") ? 1 : 0;
    }
    QCOMPARE(upgraded, 3);
    QCOMPARE(full, 2);
    QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 3, Long);
    QCOMPARE(server.counters().accepted, 3);
    QCOMPARE(server.counters().refusedFull, 2);
}

void tst_GatewayShards::closeAndDestroySend1001()
{
    // close(): every client on every shard gets 1001 and the links end.
    {
        GatewayServer server(sharded(4));
        QVERIFY(server.listen());
        std::vector<std::unique_ptr<RawClient>> cs;
        for (int i = 0; i < 8; ++i) {
            cs.push_back(std::make_unique<RawClient>());
            QVERIFY(cs.back()->connect(server.port()));
        }
        QTRY_COMPARE_WITH_TIMEOUT(server.clientCount(), 8, Long);
        QSignalSpy gone(&server, &GatewayServer::clientDisconnected);
        server.close();
        for (auto &c : cs) {
            QVERIFY(c->waitFrames(1));
            QVERIFY(c->closeFrame());
            QCOMPARE(c->closeFrame()->closeCode(), 1001);
            c->send(clientFrame(Ws::Close, QByteArray("\x03\xe9", 2))); // the client answers
        }
        QTRY_COMPARE_WITH_TIMEOUT(gone.size(), 8, Long);
        for (const QList<QVariant> &g : std::as_const(gone))
            QCOMPARE(g.at(1).value<CloseReason>(), CloseReason::Shutdown);
        QCOMPARE(server.clientCount(), 0);
    }
    // Destroyed with clients connected: 1001 to each, and the destructor returns.
    std::vector<std::unique_ptr<RawClient>> cs;
    {
        auto server = std::make_unique<GatewayServer>(sharded(3));
        QVERIFY(server->listen());
        for (int i = 0; i < 6; ++i) {
            cs.push_back(std::make_unique<RawClient>());
            QVERIFY(cs.back()->connect(server->port()));
            cs.back()->text(Subscribe);
        }
        QTRY_COMPARE_WITH_TIMEOUT(server->clientCount(), 6, Long);
        for (auto &c : cs)
            QVERIFY(c->waitFrames(1));
        for (int i = 0; i < 50; ++i)
            server->sendData(server->clientIds(), Key, trade(i));
    }
    for (auto &c : cs) {
        QVERIFY(c->waitClosed());
        QVERIFY(c->closeFrame());
        QCOMPARE(c->closeFrame()->closeCode(), 1001);
    }
}

void tst_GatewayShards::threadsOptionAndProfileRange()
{
    // --gateway-threads: 1 to twice the cores; anything else is a usage error (exit 2).
    const int most = 2 * std::max(1, QThread::idealThreadCount());
    QStringList bad{u"0"_s, u"65"_s, u"two"_s};
    if (most < 64)
        bad.append(QString::number(most + 1));
    for (const QString &v : std::as_const(bad)) {
        QProcess p;
        p.start(QStringLiteral(FEEDSCOPE_BIN),
                {u"--headless"_s, u"--gateway-port"_s, u"0"_s, u"--gateway-threads"_s, v});
        QVERIFY(p.waitForFinished(Long));
        QCOMPARE(p.exitCode(), 2);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains(u"--gateway-threads"_s), qPrintable(err));
        if (v == QString::number(most + 1))
            QVERIFY2(err.contains(u"at most %1 on this machine"_s.arg(most)), qPrintable(err));
    }
    // The profile's gateway.threads: 1 to 64 (a file may come from a larger machine; the
    // service takes at most twice this one's cores).
    QString error;
    const auto four = profileFromJson(R"({"schema":"feedscope.profile/1","gateway":{"threads":4}})", &error);
    QVERIFY2(four, qPrintable(error));
    QCOMPARE(four->gateway.config.threads, 4);
    for (const char *json : {R"({"schema":"feedscope.profile/1","gateway":{"threads":0}})",
                             R"({"schema":"feedscope.profile/1","gateway":{"threads":65}})"}) {
        error.clear();
        QVERIFY(!profileFromJson(json, &error));
        QVERIFY2(error.contains(u"gateway.threads"_s), qPrintable(error));
    }
}

QTEST_GUILESS_MAIN(tst_GatewayShards)
#include "tst_gatewayshards.moc"

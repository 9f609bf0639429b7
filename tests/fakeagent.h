#pragma once
// A fake agent for the tests of the /live stream's readers (LiveSource, the attached window): a
// QWebSocketServer on 127.0.0.1 that sends whatever a test wants, and a valid full state to send.
#include "livewire.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>

namespace FeedScope::Test {

using namespace Qt::StringLiterals;

/// A valid `feedscope.live/1` full state: one connection, one trades subscription (id 7) with
/// @p messages frames.
inline QJsonObject goodFull(qint64 seq, qint64 messages)
{
    SubscriptionStatus s;
    s.subscription =
        *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"trades"_s}, {u"coin"_s, u"BTC"_s}});
    s.state = SubState::Active;
    s.connection = 1;
    ConnectionStatus c;
    c.id = 1;
    c.state = ConnState::Open;
    c.subscriptions = 1;
    QByteArray counters;
    s.messages = messages;
    Live::appendSubscriptionCounters(counters, 7, s);
    return QJsonObject{
        {u"schema"_s, u"feedscope.live/1"_s},
        {u"type"_s, u"full"_s},
        {u"seq"_s, seq},
        {u"at"_s, static_cast<double>(QDateTime::currentMSecsSinceEpoch())},
        {u"agent"_s, QJsonObject{{u"version"_s, u"test"_s},
                                 {u"url"_s, u"ws://venue/ws"_s},
                                 {u"startedAt"_s, 0},
                                 {u"rateHz"_s, 10},
                                 {u"control"_s, false},
                                 {u"gateway"_s, false}}},
        {u"connections"_s, QJsonArray{Live::connectionJson(c)}},
        {u"subscriptions"_s, QJsonArray{Live::subscriptionStructJson(7, s, true)}},
        {u"subCounters"_s, QJsonArray{QJsonDocument::fromJson(counters).array()}},
    };
}

/// A tick that moves subscription 7's count to @p messages.
inline QJsonObject goodTick(qint64 seq, qint64 messages)
{
    return QJsonObject{{u"type"_s, u"tick"_s},
                       {u"seq"_s, seq},
                       {u"at"_s, static_cast<double>(QDateTime::currentMSecsSinceEpoch())},
                       {u"subCounters"_s, QJsonArray{QJsonArray{7, messages, 0, 10, 1, 1}}}};
}

struct FakeAgent
{
    QWebSocketServer server;
    QList<QWebSocket *> sockets;
    int connections = 0;
    std::function<void(QWebSocket *)> onConnect;

    explicit FakeAgent(QWebSocketServer::SslMode mode = QWebSocketServer::NonSecureMode)
        : server(u"fake agent"_s, mode)
    {
        QObject::connect(&server, &QWebSocketServer::newConnection, &server, [this] {
            while (QWebSocket *ws = server.nextPendingConnection()) {
                ++connections;
                sockets.append(ws);
                if (onConnect)
                    onConnect(ws);
            }
        });
    }
    ~FakeAgent()
    {
        for (QWebSocket *ws : std::as_const(sockets)) // not children of the server: ours to delete
            if (ws)
                delete ws;
    }
    FakeAgent(const FakeAgent &) = delete;
    FakeAgent &operator=(const FakeAgent &) = delete;
    QWebSocket *last() const { return sockets.isEmpty() ? nullptr : sockets.constLast(); }
    QUrl url() const
    {
        return QUrl(u"%1://127.0.0.1:%2/live"_s
                        .arg(server.secureMode() == QWebSocketServer::SecureMode ? u"wss"_s : u"ws"_s)
                        .arg(server.serverPort()));
    }
};

} // namespace FeedScope::Test

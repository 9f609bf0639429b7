#pragma once

#include "subscription.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace FeedScope::Gw {

/// What a downstream client asked for, in the venue's protocol (PROTOCOL.md §1.2).
enum class RequestKind : quint8 {
    Subscribe,
    Unsubscribe,
    Ping,
    Post,
    Invalid, ///< not a request the venue accepts; ClientRequest::error is the venue's answer
};

struct ClientRequest
{
    RequestKind kind = RequestKind::Invalid;
    /// Subscribe / Unsubscribe: the subscription, canonical. For an unsubscribe whose parameters
    /// do not validate it is the lenient echo form (the client cannot hold it, so it is answered
    /// "Already unsubscribed").
    Hl::Subscription subscription;
    qint64 postId = -1;     ///< Post: the client's id
    QByteArray postRequest; ///< Post: the bytes of the "request" value exactly as the client sent them
    /// Invalid: the venue's error text (`Error parsing JSON into valid websocket request: …`,
    /// `Invalid subscription {…}`), to be sent as an error frame.
    QString error;
};

/// Parses one client text frame. Total: any bytes give a request or an error, never a crash;
/// bounded by the input (the JSON nesting limit of QJsonDocument; no recursion of its own).
ClientRequest parseClientRequest(QByteArrayView utf8);

/// The bytes of the value of the top-level key @p key of the JSON object @p json (the last one
/// when the key repeats), or a null view. @p json must be valid JSON (the parser checked it).
QByteArrayView topLevelValue(QByteArrayView json, QByteArrayView key);

/// The server's normalised echo of @p s inside acks and "Already subscribed" texts: defaults
/// filled in and keys in the venue's own order (PROTOCOL.md §1.3).
QByteArray normalisedEcho(const Hl::Subscription &s);

/// `{"channel":"subscriptionResponse","data":{"method":"subscribe"|"unsubscribe","subscription":…}}`
QByteArray ackFrame(const Hl::Subscription &s, bool unsubscribe = false);
/// `{"channel":"error","data":"…"}`
QByteArray errorFrame(const QString &text);
QByteArray pongFrame();
/// `{"channel":"post","data":{"id":N,"response":{"type":"error","payload":"…"}}}`
QByteArray postErrorFrame(qint64 id, const QString &text);

// The venue's texts (PROTOCOL.md §1.4, fixtures error.*.json), byte for byte.
QString parseErrorText(QByteArrayView raw);
QString alreadySubscribedText(const Hl::Subscription &s);
QString alreadyUnsubscribedText(const Hl::Subscription &s);
QString tooManyChannelsText(int limit);
QString tooManyUsersText(int limit);
QString tooManyMessagesText(int limit);
QString tooManyPendingPostsText(qint64 id);

} // namespace FeedScope::Gw

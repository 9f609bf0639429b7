#pragma once

#include "subscription.h"

#include <QByteArray>
#include <QJsonObject>
#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace FeedScope::Hl {
Q_NAMESPACE

/// What a server frame is.
enum class FrameKind : quint8 {
    Data,                 ///< a subscription's data; routeKey is set
    SubscriptionResponse, ///< ack of a subscribe/unsubscribe; subscription is the echo
    Pong,
    Error,   ///< {"channel":"error","data":"…"}, serverError is set
    Post,    ///< response to a post request; postId is set
    Unknown, ///< valid JSON with a channel this codec does not know; channel is kept
    Invalid, ///< not a frame the protocol allows; error says why
};
Q_ENUM_NS(FrameKind)

/// Why a frame could not be decoded. Each value is counted separately by the pool.
enum class DecodeError : quint8 {
    None,
    Empty,          ///< zero bytes
    NotJson,        ///< not parseable JSON (includes legacy text greetings)
    NotObject,      ///< JSON, but not an object
    MissingChannel, ///< object without a string "channel"
    WrongShape,     ///< a known channel whose data has the wrong shape
    Unroutable,     ///< a known data channel whose routing fields are absent (e.g. empty trades array)
    Binary,         ///< a binary frame (the protocol uses text frames only)
};
Q_ENUM_NS(DecodeError)
inline constexpr int DecodeErrorCount = static_cast<int>(DecodeError::Binary) + 1;
QLatin1StringView nameOf(DecodeError e);
QLatin1StringView nameOf(FrameKind k);

/// Error frames the real server sends (PROTOCOL.md §1.4).
enum class ServerErrorKind : quint8 {
    AlreadySubscribed,
    AlreadyUnsubscribed,
    InvalidSubscription,
    TooManyChannels,     ///< "Cannot subscribe to more than N channels."
    TooManyUsers,        ///< "Cannot track more than N total users."
    RateLimited,         ///< "Cannot send more than N messages per minute."
    ParseError,          ///< "Error parsing JSON into valid websocket request: …"
    TooManyPendingPosts, ///< "too many pending post requests id=N"
    Other,               ///< kept verbatim
};
Q_ENUM_NS(ServerErrorKind)
QLatin1StringView nameOf(ServerErrorKind k);

struct ServerError
{
    ServerErrorKind kind = ServerErrorKind::Other;
    QString text;              ///< verbatim
    int limit = -1;            ///< N of the limit texts
    qint64 postId = -1;        ///< id of the pending-post text
    Subscription subscription; ///< the subscription the text echoes, when it does (else invalid)
};
/// Recognises the real server's error texts.
ServerError classifyServerError(const QString &text);

/// One decoded server frame.
struct Envelope
{
    FrameKind kind = FrameKind::Invalid;
    DecodeError error = DecodeError::None;
    const TypeSpec *spec = nullptr; ///< data frames: the subscription family (aliases resolved)
    QByteArray channel;             ///< channel name as on the wire
    QByteArray routeKey;            ///< data frames: equals Subscription::routeKey() of the producer
    bool isSnapshot = false;
    /// Data frames: the venue's event time (ms since the epoch) when the frame carries one and is
    /// not a snapshot: the newest of its items (trades, fills, order updates), else its block
    /// time (l2Book, bbo). 0 when none: candles (bar times), allMids, contexts, snapshots.
    qint64 eventTimeMs = 0;
    bool unsubscribeAck = false; ///< subscriptionResponse: method was "unsubscribe"
    Subscription subscription;   ///< subscriptionResponse echo (canonical)
    ServerError serverError;     ///< error frames
    qint64 postId = -1;          ///< post responses
    QString postResponseType;    ///< "info" | "action" | "error"
    QByteArray raw;              ///< the frame's bytes, shared, for consumers
};

/// Decodes server frames. Data frames are routed with simdjson On-Demand, reading only the few
/// fields routing needs; control frames (acks, errors, posts: rare) go through QJsonDocument.
/// One decoder per thread: it owns a parser and a padded buffer that are reused.
class FrameDecoder final
{
public:
    FrameDecoder();
    ~FrameDecoder();
    FrameDecoder(const FrameDecoder &) = delete;
    FrameDecoder &operator=(const FrameDecoder &) = delete;

    Envelope decode(const QByteArray &utf8);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

/// Whether data of @p spec's family carries the venue's event time (and so gives latency samples):
/// trades, l2Book, bbo, orderUpdates, userEvents, userFills, userFundings, ledger updates, TWAP
/// slice fills. Candles (bar times), allMids, the contexts and the state feeds do not.
bool carriesEventTime(const TypeSpec &spec);

enum class PostType : quint8 { Info, Action };
Q_ENUM_NS(PostType)

QByteArray encodeSubscribe(const Subscription &s);
QByteArray encodeUnsubscribe(const Subscription &s);
QByteArray encodePing();
QByteArray encodePost(quint64 id, PostType type, const QJsonObject &payload);

/// A received text frame's UTF-8, in an allocation of its exact size (frames are kept: inspector
/// history, queues, batches; QString::toUtf8() reserves three bytes per character). ASCII, which
/// market data is, is narrowed and checked in one vectorised pass; anything else goes through
/// toUtf8().
QByteArray frameBytes(const QString &text);

/// fastAssetCtxs data: base64 of raw DEFLATE (RFC 1951) JSON. Returns the JSON text, or nullopt
/// with @p error set. Output is capped at @p maxBytes.
std::optional<QByteArray> inflateFastAssetCtxs(QByteArrayView base64, QString *error = nullptr,
                                               qsizetype maxBytes = 64 * 1024 * 1024);
/// Raw DEFLATE compression (used by the simulator to produce fastAssetCtxs frames).
QByteArray deflateRaw(QByteArrayView data);

} // namespace FeedScope::Hl

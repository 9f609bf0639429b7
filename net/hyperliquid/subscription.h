#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <chrono>
#include <optional>

namespace FeedScope::Hl {

/// How a subscription parameter is validated.
enum class ParamKind : quint8 {
    Coin,     ///< non-empty string, case kept ("BTC", "kPEPE", "@107", "PURR/USDC", "xyz:NVDA")
    User,     ///< "0x" + 40 hex digits, lowercased in the canonical form
    Interval, ///< one of the candle intervals
    SigFigs,  ///< l2Book nSigFigs: 2..5
    Mantissa, ///< l2Book mantissa: 1, 2 or 5 (only with nSigFigs 5)
    Bool,
    Dex, ///< string, may be empty
};

struct ParamSpec
{
    const char *name = nullptr;
    ParamKind kind = ParamKind::Coin;
    bool required = false;
};

/// A field of a data frame that identifies the subscription that produced it, and the
/// subscription parameter it corresponds to.
struct RouteField
{
    const char *param = nullptr;    ///< subscription parameter
    const char *dataPath = nullptr; ///< dotted path inside `data`; "0.coin" = first array element's coin
    const char *defaultValue = "";  ///< value used when the parameter / field is absent
};

/// One entry of the subscription catalogue (PROTOCOL.md §2.1).
struct TypeSpec
{
    const char *type = nullptr;
    const char *channel = nullptr;      ///< data channel name on the wire
    const char *aliasChannel = nullptr; ///< second channel name carrying the same family, or nullptr
    QList<ParamSpec> params;
    QList<RouteField> route;
    /// Expected gap between two data messages when the feed is healthy; zero for event-driven
    /// feeds (orderUpdates, userEvents...) where silence is normal.
    std::chrono::milliseconds expectedInterval{0};
    bool legacy = false; ///< no longer accepted by the real server (webData2)
    /// Data may carry `isSnapshot` (the user feeds that replay history on subscribe). Looking for
    /// an absent key means skipping the whole payload, so only these types look.
    bool snapshotFlag = false;
};

/// The catalogue, in PROTOCOL.md order.
const QList<TypeSpec> &catalogue();
/// nullptr for an unknown type.
const TypeSpec *findType(QStringView type);
/// nullptr for an unknown channel; resolves the aliases (`user` → userEvents, `activeSpotAssetCtx` →
/// activeAssetCtx).
const TypeSpec *findChannel(QByteArrayView channel);
/// Valid candle intervals.
const QList<QString> &candleIntervals();

/// A canonical Hyperliquid subscription: the identity of a subscription everywhere (registry
/// key, logs, report). Canonical = keys sorted, null parameters dropped, user addresses (`0x…`)
/// lowercased, coin case kept, explicit values (even `false`) kept.
class Subscription
{
public:
    Subscription() = default;

    /// Strict: validates the type and every parameter against the catalogue. On failure returns
    /// nullopt and sets @p error to a sentence naming the problem.
    static std::optional<Subscription> fromJson(const QJsonObject &object, QString *error = nullptr);
    /// Lenient: canonicalises whatever the server echoed (acks, error texts), known type or not.
    static Subscription fromEcho(const QJsonObject &object);
    /// Parses a JSON array of subscription objects (the `--subscriptions` file format). Any bad
    /// entry fails the whole list, with an error naming the entry.
    static std::optional<QList<Subscription>> listFromJson(const QByteArray &json, QString *error);

    bool isValid() const { return !m_canonical.isEmpty(); }
    QString type() const { return m_type; }
    const TypeSpec *spec() const { return m_spec; }
    QJsonObject json() const { return m_json; }
    /// Compact JSON with sorted keys: the identity.
    QByteArray canonical() const { return m_canonical; }
    /// Data frames of this subscription are routed by this key; two subscriptions with the same
    /// route key cannot be told apart on one connection.
    QByteArray routeKey() const { return m_routeKey; }
    /// The canonical form with default-valued optional parameters removed; the server's ack
    /// (which fills in defaults) matches the request on this key.
    QByteArray ackKey() const { return m_ackKey; }
    /// Lowercased user address, or empty for market-data subscriptions.
    QString user() const { return m_user; }

    friend bool operator==(const Subscription &a, const Subscription &b)
    {
        return a.m_canonical == b.m_canonical;
    }

private:
    void finish();

    QString m_type;
    QString m_user;
    QJsonObject m_json;
    QByteArray m_canonical;
    QByteArray m_routeKey;
    QByteArray m_ackKey;
    const TypeSpec *m_spec = nullptr;
};

/// False when frames of @p a and @p b cannot be told apart on one connection (PROTOCOL.md §4.4),
/// including the same subscription twice.
bool canShareConnection(const Subscription &a, const Subscription &b);

/// Compact JSON with keys sorted recursively (byte order), strings escaped as JSON requires.
QByteArray canonicalJson(const QJsonValue &value);

inline size_t qHash(const Subscription &s, size_t seed = 0) noexcept
{
    return qHash(s.canonical(), seed);
}

} // namespace FeedScope::Hl

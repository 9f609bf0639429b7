#include "eventwords.h"

#include <QCoreApplication>
#include <QJsonDocument>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope::Words {

namespace {
struct Word
{
    QLatin1StringView raw;
    const char *text;
};

QString lookup(const QString &raw, std::initializer_list<Word> words)
{
    for (const Word &w : words)
        if (raw == w.raw)
            return QCoreApplication::translate("FeedScope::Words", w.text);
    return raw;
}
} // namespace

QString cause(const QString &raw)
{
    return lookup(raw, {{"none"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "no particular reason")},
                        {"opened"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "connected")},
                        {"closeFrame"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "the server closed it")},
                        {"socketError"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "network error")},
                        {"pongTimeout"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "no answer to a ping")},
                        {"stale"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "went silent")},
                        {"oversized"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "a frame too large")},
                        {"manual"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "you asked")},
                        {"shutdown"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "FeedScope is closing")},
                        {"idleClose"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "closed while unused")},
                        {"backoff"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "waiting before retrying")},
                        {"retry"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "trying again")},
                        {"paused"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "you disconnected the pool")}});
}

QString connState(const QString &raw)
{
    return lookup(raw, {{"idle"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "not started")},
                        {"connecting"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "connecting")},
                        {"open"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "open")},
                        {"closing"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "closing")},
                        {"backoff"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "waiting to retry")},
                        {"stopped"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "stopped")}});
}

QString subState(const QString &raw)
{
    return lookup(raw,
                  {{"pending"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "waiting for the server")},
                   {"active"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "active")},
                   {"restoring"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "being restored")},
                   {"rejected"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "refused by the server")},
                   {"failed"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "failed")},
                   {"unplaceable"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "no room on any connection")},
                   {"removed"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "removed")}});
}

QString eventType(const QString &raw)
{
    return lookup(raw, {{"connection"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Connection")},
                        {"reconnect"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Reconnect")},
                        {"subscription"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Subscription")},
                        {"serverError"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Server error")},
                        {"warning"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Warning")},
                        {"stats"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Statistics")},
                        {"manual"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Your action")},
                        {"overflow"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Queue overflow")},
                        {"shutdown"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Shutdown")},
                        {"alert"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Alert")},
                        {"alertCommand"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Alert command")}});
}

QString action(const QString &raw)
{
    return lookup(raw, {{"reconnectAll"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "reconnect all")},
                        {"reconnect"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "reconnect")},
                        {"subscribe"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "subscribe")},
                        {"unsubscribe"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "unsubscribe")},
                        {"export"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "export")}});
}

QString serverErrorKind(const QString &raw)
{
    return lookup(
        raw, {{"alreadySubscribed"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "already subscribed")},
              {"alreadyUnsubscribed"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "already unsubscribed")},
              {"invalidSubscription"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "invalid subscription")},
              {"tooManyChannels"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "too many channels")},
              {"tooManyUsers"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "too many users")},
              {"rateLimited"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "rate limited")},
              {"parseError"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "request not understood")},
              {"tooManyPendingPosts"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "too many pending posts")},
              {"other"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "error")}});
}

QString policy(const QString &raw)
{
    return lookup(raw, {{"lossless"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "never drops")},
                        {"drop-oldest"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "drops the oldest")},
                        {"drop-newest"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "drops the newest")},
                        {"coalesce-latest"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "keeps the latest")}});
}

QString value(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Bool:
        return v.toBool() ? u"true"_s : u"false"_s;
    case QJsonValue::Double: {
        const double d = v.toDouble();
        if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.0e15)
            return QString::number(static_cast<qint64>(d));
        return QString::number(d, 'g', 12);
    }
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Null:
        return u"null"_s;
    case QJsonValue::Array:
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument::fromVariant(v.toVariant()).toJson(QJsonDocument::Compact));
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

} // namespace FeedScope::Words

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
                        {"integrity"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Data integrity")},
                        {"shutdown"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Shutdown")},
                        {"alert"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Alert")},
                        {"alertCommand"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Alert command")},
                        {"gateway"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "Gateway")}});
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

QString integrityKind(const QString &raw)
{
    return lookup(
        raw, {{"crossedBook"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "crossed or one-sided book")},
              {"timeBackwards"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "time went backwards")},
              {"duplicateTrade"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "the same trade twice")},
              {"contradicts"_L1, QT_TRANSLATE_NOOP("FeedScope::Words", "data of another subscription")}});
}

QString integritySummary(const QJsonObject &d)
{
    auto num = [&d](QLatin1StringView k) { // imported files may hold anything: no out-of-range cast
        const double v = d.value(k).toDouble();
        return std::abs(v) < 9.0e18 ? static_cast<qint64>(v) : qint64(0);
    };
    const QString kind = integrityKind(d.value("kind"_L1).toString());
    const QString where = d.value("subscription"_L1).toString();
    const qint64 suppressed = num("suppressed"_L1);
    if (d.value("summary"_L1).toBool())
        return QCoreApplication::translate("FeedScope::Words",
                                           "%1 on %2: %n more since the last report (%3 in all)", nullptr,
                                           static_cast<int>(suppressed))
            .arg(kind, where)
            .arg(num("count"_L1));
    QString t = QCoreApplication::translate("FeedScope::Words", "%1 on %2 (connection #%3)")
                    .arg(kind, where)
                    .arg(num("connection"_L1));
    if (const QString detail = d.value("detail"_L1).toString(); !detail.isEmpty())
        t += u": "_s + detail;
    if (num("count"_L1) > 1)
        t += QCoreApplication::translate("FeedScope::Words", "; %1 of this kind in all").arg(num("count"_L1));
    if (suppressed > 0)
        t += QCoreApplication::translate("FeedScope::Words", "; %n since the last report", nullptr,
                                         static_cast<int>(suppressed));
    return t;
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

#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

namespace FeedScope::Words {

/// Human words for the raw names that the pool and the session log use (pooltypes' nameOf(),
/// codec's nameOf(ServerErrorKind), the session event types and the user's actions). The raw
/// names stay in files and tooltips; views show these. An unknown name comes back as it is, so
/// nothing is ever blank.

/// Why a connection changed state: "socketError" → "network error".
QString cause(const QString &raw);
/// A connection state: "backoff" → "waiting to retry".
QString connState(const QString &raw);
/// A subscription state (and "removed"): "unplaceable" → "no room on any connection".
QString subState(const QString &raw);
/// A session event type: "serverError" → "Server error", "stats" → "Statistics".
QString eventType(const QString &raw);
/// A user action of a "manual" event: "reconnectAll" → "reconnect all".
QString action(const QString &raw);
/// A server error kind: "tooManyChannels" → "too many channels".
QString serverErrorKind(const QString &raw);
/// A dispatch policy: "drop-oldest" → "drops the oldest".
QString policy(const QString &raw);
/// An integrity violation's kind (issue 17): "duplicateTrade" → "the same trade twice".
QString integrityKind(const QString &raw);
/// One line for an "integrity" session event's data: what, where, how many.
QString integritySummary(const QJsonObject &data);
/// A detail value as text: true/false for booleans, whole numbers without an exponent.
QString value(const QJsonValue &v);

} // namespace FeedScope::Words

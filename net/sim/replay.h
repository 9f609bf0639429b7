#pragma once

#include "recording.h"
#include "subscription.h"

#include <QHash>
#include <QList>
#include <QString>

#include <functional>
#include <optional>

namespace FeedScope::Sim {

/// What a `--record` file holds, read once before it is replayed: the subscriptions the recorded
/// session asked for (its sent subscribe requests, in order, each once), the data frames per
/// route key and the recorded span.
struct RecordingSummary
{
    QList<Hl::Subscription> subscriptions;
    /// True when the subscriptions were read back from the data frames' route keys (a recording
    /// without sent frames: the headless agent's). Parameters not in the data (l2Book's
    /// nSigFigs, …) take their defaults there.
    bool subscriptionsFromData = false;
    /// Route keys of data frames no subscription could be made from (user feeds whose data
    /// does not name the user); their frames are not replayed.
    QStringList unrecoverable;
    qint64 dataFrames = 0;
    QHash<QByteArray, qint64> framesPerRouteKey;
    qint64 durationNs = 0; ///< first to last data frame, on the recorder's monotonic clock
    QDateTime firstWallTime;
    QDateTime lastWallTime;
};

/// Reads @p path line by line and calls @p onFrame for every frame (sent ones included, in file
/// order). Stops at the first line that is not a recorded frame: false, and @p error names the
/// file, the line and the problem. Blank lines are skipped.
bool forEachRecordedFrame(const QString &path, const std::function<void(const RecordedFrame &)> &onFrame,
                          QString *error);

/// @p frame with every event time ("time": or "statusTimestamp": followed by 12 to 14 digits,
/// epoch milliseconds) moved by @p deltaMs; the same bytes when it has none.
QByteArray retimedFrame(const QByteArray &frame, qint64 deltaMs);

/// The subscription whose frames carry @p routeKey ("trades|BTC"), with the parameters the
/// route holds; nullopt when the route does not hold every required parameter.
std::optional<Hl::Subscription> subscriptionFromRouteKey(QByteArrayView routeKey);

/// nullopt with @p error when the file cannot be read or holds no data frame; a recording
/// without sent subscribe requests (the headless agent's) gets them from its route keys.
std::optional<RecordingSummary> summarizeRecording(const QString &path, QString *error);

} // namespace FeedScope::Sim

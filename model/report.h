#pragma once

#include "dispatcher.h"
#include "pooltypes.h"

#include <QJsonObject>
#include <QString>

namespace FeedScope {

/// Figures of the dispatcher stage that the report carries.
struct DispatcherFigures
{
    QString policy = QStringLiteral("lossless");
    qint64 received = 0;
    qint64 delivered = 0;
    qint64 dropped = 0;
    qint64 coalesced = 0;
    qint64 queued = 0; ///< waiting in the queue now (0 in a final report: left-overs count as dropped)
    qint64 maxQueueDepth = 0;
    QList<ConsumerStats> consumers; ///< every consumer's counters, for the report's detail
};

struct ReportMeta
{
    QDateTime startedAt;
    qint64 durationMs = 0;
    QString url;
};

/// The `feedscope.report/1` document (issue 3's contract): subscriptions with their state just
/// before shutdown, connections, dispatcher figures, reconnects and error counters.
QJsonObject buildReport(const PoolSnapshot &snapshot, const DispatcherFigures &dispatcher,
                        const ReportMeta &meta);

class AlertEngine;

/// The report's "alerts" section (issue 17): the rules, what fires now and the most recent
/// resolved ones (at most @p historyLimit), each as Alert::toJson(). Callers insert it as
/// `report["alerts"]` next to buildReport()'s document.
QJsonObject buildAlertsReport(const AlertEngine &alerts, int historyLimit = 100);

class GatewayService;

/// The report's "gateway" section (issue 14): where it listens, the bind, the slow-client policy
/// and every limit in force, the server's and the hub's counters (accepted, refused by reason,
/// disconnects by reason, frames and bytes out, drops, coalesced, malformed, rate limited,
/// upstream subscribes and unsubscribes, late joins, …) and one entry per client (connected now,
/// or when the gateway stopped). Never the token: only whether one is required. Callers insert it
/// as `report["gateway"]`.
QJsonObject buildGatewayReport(const GatewayService &gateway);

/// Writes @p json atomically (temporary file, then rename). On failure nothing is left under
/// @p path and @p error says why.
bool writeJsonAtomically(const QString &path, const QJsonObject &json, QString *error);

} // namespace FeedScope

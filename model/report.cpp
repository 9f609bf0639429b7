#include "report.h"

#include "alerts.h"
#include "recording.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

QJsonValue isoOrNull(const QDateTime &t)
{
    return t.isValid() ? QJsonValue(isoUtcMs(t)) : QJsonValue(QJsonValue::Null);
}

} // namespace

QJsonObject buildReport(const PoolSnapshot &snapshot, const DispatcherFigures &dispatcher,
                        const ReportMeta &meta)
{
    QJsonArray subs;
    for (const SubscriptionStatus &s : snapshot.subscriptions) {
        subs.append(QJsonObject{
            {u"subscription"_s, s.subscription.json()},
            {u"key"_s, QString::fromUtf8(s.subscription.canonical())},
            {u"state"_s, QString(nameOf(s.state))},
            {u"error"_s, s.error.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s.error)},
            {u"connection"_s, s.connection >= 0 ? QJsonValue(s.connection) : QJsonValue(QJsonValue::Null)},
            {u"messages"_s, static_cast<double>(s.messages)},
            {u"bytes"_s, static_cast<double>(s.bytes)},
            {u"firstMessageAt"_s, isoOrNull(s.firstMessageAt)},
            {u"lastMessageAt"_s, isoOrNull(s.lastMessageAt)},
            {u"ackLatencyMs"_s, s.ackLatencyMs >= 0 ? QJsonValue(static_cast<double>(s.ackLatencyMs))
                                                    : QJsonValue(QJsonValue::Null)},
            {u"restores"_s, static_cast<double>(s.restores)},
        });
    }
    QJsonArray conns;
    for (const ConnectionStatus &c : snapshot.connections) {
        conns.append(QJsonObject{
            {u"id"_s, c.id},
            {u"state"_s, QString(nameOf(c.state))},
            {u"localPort"_s, c.localPort},
            {u"subscriptions"_s, c.subscriptions},
            {u"messagesIn"_s, static_cast<double>(c.messagesIn)},
            {u"bytesIn"_s, static_cast<double>(c.bytesIn)},
            {u"framesOut"_s, static_cast<double>(c.framesOut)},
            {u"reconnects"_s, c.reconnects},
            {u"rttMs"_s, c.rttMs >= 0 ? QJsonValue(c.rttMs) : QJsonValue(QJsonValue::Null)},
            {u"lastCause"_s, QString(nameOf(c.lastCause))},
        });
    }
    QJsonArray reconnects;
    for (const ReconnectRecord &r : snapshot.reconnects) {
        reconnects.append(QJsonObject{
            {u"connection"_s, r.connection},
            {u"cause"_s, QString(nameOf(r.cause))},
            {u"detail"_s, r.detail},
            {u"manual"_s, r.manual},
            {u"startedAt"_s, isoOrNull(r.startedAt)},
            {u"durationMs"_s, r.durationMs >= 0 ? QJsonValue(static_cast<double>(r.durationMs))
                                                : QJsonValue(QJsonValue::Null)},
            {u"dataGapMs"_s,
             r.dataGapMs >= 0 ? QJsonValue(static_cast<double>(r.dataGapMs)) : QJsonValue(QJsonValue::Null)},
            {u"restoredSubscriptions"_s, r.restored},
            {u"totalSubscriptions"_s, r.total},
        });
    }
    QJsonArray consumers;
    for (const ConsumerStats &c : dispatcher.consumers)
        consumers.append(toJson(c));
    QJsonObject byKind;
    for (auto it = snapshot.counters.serverErrorsByKind.cbegin();
         it != snapshot.counters.serverErrorsByKind.cend(); ++it)
        byKind.insert(it.key(), static_cast<double>(it.value()));
    return QJsonObject{
        {u"schema"_s, u"feedscope.report/1"_s},
        {u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)},
        {u"url"_s, meta.url},
        {u"startedAt"_s, isoOrNull(meta.startedAt)},
        {u"durationMs"_s, static_cast<double>(meta.durationMs)},
        {u"subscriptions"_s, subs},
        {u"connections"_s, conns},
        {u"dispatcher"_s, QJsonObject{{u"policy"_s, dispatcher.policy},
                                      {u"received"_s, static_cast<double>(dispatcher.received)},
                                      {u"delivered"_s, static_cast<double>(dispatcher.delivered)},
                                      {u"dropped"_s, static_cast<double>(dispatcher.dropped)},
                                      {u"coalesced"_s, static_cast<double>(dispatcher.coalesced)},
                                      {u"queued"_s, static_cast<double>(dispatcher.queued)},
                                      {u"maxQueueDepth"_s, static_cast<double>(dispatcher.maxQueueDepth)},
                                      {u"consumers"_s, consumers}}},
        {u"reconnects"_s, reconnects},
        {u"errors"_s,
         QJsonObject{{u"malformedFrames"_s, static_cast<double>(snapshot.counters.malformedFrames)},
                     {u"serverErrors"_s, static_cast<double>(snapshot.counters.serverErrors)},
                     {u"serverErrorsByKind"_s, byKind},
                     {u"oversizedFrames"_s, static_cast<double>(snapshot.counters.oversizedFrames)},
                     {u"unroutedFrames"_s, static_cast<double>(snapshot.counters.unroutedFrames)}}},
    };
}

bool writeJsonAtomically(const QString &path, const QJsonObject &json, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = QJsonDocument(json).toJson(QJsonDocument::Indented);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = u"cannot write %1: %2"_s.arg(path, file.errorString());
        file.cancelWriting();
        return false;
    }
    return true;
}

QJsonObject buildAlertsReport(const AlertEngine &alerts, int historyLimit)
{
    QJsonArray rules, firing, history;
    for (const AlertRule &r : alerts.rules())
        rules.append(r.toJson());
    for (const Alert &a : alerts.firing())
        firing.append(a.toJson());
    const QList<Alert> past = alerts.history();
    for (qsizetype i = 0; i < past.size() && i < historyLimit; ++i)
        history.append(past.at(i).toJson());
    return QJsonObject{{u"firingCount"_s, alerts.firingCount()},
                       {u"firing"_s, firing},
                       {u"history"_s, history},
                       {u"historyTotal"_s, static_cast<double>(past.size())},
                       {u"rules"_s, rules}};
}

} // namespace FeedScope

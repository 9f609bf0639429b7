#include "replay.h"

#include "codec.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace FeedScope::Sim {

bool forEachRecordedFrame(const QString &path, const std::function<void(const RecordedFrame &)> &onFrame,
                          QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = u"cannot open recording %1: %2"_s.arg(path, file.errorString());
        return false;
    }
    int lineNo = 0;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        QString why;
        const std::optional<RecordedFrame> rec = parseRecordedLine(line, &why);
        if (!rec) {
            if (error)
                *error = u"%1 line %2: %3"_s.arg(path).arg(lineNo).arg(why);
            return false;
        }
        onFrame(*rec);
    }
    if (file.error() != QFileDevice::NoError) {
        if (error)
            *error = u"cannot read recording %1: %2"_s.arg(path, file.errorString());
        return false;
    }
    return true;
}

QByteArray retimedFrame(const QByteArray &frame, qint64 deltaMs)
{
    // Event times are epoch milliseconds after "time": or "statusTimestamp": (PROTOCOL.md); a
    // number of 12 to 14 digits there is one, anything else (a coin named "time", a price) is not.
    QByteArray out;
    qsizetype from = 0;
    qsizetype i = 0;
    while (i < frame.size()) {
        qsizetype at = -1;
        qsizetype keyLen = 0;
        for (const QByteArrayView key :
             {QByteArrayView("\"time\":"), QByteArrayView("\"statusTimestamp\":")}) {
            const qsizetype k = frame.indexOf(key, i);
            if (k >= 0 && (at < 0 || k < at)) {
                at = k;
                keyLen = key.size();
            }
        }
        if (at < 0)
            break;
        const qsizetype digits = at + keyLen;
        qsizetype end = digits;
        while (end < frame.size() && frame.at(end) >= '0' && frame.at(end) <= '9')
            ++end;
        i = end > digits ? end : digits;
        if (end - digits < 12 || end - digits > 14)
            continue;
        bool ok = false;
        const qint64 t = QByteArrayView(frame).sliced(digits, end - digits).toLongLong(&ok);
        if (!ok)
            continue;
        out += QByteArrayView(frame).sliced(from, digits - from);
        out += QByteArray::number(t + deltaMs);
        from = end;
    }
    if (from == 0)
        return frame;
    out += QByteArrayView(frame).sliced(from);
    return out;
}

std::optional<Hl::Subscription> subscriptionFromRouteKey(QByteArrayView routeKey)
{
    const QList<QByteArrayView> parts = [&] {
        QList<QByteArrayView> out;
        qsizetype from = 0;
        for (qsizetype i = 0; i <= routeKey.size(); ++i) {
            if (i == routeKey.size() || routeKey.at(i) == '|') {
                out.append(routeKey.sliced(from, i - from));
                from = i + 1;
            }
        }
        return out;
    }();
    const Hl::TypeSpec *spec = Hl::findType(QString::fromUtf8(parts.constFirst()));
    if (!spec || parts.size() != spec->route.size() + 1)
        return std::nullopt;
    QJsonObject json{{"type"_L1, QLatin1StringView(spec->type)}};
    for (qsizetype i = 0; i < spec->route.size(); ++i) {
        const QString v = QString::fromUtf8(parts.at(i + 1));
        if (v != QLatin1StringView(spec->route.at(i).defaultValue))
            json.insert(QLatin1StringView(spec->route.at(i).param), v);
    }
    for (const Hl::ParamSpec &p : spec->params)
        if (p.required && !json.contains(QLatin1StringView(p.name)))
            return std::nullopt;
    return Hl::Subscription::fromJson(json);
}

std::optional<RecordingSummary> summarizeRecording(const QString &path, QString *error)
{
    RecordingSummary s;
    Hl::FrameDecoder decoder;
    QSet<QByteArray> seen;
    qint64 firstNs = -1;
    const bool read = forEachRecordedFrame(
        path,
        [&](const RecordedFrame &f) {
            if (f.binary)
                return;
            if (f.sent) {
                const QJsonObject req = QJsonDocument::fromJson(f.payload).object();
                if (req.value("method"_L1).toString() != "subscribe"_L1)
                    return;
                const std::optional<Hl::Subscription> sub =
                    Hl::Subscription::fromJson(req.value("subscription"_L1).toObject());
                if (sub && !seen.contains(sub->canonical())) {
                    seen.insert(sub->canonical());
                    s.subscriptions.append(*sub);
                }
                return;
            }
            const Hl::Envelope env = decoder.decode(f.payload);
            if (env.kind != Hl::FrameKind::Data)
                return;
            if (firstNs < 0) {
                firstNs = f.monotonicNs;
                s.firstWallTime = f.wallTime;
            }
            s.durationNs = f.monotonicNs - firstNs;
            s.lastWallTime = f.wallTime;
            ++s.dataFrames;
            ++s.framesPerRouteKey[env.routeKey];
        },
        error);
    if (!read)
        return std::nullopt;
    if (s.dataFrames == 0) {
        if (error)
            *error = u"recording %1 holds no data frames"_s.arg(path);
        return std::nullopt;
    }
    if (s.subscriptions.isEmpty()) {
        s.subscriptionsFromData = true;
        QList<QByteArray> keys = s.framesPerRouteKey.keys();
        std::sort(keys.begin(), keys.end());
        for (const QByteArray &key : keys) {
            if (const std::optional<Hl::Subscription> sub = subscriptionFromRouteKey(key))
                s.subscriptions.append(*sub);
            else
                s.unrecoverable.append(QString::fromUtf8(key));
        }
    }
    return s;
}

} // namespace FeedScope::Sim

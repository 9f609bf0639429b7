#include "recording.h"

#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace FeedScope {

QString isoUtcMs(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QByteArray toJsonLine(const RecordedFrame &frame)
{
    QJsonObject o{{u"t"_s, isoUtcMs(frame.wallTime)},
                  {u"ns"_s, static_cast<double>(frame.monotonicNs)},
                  {u"conn"_s, frame.connection}};
    if (frame.binary)
        o.insert(u"binary"_s, QString::fromLatin1(frame.payload.toBase64()));
    else
        o.insert(u"text"_s, QString::fromUtf8(frame.payload));
    if (frame.sent)
        o.insert(u"dir"_s, u"send"_s);
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

std::optional<RecordedFrame> parseRecordedLine(QByteArrayView line, QString *error)
{
    auto fail = [error](const QString &why) -> std::optional<RecordedFrame> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QJsonDocument doc = QJsonDocument::fromJson(line.toByteArray());
    if (!doc.isObject())
        return fail(u"not a JSON object"_s);
    const QJsonObject o = doc.object();
    RecordedFrame f;
    f.wallTime = QDateTime::fromString(o.value(u"t"_s).toString(), Qt::ISODateWithMs);
    if (!f.wallTime.isValid())
        return fail(u"missing or invalid \"t\" (ISO-8601 time)"_s);
    f.monotonicNs = static_cast<qint64>(o.value(u"ns"_s).toDouble(-1));
    if (f.monotonicNs < 0)
        return fail(u"missing or invalid \"ns\""_s);
    f.connection = o.value(u"conn"_s).toInt();
    if (const QJsonValue dir = o.value(u"dir"_s); !dir.isUndefined()) {
        if (dir.toString() == u"send"_s)
            f.sent = true;
        else if (dir.toString() != u"receive"_s)
            return fail(u"invalid \"dir\" (send or receive)"_s);
    }
    if (o.value(u"text"_s).isString()) {
        f.payload = o.value(u"text"_s).toString().toUtf8();
    } else if (o.value(u"binary"_s).isString()) {
        f.binary = true;
        f.payload = QByteArray::fromBase64(o.value(u"binary"_s).toString().toLatin1());
    } else {
        return fail(u"missing \"text\" or \"binary\""_s);
    }
    return f;
}

} // namespace FeedScope

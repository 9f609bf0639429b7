#include "sessionexport.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QRegularExpression>
#include <QSaveFile>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

QByteArray csvField(const QString &value)
{
    QByteArray v = value.toUtf8();
    if (!v.contains(',') && !v.contains('"') && !v.contains('\n') && !v.contains('\r'))
        return v;
    v.replace("\"", "\"\"");
    return '"' + v + '"';
}

namespace {
std::optional<ExportFormat> formatOfSuffix(QStringView suffix)
{
    if (suffix.compare(u"jsonl", Qt::CaseInsensitive) == 0)
        return ExportFormat::Jsonl;
    if (suffix.compare(u"csv", Qt::CaseInsensitive) == 0)
        return ExportFormat::Csv;
    if (suffix.compare(u"har", Qt::CaseInsensitive) == 0)
        return ExportFormat::Har;
    return std::nullopt;
}

std::optional<ExportFormat> formatOfPath(const QString &path)
{
    const QString name = QFileInfo(path).fileName();
    const qsizetype dot = name.lastIndexOf(u'.');
    if (dot <= 0) // no dot, or a hidden file's leading one
        return std::nullopt;
    return formatOfSuffix(QStringView(name).mid(dot + 1));
}
} // namespace

ExportFormat exportFormatFor(const QString &path, const QString &filter)
{
    if (const auto f = formatOfPath(path))
        return *f;
    // "HAR 1.2, for Chrome DevTools (*.har)": the patterns in the parentheses.
    static const QRegularExpression pattern(u"\\*\\.([A-Za-z0-9]+)"_s);
    for (auto it = pattern.globalMatch(filter); it.hasNext();)
        if (const auto f = formatOfSuffix(it.next().capturedView(1)))
            return *f;
    return ExportFormat::Jsonl;
}

QString extensionOf(ExportFormat format)
{
    switch (format) {
    case ExportFormat::Csv:
        return u"csv"_s;
    case ExportFormat::Har:
        return u"har"_s;
    case ExportFormat::Jsonl:
        break;
    }
    return u"jsonl"_s;
}

QString withExportExtension(const QString &path, ExportFormat format)
{
    if (path.isEmpty() || formatOfPath(path))
        return path;
    return path + u'.' + extensionOf(format);
}

namespace {

constexpr qint64 ProgressEvery = 1000;

class Writer
{
public:
    Writer(const QString &path, const ExportProgress &progress) : m_file(path), m_progress(progress) {}
    bool open(QString *error)
    {
        if (m_file.open(QIODevice::WriteOnly))
            return true;
        *error = u"cannot write %1: %2"_s.arg(m_file.fileName(), m_file.errorString());
        return false;
    }
    bool write(const QByteArray &bytes, QString *error)
    {
        if (m_file.write(bytes) == bytes.size())
            return true;
        *error = u"writing %1 failed: %2"_s.arg(m_file.fileName(), m_file.errorString());
        m_file.cancelWriting();
        return false;
    }
    /// False when the caller cancelled.
    bool step(qint64 done, qint64 total)
    {
        if (!m_progress || (done % ProgressEvery != 0 && done != total))
            return true;
        return m_progress(done, total);
    }
    bool commit(QString *error)
    {
        if (m_file.commit())
            return true;
        *error = u"writing %1 failed: %2"_s.arg(m_file.fileName(), m_file.errorString());
        return false;
    }
    void cancel() { m_file.cancelWriting(); }

private:
    QSaveFile m_file;
    const ExportProgress &m_progress;
};

} // namespace

ExportResult exportSession(const QList<SessionEvent> &events, const QList<RecordedFrame> &frames,
                           const QUrl &url, ExportFormat format, const QString &path,
                           const ExportProgress &progress)
{
    ExportResult r;
    Writer w(path, progress);
    if (!w.open(&r.error))
        return r;
    auto cancelled = [&] {
        w.cancel();
        r.cancelled = true;
        r.error = u"export cancelled; nothing was written to %1"_s.arg(path);
        return r;
    };
    const qint64 total = format == ExportFormat::Har ? frames.size() : events.size();

    if (format == ExportFormat::Jsonl) {
        const QJsonObject header{{u"schema"_s, QString::fromLatin1(SessionSchema)},
                                 {u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)},
                                 {u"exportedAt"_s, isoUtcMs(QDateTime::currentDateTimeUtc())},
                                 {u"events"_s, static_cast<double>(events.size())}};
        if (!w.write(QJsonDocument(header).toJson(QJsonDocument::Compact) + '\n', &r.error))
            return r;
        for (const SessionEvent &e : events) {
            if (!w.write(sessionLine(e), &r.error))
                return r;
            if (!w.step(++r.items, total))
                return cancelled();
        }
    } else if (format == ExportFormat::Csv) {
        if (!w.write("seq,time,type,connection,summary,data\r\n", &r.error))
            return r;
        for (const SessionEvent &e : events) {
            const QJsonValue conn = e.data.value(u"connection"_s);
            const QByteArray row =
                QByteArray::number(e.seq) + ',' + csvField(isoUtcMs(e.at)) + ',' + csvField(e.type) + ',' +
                (conn.isDouble() ? QByteArray::number(conn.toInt()) : QByteArray()) + ',' +
                csvField(summarizeEvent(e)) + ',' +
                csvField(QString::fromUtf8(QJsonDocument(e.data).toJson(QJsonDocument::Compact))) + "\r\n";
            if (!w.write(row, &r.error))
                return r;
            if (!w.step(++r.items, total))
                return cancelled();
        }
    } else {
        // HAR 1.2: one WebSocket entry per connection, its frames as _webSocketMessages, both
        // directions in time order (as DevTools shows them).
        // With monotonic times on every frame (sent and received share that clock) they order
        // the frames, and the wall times are laid on that clock from the first frame, so that a
        // reply within the millisecond of its request still comes after it.
        QList<const RecordedFrame *> ordered;
        ordered.reserve(frames.size());
        bool monotonic = true;
        for (const RecordedFrame &f : frames) {
            ordered.append(&f);
            monotonic = monotonic && f.monotonicNs > 0;
        }
        std::stable_sort(ordered.begin(), ordered.end(),
                         [monotonic](const RecordedFrame *a, const RecordedFrame *b) {
                             return monotonic ? a->monotonicNs < b->monotonicNs : a->wallTime < b->wallTime;
                         });
        const double anchorMs =
            ordered.isEmpty() ? 0 : static_cast<double>(ordered.constFirst()->wallTime.toMSecsSinceEpoch());
        const qint64 anchorNs = ordered.isEmpty() ? 0 : ordered.constFirst()->monotonicNs;
        auto secondsOf = [&](const RecordedFrame &f) {
            if (!monotonic)
                return static_cast<double>(f.wallTime.toMSecsSinceEpoch()) / 1000.0;
            return (anchorMs + static_cast<double>(f.monotonicNs - anchorNs) / 1e6) / 1000.0;
        };
        QMap<int, QJsonArray> messages;
        QMap<int, QDateTime> firstAt;
        for (const RecordedFrame *p : std::as_const(ordered)) {
            const RecordedFrame &f = *p;
            QJsonObject m{{u"type"_s, f.sent ? u"send"_s : u"receive"_s},
                          {u"time"_s, secondsOf(f)},
                          {u"opcode"_s, f.binary ? 2 : 1},
                          {u"data"_s, f.binary ? QString::fromLatin1(f.payload.toBase64())
                                               : QString::fromUtf8(f.payload)}};
            messages[f.connection].append(m);
            if (!firstAt.contains(f.connection))
                firstAt.insert(f.connection,
                               QDateTime::fromMSecsSinceEpoch(
                                   static_cast<qint64>(std::llround(secondsOf(f) * 1000)), Qt::UTC));
            if (!w.step(++r.items, total))
                return cancelled();
        }
        QJsonArray entries;
        for (auto it = messages.cbegin(); it != messages.cend(); ++it) {
            const QJsonArray empty;
            entries.append(QJsonObject{
                {u"startedDateTime"_s, isoUtcMs(firstAt.value(it.key()))},
                {u"time"_s, 0},
                {u"request"_s, QJsonObject{{u"method"_s, u"GET"_s},
                                           {u"url"_s, redactedUrl(url)},
                                           {u"httpVersion"_s, u"HTTP/1.1"_s},
                                           {u"headers"_s, empty},
                                           {u"queryString"_s, empty},
                                           {u"cookies"_s, empty},
                                           {u"headersSize"_s, -1},
                                           {u"bodySize"_s, 0}}},
                {u"response"_s,
                 QJsonObject{{u"status"_s, 101},
                             {u"statusText"_s, u"Switching Protocols"_s},
                             {u"httpVersion"_s, u"HTTP/1.1"_s},
                             {u"headers"_s, empty},
                             {u"cookies"_s, empty},
                             {u"content"_s, QJsonObject{{u"size"_s, 0}, {u"mimeType"_s, u"x-unknown"_s}}},
                             {u"redirectURL"_s, QString()},
                             {u"headersSize"_s, -1},
                             {u"bodySize"_s, 0}}},
                {u"cache"_s, QJsonObject{}},
                {u"timings"_s, QJsonObject{{u"send"_s, 0}, {u"wait"_s, 0}, {u"receive"_s, 0}}},
                {u"_resourceType"_s, u"websocket"_s},
                {u"_connection"_s, it.key()},
                {u"_webSocketMessages"_s, it.value()},
            });
        }
        const QJsonObject har{
            {u"log"_s,
             QJsonObject{{u"version"_s, u"1.2"_s},
                         {u"creator"_s, QJsonObject{{u"name"_s, u"FeedScope"_s},
                                                    {u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)}}},
                         {u"pages"_s, QJsonArray{}},
                         {u"entries"_s, entries}}}};
        if (!w.write(QJsonDocument(har).toJson(QJsonDocument::Indented), &r.error))
            return r;
    }
    if (!w.commit(&r.error))
        return r;
    r.ok = true;
    return r;
}

std::optional<QList<SessionEvent>> importSessionJsonl(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = u"cannot read %1: %2"_s.arg(path, f.errorString());
        return std::nullopt;
    }
    return parseSessionJsonl(&f, path, error);
}

std::optional<QList<SessionEvent>> parseSessionJsonl(QIODevice *in, const QString &name, QString *error)
{
    QList<SessionEvent> out;
    int lineNo = 0;
    bool headerSeen = false;
    while (!in->atEnd()) {
        const QByteArray line = in->readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        QJsonParseError pe;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
            *error = u"%1 line %2: not a JSON object"_s.arg(name).arg(lineNo);
            return std::nullopt;
        }
        const QJsonObject o = doc.object();
        if (o.contains(u"schema"_s)) {
            if (o[u"schema"_s].toString() != QLatin1StringView(SessionSchema)) {
                *error = u"%1 line %2: unsupported schema \"%3\""_s.arg(name).arg(lineNo).arg(
                    o[u"schema"_s].toString());
                return std::nullopt;
            }
            headerSeen = true;
            continue;
        }
        if (!headerSeen) {
            *error = u"%1: not a FeedScope session (no \"schema\":\"%2\" header)"_s.arg(
                name, QLatin1StringView(SessionSchema));
            return std::nullopt;
        }
        SessionEvent e;
        e.seq = o[u"seq"_s].toInteger(-1);
        e.at = QDateTime::fromString(o[u"t"_s].toString(), Qt::ISODateWithMs);
        e.type = o[u"type"_s].toString();
        e.data = o[u"data"_s].toObject();
        if (e.seq < 0 || !e.at.isValid() || e.type.isEmpty()) {
            *error = u"%1 line %2: not a session event"_s.arg(name).arg(lineNo);
            return std::nullopt;
        }
        out.append(e);
    }
    return out;
}

} // namespace FeedScope

#pragma once

#include "recording.h"
#include "sessionlog.h"

#include <QIODevice>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QUrl>

#include <functional>
#include <optional>

namespace FeedScope {

enum class ExportFormat : quint8 {
    Jsonl, ///< lossless: header {"schema":"feedscope.session/1",…} then one event per line
    Csv,   ///< one row per event, fixed columns seq,time,type,connection,summary,data; RFC 4180
    Har,   ///< HAR 1.2, one WebSocket entry per connection with _webSocketMessages (Chrome DevTools)
};

struct ExportResult
{
    bool ok = false;
    bool cancelled = false;
    QString error;
    qint64 items = 0;
};

/// The format of an export to @p path: its extension first (.jsonl, .csv, .har, any case), the
/// file dialog's selected @p filter (e.g. "CSV (*.csv)") only when the name has none of those,
/// JSONL when neither says.
ExportFormat exportFormatFor(const QString &path, const QString &filter = {});
/// The file name extension of @p format, without the dot: "jsonl", "csv", "har".
QString extensionOf(ExportFormat format);
/// @p path as it is when it ends in one of the three extensions, else with @p format's added
/// ("session" → "session.har", "notes.txt" → "notes.txt.jsonl").
QString withExportExtension(const QString &path, ExportFormat format);

/// Called with (done, total); return false to cancel.
using ExportProgress = std::function<bool(qint64 done, qint64 total)>;

/// Writes @p events (and, for HAR, the @p frames of the connections to @p url: received ones as
/// "receive" and those with `sent` set as "send" messages, in time order per connection) to
/// @p path. Runs on any thread (the GUI runs it off its own). The file is written to a temporary
/// name and renamed at the end: on an error (full or read-only disk) or a cancel, nothing is left
/// under @p path and the result says why.
ExportResult exportSession(const QList<SessionEvent> &events, const QList<RecordedFrame> &frames,
                           const QUrl &url, ExportFormat format, const QString &path,
                           const ExportProgress &progress = {});

/// Reads a JSONL export (or a --session-log file) back. Nullopt with @p error naming the line
/// when the file is not a FeedScope session.
std::optional<QList<SessionEvent>> importSessionJsonl(const QString &path, QString *error);
/// The same from any device (@p name goes into the error text).
std::optional<QList<SessionEvent>> parseSessionJsonl(QIODevice *in, const QString &name, QString *error);

/// RFC 4180 field: quoted when it holds a comma, a quote, CR or LF; quotes doubled.
QByteArray csvField(const QString &value);

} // namespace FeedScope
Q_DECLARE_METATYPE(FeedScope::ExportResult)

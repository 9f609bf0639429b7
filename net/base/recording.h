#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <optional>

namespace FeedScope {

/// One frame as the recorder writes it: a line of JSONL
/// `{"t":"2026-11-21T04:12:33.123Z","ns":123456789,"conn":3,"text":"<raw frame>"}`
/// where `t` is the receive wall time (UTC, ms), `ns` a monotonic receive time in nanoseconds
/// (replay timing uses it), `conn` the FeedScope connection id. Binary frames are written with
/// `"binary":"<base64>"` instead of `"text"`. A frame the client sent (subscribe, unsubscribe,
/// ping, post) carries `"dir":"send"` and its send times; a line without `dir` is a received
/// frame, so recordings from before the field parse as they did. Readers that replay the feed
/// skip sent frames (`sent`).
struct RecordedFrame
{
    QDateTime wallTime;
    qint64 monotonicNs = 0;
    int connection = 0;
    QByteArray payload;
    bool binary = false;
    bool sent = false; ///< sent by the client; false: received from the server
};

inline constexpr auto RecordingSchema = "feedscope.frames/1";

/// The JSONL line for @p frame, with its trailing newline.
QByteArray toJsonLine(const RecordedFrame &frame);
/// Parses one line; nullopt with @p error set when the line is not a recorded frame.
std::optional<RecordedFrame> parseRecordedLine(QByteArrayView line, QString *error = nullptr);
/// UTC with milliseconds: 2026-11-21T04:12:33.123Z
QString isoUtcMs(const QDateTime &t);

} // namespace FeedScope

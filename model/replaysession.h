#pragma once

#include "replay.h"
#include "simulator.h"

#include <QObject>
#include <QUrl>

#include <memory>

namespace FeedScope {

class DemoServer;

/// A `--record` file played through the same pipeline as a live feed (issue 18): the simulator
/// serves the recording on 127.0.0.1 and the pool subscribes to what the recorded session
/// subscribed, so the Channels and Connections tables, the timeline and the charts show the
/// recorded data. Paced as recorded (1×), faster (10×) or as fast as possible, with pause.
/// What it cannot show: the recorded session's own reconnects (a recording holds frames, not
/// connection events; its session log does).
class ReplaySession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReplaySession)

public:
    using Progress = Sim::FeedSimulator::ReplayProgress;

    /// @p speed: 1 = as recorded, N = N× faster, 0 = as fast as possible.
    ReplaySession(const QString &path, double speed, QObject *parent = nullptr);
    ~ReplaySession() override;

    /// Reads the recording and starts serving it; false with @p error (unreadable, not a
    /// recording, no data frames).
    bool start(QString *error);
    QString path() const { return m_path; }
    QUrl url() const;
    const Sim::RecordingSummary &summary() const { return m_summary; }
    /// The latest progress the simulator reported.
    const Progress &progress() const { return m_progress; }

    void setPaused(bool paused);
    void setSpeed(double speed);

    /// "1×", "10×", "max"
    static QString speedName(double speed);
    /// From "1", "10", "max", "2.5": nullopt for anything else or out of 0.001–1e6.
    static std::optional<double> speedFromName(QStringView name);

Q_SIGNALS:
    void progressed(const FeedScope::ReplaySession::Progress &progress);
    void finished();

private:
    QString m_path;
    double m_speed;
    Sim::RecordingSummary m_summary;
    Progress m_progress;
    std::unique_ptr<DemoServer> m_server;
};

} // namespace FeedScope

#include "replaysession.h"

#include "demoserver.h"

using namespace Qt::StringLiterals;

namespace FeedScope {

ReplaySession::ReplaySession(const QString &path, double speed, QObject *parent)
    : QObject(parent), m_path(path), m_speed(speed)
{
    m_progress.speed = speed;
}

ReplaySession::~ReplaySession() = default;

bool ReplaySession::start(QString *error)
{
    std::optional<Sim::RecordingSummary> summary = Sim::summarizeRecording(m_path, error);
    if (!summary)
        return false;
    m_summary = std::move(*summary);
    m_progress.total = m_summary.dataFrames;
    m_progress.durationNs = m_summary.durationNs;
    Sim::SimulatorConfig cfg;
    cfg.replayFile = m_path;
    cfg.replaySpeed = m_speed;
    cfg.replayRetime = true; // latency as recorded, not the recording's age
    for (const Hl::Subscription &sub : m_summary.subscriptions)
        cfg.replayNeeds.insert(sub.routeKey());
    m_server = std::make_unique<DemoServer>(cfg);
    connect(m_server->simulator(), &Sim::FeedSimulator::replayProgressed, this, [this](const Progress &p) {
        const bool done = p.finished && !m_progress.finished;
        m_progress = p;
        Q_EMIT progressed(p);
        if (done)
            Q_EMIT finished();
    });
    return m_server->start(error);
}

QUrl ReplaySession::url() const
{
    return m_server ? m_server->url() : QUrl();
}

void ReplaySession::setPaused(bool paused)
{
    if (m_server)
        QMetaObject::invokeMethod(m_server->simulator(),
                                  [s = m_server->simulator(), paused] { s->setReplayPaused(paused); });
}

void ReplaySession::setSpeed(double speed)
{
    m_speed = speed;
    if (m_server)
        QMetaObject::invokeMethod(m_server->simulator(),
                                  [s = m_server->simulator(), speed] { s->setReplaySpeed(speed); });
}

QString ReplaySession::speedName(double speed)
{
    if (speed <= 0)
        return u"max"_s;
    return u"%1×"_s.arg(speed);
}

std::optional<double> ReplaySession::speedFromName(QStringView name)
{
    if (name == u"max")
        return 0.0;
    bool ok = false;
    const double v = name.toDouble(&ok);
    if (!ok || !(v >= 0.001 && v <= 1e6))
        return std::nullopt;
    return v;
}

} // namespace FeedScope

#pragma once

#include "pooltypes.h"
#include "simulator.h"

#include <QObject>
#include <QThread>

namespace FeedScope {

/// The embedded demo feed: a FeedSimulator on its own thread, so that neither the GUI nor the
/// pool's threads carry its load.
class DemoServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DemoServer)

public:
    explicit DemoServer(const Sim::SimulatorConfig &config, QObject *parent = nullptr);
    ~DemoServer() override;

    bool start(QString *error);
    /// Starts the demo feed as FeedScope's demo uses it: the demo's rejected subscription is
    /// refused, @p faultSpecs are scheduled, and @p pool is pointed at it (spread over several
    /// connections unless the user chose a per-connection limit).
    bool startDemo(const QStringList &faultSpecs, PoolConfig *pool, QString *error);
    QUrl url() const { return m_url; }
    /// Runs a fault on the simulator's thread.
    void apply(const Sim::Fault &fault);
    Sim::FeedSimulator *simulator() const { return m_sim; }

private:
    QThread m_thread;
    Sim::FeedSimulator *m_sim = nullptr;
    QUrl m_url;
};

} // namespace FeedScope

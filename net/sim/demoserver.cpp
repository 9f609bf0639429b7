#include "demoserver.h"

#include "simfeed.h"

using namespace Qt::StringLiterals;

namespace FeedScope {

DemoServer::DemoServer(const Sim::SimulatorConfig &config, QObject *parent) : QObject(parent)
{
    m_thread.setObjectName(u"feedscope-demo-feed"_s);
    m_sim = new Sim::FeedSimulator(config);
    m_sim->moveToThread(&m_thread);
    m_thread.start();
}

DemoServer::~DemoServer()
{
    QMetaObject::invokeMethod(
        m_sim, [s = m_sim] { delete s; }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

bool DemoServer::start(QString *error)
{
    bool ok = false;
    QMetaObject::invokeMethod(
        m_sim,
        [this, &ok, error] {
            ok = m_sim->start(error);
            m_url = m_sim->url();
        },
        Qt::BlockingQueuedConnection);
    return ok;
}

bool DemoServer::startDemo(const QStringList &faultSpecs, PoolConfig *pool, QString *error)
{
    if (!start(error))
        return false;
    Sim::Fault reject = Sim::Fault::make(Sim::FaultKind::Reject);
    reject.subscription = Sim::demoRejectedSubscription();
    apply(reject);
    for (const QString &spec : faultSpecs) {
        const auto fault = Sim::Fault::parseSpec(spec, error);
        if (!fault)
            return false;
        QMetaObject::invokeMethod(m_sim, [s = m_sim, f = *fault] { s->schedule(f); });
    }
    pool->url = m_url;
    // The demo shows a pool: spread its ~50 subscriptions over several connections.
    if (pool->maxSubscriptionsPerConnection == PoolConfig{}.maxSubscriptionsPerConnection)
        pool->maxSubscriptionsPerConnection = 12;
    return true;
}

void DemoServer::apply(const Sim::Fault &fault)
{
    QMetaObject::invokeMethod(m_sim, [s = m_sim, fault] { s->apply(fault); });
}

} // namespace FeedScope

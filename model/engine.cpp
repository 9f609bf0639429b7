#include "engine.h"

#include "budget.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace FeedScope {

Engine::Engine(const EngineConfig &config, QObject *parent)
    : QObject(parent), m_cfg(config), m_host(std::make_unique<PoolHost>(config.pool)),
      m_dispatcher(config.dispatchThreads), m_log(config.sessionRing, config.sessionStatsRing),
      m_inspector(config.inspector)
{
    m_startedAt = QDateTime::currentDateTimeUtc();
    m_typeCount = Hl::catalogue().size();
    m_byType = std::make_unique<std::atomic<qint64>[]>(static_cast<size_t>(m_typeCount));
    for (qsizetype i = 0; i < m_typeCount; ++i)
        m_byType[static_cast<size_t>(i)] = 0;

    connect(&m_registry, &SubscriptionRegistry::serverSubscribe, this,
            [this](const Hl::Subscription &s) { m_host->subscribe(s); });
    connect(&m_registry, &SubscriptionRegistry::serverUnsubscribe, this,
            [this](const Hl::Subscription &s) { m_host->unsubscribe(s); });
    connect(pool(), &ConnectionPool::subscriptionRemoved, this,
            [this](const Hl::Subscription &s) { m_inspector.remove(s.canonical()); });
    connect(pool(), &ConnectionPool::warning, this, &Engine::warning);
    connect(pool(), &ConnectionPool::snapshotPublished, this, &Engine::onSnapshot);
    connect(pool(), &ConnectionPool::frameSent, this, &Engine::onFrameSent);
    // Integrity (issue 17): an acknowledgement, seen on the pool's thread in routing order, makes
    // the subscription's next frame start afresh (no "time went backwards" against the old feed).
    m_integrity = std::make_unique<IntegrityChecker>();
    connect(
        pool(), &ConnectionPool::subscriptionChanged, pool(),
        [c = m_integrity.get()](const SubscriptionStatus &st) {
            if (st.state == SubState::Active)
                c->acknowledged(st.subscription.canonical());
        },
        Qt::DirectConnection);
    connect(pool(), &ConnectionPool::subscriptionRemoved, this,
            [this](const Hl::Subscription &s) { m_integrity->remove(s.canonical()); });
    m_log.follow(pool());
    connect(&m_log, &SessionLog::fileFailed, this, &Engine::warning);
    m_secondTimer.setInterval(std::chrono::seconds(1));
    connect(&m_secondTimer, &QTimer::timeout, this, &Engine::everySecond);
    m_recordingDrain.setInterval(std::chrono::milliseconds(20));
    connect(&m_recordingDrain, &QTimer::timeout, this, [this] {
        // Bounded: what the recorder cannot write within 10 s of the stop is not waited for.
        if (m_dispatcher.queued(m_recorderConsumer) == 0 || monotonicMs() - m_recordingStopMs > 10000)
            finishRecording();
    });
    // Alerts (issue 17): every firing and resolution is a session event.
    m_alerts.setNewConnectionLimit(config.pool.newConnectionsPerMinute);
    m_alerts.setRules(config.alertRules);
    connect(&m_alerts, &AlertEngine::fired, this, [this](const Alert &a) {
        QJsonObject d = a.toJson();
        d.insert(u"phase"_s, u"fired"_s);
        m_log.append(u"alert"_s, d);
    });
    connect(&m_alerts, &AlertEngine::resolved, this, [this](const Alert &a) {
        QJsonObject d = a.toJson();
        d.insert(u"phase"_s, u"resolved"_s);
        d.insert(u"durationMs"_s, static_cast<double>(a.firedAt.msecsTo(a.resolvedAt)));
        m_log.append(u"alert"_s, d);
    });
}

Engine::~Engine()
{
    if (!m_shutDown)
        shutdown(std::chrono::milliseconds(0));
}

bool Engine::start(QString *error)
{
    if (!m_cfg.sessionLogFile.isEmpty() && !m_log.openFile(m_cfg.sessionLogFile, error))
        return false;
    if (!m_cfg.recordFile.isEmpty() || m_cfg.recordingSwitchable) {
        m_recorder = std::make_unique<FrameRecorder>();
        if (!m_cfg.recordFile.isEmpty() && !m_recorder->open(m_cfg.recordFile, error))
            return false;
        connect(m_recorder.get(), &FrameRecorder::failed, this, &Engine::warning);
    }
    if (m_cfg.pool.insecureTls && m_cfg.pool.url.scheme() == u"wss"_s) {
        const QString w = u"--insecure: TLS certificates and host names are NOT verified"_s;
        m_log.append(u"warning"_s, QJsonObject{{u"text"_s, w}});
        Q_EMIT warning(w);
    }
    m_dispatcher.addInline(u"statistics"_s, [this](const DataFrame &f) { countType(f); });
    // The inspector's worker also runs the integrity checks (issue 17): off the I/O thread, on a
    // consumer that sees every frame, without a consumer of their own in the dispatcher's figures.
    m_inspectorConsumer = m_dispatcher.addWorker(
        u"inspector"_s,
        [this, c = m_integrity.get()](const DataFrame &f) {
            m_inspector.record(f);
            c->check(f);
        },
        m_cfg.policy, m_cfg.queueCapacity);
    if (m_recorder) {
        m_recorderConsumer = m_dispatcher.addWorker(
            u"recorder"_s, [r = m_recorder.get()](const DataFrame &f) { r->record({f}); }, m_cfg.policy,
            m_cfg.queueCapacity);
        if (m_cfg.recordFile.isEmpty())
            m_dispatcher.setEnabled(m_recorderConsumer, false); // before any frame: switched on later
        else
            m_recording = Recording::On;
    }
    for (const ExtraConsumer &x : std::as_const(m_extraConsumers)) {
        if (x.inlineConsumer)
            m_dispatcher.addInline(x.name, x.callback);
        else
            m_dispatcher.addWorker(x.name, x.callback, m_cfg.policy, m_cfg.queueCapacity);
    }
    // Integrity: the restarts are marked before the batch is dispatched.
    connect(
        pool(), &ConnectionPool::routed, pool(),
        [c = m_integrity.get()](const QList<DataFrame> &frames) { c->markRestarts(frames); },
        Qt::DirectConnection);
    // The dispatcher runs on the pool's thread, straight from the routing (no queued hop per
    // batch); its worker consumers never block that thread.
    connect(
        pool(), &ConnectionPool::routed, pool(),
        [this](const QList<DataFrame> &frames) { m_dispatcher.dispatch(frames); }, Qt::DirectConnection);
    m_host->setPublishInterval(m_cfg.publishInterval);
    m_secondTimer.start();
    return true;
}

void Engine::countType(const DataFrame &f)
{
    auto it = m_typeOf.constFind(f.key);
    if (it == m_typeOf.constEnd()) {
        int index = -1;
        if (const auto s = Hl::Subscription::fromJson(QJsonDocument::fromJson(f.key).object());
            s && s->spec())
            index = static_cast<int>(s->spec() - Hl::catalogue().constData());
        it = m_typeOf.insert(f.key, index);
    }
    if (*it >= 0 && *it < m_typeCount)
        m_byType[static_cast<size_t>(*it)].fetch_add(1, std::memory_order_relaxed);
}

void Engine::onFrameSent(int connection, const QByteArray &frame, qint64 sentNs)
{
    // Queued from the pool's thread: the wall time is now less the time the signal waited.
    const qint64 waitedMs = std::max<qint64>(0, (monotonicNs() - sentNs) / 1000000);
    const RecordedFrame f{
        QDateTime::currentDateTimeUtc().addMSecs(-waitedMs), sentNs, connection, frame, false, true};
    m_sent.push_back(f);
    while (static_cast<qsizetype>(m_sent.size()) > std::max(0, m_cfg.sentRing))
        m_sent.pop_front();
    if (m_recording == Recording::On && m_recorder && recordsSentFrames())
        m_recorder->recordSent(f.connection, f.payload, f.monotonicNs, f.wallTime);
}

QList<RecordedFrame> Engine::sentFrames() const
{
    return QList<RecordedFrame>(m_sent.cbegin(), m_sent.cend());
}

bool Engine::recordsSentFrames() const
{
    return m_cfg.recordSentFrames.value_or(m_cfg.recordingSwitchable);
}

QList<qint64> Engine::messagesByType() const
{
    QList<qint64> out;
    out.reserve(m_typeCount);
    for (qsizetype i = 0; i < m_typeCount; ++i)
        out.append(m_byType[static_cast<size_t>(i)].load(std::memory_order_relaxed));
    return out;
}

void Engine::addConsumer(const QString &name, Dispatcher::Callback callback, bool inlineConsumer)
{
    m_extraConsumers.append(ExtraConsumer{name, std::move(callback), inlineConsumer});
}

SubscriptionRegistry::Handle Engine::subscribe(const Hl::Subscription &s, const QString &consumer)
{
    return m_registry.subscribe(s, consumer);
}

bool Engine::release(SubscriptionRegistry::Handle handle)
{
    return m_registry.unsubscribe(handle);
}

void Engine::unsubscribeAll(const Hl::Subscription &s)
{
    if (m_registry.unsubscribeAll(s))
        noteManual(u"unsubscribe"_s, {{u"subscription"_s, QString::fromUtf8(s.canonical())}});
}

void Engine::setPoolConnected(bool connected)
{
    if (connected == m_poolConnected)
        return;
    m_poolConnected = connected;
    noteManual(connected ? u"pool connected"_s : u"pool disconnected"_s);
    m_host->setPaused(!connected);
}

bool Engine::startRecording(const QString &path, QString *error)
{
    if (!m_recorder || m_recorderConsumer < 0) {
        *error = u"this engine was started without a recorder"_s;
        return false;
    }
    if (m_recording == Recording::Finishing) {
        *error = u"the previous recording (%1) is still being written"_s.arg(m_recorder->fileName());
        return false;
    }
    if (m_recording == Recording::On) {
        *error = u"already recording to %1"_s.arg(m_recorder->fileName());
        return false;
    }
    if (!m_recorder->open(path, error))
        return false;
    m_dispatcher.setEnabled(m_recorderConsumer, true);
    m_recording = Recording::On;
    noteManual(u"recording started"_s, {{u"file"_s, path}});
    Q_EMIT recordingChanged(true, path, 0);
    return true;
}

void Engine::stopRecording()
{
    if (m_recording != Recording::On)
        return;
    // No new frame from now on; those already queued are still written (polled, never waited
    // for on this thread), then the file is closed.
    m_dispatcher.setEnabled(m_recorderConsumer, false);
    m_recording = Recording::Finishing;
    m_recordingStopMs = monotonicMs();
    m_recordingDrain.start();
}

void Engine::finishRecording()
{
    m_recordingDrain.stop();
    const QString path = m_recorder->fileName();
    const qint64 left = m_dispatcher.queued(m_recorderConsumer); // only after the 10 s bound
    QString error;
    const bool ok = m_recorder->close(&error);
    const qint64 frames = m_recorder->written();
    m_recording = Recording::Off;
    QJsonObject detail{{u"file"_s, path}, {u"frames"_s, static_cast<double>(frames)}};
    if (recordsSentFrames())
        detail.insert(u"sentFrames"_s, static_cast<double>(m_recorder->sentWritten()));
    if (left > 0)
        detail.insert(u"notWritten"_s, static_cast<double>(left));
    if (!ok) {
        detail.insert(u"error"_s, error);
        Q_EMIT warning(error);
    }
    noteManual(u"recording stopped"_s, detail);
    Q_EMIT recordingChanged(false, path, frames);
}

void Engine::reconnect(int connection)
{
    noteManual(u"reconnect"_s, {{u"connection"_s, connection}});
    m_host->reconnect(connection);
}

void Engine::reconnectAll()
{
    noteManual(u"reconnectAll"_s);
    m_host->reconnectAll();
}

void Engine::noteManual(const QString &action, const QJsonObject &detail)
{
    QJsonObject d = detail;
    d.insert(u"action"_s, action);
    m_log.append(u"manual"_s, d);
}

void Engine::onSnapshot(PoolSnapshot s)
{
    for (SubscriptionStatus &st : s.subscriptions)
        st.consumers = m_registry.consumersOf(st.subscription.canonical());
    fillIntegrity(s);
    m_last = std::move(s);
    Q_EMIT snapshotPublished(m_last);
}

void Engine::everySecond()
{
    m_inspector.prune(monotonicNs());
    for (const OverflowEpisode &e : m_dispatcher.pollEpisodes()) {
        QJsonObject d{{u"consumer"_s, e.consumer},
                      {u"policy"_s, QString(nameOf(e.policy))},
                      {u"phase"_s, e.ended ? u"end"_s : u"start"_s},
                      {u"startedAt"_s, e.startedAt.toString(Qt::ISODateWithMs)},
                      {u"dropped"_s, static_cast<double>(e.dropped)},
                      {u"syncFallbacks"_s, static_cast<double>(e.syncFallbacks)},
                      {u"peakDepth"_s, static_cast<double>(e.peakDepth)}};
        if (e.ended)
            d.insert(u"durationMs"_s, static_cast<double>(e.startedAt.msecsTo(e.endedAt)));
        m_log.append(u"overflow"_s, d);
        Q_EMIT overflow(e);
    }
    logIntegrityEvents();
    if (m_last.at.isValid())
        m_log.statisticsSnapshot(m_last, m_dispatcher.stats());
    evaluateAlerts();
}

void Engine::evaluateAlerts()
{
    // Once a second rather than on each of the 10 snapshots a second: the rules count in whole
    // seconds, and an evaluation walks every subscription (10 000 of them in a large pool).
    if (m_last.at.isValid())
        m_alerts.evaluate(m_last, dispatcherFigures(), monotonicMs(), QDateTime::currentDateTimeUtc());
}

void Engine::fillIntegrity(PoolSnapshot &s) const
{
    for (SubscriptionStatus &st : s.subscriptions)
        st.integrity = m_integrity->counts(st.subscription.canonical());
}

void Engine::logIntegrityEvents(bool all)
{
    // Rate-limited by the checker: per subscription and kind, the first one, then at most one per
    // 10 s carrying the number of the others.
    for (const IntegrityEvent &e : m_integrity->takeEvents(monotonicMs(), all)) {
        QJsonObject d{{u"subscription"_s, QString::fromUtf8(e.subscription)},
                      {u"kind"_s, QString(nameOf(e.kind))},
                      {u"connection"_s, e.connection},
                      {u"count"_s, static_cast<double>(e.count)},
                      {u"suppressed"_s, static_cast<double>(e.suppressed)},
                      {u"frameBytes"_s, static_cast<double>(e.frameBytes)},
                      {u"frame"_s, QString::fromUtf8(e.frame)}};
        if (!e.detail.isEmpty())
            d.insert(u"detail"_s, e.detail);
        if (e.frame.size() < e.frameBytes)
            d.insert(u"truncated"_s, true);
        if (e.afterRestore)
            d.insert(u"afterRestore"_s, true);
        if (e.summary)
            d.insert(u"summary"_s, true);
        m_log.append(u"integrity"_s, d);
    }
}

DispatcherFigures Engine::dispatcherFigures() const
{
    DispatcherFigures d;
    d.policy = QString(nameOf(m_cfg.policy));
    d.consumers = m_dispatcher.stats();
    if (m_inspectorConsumer >= 0 && m_inspectorConsumer < d.consumers.size()) {
        const ConsumerStats &p = d.consumers.at(m_inspectorConsumer);
        d.received = p.received;
        d.delivered = p.delivered;
        d.dropped = p.dropped;
        d.coalesced = p.coalesced;
        d.queued = p.queued;
        d.maxQueueDepth = p.highWater;
    }
    return d;
}

Engine::Final Engine::shutdown(std::chrono::milliseconds timeout)
{
    Final f;
    if (m_shutDown)
        return f;
    m_shutDown = true;
    m_secondTimer.stop();
    // States as they were just before shutdown began; counts after the last frame landed.
    const PoolSnapshot before = m_host->snapshot();
    f.snapshot = m_host->shutdown(timeout);
    f.drained = m_dispatcher.drain(static_cast<int>(std::max<qint64>(timeout.count(), 100)));
    QCoreApplication::processEvents(); // the pool's last events, queued to this thread
    QHash<QByteArray, SubState> states;
    for (const SubscriptionStatus &s : before.subscriptions)
        states.insert(s.subscription.canonical(), s.state);
    for (SubscriptionStatus &s : f.snapshot.subscriptions) {
        s.state = states.value(s.subscription.canonical(), s.state);
        s.consumers = m_registry.consumersOf(s.subscription.canonical());
    }
    fillIntegrity(f.snapshot);
    f.snapshot.connections = before.connections;
    everySecond();            // the last overflow episodes and statistics
    logIntegrityEvents(true); // and the integrity violations still waiting for their summary
    f.dispatcher = dispatcherFigures();
    // Every routed frame, including those of subscriptions removed since: the inline statistics
    // consumer sees them all.
    f.routed = f.dispatcher.consumers.isEmpty() ? 0 : f.dispatcher.consumers.constFirst().received;
    f.dispatcher.dropped += f.dispatcher.queued; // still queued after the drain: never delivered
    f.dispatcher.queued = 0;
    // The workers end here, not in ~Dispatcher: the inspector, the recorder and the integrity
    // checker their callbacks use are members destroyed before the dispatcher is (an engine
    // destroyed mid-traffic once corrupted the heap, a worker still in MessageInspector::record).
    m_dispatcher.stop();
    QString error;
    m_log.append(u"shutdown"_s, QJsonObject{{u"received"_s, static_cast<double>(f.routed)}});
    if (!m_log.close(&error))
        f.errors.append(error);
    m_recordingDrain.stop();
    if (m_recorder && m_recording != Recording::Off && !m_recorder->close(&error))
        f.errors.append(error);
    m_recording = Recording::Off;
    return f;
}

} // namespace FeedScope

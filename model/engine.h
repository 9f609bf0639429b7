#pragma once

#include "alerts.h"
#include "connectionpool.h"
#include "dispatcher.h"
#include "inspector.h"
#include "integrity.h"
#include "recorder.h"
#include "recording.h"
#include "registry.h"
#include "report.h"
#include "sessionlog.h"

#include <QObject>
#include <QTimer>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>

namespace FeedScope {

struct EngineConfig
{
    PoolConfig pool;
    DispatchPolicy policy = DispatchPolicy::Lossless; ///< of every worker consumer
    qsizetype queueCapacity = 10000;
    int dispatchThreads = 2;
    MessageInspector::Limits inspector;
    QString recordFile; ///< empty: no recording at the start
    /// Keep a recorder consumer (off unless recordFile is set) so recording can be switched on
    /// and off while running (the GUI); otherwise the recorder exists only with recordFile.
    bool recordingSwitchable = false;
    /// Also record the client's own frames (subscribe, unsubscribe, ping, post) as "dir":"send"
    /// lines. Unset: on for the GUI (recordingSwitchable), off for the headless agent, whose
    /// --record file keeps one line per data message (scripts and tst_headless count them).
    std::optional<bool> recordSentFrames;
    int sentRing = 2000;     ///< frames the client sent, kept in memory for the HAR export
    QString sessionLogFile;  ///< empty: the session log stays in memory
    int sessionRing = 10000; ///< session events kept in memory
    int sessionStatsRing = SessionLog::DefaultStatsCapacity; ///< of them statistics snapshots
    std::chrono::milliseconds publishInterval{100};          ///< snapshots to the owner (10 Hz)
    QList<AlertRule> alertRules = defaultAlertRules();       ///< issue 17: what alerts() starts with
};

/// The monitoring engine that the GUI and the headless agent share: the pool on its I/O
/// thread(s), the registry of who wants what, the dispatcher (run on the pool's thread; it never
/// blocks there) with its built-in consumers, the session log, and the figures every view and
/// exporter reads. Lives on its owner's thread; publishes compact snapshots at a fixed rate, never
/// one signal per message.
///
/// Built-in consumers: "statistics" (inline: per-type totals), "inspector" (worker: the last
/// messages per subscription, and the integrity checks of issue 17) and, with a record file,
/// "recorder" (worker: every frame as JSONL).
class Engine final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Engine)

public:
    explicit Engine(const EngineConfig &config, QObject *parent = nullptr);
    ~Engine() override;

    /// An extra consumer of every routed frame for an embedding application or a benchmark: inline
    /// (on the I/O thread: must be cheap) or a worker with the engine's policy and capacity.
    /// Call before start(); it is added after the built-in consumers.
    void addConsumer(const QString &name, Dispatcher::Callback callback, bool inlineConsumer);

    /// Opens the session log and the recording; false (with @p error) when one cannot be opened.
    bool start(QString *error);

    SubscriptionRegistry::Handle subscribe(const Hl::Subscription &s, const QString &consumer);
    bool release(SubscriptionRegistry::Handle handle);
    /// The user's Unsubscribe: every consumer lets go, the server is told once.
    void unsubscribeAll(const Hl::Subscription &s);
    void reconnect(int connection);
    void reconnectAll();
    /// Disconnect the pool (close every connection, keep every subscription) or connect it again
    /// (the subscriptions come back as after a reconnect).
    void setPoolConnected(bool connected);
    bool poolConnected() const { return m_poolConnected; }

    /// Starts recording every data frame to @p path (JSONL, replayable by feedscope-sim); needs
    /// recordingSwitchable or a recording at the start. False with @p error otherwise, or when
    /// the file cannot be opened or the previous recording is still being finished.
    bool startRecording(const QString &path, QString *error);
    /// Stops taking frames at once, writes what was already queued, then closes the file
    /// (recordingChanged(false, ...) when done). Never blocks.
    void stopRecording();
    enum class Recording : quint8 { Off, On, Finishing };
    Recording recording() const { return m_recording; }

    /// A user action worth a line in the session log (recording on/off, export...).
    void noteManual(const QString &action, const QJsonObject &detail = {});

    const EngineConfig &config() const { return m_cfg; }
    PoolHost &host() { return *m_host; }
    ConnectionPool *pool() const { return m_host->pool(); }
    /// A post over the pool (issue 14): its id, answered by pool()'s postAnswered/postFailed.
    quint64 post(const QByteArray &request) { return m_host->post(request); }
    SubscriptionRegistry &registry() { return m_registry; }
    SessionLog &sessionLog() { return m_log; }
    MessageInspector &inspector() { return m_inspector; }
    /// The integrity checker (issue 17): a worker consumer of every frame.
    const IntegrityChecker &integrity() const { return *m_integrity; }
    /// Integrity violations over the run by kind, removed subscriptions included.
    IntegrityCounts integrityTotals() const { return m_integrity->totals(); }
    const MessageInspector &inspector() const { return m_inspector; }
    FrameRecorder *recorder() const { return m_recorder.get(); }
    /// The last EngineConfig::sentRing frames the client sent, oldest first (`sent` set; wall
    /// and monotonic send times).
    QList<RecordedFrame> sentFrames() const;
    bool recordsSentFrames() const;
    QList<ConsumerStats> dispatcherStats() const { return m_dispatcher.stats(); }
    /// The report's dispatcher figures: the inspector consumer (it sees every frame) on top,
    /// every consumer in the detail.
    DispatcherFigures dispatcherFigures() const;
    /// Data messages per subscription type (catalogue order) since the start.
    QList<qint64> messagesByType() const;
    /// The newest published snapshot (consumers filled from the registry).
    const PoolSnapshot &lastSnapshot() const { return m_last; }
    QDateTime startedAt() const { return m_startedAt; }
    /// The alert rules and what fires (issue 17): evaluated once a second on the newest snapshot
    /// and the dispatcher's figures; every fired and resolved alert is a session event ("alert").
    AlertEngine &alerts() { return m_alerts; }
    const AlertEngine &alerts() const { return m_alerts; }

    struct Final
    {
        PoolSnapshot snapshot; ///< states just before shutdown, counts after the last frame landed
        DispatcherFigures dispatcher;
        bool drained = true;
        qint64 routed = 0;  ///< data frames routed over the run (removed subscriptions included)
        QStringList errors; ///< session log or recording that could not be completed
    };
    /// Closes every connection, drains the dispatcher, closes the files. Call once.
    Final shutdown(std::chrono::milliseconds timeout);

Q_SIGNALS:
    void snapshotPublished(const FeedScope::PoolSnapshot &snapshot);
    void overflow(const FeedScope::OverflowEpisode &episode);
    void warning(const QString &text);
    /// Recording switched on, or finished (every queued frame written, file closed).
    void recordingChanged(bool on, const QString &path, qint64 frames);

private:
    void finishRecording();
    void onSnapshot(PoolSnapshot s);
    void everySecond();
    void countType(const DataFrame &f);
    void onFrameSent(int connection, const QByteArray &frame, qint64 sentNs);
    void fillIntegrity(PoolSnapshot &s) const;
    void logIntegrityEvents(bool all = false);
    void evaluateAlerts();

    EngineConfig m_cfg;
    std::unique_ptr<PoolHost> m_host;
    std::unique_ptr<IntegrityChecker> m_integrity; ///< outlives the dispatcher's workers
    Dispatcher m_dispatcher;
    SubscriptionRegistry m_registry;
    SessionLog m_log;
    MessageInspector m_inspector;
    std::unique_ptr<FrameRecorder> m_recorder;
    std::deque<RecordedFrame> m_sent;
    int m_inspectorConsumer = -1;
    int m_recorderConsumer = -1;
    struct ExtraConsumer
    {
        QString name;
        Dispatcher::Callback callback;
        bool inlineConsumer = false;
    };
    QList<ExtraConsumer> m_extraConsumers;
    Recording m_recording = Recording::Off;
    QTimer m_recordingDrain;
    qint64 m_recordingStopMs = 0;
    bool m_poolConnected = true;
    QHash<QByteArray, int> m_typeOf; ///< pool thread only (the statistics consumer)
    std::unique_ptr<std::atomic<qint64>[]> m_byType;
    qsizetype m_typeCount = 0;
    QTimer m_secondTimer;
    PoolSnapshot m_last;
    QDateTime m_startedAt;
    bool m_shutDown = false;
    AlertEngine m_alerts;
};

} // namespace FeedScope

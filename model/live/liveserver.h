#pragma once

#include "chartdata.h"
#include "gatewayservice.h"
#include "livewire.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <vector>

class QHttpServer;
class QWebSocket;

namespace FeedScope {

class Engine;

/// The agent's `/live` WebSocket (issue 18): streams `feedscope.live/1` to every attached window
/// (a full state, then at the live rate only what changed) and takes its requests (inspect, and
/// with the control token: reconnect, pause, subscribe, …). Lives on the engine's thread.
///
/// Backpressure: a window whose socket has more than SoftLimitBytes waiting gets no tick (its
/// changes coalesce: the next tick it gets carries everything since the last it took, never a
/// queue of ticks); one that stays behind for FarBehindMs, or over HardLimitBytes, is closed.
class LiveServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveServer)

public:
    static constexpr qint64 SoftLimitBytes = 512 * 1024;
    static constexpr qint64 HardLimitBytes = 32 * 1024 * 1024;
    static constexpr qint64 FarBehindMs = 30000;
    static constexpr int MaxWindows = 32;
    static constexpr int MaxRequestsPerSecond = 50;
    static constexpr int MaxAuthFailures = 5;

    explicit LiveServer(Engine *engine, QObject *parent = nullptr);
    ~LiveServer() override;

    /// Serves `/live` on @p http. Qt 6.4's QHttpServer upgrades a WebSocket request only when a
    /// route takes its path: the `/live` route takes upgrades (answering nothing, the WebSocket
    /// server answers) and tells a plain HTTP request to use a WebSocket (426).
    void attach(QHttpServer *http);
    /// Serves one upgraded socket (from attach(), or a test's own server).
    void addSocket(std::unique_ptr<QWebSocket> socket);

    /// Empty: control is off, the stream read-only. Never logged.
    void setControlToken(const QByteArray &token) { m_token = token; }
    bool controlEnabled() const { return !m_token.isEmpty(); }
    /// Ticks a second (1…50, default 10).
    void setRateHz(int hz);
    int rateHz() const { return m_rateHz; }
    /// The gateway whose clients the stream lists and control may disconnect (may be null).
    void setGateway(GatewayService *gateway) { m_gateway = gateway; }
    /// Where "startRecording" writes (the window never names a path on the agent).
    void setRecordingDirectory(const QString &dir) { m_recordDir = dir; }

    struct WindowStats
    {
        QString peer;
        qint64 messages = 0;
        qint64 bytes = 0;
        qint64 coalesced = 0; ///< ticks not sent because the window was not reading
        bool control = false;
    };
    /// The backpressure bounds (tests and benchmarks lower them): ticks are held back while more
    /// than @p softBytes wait on a window's socket; a window held back for @p farBehindMs is closed.
    void setBackpressure(qint64 softBytes, qint64 farBehindMs)
    {
        m_softLimit = softBytes;
        m_farBehindMs = farBehindMs;
    }
    QList<WindowStats> windows() const;
    int windowCount() const { return static_cast<int>(m_windows.size()); }
    qint64 bytesSent() const { return m_bytesSent; }

Q_SIGNALS:
    void windowsChanged(int count);

private:
    struct Window;
    void onSnapshot(const PoolSnapshot &s);
    void sampleChart();
    void tick(Window &w, const PoolSnapshot &s, qint64 nowMs);
    void sendFull(Window &w, const PoolSnapshot &s, qint64 nowMs);
    void send(Window &w, const QByteArray &text);
    void onText(Window *w, const QString &text);
    void reply(Window &w, const QJsonValue &id, bool ok, const QString &error,
               const QJsonObject &result = {});
    void control(Window &w, const QJsonObject &o, const QJsonValue &id);
    void inspect(Window &w, const QJsonObject &o, const QJsonValue &id);
    void removeWindow(Window *w);
    void updatePublishRate();
    int idOf(const QByteArray &key);
    QJsonArray alertsJson() const;
    QJsonArray gatewayClientsJson() const;
    QJsonArray consumersJson() const;
    QJsonObject agentJson() const;

    Engine *m_engine;
    QPointer<GatewayService> m_gateway;
    QByteArray m_token;
    QString m_recordDir;
    int m_rateHz = 10;
    std::chrono::milliseconds m_publishing{-1}; ///< what the engine was last told
    qint64 m_softLimit = SoftLimitBytes;
    qint64 m_farBehindMs = FarBehindMs;
    std::vector<std::unique_ptr<Window>> m_windows;
    QHash<QByteArray, int> m_ids;
    int m_nextId = 1;
    qint64 m_lastTickMs = -1;
    qint64 m_bytesSent = 0;
    QTimer m_chartTimer;
    /// Snapshots at the live rate only while something other than counts changes (a connection
    /// event, a subscription's state, a reconnect): when only rates change the engine keeps its
    /// own rate, and the counts go once a second anyway. Ends BurstMs after the last change.
    static constexpr int BurstMs = 3000;
    QTimer m_burst;
    void onStructural();
    std::deque<Live::ChartSample> m_chart;
    DispatcherSampler m_sampler;
    QHash<int, QPair<qint64, qint64>> m_lastConnCount; ///< connection → (messagesIn, at ms)
};

} // namespace FeedScope

#include "liveserver.h"

#include "budget.h"
#include "engine.h"
#include "gatewayservice.h"

#include <QDir>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QWebSocket>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

using namespace Live;

struct LiveServer::Window
{
    std::unique_ptr<QWebSocket> socket;
    QString peer;
    bool fullSent = false;
    bool authorised = false;
    int authFailures = 0;
    qint64 seq = 0;
    QHash<int, SubscriptionStatus> subs; ///< as last sent
    QHash<int, QJsonObject> conns;
    QHash<int, QJsonArray> connCounters;
    QHash<QPair<int, qint64>, QPair<qint64, int>> reconnects; ///< (connection, start) → (duration, restored)
    qint64 lastEventSeq = 0;
    qint64 lastChartMs = 0;
    QJsonArray alerts;
    QJsonObject counters;
    QJsonArray consumers;
    QJsonArray latencyByType;
    QJsonArray gatewayClients;
    bool paused = false;
    bool gatewayRunning = false;
    qint64 lastCountersMs = -1;
    qint64 lastLatencyMs = -1;
    qint64 lastSentMs = -1;
    qint64 behindSinceMs = -1;
    qint64 messages = 0;
    qint64 bytes = 0;
    qint64 coalesced = 0;
    qint64 requestWindowMs = 0;
    int requests = 0;
};

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

/// @p doc (a compact JSON object) with raw arrays appended as members.
QByteArray withRaw(QByteArray doc, const char *name, const QByteArray &rows)
{
    if (rows.isEmpty())
        return doc;
    doc.chop(1); // the closing brace
    if (doc.size() > 1)
        doc += ',';
    doc += '"';
    doc += name;
    doc += "\":[";
    doc += rows;
    doc += "]}";
    return doc;
}

QJsonObject connectionStructJson(const ConnectionStatus &c)
{
    return Live::connectionJson(c);
}

} // namespace

LiveServer::LiveServer(Engine *engine, QObject *parent) : QObject(parent), m_engine(engine)
{
    m_recordDir = QDir::currentPath();
    connect(engine, &Engine::snapshotPublished, this, &LiveServer::onSnapshot);
    // The chart history is gathered whether or not a window is attached: one that attaches
    // gets the last five minutes, as the window's own charts would show.
    m_chartTimer.setInterval(std::chrono::seconds(1));
    connect(&m_chartTimer, &QTimer::timeout, this, &LiveServer::sampleChart);
    m_chartTimer.start();
    m_burst.setSingleShot(true);
    m_burst.setInterval(BurstMs);
    connect(&m_burst, &QTimer::timeout, this, &LiveServer::updatePublishRate);
    ConnectionPool *pool = engine->pool();
    connect(pool, &ConnectionPool::connectionEvent, this, &LiveServer::onStructural);
    connect(pool, &ConnectionPool::subscriptionChanged, this, &LiveServer::onStructural);
    connect(pool, &ConnectionPool::subscriptionRemoved, this, &LiveServer::onStructural);
    connect(pool, &ConnectionPool::reconnectFinished, this, &LiveServer::onStructural);
    connect(&engine->alerts(), &AlertEngine::fired, this, &LiveServer::onStructural);
    connect(&engine->alerts(), &AlertEngine::resolved, this, &LiveServer::onStructural);
}

void LiveServer::onStructural()
{
    if (m_windows.empty())
        return;
    const bool wasActive = m_burst.isActive();
    m_burst.start();
    if (!wasActive)
        updatePublishRate();
}

LiveServer::~LiveServer()
{
    for (auto &w : m_windows)
        if (w->socket) {
            w->socket->disconnect(this);
            w->socket->close(QWebSocketProtocol::CloseCodeGoingAway, u"the agent is stopping"_s);
        }
}

void LiveServer::attach(QHttpServer *http)
{
    http->route(u"/live"_s, [](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        if (request.value("upgrade").compare("websocket", Qt::CaseInsensitive) == 0)
            return; // the WebSocket server takes the socket and answers the handshake
        responder.write("/live is a WebSocket: attach with ws://HOST:PORT/live (FeedScope's window, or any "
                        "WebSocket client)\n",
                        "text/plain", QHttpServerResponder::StatusCode::UpgradeRequired);
    });
    connect(http, &QAbstractHttpServer::newWebSocketConnection, this, [this, http] {
        while (http->hasPendingWebSocketConnections())
            addSocket(http->nextPendingWebSocketConnection());
    });
}

void LiveServer::setRateHz(int hz)
{
    m_rateHz = std::clamp(hz, 1, 50);
    updatePublishRate();
}

void LiveServer::updatePublishRate()
{
    // The engine publishes at its configured rate; while a window watches, at least the live rate.
    const std::chrono::milliseconds base = m_engine->config().publishInterval;
    const std::chrono::milliseconds live(1000 / m_rateHz);
    const std::chrono::milliseconds want =
        m_windows.empty() || !m_burst.isActive() ? base : std::min(base, live);
    if (want != m_publishing) {
        m_publishing = want;
        m_engine->host().setPublishInterval(want);
    }
}

void LiveServer::addSocket(std::unique_ptr<QWebSocket> socket)
{
    if (!socket)
        return;
    socket->setMaxAllowedIncomingFrameSize(MaxClientMessageBytes);
    socket->setMaxAllowedIncomingMessageSize(MaxClientMessageBytes);
    if (socket->requestUrl().path() != "/live"_L1) {
        socket->close(
            QWebSocketProtocol::CloseCodePolicyViolated,
            u"no WebSocket at %1: the live stream is at /live"_s.arg(socket->requestUrl().path().left(64)));
        socket.release()->deleteLater();
        return;
    }
    if (!socket->origin().isEmpty()) {
        // A web page's script (a browser always sends Origin): it could read the agent's feeds
        // from the operator's own browser. Windows and scripts send none.
        socket->close(QWebSocketProtocol::CloseCodePolicyViolated, u"browser pages may not attach"_s);
        socket.release()->deleteLater();
        return;
    }
    if (static_cast<int>(m_windows.size()) >= MaxWindows) {
        socket->close(QWebSocketProtocol::CloseCode(1013),
                      u"%1 windows are attached already: try again later"_s.arg(MaxWindows));
        socket.release()->deleteLater();
        return;
    }
    auto w = std::make_unique<Window>();
    w->peer = u"%1:%2"_s.arg(socket->peerAddress().toString()).arg(socket->peerPort());
    Window *raw = w.get();
    connect(socket.get(), &QWebSocket::textMessageReceived, this,
            [this, raw](const QString &t) { onText(raw, t); });
    connect(socket.get(), &QWebSocket::binaryMessageReceived, this, [this, raw](const QByteArray &) {
        reply(*raw, QJsonValue::Null, false, u"binary messages are not understood: send JSON text"_s);
    });
    connect(
        socket.get(), &QWebSocket::disconnected, this, [this, raw] { removeWindow(raw); },
        Qt::QueuedConnection);
    w->socket = std::move(socket);
    m_windows.push_back(std::move(w));
    m_engine->noteManual(u"live window attached"_s, {{u"peer"_s, raw->peer}});
    onStructural();
    sendFull(*raw, m_engine->lastSnapshot(), monotonicMs());
    Q_EMIT windowsChanged(windowCount());
}

void LiveServer::removeWindow(Window *w)
{
    for (auto it = m_windows.begin(); it != m_windows.end(); ++it) {
        if (it->get() != w)
            continue;
        m_engine->noteManual(u"live window detached"_s,
                             {{u"peer"_s, w->peer},
                              {u"messages"_s, static_cast<double>(w->messages)},
                              {u"bytes"_s, static_cast<double>(w->bytes)},
                              {u"heldBackTicks"_s, static_cast<double>(w->coalesced)}});
        QWebSocket *s = (*it)->socket.release();
        s->disconnect(this);
        s->deleteLater();
        m_windows.erase(it);
        updatePublishRate();
        Q_EMIT windowsChanged(windowCount());
        return;
    }
}

QList<LiveServer::WindowStats> LiveServer::windows() const
{
    QList<WindowStats> out;
    for (const auto &w : m_windows)
        out.append({w->peer, w->messages, w->bytes, w->coalesced, w->authorised});
    return out;
}

int LiveServer::idOf(const QByteArray &key)
{
    auto it = m_ids.find(key);
    if (it == m_ids.end())
        it = m_ids.insert(key, m_nextId++);
    return *it;
}

QJsonArray LiveServer::alertsJson() const
{
    QJsonArray out;
    for (const Alert &a : m_engine->alerts().firing())
        out.append(a.toJson());
    return out;
}

QJsonArray LiveServer::consumersJson() const
{
    QJsonArray out;
    for (const ConsumerStats &c : m_engine->dispatcherStats())
        out.append(consumerJson(c));
    return out;
}

QJsonArray LiveServer::gatewayClientsJson() const
{
    QJsonArray out;
    if (!m_gateway || !m_gateway->isRunning())
        return out;
    for (const Gw::ClientStats &c : m_gateway->server().clients())
        out.append(QJsonObject{{u"id"_s, c.id},
                               {u"name"_s, c.name.left(256)},
                               {u"peer"_s, u"%1:%2"_s.arg(c.peerAddress.toString()).arg(c.peerPort)},
                               {u"subscriptions"_s, c.subscriptions},
                               {u"framesOut"_s, static_cast<double>(c.framesOut)},
                               {u"dropped"_s, static_cast<double>(c.dropped)},
                               {u"queuedBytes"_s, static_cast<double>(c.queuedBytes)}});
    return out;
}

QJsonObject LiveServer::agentJson() const
{
    return QJsonObject{{u"version"_s, QStringLiteral(FEEDSCOPE_VERSION)},
                       {u"url"_s, redactedUrl(m_engine->config().pool.url)},
                       {u"startedAt"_s, static_cast<double>(m_engine->startedAt().toMSecsSinceEpoch())},
                       {u"rateHz"_s, m_rateHz},
                       {u"control"_s, controlEnabled()},
                       {u"gateway"_s, m_gateway && m_gateway->isRunning()}};
}

void LiveServer::sampleChart()
{
    const PoolSnapshot &s = m_engine->lastSnapshot();
    if (!s.at.isValid())
        return;
    ChartSample c;
    c.atMs = QDateTime::currentMSecsSinceEpoch();
    const qint64 now = monotonicMs();
    for (const ConnectionStatus &x : s.connections) {
        const QString id = QString::number(x.id);
        const auto last = m_lastConnCount.value(x.id, {x.messagesIn, now});
        const double secs = static_cast<double>(now - last.second) / 1000.0;
        const double rate =
            secs > 0 ? static_cast<double>(std::max<qint64>(0, x.messagesIn - last.first)) / secs : 0;
        m_lastConnCount.insert(x.id, {x.messagesIn, now});
        c.values.append({u"conn/%1/msgs"_s.arg(id), rate});
        if (x.rttMs >= 0)
            c.values.append({u"conn/%1/rtt"_s.arg(id), x.rttMs});
    }
    for (const DispatcherSampler::Sample &d : m_sampler.take(m_engine->dispatcherStats(), now)) {
        if (d.inlineConsumer)
            continue;
        c.values.append({u"disp/%1/queue"_s.arg(d.name), d.peakQueue});
        c.values.append({u"disp/%1/drops"_s.arg(d.name), d.dropsPerSecond});
        c.values.append({u"disp/%1/lagP99"_s.arg(d.name), d.lagP99Ms});
    }
    m_chart.push_back(std::move(c));
    while (m_chart.size() > static_cast<size_t>(ChartHistorySeconds))
        m_chart.pop_front();
}

void LiveServer::onSnapshot(const PoolSnapshot &s)
{
    if (m_windows.empty())
        return;
    m_sampler.observe(m_engine->dispatcherStats());
    const qint64 now = monotonicMs();
    // The engine may publish faster (the window's own rate); the stream keeps to its own.
    if (m_lastTickMs >= 0 && now - m_lastTickMs < 1000 / m_rateHz - 20)
        return;
    m_lastTickMs = now;
    // Copy: a tick may close a window (far behind), which removes it from the list later.
    for (const auto &w : m_windows)
        if (w->socket && w->socket->state() == QAbstractSocket::ConnectedState)
            tick(*w, s, now);
}

void LiveServer::send(Window &w, const QByteArray &text)
{
    w.socket->sendTextMessage(QString::fromUtf8(text));
    ++w.messages;
    w.bytes += text.size();
    m_bytesSent += text.size();
    w.lastSentMs = monotonicMs();
}

void LiveServer::sendFull(Window &w, const PoolSnapshot &s, qint64 nowMs)
{
    QJsonArray subs;
    QByteArray counters, latency;
    w.subs.clear();
    for (const SubscriptionStatus &x : s.subscriptions) {
        const int id = idOf(x.subscription.canonical());
        subs.append(subscriptionStructJson(id, x, true));
        if (!counters.isEmpty())
            counters += ',';
        appendSubscriptionCounters(counters, id, x);
        if (!latency.isEmpty())
            latency += ',';
        appendSubscriptionLatency(latency, id, x.latency);
        w.subs.insert(id, x);
    }
    QJsonArray conns, connCounters;
    w.conns.clear();
    w.connCounters.clear();
    for (const ConnectionStatus &c : s.connections) {
        const QJsonObject o = connectionStructJson(c);
        conns.append(o);
        w.conns.insert(c.id, o);
        const QJsonArray cc = connectionCountersJson(c);
        connCounters.append(cc);
        w.connCounters.insert(c.id, cc);
    }
    QJsonArray reconnects;
    w.reconnects.clear();
    for (const ReconnectRecord &r : s.reconnects) {
        reconnects.append(reconnectJson(r));
        w.reconnects.insert({r.connection, r.startedAt.toMSecsSinceEpoch()}, {r.durationMs, r.restored});
    }
    QJsonArray events;
    const std::deque<SessionEvent> &ring = m_engine->sessionLog().ring();
    const size_t first = ring.size() > static_cast<size_t>(MaxEventsKept) ? ring.size() - MaxEventsKept : 0;
    for (size_t i = first; i < ring.size(); ++i)
        events.append(eventJson(ring[i]));
    w.lastEventSeq = ring.empty() ? 0 : ring.back().seq;
    QJsonArray chart;
    for (const ChartSample &c : m_chart)
        chart.append(chartJson(c));
    w.lastChartMs = m_chart.empty() ? 0 : m_chart.back().atMs;
    w.alerts = alertsJson();
    w.counters = countersJson(s.counters);
    w.consumers = consumersJson();
    w.latencyByType = latencyByTypeJson(s.latencyByType);
    w.gatewayClients = gatewayClientsJson();
    w.paused = s.paused;
    w.gatewayRunning = m_gateway && m_gateway->isRunning();
    const QJsonObject o{
        {u"schema"_s, QString(Schema)},
        {u"type"_s, u"full"_s},
        {u"seq"_s, static_cast<double>(++w.seq)},
        {u"at"_s, static_cast<double>(s.at.isValid() ? s.at.toMSecsSinceEpoch()
                                                     : QDateTime::currentMSecsSinceEpoch())},
        {u"agent"_s, agentJson()},
        {u"limits"_s, limitsJson(s.limits)},
        {u"paused"_s, s.paused},
        {u"counters"_s, w.counters},
        {u"connections"_s, conns},
        {u"connCounters"_s, connCounters},
        {u"subscriptions"_s, subs},
        {u"reconnects"_s, reconnects},
        {u"consumers"_s, w.consumers},
        {u"events"_s, events},
        {u"chart"_s, chart},
        {u"alerts"_s, w.alerts},
        {u"latencyByType"_s, w.latencyByType},
        {u"gatewayClients"_s, w.gatewayClients},
    };
    send(w, withRaw(withRaw(compact(o), "subCounters", counters), "subLatency", latency));
    w.fullSent = true;
    w.lastCountersMs = w.lastLatencyMs = nowMs;
}

void LiveServer::tick(Window &w, const PoolSnapshot &s, qint64 nowMs)
{
    const qint64 waiting = w.socket->bytesToWrite();
    if (waiting > m_softLimit) {
        ++w.coalesced;
        if (w.behindSinceMs < 0)
            w.behindSinceMs = nowMs;
        if (waiting > HardLimitBytes || nowMs - w.behindSinceMs > m_farBehindMs) {
            // The close frame queues behind what it does not read: give it a moment, then cut.
            w.socket->close(QWebSocketProtocol::CloseCodePolicyViolated,
                            u"the window is too far behind the stream (%1 KB waiting): attach again"_s.arg(
                                waiting / 1024));
            QPointer<QWebSocket> socket = w.socket.get();
            QTimer::singleShot(2000, this, [socket] {
                if (socket)
                    socket->abort();
            });
        }
        return;
    }
    w.behindSinceMs = -1;
    if (!w.fullSent) {
        sendFull(w, s, nowMs);
        return;
    }
    // Snapshots come about every second when only rates change: a little slack keeps the counts
    // at once a second instead of every other.
    const bool second = nowMs - w.lastCountersMs >= 900;
    const bool fiveSeconds = nowMs - w.lastLatencyMs >= 4900;
    QJsonObject o{{u"type"_s, u"tick"_s}};
    bool changed = false;
    // Connections: their state at once, their counters once a second.
    QJsonArray conns, connCounters, connRemoved;
    QSet<int> connSeen;
    for (const ConnectionStatus &c : s.connections) {
        connSeen.insert(c.id);
        const QJsonObject j = connectionStructJson(c);
        auto it = w.conns.find(c.id);
        if (it == w.conns.end() || *it != j) {
            conns.append(j);
            w.conns.insert(c.id, j);
        }
        if (second || it == w.conns.end()) {
            const QJsonArray cc = connectionCountersJson(c);
            if (w.connCounters.value(c.id) != cc) {
                connCounters.append(cc);
                w.connCounters.insert(c.id, cc);
            }
        }
    }
    for (auto it = w.conns.begin(); it != w.conns.end();) {
        if (!connSeen.contains(it.key())) {
            connRemoved.append(it.key());
            w.connCounters.remove(it.key());
            it = w.conns.erase(it);
        } else {
            ++it;
        }
    }
    // Subscriptions: structure at once, counters once a second, latency every five.
    QJsonArray subs, removed;
    QByteArray counters, latency;
    QSet<int> seen;
    seen.reserve(s.subscriptions.size());
    for (const SubscriptionStatus &x : s.subscriptions) {
        const int id = idOf(x.subscription.canonical());
        seen.insert(id);
        auto it = w.subs.find(id);
        const bool isNew = it == w.subs.end();
        if (isNew || !sameStructure(*it, x))
            subs.append(subscriptionStructJson(id, x, isNew));
        const bool sendCounters = isNew || (second && !sameCounters(*it, x));
        if (sendCounters) {
            if (!counters.isEmpty())
                counters += ',';
            appendSubscriptionCounters(counters, id, x);
        }
        const bool sendLatency = isNew || (fiveSeconds && !sameLatency(it->latency, x.latency));
        if (sendLatency) {
            if (!latency.isEmpty())
                latency += ',';
            appendSubscriptionLatency(latency, id, x.latency);
        }
        if (isNew) {
            w.subs.insert(id, x);
            continue;
        }
        // Keep what was sent: unsent counter changes accumulate until the next second.
        SubscriptionStatus &kept = *it;
        if (!sameStructure(kept, x)) {
            const SubscriptionStatus old = kept;
            kept = x;
            kept.messages = old.messages;
            kept.bytes = old.bytes;
            kept.lastAgeMs = old.lastAgeMs;
            kept.rate1s = old.rate1s;
            kept.rate10s = old.rate10s;
            kept.latency = old.latency;
        }
        if (sendCounters) {
            kept.messages = x.messages;
            kept.bytes = x.bytes;
            kept.lastAgeMs = x.lastAgeMs;
            kept.rate1s = x.rate1s;
            kept.rate10s = x.rate10s;
        }
        if (sendLatency)
            kept.latency = x.latency;
    }
    if (w.subs.size() != seen.size()) {
        for (auto it = w.subs.begin(); it != w.subs.end();) {
            if (!seen.contains(it.key())) {
                removed.append(it.key());
                it = w.subs.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Reconnects: new ones, and those whose outcome changed.
    QJsonArray reconnects;
    for (const ReconnectRecord &r : s.reconnects) {
        const QPair<int, qint64> key{r.connection, r.startedAt.toMSecsSinceEpoch()};
        const QPair<qint64, int> now{r.durationMs, r.restored};
        auto it = w.reconnects.find(key);
        if (it == w.reconnects.end() || *it != now) {
            reconnects.append(reconnectJson(r));
            w.reconnects.insert(key, now);
        }
    }
    constexpr qsizetype MaxReconnectsKept = 2000;
    if (w.reconnects.size() > MaxReconnectsKept)
        w.reconnects.clear(); // a window keeps its own bound; a record sent twice is merged there
    // New session events (statistics snapshots have their own ring and are not streamed).
    QJsonArray events;
    const std::deque<SessionEvent> &ring = m_engine->sessionLog().ring();
    auto from = ring.end();
    while (from != ring.begin() && (from - 1)->seq > w.lastEventSeq &&
           ring.end() - from < MaxEventsPerMessage)
        --from;
    for (auto it = from; it != ring.end(); ++it)
        events.append(eventJson(*it));
    if (!ring.empty() && from != ring.end())
        w.lastEventSeq = ring.back().seq;
    QJsonArray chart;
    for (const ChartSample &c : m_chart)
        if (c.atMs > w.lastChartMs)
            chart.append(chartJson(c));
    if (!m_chart.empty())
        w.lastChartMs = m_chart.back().atMs;

    auto put = [&](const char *name, const QJsonValue &v) {
        o.insert(QLatin1StringView(name), v);
        changed = true;
    };
    if (!conns.isEmpty())
        put("connections", conns);
    if (!connCounters.isEmpty())
        put("connCounters", connCounters);
    if (!connRemoved.isEmpty())
        put("connRemoved", connRemoved);
    if (!subs.isEmpty())
        put("subscriptions", subs);
    if (!removed.isEmpty())
        put("removed", removed);
    if (!reconnects.isEmpty())
        put("reconnects", reconnects);
    if (!events.isEmpty())
        put("events", events);
    if (!chart.isEmpty())
        put("chart", chart);
    if (s.paused != w.paused) {
        w.paused = s.paused;
        put("paused", s.paused);
    }
    const QJsonArray alerts = alertsJson();
    if (alerts != w.alerts) {
        w.alerts = alerts;
        put("alerts", alerts);
    }
    if (second) {
        const QJsonObject c = countersJson(s.counters);
        if (c != w.counters) {
            w.counters = c;
            put("counters", c);
        }
        const QJsonArray consumers = consumersJson();
        if (consumers != w.consumers) {
            w.consumers = consumers;
            put("consumers", consumers);
        }
        const QJsonArray clients = gatewayClientsJson();
        if (clients != w.gatewayClients) {
            w.gatewayClients = clients;
            put("gatewayClients", clients);
        }
        const bool running = m_gateway && m_gateway->isRunning();
        if (running != w.gatewayRunning) {
            w.gatewayRunning = running;
            put("gatewayRunning", running);
        }
        w.lastCountersMs = nowMs;
    }
    if (fiveSeconds) {
        const QJsonArray lat = latencyByTypeJson(s.latencyByType);
        if (lat != w.latencyByType) {
            w.latencyByType = lat;
            put("latencyByType", lat);
        }
        w.lastLatencyMs = nowMs;
    }
    changed = changed || !counters.isEmpty() || !latency.isEmpty();
    // Nothing changed: a heartbeat once a second, so the window's ages and "last heard" move on.
    if (!changed && nowMs - w.lastSentMs < 900)
        return;
    o.insert(u"seq"_s, static_cast<double>(++w.seq));
    o.insert(u"at"_s, static_cast<double>(s.at.toMSecsSinceEpoch()));
    send(w, withRaw(withRaw(compact(o), "subCounters", counters), "subLatency", latency));
}

// -------------------------------------------------------------------------------------------
// Requests

void LiveServer::reply(Window &w, const QJsonValue &id, bool ok, const QString &error,
                       const QJsonObject &result)
{
    QJsonObject o{{u"type"_s, u"reply"_s}, {u"id"_s, id}, {u"ok"_s, ok}};
    if (!ok)
        o.insert(u"error"_s, error);
    if (!result.isEmpty())
        o.insert(u"result"_s, result);
    send(w, compact(o));
}

void LiveServer::onText(Window *w, const QString &text)
{
    const qint64 now = monotonicMs();
    if (now - w->requestWindowMs >= 1000) {
        w->requestWindowMs = now;
        w->requests = 0;
    }
    if (++w->requests > MaxRequestsPerSecond) {
        if (w->requests == MaxRequestsPerSecond + 1)
            reply(*w, QJsonValue::Null, false,
                  u"more than %1 requests a second: requests are refused for the rest of the second"_s.arg(
                      MaxRequestsPerSecond));
        return;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        reply(*w, QJsonValue::Null, false, u"a request must be a JSON object"_s);
        return;
    }
    const QJsonObject o = doc.object();
    const QJsonValue id = o.value("id"_L1);
    if (!(id.isDouble() || (id.isString() && id.toString().size() <= 64))) {
        reply(*w, QJsonValue::Null, false, u"a request needs an \"id\" (a number or a short string)"_s);
        return;
    }
    const QString type = o.value("type"_L1).toString();
    if (type == "auth"_L1) {
        if (!controlEnabled()) {
            reply(*w, id, false,
                  u"control is off on this agent (started without --control-token): read-only"_s);
            return;
        }
        const QByteArray given = o.value("token"_L1).toString().toUtf8();
        if (Gw::tokenMatches(given, m_token)) {
            w->authorised = true;
            reply(*w, id, true, {});
            return;
        }
        ++w->authFailures;
        reply(*w, id, false, u"the control token is wrong"_s);
        if (w->authFailures >= MaxAuthFailures)
            w->socket->close(QWebSocketProtocol::CloseCodePolicyViolated, u"too many wrong control tokens"_s);
        return;
    }
    if (type == "control"_L1) {
        control(*w, o, id);
        return;
    }
    if (type == "inspect"_L1) {
        inspect(*w, o, id);
        return;
    }
    if (type == "resync"_L1) { // the window lost track: a new full state
        reply(*w, id, true, {});
        w->fullSent = false;
        if (w->socket->bytesToWrite() <= m_softLimit) // else the next tick it can take carries it
            sendFull(*w, m_engine->lastSnapshot(), now);
        return;
    }
    reply(*w, id, false,
          u"unknown request type \"%1\" (auth, control, inspect, resync)"_s.arg(type.left(32)));
}

void LiveServer::control(Window &w, const QJsonObject &o, const QJsonValue &id)
{
    if (!controlEnabled()) {
        reply(w, id, false,
              u"control is off on this agent (started without --control-token): the stream is read-only"_s);
        return;
    }
    if (!w.authorised) {
        const QJsonValue token = o.value("token"_L1);
        if (!token.isString() || !Gw::tokenMatches(token.toString().toUtf8(), m_token)) {
            reply(w, id, false, u"not authorised: send the agent's control token first"_s);
            return;
        }
    }
    const QString action = o.value("action"_L1).toString();
    const PoolSnapshot &s = m_engine->lastSnapshot();
    auto note = [&](const QJsonObject &detail = {}) {
        QJsonObject d = detail;
        d.insert(u"peer"_s, w.peer);
        m_engine->noteManual(u"remote "_s + action, d);
    };
    if (action == "reconnect"_L1) {
        const QJsonValue c = o.value("connection"_L1);
        const int conn = c.isDouble() ? c.toInt(-1) : -1;
        const bool known = std::any_of(s.connections.cbegin(), s.connections.cend(),
                                       [conn](const ConnectionStatus &x) { return x.id == conn; });
        if (!known) {
            reply(w, id, false,
                  u"there is no connection %1"_s.arg(c.isDouble() ? QString::number(c.toDouble())
                                                                  : u"(none given)"_s));
            return;
        }
        note({{u"connection"_s, conn}});
        m_engine->reconnect(conn);
        reply(w, id, true, {});
        return;
    }
    if (action == "reconnectAll"_L1) {
        note();
        m_engine->reconnectAll();
        reply(w, id, true, {});
        return;
    }
    if (action == "pause"_L1 || action == "resume"_L1) {
        note();
        m_engine->setPoolConnected(action == "resume"_L1);
        reply(w, id, true, {}, QJsonObject{{u"paused"_s, !m_engine->poolConnected()}});
        return;
    }
    if (action == "subscribe"_L1 || action == "unsubscribe"_L1) {
        QString why;
        const auto sub = o.value("subscription"_L1).isObject()
                             ? Hl::Subscription::fromJson(o.value("subscription"_L1).toObject(), &why)
                             : std::nullopt;
        if (!sub) {
            reply(w, id, false,
                  why.isEmpty()
                      ? u"\"subscription\" must be an object such as {\"type\":\"trades\",\"coin\":\"BTC\"}"_s
                      : u"that subscription is not valid: %1"_s.arg(why));
            return;
        }
        const QString key = QString::fromUtf8(sub->canonical());
        if (action == "subscribe"_L1) {
            note({{u"subscription"_s, key}});
            m_engine->subscribe(*sub, u"remote"_s);
        } else {
            const bool known =
                std::any_of(s.subscriptions.cbegin(), s.subscriptions.cend(),
                            [&](const SubscriptionStatus &x) { return x.subscription == *sub; });
            if (!known) {
                reply(w, id, false, u"the agent is not subscribed to %1"_s.arg(key));
                return;
            }
            note({{u"subscription"_s, key}});
            m_engine->unsubscribeAll(*sub);
        }
        reply(w, id, true, {}, QJsonObject{{u"subscription"_s, key}});
        return;
    }
    if (action == "disconnectClient"_L1) {
        if (!m_gateway || !m_gateway->isRunning()) {
            reply(w, id, false, u"no gateway runs on this agent"_s);
            return;
        }
        const QJsonValue c = o.value("client"_L1);
        const int client = c.isDouble() ? c.toInt(-1) : -1;
        if (client < 0 ||
            !m_gateway->server().disconnectClient(client, u"disconnected by a remote operator"_s)) {
            reply(w, id, false, u"the gateway has no client %1"_s.arg(client));
            return;
        }
        note({{u"client"_s, client}});
        reply(w, id, true, {});
        return;
    }
    if (action == "startRecording"_L1) {
        // The agent names the file: a path from the network never chooses where it writes.
        const QString path = QDir(m_recordDir)
                                 .filePath(u"feedscope-remote-%1.jsonl"_s.arg(
                                     QDateTime::currentDateTimeUtc().toString(u"yyyyMMdd-HHmmss-zzz"_s)));
        QString error;
        if (!m_engine->startRecording(path, &error)) {
            reply(w, id, false, error);
            return;
        }
        note({{u"path"_s, path}});
        reply(w, id, true, {}, QJsonObject{{u"path"_s, path}});
        return;
    }
    if (action == "stopRecording"_L1) {
        if (m_engine->recording() != Engine::Recording::On) {
            reply(w, id, false, u"the agent is not recording"_s);
            return;
        }
        note();
        m_engine->stopRecording();
        reply(w, id, true, {});
        return;
    }
    reply(w, id, false,
          u"unknown action \"%1\" (reconnect, reconnectAll, pause, resume, subscribe, unsubscribe, "
          "disconnectClient, startRecording, stopRecording)"_s.arg(action.left(32)));
}

void LiveServer::inspect(Window &w, const QJsonObject &o, const QJsonValue &id)
{
    const QJsonValue key = o.value("subscription"_L1);
    if (!key.isString() || key.toString().size() > 1024) {
        reply(w, id, false, u"\"subscription\" must be the subscription's key"_s);
        return;
    }
    const QJsonValue n = o.value("count"_L1);
    const int count = std::clamp(n.isDouble() ? n.toInt(50) : 50, 1, MaxInspectMessages);
    const QByteArray k = key.toString().toUtf8();
    const QList<MessageInspector::Message> all = m_engine->inspector().messages(k);
    QJsonArray messages;
    qint64 bytes = 0;
    for (qsizetype i = all.size() - 1; i >= 0 && messages.size() < count; --i) {
        const MessageInspector::Message &m = all.at(i);
        if (bytes + m.raw.size() > MaxInspectBytes && !messages.isEmpty())
            break;
        bytes += m.raw.size();
        messages.prepend(QJsonObject{{u"seq"_s, static_cast<double>(m.seq)},
                                     {u"at"_s, static_cast<double>(m.at.toMSecsSinceEpoch())},
                                     {u"connection"_s, m.connection},
                                     {u"snapshot"_s, m.snapshot},
                                     {u"raw"_s, QString::fromUtf8(m.raw.left(MaxInspectBytes))}});
    }
    reply(w, id, true, {},
          QJsonObject{{u"subscription"_s, key.toString()},
                      {u"messages"_s, messages},
                      {u"kept"_s, static_cast<int>(all.size())}});
}

} // namespace FeedScope

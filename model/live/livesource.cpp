#include "livesource.h"

#include "budget.h"

#include <QJsonDocument>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace FeedScope {

LiveSource::LiveSource(QObject *parent) : QObject(parent)
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &LiveSource::open);
    m_silence.setSingleShot(true);
    connect(&m_silence, &QTimer::timeout, this,
            [this] { onGone(u"the agent stopped sending for %1 s"_s.arg(m_silenceMs / 1000.0, 0, 'f', 1)); });
}

LiveSource::~LiveSource()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void LiveSource::setUrl(const QUrl &url)
{
    m_url = url;
    if (m_url.path().isEmpty() || m_url.path() == "/"_L1)
        m_url.setPath(u"/live"_s);
}

std::optional<QUrl> LiveSource::parseAgentUrl(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    QUrl url(t, QUrl::StrictMode);
    QString why;
    if (t.isEmpty())
        why = u"no address given"_s;
    else if (!url.isValid())
        why = u"not a URL"_s;
    else if (url.scheme() != "ws"_L1 && url.scheme() != "wss"_L1)
        why = url.scheme().isEmpty() ? u"no ws:// or wss:// at its start"_s
                                     : u"the scheme must be ws or wss, not %1"_s.arg(url.scheme().left(16));
    else if (url.host().isEmpty())
        why = u"no host"_s;
    else if (!url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment())
        why = u"a user name, query or fragment has no place in it"_s;
    if (!why.isEmpty()) {
        if (error)
            *error = u"an agent's live stream is ws://HOST:PORT/live or wss://HOST:PORT/live (%1)"_s.arg(why);
        return std::nullopt;
    }
    if (url.path().isEmpty() || url.path() == "/"_L1)
        url.setPath(u"/live"_s);
    return url;
}

void LiveSource::setBackoff(int initialMs, int maxMs)
{
    m_backoffInitialMs = std::max(10, initialMs);
    m_backoffMaxMs = std::max(m_backoffInitialMs, maxMs);
    m_backoffMs = m_backoffInitialMs;
}

void LiveSource::setStatus(Status s)
{
    if (s == m_status)
        return;
    m_status = s;
    Q_EMIT statusChanged(s);
}

QString LiveSource::statusText() const
{
    const QString where = m_url.port() > 0 ? u"%1:%2"_s.arg(m_url.host()).arg(m_url.port()) : m_url.host();
    switch (m_status) {
    case Status::Detached:
        return m_lastError.isEmpty() ? u"not attached"_s : u"not attached: %1"_s.arg(m_lastError);
    case Status::Connecting:
        return u"attaching to %1…"_s.arg(where);
    case Status::Attached:
        return u"attached to %1"_s.arg(where);
    case Status::Retrying: {
        const qint64 left = std::max<qint64>(0, m_retryAtMs - monotonicMs());
        return u"agent %1 gone (%2): showing its last state; trying again in %3 s"_s.arg(where, m_goneWhy)
            .arg((left + 999) / 1000);
    }
    }
    return {};
}

qint64 LiveSource::retryInMs() const
{
    return m_status == Status::Retrying ? std::max<qint64>(0, m_retryAtMs - monotonicMs()) : 0;
}

void LiveSource::attach()
{
    m_wanted = true;
    m_backoffMs = m_backoffInitialMs;
    m_retry.stop();
    open();
}

void LiveSource::detach()
{
    m_wanted = false;
    m_retry.stop();
    m_silence.stop();
    if (m_socket) {
        QWebSocket *s = m_socket.release();
        s->disconnect(this);
        s->close(QWebSocketProtocol::CloseCodeNormal, u"the window detached"_s);
        s->deleteLater();
    }
    failPending(u"detached from the agent"_s);
    setStatus(Status::Detached);
}

void LiveSource::open()
{
    if (!m_wanted)
        return;
    if (m_socket) {
        QWebSocket *old = m_socket.release();
        old->disconnect(this);
        old->abort();
        old->deleteLater();
    }
    if (m_url.scheme() != "ws"_L1 && m_url.scheme() != "wss"_L1) {
        m_lastError = u"the agent's address must be ws://HOST:PORT/live or wss://HOST:PORT/live"_s;
        m_wanted = false;
        setStatus(Status::Detached);
        Q_EMIT detached(m_lastError);
        return;
    }
    m_authorised = false;
    m_authError.clear();
    m_errorsInRow = 0;
    m_socket = std::make_unique<QWebSocket>();
    m_socket->setMaxAllowedIncomingMessageSize(Live::MaxServerMessageBytes);
    m_socket->setMaxAllowedIncomingFrameSize(Live::MaxServerMessageBytes);
    if (m_url.scheme() == "wss"_L1) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!m_ca.isEmpty())
            ssl.addCaCertificates(m_ca);
        m_socket->setSslConfiguration(ssl);
    }
    connect(m_socket.get(), &QWebSocket::connected, this, &LiveSource::onConnected);
    connect(m_socket.get(), &QWebSocket::textMessageReceived, this, &LiveSource::onText);
    connect(m_socket.get(), &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &) {
        ++m_rejected;
        Q_EMIT protocolError(u"the agent sent a binary message: the live stream is JSON text"_s);
    });
    connect(m_socket.get(), &QWebSocket::disconnected, this, [this] {
        QString why = m_socket ? m_socket->closeReason() : QString();
        if (why.isEmpty() && m_socket && m_socket->error() != QAbstractSocket::UnknownSocketError)
            why = m_socket->errorString();
        onGone(why.isEmpty() ? u"the connection closed"_s : why);
    });
    setStatus(m_status == Status::Retrying ? Status::Retrying : Status::Connecting);
    m_silence.start(m_silenceMs);
    m_socket->open(QNetworkRequest(m_url));
}

void LiveSource::onConnected()
{
    m_silence.start(m_silenceMs);
    if (!m_token.isEmpty()) {
        m_authId = m_nextId++;
        const QJsonObject auth{
            {u"type"_s, u"auth"_s}, {u"id"_s, m_authId}, {u"token"_s, QString::fromUtf8(m_token)}};
        m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(auth).toJson(QJsonDocument::Compact)));
    }
}

void LiveSource::onText(const QString &text)
{
    m_silence.start(m_silenceMs);
    ++m_messages;
    const QByteArray bytes = text.toUtf8();
    m_bytes += bytes.size();
    Live::Applied applied;
    QString error;
    if (!Live::apply(bytes, m_state, &applied, &error)) {
        ++m_rejected;
        m_lastError = error;
        Q_EMIT protocolError(error);
        // The state is as before the bad message; ask for a new full state, and give up on a
        // stream that keeps sending what cannot be read.
        if (++m_errorsInRow >= 3) {
            onGone(u"the agent's stream cannot be read: %1"_s.arg(error));
            return;
        }
        if (m_socket && m_state.valid)
            m_socket->sendTextMessage(u"{\"type\":\"resync\",\"id\":0}"_s);
        return;
    }
    if (applied.type == "reply"_L1) {
        const QJsonObject &r = applied.reply;
        const int id = r.value("id"_L1).toInt(-1);
        const bool ok = r.value("ok"_L1).toBool();
        const QString why = r.value("error"_L1).toString();
        if (id == m_authId) {
            m_authorised = ok;
            m_authId = -1;
            m_authError = ok ? QString() : why;
            if (!ok)
                m_lastError = why;
        }
        if (m_pending.remove(id))
            Q_EMIT replied(id, ok, why, r.value("result"_L1).toObject());
        return;
    }
    m_errorsInRow = 0;
    if (applied.full) {
        ++m_attaches;
        m_backoffMs = m_backoffInitialMs;
        m_lastError.clear();
        setStatus(Status::Attached);
        Q_EMIT attached();
    }
    Q_EMIT snapshot(m_state.snapshot);
    if (applied.newEvents > 0)
        Q_EMIT eventsAppended(applied.newEvents);
    if (applied.newChartSamples > 0 || applied.full)
        Q_EMIT seriesUpdated();
    if (applied.alertsChanged)
        Q_EMIT alertsChanged();
}

void LiveSource::onGone(const QString &why)
{
    m_silence.stop();
    if (m_socket) {
        QWebSocket *s = m_socket.release();
        s->disconnect(this);
        s->abort();
        s->deleteLater();
    }
    m_authorised = false;
    failPending(u"the agent went away"_s);
    const bool wasAttached = m_status == Status::Attached;
    m_goneWhy = why;
    m_lastError = why;
    if (!m_wanted) {
        setStatus(Status::Detached);
        return;
    }
    scheduleRetry();
    if (wasAttached || m_status != Status::Retrying) {
        setStatus(Status::Retrying);
        Q_EMIT detached(why);
    }
}

void LiveSource::scheduleRetry()
{
    m_retryAtMs = monotonicMs() + m_backoffMs;
    m_retry.start(m_backoffMs);
    m_backoffMs = std::min(m_backoffMaxMs, m_backoffMs * 2);
}

void LiveSource::failPending(const QString &why)
{
    const QSet<int> pending = std::exchange(m_pending, {});
    for (int id : pending)
        Q_EMIT replied(id, false, why, {});
}

int LiveSource::request(QJsonObject request)
{
    const int id = m_nextId++;
    request.insert(u"id"_s, id);
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState) {
        QMetaObject::invokeMethod(
            this, [this, id] { Q_EMIT replied(id, false, u"not attached to an agent"_s, {}); },
            Qt::QueuedConnection);
        return id;
    }
    m_pending.insert(id);
    m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact)));
    return id;
}

int LiveSource::control(const QString &action, QJsonObject fields)
{
    fields.insert(u"type"_s, u"control"_s);
    fields.insert(u"action"_s, action);
    return request(fields);
}

int LiveSource::reconnect(int connection)
{
    return control(u"reconnect"_s, {{u"connection"_s, connection}});
}

int LiveSource::reconnectAll()
{
    return control(u"reconnectAll"_s);
}

int LiveSource::setPaused(bool paused)
{
    return control(paused ? u"pause"_s : u"resume"_s);
}

int LiveSource::subscribe(const Hl::Subscription &s)
{
    return control(u"subscribe"_s, {{u"subscription"_s, s.json()}});
}

int LiveSource::unsubscribe(const Hl::Subscription &s)
{
    return control(u"unsubscribe"_s, {{u"subscription"_s, s.json()}});
}

int LiveSource::disconnectClient(int client)
{
    return control(u"disconnectClient"_s, {{u"client"_s, client}});
}

int LiveSource::startRecording()
{
    return control(u"startRecording"_s);
}

int LiveSource::stopRecording()
{
    return control(u"stopRecording"_s);
}

int LiveSource::inspect(const QByteArray &key, int count)
{
    return request(
        {{u"type"_s, u"inspect"_s}, {u"subscription"_s, QString::fromUtf8(key)}, {u"count"_s, count}});
}

} // namespace FeedScope

#pragma once

#include "livewire.h"

#include <QObject>
#include <QSet>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>

class QWebSocket;

namespace FeedScope {

/// The window's side of an agent's `/live` stream (issue 18): connects to `ws://HOST:PORT/live`
/// (or wss:// with a CA of one's own), applies the full state and every change to a PoolSnapshot
/// (+ session events, chart history, alerts) and emits snapshot() as the Engine emits
/// snapshotPublished(), so the models a window shows can be fed from either. When the agent goes
/// away the last state is kept and it re-attaches with backoff; a hostile or broken stream gives an
/// error and leaves the last good state as it was. No Widgets.
class LiveSource final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveSource)

public:
    enum class Status : quint8 {
        Detached,   ///< not asked to attach, or detach() was called
        Connecting, ///< opening the socket or waiting for the full state
        Attached,   ///< the full state arrived; changes are applied as they come
        Retrying,   ///< the agent went away: the last state is kept, the next attempt is due
    };
    Q_ENUM(Status)

    explicit LiveSource(QObject *parent = nullptr);
    ~LiveSource() override;

    /// `ws://host:port/live` or `wss://…`; a URL without a path gets `/live`.
    void setUrl(const QUrl &url);
    /// What a user typed as an agent's address (the command line's --attach, the Attach dialog):
    /// ws:// or wss:// with a host, no user name, query or fragment; no path gets `/live`. An
    /// invalid URL is nullopt with @p error in words.
    static std::optional<QUrl> parseAgentUrl(const QString &text, QString *error);
    QUrl url() const { return m_url; }
    /// The agent's --control-token (empty: read-only). Sent once per attach; never logged.
    void setToken(const QByteArray &token) { m_token = token; }
    /// wss://: certificates trusted besides the system's (a private CA).
    void setCaCertificates(const QList<QSslCertificate> &certificates) { m_ca = certificates; }
    void setBackoff(int initialMs, int maxMs);
    /// A stream silent for this long (the agent sends at least one message a second) is taken
    /// as gone: the socket is dropped and attached again.
    void setSilenceTimeoutMs(int ms) { m_silenceMs = ms; }

    void attach();
    void detach();

    Status status() const { return m_status; }
    /// In words, for a status bar: "attached to 10.0.0.5:9100", "agent gone: …; again in 4 s".
    QString statusText() const;
    QString lastError() const { return m_lastError; }
    bool controlAuthorised() const { return m_authorised; }
    /// A token was given (setToken) to send with every attach.
    bool hasToken() const { return !m_token.isEmpty(); }
    /// Why the agent refused the token at the last attach (empty: accepted, or not asked yet).
    QString authError() const { return m_authError; }
    /// While Retrying: milliseconds until the next attempt (0 otherwise).
    qint64 retryInMs() const;
    const Live::State &state() const { return m_state; }
    const PoolSnapshot &lastSnapshot() const { return m_state.snapshot; }
    /// The chart history (the last 5 min) per series, x in wall ms.
    QHash<QString, QList<QPointF>> chart() const { return Live::chartSeries(m_state); }
    qint64 messagesReceived() const { return m_messages; }
    qint64 bytesReceived() const { return m_bytes; }
    qint64 messagesRejected() const { return m_rejected; }
    int attachCount() const { return m_attaches; }

    /// Requests on the same channel; each returns its id, answered by replied(). Control needs
    /// the agent's token; without it the agent refuses with a reason (and so does this class
    /// when not attached).
    int reconnect(int connection);
    int reconnectAll();
    int setPaused(bool paused);
    int subscribe(const Hl::Subscription &s);
    int unsubscribe(const Hl::Subscription &s);
    int disconnectClient(int client);
    int startRecording();
    int stopRecording();
    /// The last @p count raw frames of the subscription @p key (canonical); the reply's result
    /// has `messages` [{seq, at, connection, snapshot, raw}].
    int inspect(const QByteArray &key, int count = 50);
    /// Any request object (its "id" is set here).
    int request(QJsonObject request);

Q_SIGNALS:
    void snapshot(const FeedScope::PoolSnapshot &snapshot);
    void statusChanged(FeedScope::LiveSource::Status status);
    /// A full state was applied (first attach, or again after the agent came back).
    void attached();
    /// The agent went away (or the stream was refused): @p why in words; the state is kept.
    void detached(const QString &why);
    void eventsAppended(int count);
    void seriesUpdated();
    void alertsChanged();
    void replied(int id, bool ok, const QString &error, const QJsonObject &result);
    /// A message that could not be used (not JSON, wrong schema or types, over the bounds).
    void protocolError(const QString &why);

private:
    void open();
    void onConnected();
    void onText(const QString &text);
    void onGone(const QString &why);
    void setStatus(Status s);
    void scheduleRetry();
    void failPending(const QString &why);
    int control(const QString &action, QJsonObject fields = {});

    QUrl m_url;
    QByteArray m_token;
    QList<QSslCertificate> m_ca;
    std::unique_ptr<QWebSocket> m_socket;
    Status m_status = Status::Detached;
    Live::State m_state;
    QString m_lastError;
    QString m_goneWhy;
    QString m_authError;
    bool m_authorised = false;
    bool m_wanted = false;
    int m_backoffInitialMs = 500;
    int m_backoffMaxMs = 30000;
    int m_backoffMs = 500;
    int m_silenceMs = 10000;
    QTimer m_retry;
    QTimer m_silence;
    qint64 m_retryAtMs = 0;
    int m_nextId = 1;
    int m_authId = -1;
    QSet<int> m_pending;
    qint64 m_messages = 0;
    qint64 m_bytes = 0;
    qint64 m_rejected = 0;
    int m_errorsInRow = 0;
    int m_attaches = 0;
};

} // namespace FeedScope

#include "agentprobe.h"

#include "eventwords.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTimer>

#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

// ---------------------------------------------------------------------------------------------
// AgentAddress

std::optional<AgentAddress> AgentAddress::parse(const QString &text, const QString &name, QString *error)
{
    const QString t = text.trimmed();
    auto refuse = [&](const QString &why) -> std::optional<AgentAddress> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (t.isEmpty())
        return refuse(QObject::tr("no URL given"));
    QUrl url(t.contains(u"://"_s) ? t : u"http://"_s + t, QUrl::StrictMode);
    if (!url.isValid())
        return refuse(QObject::tr("'%1' is not a URL").arg(t));
    const QString scheme = url.scheme().toLower();
    bool tls = false;
    if (scheme == u"https"_s || scheme == u"wss"_s)
        tls = true;
    else if (scheme != u"http"_s && scheme != u"ws"_s)
        return refuse(
            QObject::tr("'%1': use http://host:port or ws://host:port/live (not %2:)").arg(t, scheme));
    if (url.host().isEmpty())
        return refuse(QObject::tr("'%1' names no host").arg(t));
    if (url.port() <= 0)
        return refuse(QObject::tr("'%1' names no port (the agent's --metrics-port, e.g. :9100)").arg(t));
    static const QStringList paths{u""_s, u"/"_s, u"/live"_s, u"/report"_s, u"/healthz"_s, u"/metrics"_s};
    if (!paths.contains(url.path()))
        return refuse(
            QObject::tr("'%1': the path %2 is not one of an agent's (/live, /report)").arg(t, url.path()));
    if (url.hasQuery() || url.hasFragment() || !url.userInfo().isEmpty())
        return refuse(QObject::tr("'%1': an agent URL has no query, fragment or user").arg(t));
    AgentAddress a;
    a.base.setScheme(tls ? u"https"_s : u"http"_s);
    a.base.setHost(url.host());
    a.base.setPort(url.port());
    a.name = name.trimmed();
    return a;
}

QString AgentAddress::hostPort() const
{
    const QString host = base.host().contains(u':') ? u"[%1]"_s.arg(base.host()) : base.host();
    return u"%1:%2"_s.arg(host).arg(base.port());
}

QString AgentAddress::displayName() const
{
    return name.isEmpty() ? hostPort() : name;
}

QUrl AgentAddress::liveUrl() const
{
    QUrl u = base;
    u.setScheme(base.scheme() == u"https"_s ? u"wss"_s : u"ws"_s);
    u.setPath(u"/live"_s);
    return u;
}

QUrl AgentAddress::endpoint(const QString &path) const
{
    QUrl u = base;
    u.setPath(path);
    return u;
}

// ---------------------------------------------------------------------------------------------
// fleet files

FleetFile parseFleetText(const QByteArray &text)
{
    FleetFile out;
    const QList<QByteArray> lines = text.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QString line = QString::fromUtf8(lines.at(i));
        if (const qsizetype hash = line.indexOf(u'#'); hash >= 0)
            line.truncate(hash);
        line = line.trimmed();
        if (line.isEmpty())
            continue;
        const qsizetype space = line.indexOf(QRegularExpression(u"\\s"_s));
        const QString url = space < 0 ? line : line.left(space);
        const QString name = space < 0 ? QString() : line.mid(space).trimmed();
        QString error;
        const std::optional<AgentAddress> a = AgentAddress::parse(url, name, &error);
        if (!a) {
            out.errors.append(QObject::tr("line %1: %2").arg(i + 1).arg(error));
            continue;
        }
        const auto dup = std::find_if(out.agents.cbegin(), out.agents.cend(),
                                      [&a](const AgentAddress &b) { return b.base == a->base; });
        if (dup != out.agents.cend()) {
            out.errors.append(QObject::tr("line %1: %2 is listed already").arg(i + 1).arg(a->hostPort()));
            continue;
        }
        out.agents.append(*a);
    }
    return out;
}

FleetFile loadFleetFile(const QString &path)
{
    constexpr qint64 MaxFileBytes = 1024 * 1024;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {{}, {QObject::tr("cannot read %1: %2").arg(path, f.errorString())}};
    if (f.size() > MaxFileBytes)
        return {{}, {QObject::tr("%1 is larger than 1 MB: not a fleet file").arg(path)}};
    return parseFleetText(f.readAll());
}

// ---------------------------------------------------------------------------------------------
// /healthz

namespace {

bool isInt(const QJsonValue &v)
{
    return v.isDouble() && std::isfinite(v.toDouble()) && v.toDouble() >= 0 && v.toDouble() < 1e9 &&
           v.toDouble() == std::floor(v.toDouble());
}

} // namespace

std::optional<AgentHealth> parseHealth(const QByteArray &body, QString *error)
{
    auto refuse = [error](const QString &why) -> std::optional<AgentHealth> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError)
        return refuse(QObject::tr("the health answer is not JSON (%1 at byte %2)")
                          .arg(pe.errorString())
                          .arg(pe.offset));
    if (!doc.isObject())
        return refuse(QObject::tr("the health answer is not a JSON object"));
    const QJsonObject o = doc.object();
    const QJsonValue status = o.value("status"_L1);
    const QJsonObject conns = o.value("connections"_L1).toObject();
    const QJsonObject subs = o.value("subscriptions"_L1).toObject();
    if (!status.isString() || !isInt(conns.value("open"_L1)) || !isInt(conns.value("total"_L1)) ||
        !isInt(subs.value("active"_L1)) || !isInt(subs.value("total"_L1)))
        return refuse(QObject::tr("the health answer is not a FeedScope agent's (status, connections, "
                                  "subscriptions missing or of the wrong type)"));
    AgentHealth h;
    h.healthy = status.toString() == u"ok"_s;
    h.connectionsUp = conns.value("open"_L1).toInt();
    h.connectionsTotal = conns.value("total"_L1).toInt();
    h.subscriptionsActive = subs.value("active"_L1).toInt();
    h.subscriptionsTotal = subs.value("total"_L1).toInt();
    if (h.connectionsUp > h.connectionsTotal || h.subscriptionsActive > h.subscriptionsTotal)
        return refuse(
            QObject::tr("the health answer counts more open than existing connections or subscriptions"));
    constexpr int MaxListed = 20;
    for (const QJsonValue &v : conns.value("notOpen"_L1).toArray()) {
        const QJsonObject c = v.toObject();
        if (!isInt(c.value("id"_L1)) || h.downConnections.size() >= MaxListed)
            continue;
        const QString state = Words::connState(c.value("state"_L1).toString().left(40));
        h.downConnections.append(state.isEmpty() ? QString::number(c.value("id"_L1).toInt())
                                                 : u"%1 (%2)"_s.arg(c.value("id"_L1).toInt()).arg(state));
    }
    if (o.contains("alertsFiring"_L1)) {
        if (!isInt(o.value("alertsFiring"_L1)))
            return refuse(QObject::tr("the health answer's alertsFiring is not a count"));
        h.alertsFiring = o.value("alertsFiring"_L1).toInt();
    }
    for (const QJsonValue &v : o.value("alerts"_L1).toArray()) {
        const QJsonObject a = v.toObject();
        if (a.value("severity"_L1).toString() == u"critical"_s)
            ++h.criticalAlerts;
        const QString text = a.value("text"_L1).toString().left(200);
        if (!text.isEmpty() && h.alertTexts.size() < MaxListed)
            h.alertTexts.append(text);
    }
    if (h.alertTexts.isEmpty()) // older agents: the reasons only
        for (const QJsonValue &v : o.value("reasons"_L1).toArray())
            if (v.isString() && h.alertTexts.size() < MaxListed)
                h.alertTexts.append(v.toString().left(200));
    h.reason = o.value("reason"_L1).toString().left(200);
    return h;
}

// ---------------------------------------------------------------------------------------------
// /metrics

std::optional<AgentCounters> parseMetrics(const QByteArray &body, QString *error)
{
    auto refuse = [error](const QString &why) -> std::optional<AgentCounters> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    AgentCounters c;
    bool sawFeedScope = false;
    qsizetype lineNo = 0;
    qsizetype pos = 0;
    while (pos < body.size()) {
        qsizetype end = body.indexOf('\n', pos);
        if (end < 0)
            end = body.size();
        const QByteArrayView line = QByteArrayView(body).sliced(pos, end - pos).trimmed();
        pos = end + 1;
        ++lineNo;
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        // name, then optional {labels} (quoted values may hold any character, escaped), then value
        qsizetype i = 0;
        while (i < line.size() && line.at(i) != '{' && line.at(i) != ' ' && line.at(i) != '\t')
            ++i;
        const QByteArrayView name = line.first(i);
        QByteArrayView labels;
        if (i < line.size() && line.at(i) == '{') {
            const qsizetype open = i;
            bool quoted = false;
            for (++i; i < line.size(); ++i) {
                const char ch = line.at(i);
                if (quoted && ch == '\\')
                    ++i;
                else if (ch == '"')
                    quoted = !quoted;
                else if (!quoted && ch == '}')
                    break;
            }
            if (i >= line.size())
                return refuse(
                    QObject::tr("the metrics answer is not Prometheus text (line %1: labels not closed)")
                        .arg(lineNo));
            labels = line.sliced(open + 1, i - open - 1);
            ++i;
        }
        const QByteArrayView rest = line.sliced(std::min(i, line.size())).trimmed();
        const qsizetype sp = rest.indexOf(' ');
        const QByteArrayView valueText = sp < 0 ? rest : rest.first(sp);
        bool ok = false;
        double value = valueText.toDouble(&ok);
        if (!ok && (valueText == "+Inf" || valueText == "-Inf" || valueText == "NaN")) {
            ok = true;
            value = 0; // never a counter the fleet sums
        }
        if (name.isEmpty() || !ok)
            return refuse(QObject::tr("the metrics answer is not Prometheus text (line %1)").arg(lineNo));
        if (!std::isfinite(value))
            value = 0;
        sawFeedScope = sawFeedScope || name.startsWith("feedscope_");
        if (name == "feedscope_data_messages_total") {
            c.messages += value;
        } else if (name == "feedscope_reconnects_total") {
            c.reconnects += value;
        } else if (name == "feedscope_dispatcher_dropped_total") {
            c.dropped += value;
        } else if (name == "feedscope_gateway_clients") {
            c.gatewayClients = static_cast<int>(std::clamp(value, 0.0, 1e9));
        } else if (name == "feedscope_start_time_seconds") {
            c.startTimeS = value;
        } else if (name == "feedscope_build_info") {
            static const QRegularExpression v(u"version=\"([^\"\\\\]{0,40})\""_s);
            const QRegularExpressionMatch m = v.match(QString::fromUtf8(labels.toByteArray()));
            if (m.hasMatch())
                c.version = m.captured(1);
        }
    }
    if (!sawFeedScope)
        return refuse(QObject::tr("the metrics answer is not a FeedScope agent's (no feedscope_ series)"));
    return c;
}

// ---------------------------------------------------------------------------------------------
// AgentProbe

AgentProbe::AgentProbe(const AgentAddress &address, QNetworkAccessManager *nam, QObject *parent)
    : QObject(parent), m_address(address), m_nam(nam ? nam : new QNetworkAccessManager(this))
{
    m_nam->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

AgentProbe::~AgentProbe()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

qint64 AgentProbe::nowMs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return clock.elapsed();
}

bool AgentProbe::isDue(qint64 now) const
{
    if (isBusy())
        return false;
    if (m_lastPollMs < 0)
        return true;
    return now - m_lastPollMs >= (m_status.failures > 0 ? m_status.nextPollInMs : m_intervalMs);
}

void AgentProbe::poll()
{
    if (isBusy())
        return;
    m_lastPollMs = nowMs();
    ++m_status.polls;
    m_healthBody.clear();
    request(u"/healthz"_s);
}

void AgentProbe::request(const QString &path)
{
    m_path = path;
    m_abortReason.clear();
    QNetworkRequest req(m_address.endpoint(path));
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    req.setRawHeader("Accept-Encoding",
                     "identity"); // no transparent decompression: the bound is on what arrives
    req.setHeader(QNetworkRequest::UserAgentHeader, u"FeedScope-fleet"_s);
    req.setTransferTimeout(static_cast<int>(m_timeoutMs));
    QNetworkReply *reply = m_nam->get(req);
    m_reply = reply;
    auto abortWith = [this, reply](AgentStatus::Reach reach, const QString &why) {
        if (m_reply != reply || reply->isFinished())
            return;
        m_abortReason = why;
        m_abortReach = reach;
        reply->abort();
    };
    // The transfer timeout stops a silent agent; the deadline also one that trickles.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, reply, [this, abortWith] {
        abortWith(AgentStatus::Reach::Down,
                  tr("no complete answer within %1 s").arg(static_cast<double>(m_timeoutMs) / 1000.0));
    });
    deadline->start(static_cast<int>(m_timeoutMs));
    auto checkSize = [this, reply, abortWith] {
        const QVariant length = reply->header(QNetworkRequest::ContentLengthHeader);
        if ((length.isValid() && length.toLongLong() > m_maxBytes) || reply->bytesAvailable() > m_maxBytes)
            abortWith(AgentStatus::Reach::BadAnswer,
                      tr("the answer to %1 is larger than %2 KB").arg(m_path).arg(m_maxBytes / 1024));
    };
    connect(reply, &QNetworkReply::metaDataChanged, this, checkSize);
    connect(reply, &QNetworkReply::readyRead, this, checkSize);
    connect(reply, &QNetworkReply::finished, this, &AgentProbe::finishedOne);
}

void AgentProbe::finishedOne()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->deleteLater();
    const QByteArray body =
        reply->isOpen() && reply->bytesAvailable() <= m_maxBytes ? reply->read(m_maxBytes + 1) : QByteArray();
    m_status.bytesReceived += body.size();
    if (!m_abortReason.isEmpty()) {
        fail(m_abortReach, m_abortReason);
        return;
    }
    const int http = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (http == 0) {
        const bool timedOut = reply->error() == QNetworkReply::OperationCanceledError ||
                              reply->error() == QNetworkReply::TimeoutError;
        fail(AgentStatus::Reach::Down,
             timedOut ? tr("no answer within %1 s").arg(static_cast<double>(m_timeoutMs) / 1000.0)
                      : reply->errorString());
        return;
    }
    const bool healthPath = m_path == u"/healthz"_s;
    if (http != 200 && !(healthPath && http == 503)) { // /healthz answers 503 when unhealthy
        fail(AgentStatus::Reach::BadAnswer, tr("%1 answered HTTP %2").arg(m_path).arg(http));
        return;
    }
    if (body.size() > m_maxBytes) {
        fail(AgentStatus::Reach::BadAnswer,
             tr("the answer to %1 is larger than %2 KB").arg(m_path).arg(m_maxBytes / 1024));
        return;
    }
    if (healthPath) {
        m_healthBody = body;
        request(u"/metrics"_s);
        return;
    }
    QString error;
    const std::optional<AgentHealth> h = parseHealth(m_healthBody, &error);
    if (!h) {
        fail(AgentStatus::Reach::BadAnswer, error);
        return;
    }
    const std::optional<AgentCounters> c = parseMetrics(body, &error);
    if (!c) {
        fail(AgentStatus::Reach::BadAnswer, error);
        return;
    }
    m_status.health = *h;
    m_status.counters = *c;
    succeed();
}

void AgentProbe::setReach(AgentStatus::Reach r)
{
    if (m_status.reach != r) {
        m_status.reach = r;
        m_status.since = QDateTime::currentDateTimeUtc();
    }
}

void AgentProbe::fail(AgentStatus::Reach reach, const QString &error)
{
    setReach(reach);
    m_status.error = error;
    ++m_status.failures;
    const int shift = std::min(m_status.failures - 1, 10);
    m_status.nextPollInMs = std::min(m_intervalMs << shift, std::max(MaxBackoffMs, m_intervalMs));
    m_status.messagesPerSecond = -1;
    m_lastMessages = -1;
    Q_EMIT changed();
}

void AgentProbe::succeed()
{
    const qint64 now = nowMs();
    const AgentCounters &c = m_status.counters;
    const bool restarted = m_lastMessages > c.messages; // counters went back: a new agent process
    if (restarted) {
        m_reconnectSamples.clear();
        m_lastDropped = -1;
    }
    if (m_lastMessages >= 0 && !restarted && now > m_lastGoodMs)
        m_status.messagesPerSecond =
            (c.messages - m_lastMessages) * 1000.0 / static_cast<double>(now - m_lastGoodMs);
    m_status.dropsRecent = m_lastDropped >= 0 ? std::max(0.0, c.dropped - m_lastDropped) : 0;
    m_lastMessages = c.messages;
    m_lastDropped = c.dropped;
    m_lastGoodMs = now;

    // Reconnects in the last hour: the agent's total when it started less than an hour ago,
    // else the total's growth since the sample an hour old (or since watching began).
    constexpr qint64 HourMs = 3600 * 1000;
    if (!m_reconnectSamples.empty() && m_reconnectSamples.back().second > c.reconnects)
        m_reconnectSamples.clear();
    if (m_reconnectSamples.empty()) {
        m_status.watchedSince = QDateTime::currentDateTimeUtc();
        m_reconnectSamples.emplace_back(now, c.reconnects);
    } else if (now - m_reconnectSamples.back().first >= 10000) {
        m_reconnectSamples.emplace_back(now, c.reconnects);
    }
    while (m_reconnectSamples.size() > 1 && now - m_reconnectSamples.at(1).first >= HourMs)
        m_reconnectSamples.pop_front();
    const double uptimeS = static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0 - c.startTimeS;
    if (c.startTimeS > 0 && uptimeS <= 3600) {
        m_status.reconnectsLastHour = static_cast<qint64>(c.reconnects);
        m_status.reconnectsExact = true;
    } else {
        const auto &[t0, n0] = m_reconnectSamples.front();
        m_status.reconnectsLastHour = static_cast<qint64>(std::max(0.0, c.reconnects - n0));
        m_status.reconnectsExact = now - t0 >= HourMs;
    }

    setReach(AgentStatus::Reach::Up);
    m_status.error.clear();
    m_status.failures = 0;
    m_status.nextPollInMs = m_intervalMs;
    m_status.hasFigures = true;
    m_status.lastSeen = QDateTime::currentDateTimeUtc();
    Q_EMIT changed();
}

} // namespace FeedScope

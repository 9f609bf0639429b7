#include "clientsmodel.h"

#include <QSet>

using namespace Qt::StringLiterals;

namespace FeedScope {

int ClientsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ClientsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClientsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case Name:
        return tip ? tr("The client's name: ?name= in its URL, else its User-Agent (the full user agent in "
                        "the cell's tooltip)")
                   : tr("Client");
    case Peer:
        return tip ? tr("The address and port it connects from") : tr("From");
    case Connected:
        return tip ? tr("When it connected (local time), and for how long") : tr("Connected");
    case Subscriptions:
        return tip ? tr("Subscriptions it holds (acknowledged or waiting for the venue's answer)")
                   : tr("Subs");
    case MsgsPerSec:
        return tip ? tr("Frames sent to it per second (data, acks, pongs, errors)") : tr("Msgs/s out");
    case KBPerSec:
        return tip ? tr("Kilobytes sent to it per second") : tr("KB/s out");
    case FramesOut:
        return tip ? tr("Frames sent to it since it connected") : tr("Sent");
    case Queue:
        return tip ? tr("Bytes waiting to be written to it, against the bound; amber from half the bound, "
                        "red near it (then the slow-client policy acts)")
                   : tr("Queue");
    case HighWater:
        return tip ? tr("The most bytes ever queued for it") : tr("High-water");
    case Dropped:
        return tip ? tr("Data frames dropped for it: the oldest, when it read too slowly (drop-oldest), or "
                        "frames for a closing link")
                   : tr("Drops");
    case Coalesced:
        return tip ? tr("Data frames replaced by a newer one of the same subscription while queued "
                        "(coalesce-latest)")
                   : tr("Coalesced");
    case RateLimited:
        return tip ? tr("Requests refused for going over its messages-per-minute limit") : tr("Rate limited");
    case Malformed:
        return tip ? tr("Frames it sent that were not a valid request (answered with the venue's parse "
                        "error; binary frames included)")
                   : tr("Malformed");
    case LastError:
        return tip ? tr("The last error text sent to it, in the venue's words") : tr("Last error");
    }
    return {};
}

QString ClientsModel::connectedFor(qint64 ms)
{
    const qint64 s = std::max<qint64>(0, ms) / 1000;
    if (s < 60)
        return tr("for %1 s").arg(s);
    if (s < 3600)
        return tr("for %1 min").arg(s / 60);
    if (s < 86400)
        return s % 3600 >= 60 ? tr("for %1 h %2 min").arg(s / 3600).arg((s % 3600) / 60)
                              : tr("for %1 h").arg(s / 3600);
    return tr("for %1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString ClientsModel::reasonText(Gw::CloseReason reason)
{
    switch (reason) {
    case Gw::CloseReason::ClientClosed:
        return tr("closed by the client");
    case Gw::CloseReason::SlowConsumer:
        return tr("too slow: its queue went over the bound");
    case Gw::CloseReason::Idle:
        return tr("idle: it sent nothing for too long");
    case Gw::CloseReason::TooLarge:
        return tr("it sent a frame over the size limit");
    case Gw::CloseReason::Operator:
        return tr("disconnected by the operator");
    case Gw::CloseReason::Shutdown:
        return tr("the gateway stopped");
    case Gw::CloseReason::Aborted:
        return tr("aborted: it did not take the close in time");
    }
    return QString(Gw::nameOf(reason));
}

Severity ClientsModel::queueSeverity(const Gw::ClientStats &s) const
{
    if (s.queueBoundBytes <= 0)
        return Severity::Neutral;
    const double used = static_cast<double>(s.queuedBytes) / static_cast<double>(s.queueBoundBytes);
    return used >= QueueNearBound ? Severity::Bad : used >= 0.5 ? Severity::Warning : Severity::Good;
}

QVariant ClientsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const Gw::ClientStats &s = r.stats;
    const int c = index.column();
    if (role == KeyRole)
        return s.id;
    const Severity queue = queueSeverity(s);
    if (role == RowSeverityRole)
        return QVariant::fromValue(queue == Severity::Bad                    ? Severity::Bad
                                   : s.closing || queue == Severity::Warning ? Severity::Warning
                                                                             : Severity::Neutral);
    if (role == SeverityRole) {
        switch (c) {
        case Name:
            return s.closing ? QVariant::fromValue(Severity::Warning) : QVariant();
        case Queue:
            return queue == Severity::Good ? QVariant() : QVariant::fromValue(queue);
        case Dropped:
            return s.dropped > 0 ? QVariant::fromValue(Severity::Bad) : QVariant();
        case RateLimited:
        case Malformed:
            return (c == RateLimited ? s.rateLimited : s.malformed) > 0
                       ? QVariant::fromValue(Severity::Warning)
                       : QVariant();
        case LastError:
            return s.lastError.isEmpty() ? QVariant() : QVariant::fromValue(Severity::Warning);
        default:
            return {};
        }
    }
    if (role == FilterTextRole)
        return QString(s.userAgent + u' ' + s.path + u" #"_s + QString::number(s.id) +
                       (s.closing ? u" closing"_s : QString()));
    if (role == Qt::TextAlignmentRole)
        return c == Name || c == Peer || c == Connected || c == LastError
                   ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                   : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        switch (c) {
        case Name: {
            QStringList lines{tr("%1 (client #%2)").arg(s.name).arg(s.id)};
            lines.append(s.userAgent.isEmpty() ? tr("No User-Agent") : tr("User-Agent: %1").arg(s.userAgent));
            if (!s.path.isEmpty())
                lines.append(tr("Path: %1").arg(s.path));
            lines.append(tr("Received from it: %1 frames, %2").arg(s.framesIn).arg(Format::bytes(s.bytesIn)));
            lines.append(tr("Errors sent to it: %1").arg(s.errorsSent));
            if (s.closing)
                lines.append(tr("Closing: the close frame is sent, waiting for the client to take it"));
            return lines.join(u'\n');
        }
        case Connected:
            return s.connectedAt.isValid()
                       ? QVariant(tr("Connected %1 (%2 UTC)")
                                      .arg(s.connectedAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s),
                                           s.connectedAt.toUTC().toString(u"HH:mm:ss"_s)))
                       : QVariant();
        case Queue:
            return tr("%1 frames, %2 queued of the bound %3")
                .arg(s.queuedFrames)
                .arg(Format::bytes(static_cast<double>(s.queuedBytes)),
                     Format::bytes(static_cast<double>(s.queueBoundBytes)));
        case FramesOut:
            return tr("%1 frames (%2 of them data), %3 in all")
                .arg(s.framesOut)
                .arg(s.dataFramesOut)
                .arg(Format::bytes(static_cast<double>(s.bytesOut)));
        case LastError:
            return s.lastError.isEmpty() ? QVariant() : QVariant(s.lastError);
        default:
            return {};
        }
    }
    const bool raw = role == RawValueRole;
    if (!raw && role != Qt::DisplayRole)
        return {};
    auto count = [raw](qint64 n) { return raw ? QVariant(n) : QVariant(QString::number(n)); };
    switch (c) {
    case Name:
        return raw || !s.closing ? s.name : tr("%1 · closing").arg(s.name);
    case Peer: {
        const QString address = s.peerAddress.protocol() == QAbstractSocket::IPv6Protocol
                                    ? u'[' + s.peerAddress.toString() + u']'
                                    : s.peerAddress.toString();
        return QString(address + u':' + QString::number(s.peerPort));
    }
    case Connected:
        if (raw)
            return s.connectedAt.isValid() ? QVariant(s.connectedAt.toMSecsSinceEpoch())
                                           : QVariant(qint64(0));
        if (!s.connectedAt.isValid())
            return QString();
        return QString(s.connectedAt.toLocalTime().toString(u"HH:mm:ss"_s) + u" · "_s +
                       connectedFor(m_now.isValid() ? s.connectedAt.msecsTo(m_now) : 0));
    case Subscriptions:
        return count(s.subscriptions);
    case MsgsPerSec:
        return raw ? QVariant(r.frames.perSecond()) : QVariant(Format::rate(r.frames.perSecond()));
    case KBPerSec:
        return raw ? QVariant(r.bytes.perSecond() / 1024.0)
                   : QVariant(QString::number(r.bytes.perSecond() / 1024.0, 'f', 1));
    case FramesOut:
        return count(s.framesOut);
    case Queue:
        return raw ? QVariant(s.queuedBytes)
                   : QVariant(tr("%1 of %2")
                                  .arg(Format::bytes(static_cast<double>(s.queuedBytes)),
                                       Format::bytes(static_cast<double>(s.queueBoundBytes))));
    case HighWater:
        return raw ? QVariant(s.highWaterBytes)
                   : QVariant(Format::bytes(static_cast<double>(s.highWaterBytes)));
    case Dropped:
        return count(s.dropped);
    case Coalesced:
        return count(s.coalesced);
    case RateLimited:
        return count(s.rateLimited);
    case Malformed:
        return count(s.malformed);
    case LastError:
        return s.lastError;
    }
    return {};
}

void ClientsModel::applyClients(const QList<Gw::ClientStats> &clients, qint64 nowMs, const QDateTime &now)
{
    m_now = now;
    QList<const Gw::ClientStats *> added;
    QSet<int> present;
    present.reserve(clients.size());
    for (const Gw::ClientStats &c : clients) {
        present.insert(c.id);
        const auto it = m_index.constFind(c.id);
        if (it == m_index.constEnd()) {
            added.append(&c);
            continue;
        }
        Row &r = m_rows[*it];
        r.stats = c;
        r.frames.add(nowMs, c.framesOut);
        r.bytes.add(nowMs, c.bytesOut);
    }
    // Departed clients: one removal per run of adjacent rows, bottom-up.
    bool changed = false;
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0;) {
        if (present.contains(m_rows.at(row).stats.id)) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && !present.contains(m_rows.at(first - 1).stats.id))
            --first;
        beginRemoveRows({}, first, row);
        m_rows.remove(first, row - first + 1);
        endRemoveRows();
        changed = true;
        row = first - 1;
    }
    if (!added.isEmpty()) {
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
        for (const Gw::ClientStats *c : std::as_const(added)) {
            Row r;
            r.stats = *c;
            r.frames.add(nowMs, c->framesOut);
            r.bytes.add(nowMs, c->bytesOut);
            m_rows.append(r);
        }
        endInsertRows();
        changed = true;
    }
    if (changed) {
        m_index.clear();
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(m_rows.at(i).stats.id, i);
    }
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(m_rows.size()) - 1, ColumnCount - 1));
}

void ClientsModel::clear()
{
    if (m_rows.isEmpty())
        return;
    beginRemoveRows({}, 0, static_cast<int>(m_rows.size()) - 1);
    m_rows.clear();
    m_index.clear();
    endRemoveRows();
}

void ClientsModel::noteDeparted(const Gw::ClientStats &stats, Gw::CloseReason reason, int code,
                                const QString &detail, const QDateTime &at)
{
    QString why = reasonText(reason);
    if (!detail.isEmpty() && detail != why)
        why += u" ("_s + detail + u')';
    m_departed.push_back(Departed{stats, at, why, code});
    while (m_departed.size() > static_cast<size_t>(DepartedCapacity))
        m_departed.pop_front();
}

const Gw::ClientStats *ClientsModel::statsAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row).stats : nullptr;
}

int ClientsModel::rowOf(int id) const
{
    return m_index.value(id, -1);
}

double ClientsModel::messagesPerSecond(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).frames.perSecond() : 0;
}

double ClientsModel::bytesPerSecond(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).bytes.perSecond() : 0;
}

} // namespace FeedScope

#include "inspector.h"

#include "budget.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

MessageInspector::MessageInspector(Limits limits) : m_limits(limits) {}

void MessageInspector::evictOldest(Ring &r)
{
    const qint64 n = r.messages.front().raw.size();
    r.bytes -= n;
    m_bytes -= n;
    r.messages.pop_front();
    ++m_evicted;
}

void MessageInspector::evictAged(Ring &r, qint64 nowNs)
{
    if (m_limits.maxAge.count() <= 0)
        return;
    const qint64 oldest = nowNs - std::chrono::nanoseconds(m_limits.maxAge).count();
    const auto keep = static_cast<size_t>(std::max(1, m_limits.keepLatest));
    while (r.messages.size() > keep && r.messages.front().receivedNs < oldest)
        evictOldest(r);
}

void MessageInspector::record(const DataFrame &frame, qint64 now)
{
    // Wall time of receipt, from the frame's monotonic receive stamp (0: not stamped).
    const qint64 received = frame.receivedNs != 0 ? frame.receivedNs : now;
    const qint64 ageMs = std::max<qint64>(0, (now - received) / 1000000);
    Message m{QDateTime::currentDateTimeUtc().addMSecs(-ageMs),
              frame.connection,
              frame.raw,
              received,
              0,
              frame.snapshot,
              {}};
    bool watched = false;
    {
        std::lock_guard lock(m_mutex);
        watched = !m_watched.isEmpty() && m_watched == frame.key;
    }
    if (watched) // the preview of the one subscription a view shows, here rather than on the GUI thread
        m.summary = messageSummary(frame.raw);
    const qint64 size = frame.raw.size();
    std::lock_guard lock(m_mutex);
    m.seq = m_nextSeq++;
    Ring &r = m_rings[frame.key];
    r.messages.push_back(std::move(m));
    r.bytes += size;
    m_bytes += size;
    // The newest message always stays, however large; older ones go first.
    while (r.messages.size() > 1 &&
           (static_cast<int>(r.messages.size()) > m_limits.perSubscription ||
            r.bytes > m_limits.bytesPerSubscription || m_bytes > m_limits.bytesTotal))
        evictOldest(r);
    evictAged(r, now);
}

void MessageInspector::prune(qint64 nowNs)
{
    std::lock_guard lock(m_mutex);
    for (Ring &r : m_rings)
        evictAged(r, nowNs);
}

QList<MessageInspector::Message> MessageInspector::messages(const QByteArray &key) const
{
    std::lock_guard lock(m_mutex);
    QList<Message> out;
    auto it = m_rings.constFind(key);
    if (it == m_rings.constEnd())
        return out;
    out.reserve(static_cast<qsizetype>(it->messages.size()));
    for (const Message &m : it->messages)
        out.append(m);
    return out;
}

MessageInspector::Update MessageInspector::messagesAfter(const QByteArray &key, quint64 afterSeq) const
{
    Update u;
    std::lock_guard lock(m_mutex);
    auto it = m_rings.constFind(key);
    if (it == m_rings.constEnd())
        return u;
    u.known = true;
    const std::deque<Message> &ring = it->messages;
    u.kept = static_cast<int>(ring.size());
    if (ring.empty())
        return u;
    u.oldestSeq = ring.front().seq;
    auto first = std::upper_bound(ring.begin(), ring.end(), afterSeq,
                                  [](quint64 seq, const Message &m) { return seq < m.seq; });
    u.added.reserve(static_cast<qsizetype>(ring.end() - first));
    for (; first != ring.end(); ++first)
        u.added.append(*first);
    return u;
}

void MessageInspector::setWatched(const QByteArray &key)
{
    std::lock_guard lock(m_mutex);
    m_watched = key;
}

void MessageInspector::remove(const QByteArray &key)
{
    std::lock_guard lock(m_mutex);
    auto it = m_rings.find(key);
    if (it == m_rings.end())
        return;
    m_bytes -= it->bytes;
    m_rings.erase(it);
}

qint64 MessageInspector::bytes() const
{
    std::lock_guard lock(m_mutex);
    return m_bytes;
}

qint64 MessageInspector::evicted() const
{
    std::lock_guard lock(m_mutex);
    return m_evicted;
}

// --- previews and titles ------------------------------------------------------------------------

namespace {

constexpr qsizetype SummaryChars = 120;

QString tr(const char *text)
{
    return QCoreApplication::translate("FeedScope::MessageInspector", text);
}

/// "1 trade", "3 trades".
QString count(qsizetype n, const char *one, const char *many)
{
    return n == 1 ? tr(one) : tr(many).arg(n);
}

/// A scalar as text ("65000.5", "true", "null"); objects and arrays as a count.
QString scalar(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double: {
        const double d = v.toDouble();
        return d == std::floor(d) && std::abs(d) < 1e15 ? QString::number(static_cast<qint64>(d))
                                                        : QString::number(d, 'g', 10);
    }
    case QJsonValue::Bool:
        return v.toBool() ? u"true"_s : u"false"_s;
    case QJsonValue::Null:
        return u"null"_s;
    case QJsonValue::Array:
        return count(v.toArray().size(), "1 item", "%1 items");
    case QJsonValue::Object:
        return count(v.toObject().size(), "1 field", "%1 fields");
    case QJsonValue::Undefined:
        break;
    }
    return {};
}

QString side(const QJsonValue &v)
{
    const QString s = v.toString();
    if (s == "B"_L1)
        return tr("buy");
    if (s == "A"_L1)
        return tr("sell");
    return s;
}

/// "BTC buy 0.12 @ 65000.5" for anything with px and sz (trades, fills, orders).
QString tradeLike(const QJsonObject &o)
{
    QStringList parts;
    if (o.contains("coin"_L1))
        parts << o.value("coin"_L1).toString();
    if (o.contains("side"_L1))
        parts << side(o.value("side"_L1));
    parts << scalar(o.value("sz"_L1)) + u" @ "_s + scalar(o.value("px"_L1));
    return parts.join(u' ');
}

/// "65000.5 × 0.3" for a book level {px, sz, n}; "—" for none.
QString level(const QJsonValue &v)
{
    const QJsonObject o = v.toObject();
    if (!o.contains("px"_L1))
        return u"—"_s;
    return scalar(o.value("px"_L1)) + u" × "_s + scalar(o.value("sz"_L1));
}

/// The first scalar fields of @p o, the telling ones first, descending one level into objects.
void fields(const QJsonObject &o, QStringList &out, int depth)
{
    static const QLatin1StringView first[] = {"coin"_L1,     "side"_L1,        "px"_L1,     "sz"_L1,
                                              "markPx"_L1,   "midPx"_L1,       "status"_L1, "funding"_L1,
                                              "oraclePx"_L1, "openInterest"_L1};
    QStringList done;
    auto add = [&](const QString &k, const QJsonValue &v) {
        if (out.size() >= 5 || done.contains(k))
            return;
        done << k;
        if (v.isObject() && depth < 2) {
            fields(v.toObject(), out, depth + 1);
            return;
        }
        if (v.isArray() && !v.toArray().isEmpty() && v.toArray().first().isObject() && depth < 2) {
            out << k + u": "_s + count(v.toArray().size(), "1 item", "%1 items");
            return;
        }
        out << k + u' ' + scalar(v);
    };
    for (QLatin1StringView k : first)
        if (o.contains(k))
            add(QString(k), o.value(k));
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        add(it.key(), it.value());
}

QString summarizeData(const QString &channel, const QJsonValue &data)
{
    if (data.isArray()) {
        const QJsonArray a = data.toArray();
        const QString n = channel == "trades"_L1 ? count(a.size(), "1 trade", "%1 trades")
                                                 : count(a.size(), "1 item", "%1 items");
        if (a.isEmpty())
            return n;
        const QJsonObject o = a.first().toObject();
        if (o.contains("px"_L1) && o.contains("sz"_L1))
            return n + u" · "_s + tradeLike(o);
        QStringList f;
        if (o.contains("order"_L1))
            fields(o.value("order"_L1).toObject(), f, 1);
        fields(o, f, 0);
        return n + u" · "_s + f.join(u" · "_s);
    }
    const QJsonObject o = data.toObject();
    if (!data.isObject())
        return scalar(data);
    const QJsonArray bbo = o.value("bbo"_L1).toArray();
    if (bbo.size() == 2)
        return tr("bid %1 · ask %2").arg(level(bbo.at(0)), level(bbo.at(1)));
    const QJsonArray levels = o.value("levels"_L1).toArray();
    if (levels.size() == 2) {
        const QJsonArray bids = levels.at(0).toArray(), asks = levels.at(1).toArray();
        return tr("bid %1 · ask %2 · %3 + %4 levels")
            .arg(level(bids.isEmpty() ? QJsonValue() : bids.first()),
                 level(asks.isEmpty() ? QJsonValue() : asks.first()))
            .arg(bids.size())
            .arg(asks.size());
    }
    if (o.value("mids"_L1).isObject()) {
        const QJsonObject mids = o.value("mids"_L1).toObject();
        QString s = count(mids.size(), "1 mid", "%1 mids");
        if (!mids.isEmpty())
            s += u" · "_s + mids.constBegin().key() + u' ' + scalar(mids.constBegin().value());
        return s;
    }
    if (o.contains("s"_L1) && o.contains("i"_L1) && o.contains("o"_L1) && o.contains("c"_L1))
        return tr("%1 %2 · open %3 · high %4 · low %5 · close %6 · volume %7")
            .arg(scalar(o.value("s"_L1)), scalar(o.value("i"_L1)), scalar(o.value("o"_L1)),
                 scalar(o.value("h"_L1)), scalar(o.value("l"_L1)), scalar(o.value("c"_L1)),
                 scalar(o.value("v"_L1)));
    if (o.value("fills"_L1).isArray()) {
        const QJsonArray fills = o.value("fills"_L1).toArray();
        QString s = count(fills.size(), "1 fill", "%1 fills");
        if (o.value("isSnapshot"_L1).toBool())
            s = tr("snapshot") + u" · "_s + s;
        if (!fills.isEmpty())
            s += u" · "_s + tradeLike(fills.first().toObject());
        return s;
    }
    // Anything else: its first fields, without the ones that name the subscription (the title
    // has them).
    QJsonObject rest = o;
    rest.remove("coin"_L1);
    rest.remove("user"_L1);
    QStringList f;
    fields(rest.isEmpty() ? o : rest, f, 0);
    return f.join(u" · "_s);
}

} // namespace

QString messageSummary(const QByteArray &raw)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(raw, &error);
    QString s;
    if (doc.isNull()) {
        s = tr("not JSON: %1").arg(QString::fromUtf8(raw.left(SummaryChars)).simplified());
    } else if (doc.isObject() && doc.object().contains("data"_L1)) {
        const QJsonObject o = doc.object();
        s = summarizeData(o.value("channel"_L1).toString(), o.value("data"_L1));
    } else if (doc.isObject()) {
        QStringList f;
        fields(doc.object(), f, 0);
        s = f.join(u" · "_s);
    } else {
        s = summarizeData({}, doc.array());
    }
    if (s.size() > SummaryChars)
        s = s.left(SummaryChars - 1) + u'…';
    return s;
}

QString shortAddress(const QString &address)
{
    if (address.size() <= 12)
        return address;
    return address.left(5) + u'…' + address.right(4);
}

QString channelTitle(const QByteArray &canonical)
{
    const QJsonDocument doc = QJsonDocument::fromJson(canonical);
    if (!doc.isObject())
        return QString::fromUtf8(canonical);
    const QJsonObject o = doc.object();
    QStringList parts;
    parts << (o.contains("type"_L1) ? scalar(o.value("type"_L1)) : tr("(no type)"));
    // The parameters in reading order; the rest after them, as "name value".
    static const QLatin1StringView order[] = {"coin"_L1, "interval"_L1,        "user"_L1,
                                              "dex"_L1,  "nSigFigs"_L1,        "mantissa"_L1,
                                              "fast"_L1, "aggregateByTime"_L1, "isPortfolioMargin"_L1};
    QStringList seen{u"type"_s};
    auto describe = [&](const QString &k, const QJsonValue &v) {
        seen << k;
        if (k == "coin"_L1 || k == "interval"_L1)
            parts << scalar(v);
        else if (k == "user"_L1)
            parts << shortAddress(v.toString());
        else if (k == "dex"_L1) {
            if (!v.toString().isEmpty())
                parts << tr("dex %1").arg(v.toString());
        } else if (k == "nSigFigs"_L1)
            parts << tr("%1 significant figures").arg(v.toInt());
        else if (k == "mantissa"_L1)
            parts << tr("mantissa %1").arg(scalar(v));
        else if (k == "fast"_L1) {
            if (v.toBool())
                parts << tr("fast");
        } else if (k == "aggregateByTime"_L1) {
            if (v.toBool())
                parts << tr("aggregated by time");
        } else if (k == "isPortfolioMargin"_L1) {
            if (v.toBool())
                parts << tr("portfolio margin");
        } else
            parts << k + u' ' + scalar(v);
    };
    for (QLatin1StringView k : order)
        if (o.contains(k))
            describe(QString(k), o.value(k));
    for (auto it = o.constBegin(); it != o.constEnd(); ++it)
        if (!seen.contains(it.key()))
            describe(it.key(), it.value());
    return parts.join(u" · "_s);
}

// --- the list model -----------------------------------------------------------------------------

InspectorMessagesModel::InspectorMessagesModel(const MessageInspector *store, QObject *parent)
    : QAbstractListModel(parent), m_store(store)
{}

int InspectorMessagesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant InspectorMessagesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    MessageInspector::Message &m = m_rows[static_cast<size_t>(index.row())];
    auto summary = [&m]() -> const QString & {
        // Recorded before the view watched this subscription: computed once, when first shown.
        if (m.summary.isEmpty())
            m.summary = messageSummary(m.raw);
        return m.summary;
    };
    switch (role) {
    case Qt::DisplayRole:
        return QString(m.at.toLocalTime().toString(u"HH:mm:ss.zzz"_s) + u"  "_s +
                       Format::bytes(static_cast<double>(m.raw.size())) + u"  "_s + summary());
    case Qt::ToolTipRole: {
        QString tip = tr("Received %1 on connection #%2, %3")
                          .arg(m.at.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s))
                          .arg(m.connection)
                          .arg(Format::bytes(static_cast<double>(m.raw.size())));
        if (m.snapshot)
            tip += u"\n"_s + tr("A snapshot: the history the server replays after a subscribe");
        tip += u"\n"_s + summary();
        if (m.seq < m_oldestKept)
            tip += u"\n"_s + tr("No longer kept by the inspector; still listed because it is selected");
        return tip;
    }
    case KeyRole:
        return QVariant::fromValue<qulonglong>(m.seq);
    case RawValueRole:
        return m.raw;
    default:
        return {};
    }
}

void InspectorMessagesModel::setChannel(const QByteArray &key)
{
    beginResetModel();
    m_key = key;
    m_rows.clear();
    m_newestSeq = 0;
    m_oldestKept = 0;
    m_pinned = 0;
    m_kept = 0;
    endResetModel();
    refresh();
}

int InspectorMessagesModel::refresh()
{
    if (m_key.isEmpty() || !m_store)
        return 0;
    MessageInspector::Update u = m_store->messagesAfter(m_key, m_newestSeq);
    if (!u.known)
        return 0; // removed (unsubscribed) or not yet heard from: what is listed stays
    m_kept = u.kept;
    m_oldestKept = u.oldestSeq;
    // Rows the store let go: a run at the bottom (oldest), except the pinned one.
    int firstOld = static_cast<int>(m_rows.size());
    while (firstOld > 0 && m_rows[static_cast<size_t>(firstOld - 1)].seq < u.oldestSeq)
        --firstOld;
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= firstOld;) {
        if (m_rows[static_cast<size_t>(row)].seq == m_pinned) {
            --row;
            continue;
        }
        int first = row;
        while (first - 1 >= firstOld && m_rows[static_cast<size_t>(first - 1)].seq != m_pinned)
            --first;
        beginRemoveRows({}, first, row);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + row + 1);
        endRemoveRows();
        row = first - 1;
    }
    const int n = static_cast<int>(u.added.size());
    if (n > 0) {
        beginInsertRows({}, 0, n - 1);
        for (MessageInspector::Message &m : u.added) // oldest first: the newest ends up on top
            m_rows.push_front(std::move(m));
        m_newestSeq = m_rows.front().seq;
        endInsertRows();
    }
    return n;
}

int InspectorMessagesModel::rowOf(quint64 seq) const
{
    // Rows are in decreasing seq order.
    auto it = std::lower_bound(m_rows.begin(), m_rows.end(), seq,
                               [](const MessageInspector::Message &m, quint64 s) { return m.seq > s; });
    if (it == m_rows.end() || it->seq != seq)
        return -1;
    return static_cast<int>(it - m_rows.begin());
}

const MessageInspector::Message *InspectorMessagesModel::messageAt(int row) const
{
    if (row < 0 || row >= static_cast<int>(m_rows.size()))
        return nullptr;
    return &m_rows[static_cast<size_t>(row)];
}

} // namespace FeedScope

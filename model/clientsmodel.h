#pragma once

#include "gatewayserver.h"
#include "poolmodels.h"

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>

#include <deque>

namespace FeedScope {

/// The gateway's downstream clients (issue 14), one row each, keyed by client id, fed once per UI
/// tick from GatewayServer::clients(): rows of departed clients removed (bottom-up), new ones
/// inserted in one batch at the end, one dataChanged for the rest. Messages/s and KB/s out come
/// from successive samples of the cumulative counts. A client that went away leaves its last
/// figures in departed() (the Clients view's tooltip), the newest last, bounded.
class ClientsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        Name,
        Peer,
        Connected,
        Subscriptions,
        MsgsPerSec,
        KBPerSec,
        FramesOut,
        Queue,
        HighWater,
        Dropped,
        Coalesced,
        RateLimited,
        Malformed,
        LastError,
        ColumnCount
    };
    Q_ENUM(Column)

    /// The queue cell turns amber at half the bound, red from this fraction of it.
    static constexpr double QueueNearBound = 0.8;
    /// How many departed clients departed() keeps.
    static constexpr int DepartedCapacity = 20;

    struct Departed
    {
        Gw::ClientStats stats; ///< the last figures
        QDateTime at;
        QString reason; ///< in words ("closed by the client", "disconnected by the operator")
        int code = 0;   ///< the close code (0: none, the socket was lost)
    };

    using QAbstractTableModel::QAbstractTableModel;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// One tick: @p clients as GatewayServer::clients() gives them, @p nowMs a monotonic time for
    /// the rates, @p now the wall time for "connected for".
    void applyClients(const QList<Gw::ClientStats> &clients, qint64 nowMs, const QDateTime &now);
    /// Removes every row (the gateway stopped).
    void clear();
    /// Keeps @p stats as the last figures of a client that went away.
    void noteDeparted(const Gw::ClientStats &stats, Gw::CloseReason reason, int code, const QString &detail,
                      const QDateTime &at);
    const std::deque<Departed> &departed() const { return m_departed; }

    const Gw::ClientStats *statsAt(int row) const;
    /// The row of client @p id, or -1.
    int rowOf(int id) const;
    double messagesPerSecond(int row) const;
    double bytesPerSecond(int row) const;

    /// The reason a client's link ended, in words.
    static QString reasonText(Gw::CloseReason reason);
    /// "for 42 s", "for 3 min", "for 2 h 5 min", "for 3 d 4 h".
    static QString connectedFor(qint64 ms);

private:
    struct Row
    {
        Gw::ClientStats stats;
        RateWindow frames;
        RateWindow bytes;
    };
    Severity queueSeverity(const Gw::ClientStats &s) const;

    QList<Row> m_rows;
    QHash<int, int> m_index; ///< client id → row
    QDateTime m_now;
    std::deque<Departed> m_departed;
};

} // namespace FeedScope

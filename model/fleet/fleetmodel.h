#pragma once

#include "agentprobe.h"
#include "poolmodels.h"

#include <QAbstractTableModel>
#include <QTimer>

#include <memory>
#include <vector>

class QSettings;

namespace FeedScope {

/// The fleet view's table (issue 18): one row per agent, polled on the event loop of the thread
/// it lives on (no threads). Rows carry RowSeverityRole, and the Name column's RawValueRole
/// sorts problems first (unreachable or bad answer, alerts, connections down or subscriptions
/// not active, drops) and then by name.
class FleetModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FleetModel)

public:
    enum Column {
        Name,
        Reachable,
        Connections,
        Subscriptions,
        Rate,
        Reconnects,
        Drops,
        GatewayClients,
        LastSeen,
        Problems, ///< last: it takes the room that is left
        ColumnCount
    };
    Q_ENUM(Column)
    enum Role {
        LiveUrlRole = FilterTextRole + 32, ///< the agent's /live URL (QUrl)
        ProblemRankRole,                   ///< 0 unreachable … 5 fine (int)
    };

    static constexpr qint64 DefaultIntervalMs = 2000;

    explicit FleetModel(QObject *parent = nullptr);
    ~FleetModel() override;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// Adds an agent (polled at once); one whose host:port is listed already is refused.
    bool addAgent(const AgentAddress &address, QString *error = nullptr);
    void removeAgent(int row);
    void clear();
    QList<AgentAddress> agents() const;
    int rowOf(const QUrl &base) const;
    /// Adds the good lines of a fleet file; returns its errors (one per bad line, or why the
    /// file cannot be read). Agents listed already are skipped silently.
    QStringList loadFile(const QString &path);

    const AgentStatus &status(int row) const;
    const AgentAddress &address(int row) const;

    void setIntervalMs(qint64 ms);
    qint64 intervalMs() const { return m_intervalMs; }
    void setTimeoutMs(qint64 ms);
    void setMaxBytes(qint64 bytes);
    /// Polls every agent now that is not busy (the backoff of unreachable ones aside).
    void pollNow();

    /// The list and the interval, under "fleet/" in @p settings.
    void save(QSettings &settings) const;
    void load(QSettings &settings);

    /// Bytes of answers received and polls made, over all agents since this model was made.
    qint64 bytesReceived() const;
    qint64 polls() const;

    static int problemRank(const AgentStatus &s);
    static Severity rowSeverity(const AgentStatus &s);
    static QString problemText(const AgentStatus &s);

Q_SIGNALS:
    /// The list of agents changed (added, removed, loaded): for whoever persists it.
    void agentsChanged();

private:
    struct Row
    {
        std::unique_ptr<AgentProbe> probe;
    };
    void tick();
    void refreshAges();
    QVariant display(const AgentStatus &s, const AgentAddress &a, int column) const;
    QVariant tooltip(const AgentStatus &s, const AgentAddress &a, int column) const;
    QVariant raw(const AgentStatus &s, const AgentAddress &a, int column) const;
    QVariant severity(const AgentStatus &s, int column) const;

    std::vector<Row> m_rows;
    QTimer m_tick;
    qint64 m_intervalMs = DefaultIntervalMs;
    qint64 m_timeoutMs = AgentProbe::DefaultTimeoutMs;
    qint64 m_maxBytes = AgentProbe::DefaultMaxBytes;
    qint64 m_lastAgesMs = 0;
    qint64 m_removedBytes = 0;
    qint64 m_removedPolls = 0;
};

} // namespace FeedScope

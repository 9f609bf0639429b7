#pragma once

#include <QUrl>
#include <QWidget>

#include <deque>

class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;

namespace FeedScope {

class FleetModel;
class TableProxy;

/// The fleet view (issue 18): one row per headless agent, problems first, coloured like the main
/// window's tables. Add agent… / Remove / Load file… edit the list; Attach (or a double-click, or
/// Enter) asks for the agent's window with attachRequested(). With persistence on, the list and
/// the poll interval live in QSettings ("fleet/").
class FleetWindow final : public QWidget
{
    Q_OBJECT

public:
    explicit FleetWindow(QWidget *parent = nullptr);
    ~FleetWindow() override;

    FleetModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    TableProxy *proxy() const { return m_proxy; }
    QSpinBox *intervalBox() const { return m_interval; }
    QPushButton *attachButton() const { return m_attach; }
    QPushButton *removeButton() const { return m_remove; }
    QPushButton *addButton() const { return m_add; }

    /// Loads the list from QSettings now and saves every change to it.
    void setPersistent(bool on);
    /// Adds the agents of a fleet file; the bad lines are shown (and returned).
    QStringList loadFile(const QString &path);
    /// Adds an agent from a URL and a name as the Add agent… dialog does; false with @p error.
    bool addAgent(const QString &url, const QString &name, QString *error);
    /// The /live URL of the agent in the view's row @p viewRow (invalid when none).
    QUrl liveUrlAt(int viewRow) const;
    /// Emits attachRequested() for the current row.
    void attachCurrent();
    /// The status line's text (agents, problems, cost of polling).
    QString statusText() const;

Q_SIGNALS:
    void attachRequested(const QUrl &liveUrl);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void showAddDialog();
    void removeSelected();
    void chooseFile();
    void updateStatus();
    void updateButtons();
    void saveSettings() const;

    FleetModel *m_model;
    TableProxy *m_proxy;
    QTableView *m_table;
    QSpinBox *m_interval;
    QPushButton *m_attach;
    QPushButton *m_remove;
    QPushButton *m_add;
    QLabel *m_status;
    QLabel *m_fileErrors;
    bool m_persistent = false;
    std::deque<std::pair<qint64, qint64>> m_received; ///< (monotonic ms, bytes) over the last ~10 s
    double m_bytesPerSecond = 0;
};

} // namespace FeedScope

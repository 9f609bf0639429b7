#pragma once

#include "livemodels.h"
#include "tableproxy.h"

#include <QSortFilterProxyModel>
#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace FeedScope {

class FreezeProxy;
class LiveTableView;

/// The session events view's filter: words in any order like the other tables' filters, and the
/// once-a-second statistics events hidden unless asked for (they would bury everything else).
class EventsProxy final : public TableProxy
{
    Q_OBJECT

public:
    using TableProxy::TableProxy;
    void setShowStatistics(bool show);

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override;

private:
    bool m_showStatistics = false;
};

/// Events an opened file may put in the view (the newest ones beyond are not shown).
inline constexpr int SessionFileViewCapacity = 200000;

/// The "Session events" tab: a filter box, the statistics toggle and the events table, showing
/// either the live session (the controller's model) or an opened JSONL export on its own, with a
/// banner "Showing FILE (N events) — Back to live" above it; live events never mix into a file.
class SessionEventsView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionEventsView)

public:
    explicit SessionEventsView(SessionEventsModel *live, QWidget *parent = nullptr);
    ~SessionEventsView() override;

    QTableView *table() const;
    /// Pause updates: the live events stay as they are (an opened file never changes anyway).
    void setFrozen(bool frozen);
    EventsProxy *proxy() const { return m_proxy; }

    /// Shows the events of the file @p path instead of the live ones.
    void showFile(const QString &path, const QList<SessionEvent> &events);
    /// Back to the live session (what the banner's button does).
    void showLive();
    bool showingFile() const { return m_fileModel != nullptr; }
    /// The banner's text ("" while live).
    QString bannerText() const;
    QPushButton *backToLiveButton() const { return m_backToLive; }

Q_SIGNALS:
    void showingFileChanged(bool file);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    SessionEventsModel *m_live;
    std::unique_ptr<SessionEventsModel> m_fileModel;
    FreezeProxy *m_liveFrozen = nullptr;
    EventsProxy *m_proxy = nullptr;
    LiveTableView *m_table = nullptr;
    QLabel *m_count = nullptr;
    QLineEdit *m_filter = nullptr;
    QWidget *m_banner = nullptr;
    QLabel *m_bannerText = nullptr;
    QPushButton *m_backToLive = nullptr;
};

} // namespace FeedScope

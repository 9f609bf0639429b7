#pragma once

#include "alerts.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTableView;

namespace FeedScope {

class AlertsModel;
class LiveTableView;
class TableProxy;

/// The Alerts tab: a filter box like the other tabs, then the alerts — the firing ones first
/// (severity icon and tint, critical before warnings), then the history, newest first. With no
/// alert at all it says so and lists the rules, with a button to Settings → Alerts. A double-click
/// on an alert about a channel or a connection asks for that row (subscriptionActivated,
/// connectionActivated).
class AlertsView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertsView)

public:
    explicit AlertsView(AlertsModel *model, QWidget *parent = nullptr);
    ~AlertsView() override;

    QTableView *table() const;
    TableProxy *proxy() const { return m_proxy; }
    QLineEdit *filter() const { return m_filter; }
    /// The empty state's button and the bar's: Settings → Alerts.
    QPushButton *rulesButton() const { return m_rulesButton; }
    /// The rules the empty state lists.
    void setRules(const QList<AlertRule> &rules);
    bool emptyStateShown() const;
    QString emptyStateText() const;
    QString countText() const;

Q_SIGNALS:
    void settingsRequested();
    void subscriptionActivated(const QByteArray &canonical);
    void connectionActivated(int connection);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void updateState();

    AlertsModel *m_model;
    TableProxy *m_proxy = nullptr;
    LiveTableView *m_table = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_count = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_emptyText = nullptr;
    QPushButton *m_rulesButton = nullptr;
    QPushButton *m_emptyRulesButton = nullptr;
};

} // namespace FeedScope

#include "alertsview.h"

#include "alertsmodel.h"
#include "emptystate.h"
#include "livetableview.h"
#include "tableproxy.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

AlertsView::AlertsView(AlertsModel *model, QWidget *parent) : QWidget(parent), m_model(model)
{
    m_proxy = new TableProxy(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setProblemsFirst(true); // firing (critical, then warnings) on top whatever the sort
    m_table = new LiveTableView(this);
    m_table->setObjectName(u"alerts"_s);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(AlertsModel::Time, Qt::DescendingOrder);
    m_table->setWidestText(AlertsModel::Value, tr("12 reconnects in 10 min (more than 5)"));
    m_table->setEmptyText(tr("No alert matches the filter."));
    connect(m_table, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &i) {
        const QByteArray key = i.data(AlertSubscriptionRole).toByteArray();
        if (!key.isEmpty()) {
            Q_EMIT subscriptionActivated(key);
            return;
        }
        const int id = i.data(AlertConnectionRole).toInt();
        if (i.data(AlertConnectionRole).isValid() && id >= 0)
            Q_EMIT connectionActivated(id);
    });

    m_filter = new QLineEdit(this);
    m_filter->setObjectName(u"alertsFilter"_s);
    m_filter->setPlaceholderText(tr("Filter alerts: words in any order (firing, critical, ETH, connection)"));
    m_filter->setToolTip(tr("Every word must match some column (rule, subject, value, state…), in any order, "
                            "ignoring case"));
    m_filter->setClearButtonEnabled(true);
    m_filter->installEventFilter(this);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterWords(text);
        updateState();
    });
    m_count = new QLabel(this);
    m_count->setObjectName(u"alertsCount"_s);
    m_rulesButton = new QPushButton(tr("Alert &rules…"), this);
    m_rulesButton->setObjectName(u"alertRulesButton"_s);
    m_rulesButton->setToolTip(tr("Settings → Alerts: which rules fire, their limits and severities"));
    connect(m_rulesButton, &QPushButton::clicked, this, &AlertsView::settingsRequested);

    // The empty state: what would fire, and where to change it.
    // Scrolled, so the rules' list never asks the window for room (Channels keeps it).
    const EmptyState es = makeEmptyState(tr("Settings → Alerts…"), this);
    m_emptyText = es.text;
    m_emptyText->setObjectName(u"alertsEmptyText"_s);
    m_emptyText->setForegroundRole(QPalette::PlaceholderText);
    m_emptyRulesButton = es.button;
    m_emptyRulesButton->setObjectName(u"alertsEmptySettings"_s);
    connect(m_emptyRulesButton, &QPushButton::clicked, this, &AlertsView::settingsRequested);
    QScrollArea *emptyArea = es.area;
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(emptyArea);
    m_stack->addWidget(m_table);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_count);
    bar->addWidget(m_rulesButton);
    layout->addLayout(bar);
    layout->addWidget(m_stack, 1);

    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, &AlertsView::updateState);
    connect(m_model, &QAbstractItemModel::modelReset, this, &AlertsView::updateState);
    connect(m_model, &AlertsModel::firingChanged, this, &AlertsView::updateState);
    setRules({});
}

AlertsView::~AlertsView() = default;

QTableView *AlertsView::table() const
{
    return m_table;
}

void AlertsView::setRules(const QList<AlertRule> &rules)
{
    QStringList on;
    int off = 0;
    for (const AlertRule &r : rules) {
        if (r.enabled)
            on.append(u"• "_s + r.describe());
        else
            ++off;
    }
    QString text;
    if (rules.isEmpty())
        text = tr("No alerts. Rules: none yet.");
    else if (on.isEmpty())
        text = tr("No alerts. Rules: all %1 turned off.").arg(rules.size());
    else
        text = tr("No alerts. Rules:") + u'\n' + on.join(u'\n') +
               (off > 0 ? u'\n' + Format::plural(off, tr("(1 more turned off)"), tr("(%1 more turned off)"))
                        : QString());
    m_emptyText->setText(text);
    updateState();
}

bool AlertsView::emptyStateShown() const
{
    return m_stack->currentIndex() == 0;
}

QString AlertsView::emptyStateText() const
{
    return m_emptyText->text();
}

QString AlertsView::countText() const
{
    return m_count->text();
}

void AlertsView::updateState()
{
    const int total = m_model->rowCount();
    const int firing = m_model->firingCount();
    m_stack->setCurrentIndex(total == 0 ? 0 : 1);
    QString text = firing > 0 ? tr("%1 firing · ").arg(firing) : QString();
    text += m_proxy->isFiltering()
                ? Format::plural(total, tr("%1 of 1 alert").arg(m_proxy->rowCount()),
                                 tr("%1 of %2 alerts").arg(m_proxy->rowCount()).arg(u"%1"_s))
                : Format::plural(total, tr("1 alert"), tr("%1 alerts"));
    m_count->setText(text);
}

bool AlertsView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape && !m_filter->text().isEmpty()) {
        m_filter->clear(); // Esc: every alert again
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace FeedScope

#include "inspectorview.h"

#include "inspector.h"
#include "inspectorsearchproxy.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

QByteArray keyOf(const QModelIndex &index)
{
    return index.isValid() ? index.siblingAtColumn(0).data(KeyRole).toByteArray() : QByteArray();
}

bool holds(const QAbstractItemModel *model, const QByteArray &key)
{
    if (!model)
        return false;
    for (int row = 0, n = model->rowCount(); row < n; ++row)
        if (model->index(row, 0).data(KeyRole).toByteArray() == key)
            return true;
    return false;
}

} // namespace

InspectorView::InspectorView(MessageInspector *store, QWidget *parent)
    : QWidget(parent), m_store(store), m_model(new InspectorMessagesModel(store, this)),
      m_proxy(new InspectorSearchProxy(this))
{
    m_proxy->setSourceModel(m_model);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);

    // The title never widens the inspector: it elides to the width it gets (eventFilter).
    m_title = new QLabel(this);
    m_title->setObjectName(u"inspectorTitle"_s);
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_title->setTextFormat(Qt::PlainText);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_title->installEventFilter(this);
    // Live, paused or gone, beside the title.
    m_state = new QLabel(this);
    m_state->setObjectName(u"inspectorState"_s);
    auto *titleRow = new QHBoxLayout;
    titleRow->addWidget(m_title, 1);
    titleRow->addWidget(m_state);

    auto *tools = new QToolBar(this);
    tools->setIconSize(QSize(16, 16));
    m_follow = tools->addAction(tr("Follow"));
    m_follow->setCheckable(true);
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Add the new messages to the list once a second (the message you picked stays "
                            "shown); off to freeze the list"));
    connect(m_follow, &QAction::toggled, this, [this](bool on) {
        if (on)
            refresh();
        updateWidgets();
    });
    m_newest = tools->addAction(tr("Newest"));
    m_newest->setToolTip(tr("Show the newest message, and keep showing the newest as they arrive"));
    connect(m_newest, &QAction::triggered, this, &InspectorView::showNewest);
    // Copy: a click copies the message; its menu also has the channel's JSON (one button, so the
    // toolbar fits a narrow inspector).
    m_copyMessage = new QAction(tr("Copy message"), this);
    m_copyMessage->setToolTip(tr("Copy the shown message, indented, to the clipboard"));
    connect(m_copyMessage, &QAction::triggered, this, [this] {
        QApplication::clipboard()->setText(m_text->toPlainText());
        Q_EMIT notice(tr("Message copied"));
    });
    m_copyChannel = new QAction(tr("Copy channel as JSON"), this);
    connect(m_copyChannel, &QAction::triggered, this, [this] {
        QApplication::clipboard()->setText(QString::fromUtf8(m_key));
        Q_EMIT notice(tr("Channel copied as JSON"));
    });
    auto *copyMenu = new QMenu(this);
    copyMenu->addAction(m_copyMessage);
    copyMenu->addAction(m_copyChannel);
    auto *copy = new QToolButton(tools);
    copy->setObjectName(u"inspectorCopy"_s);
    copy->setText(tr("Copy"));
    copy->setToolTip(m_copyMessage->toolTip());
    copy->setPopupMode(QToolButton::MenuButtonPopup);
    copy->setMenu(copyMenu);
    connect(copy, &QToolButton::clicked, m_copyMessage, &QAction::trigger);
    for (QAction *a : {m_copyMessage, m_copyChannel})
        connect(a, &QAction::changed, copy,
                [this, copy] { copy->setEnabled(m_copyMessage->isEnabled() || m_copyChannel->isEnabled()); });
    tools->addWidget(copy);

    m_search = new QLineEdit(this);
    m_search->setObjectName(u"inspectorSearch"_s);
    m_search->setPlaceholderText(tr("Search the messages (text in their JSON)"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, this, &InspectorView::onSearchChanged);
    m_count = new QLabel(this);
    m_count->setObjectName(u"inspectorCount"_s);
    auto *searchRow = new QHBoxLayout;
    searchRow->addWidget(m_search, 1);
    searchRow->addWidget(m_count);

    m_list = new InspectorListView(this);
    m_list->setObjectName(u"inspectorList"_s);
    m_list->setModel(m_proxy);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex &current) { onListCurrentChanged(current); });
    // A click on the row that is already current (the newest, while following) picks it too.
    connect(m_list, &QAbstractItemView::pressed, this, &InspectorView::onListCurrentChanged);
    m_text = new QPlainTextEdit(this);
    m_text->setObjectName(u"inspectorText"_s);
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setMaximumBlockCount(20000);
    // Reading the newest message (scrolling or selecting in it) keeps it shown, as a click would.
    auto keepShown = [this] {
        if (m_pinned == 0 && m_shownSeq != 0) {
            m_pinned = m_shownSeq;
            m_model->setPinned(m_pinned);
            updateWidgets();
        }
    };
    connect(m_text->verticalScrollBar(), &QAbstractSlider::actionTriggered, this, keepShown);
    connect(m_text->horizontalScrollBar(), &QAbstractSlider::actionTriggered, this, keepShown);
    connect(m_text, &QPlainTextEdit::selectionChanged, this, [this, keepShown] {
        if (m_text->textCursor().hasSelection())
            keepShown();
    });

    // The list keeps its few rows; the message text takes the rest.
    auto *split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(u"inspectorMessageSplitter"_s);
    split->addWidget(m_list);
    split->addWidget(m_text);
    split->setCollapsible(0, false);
    split->setCollapsible(1, false);
    // A quarter for the list (at least two rows), three for the text, kept as the inspector grows
    // (no stretch factors: the splitter keeps these proportions) until the user moves it.
    split->setSizes({100, 300});

    layout->addLayout(titleRow);
    layout->addWidget(tools);
    layout->addLayout(searchRow);
    layout->addWidget(split, 1);
    updateTitle();
    updateWidgets();
}

InspectorView::~InspectorView()
{
    if (m_store)
        m_store->setWatched({});
}

void InspectorView::watchChannels(QAbstractItemView *channels, QAbstractItemModel *source)
{
    m_channels = channels;
    m_source = source;
    // The current row moves on its own when its row goes (an unsubscribe, the filter): decide after
    // the removal, when it is known whether the channel left the model or only the view.
    connect(channels->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current, const QModelIndex &previous) {
                const QByteArray cur = keyOf(current), prev = keyOf(previous);
                QTimer::singleShot(0, this, [this, cur, prev] { settleCurrentChannel(cur, prev); });
            });
    // A click (even on the row that is already current) inspects that channel.
    connect(channels, &QAbstractItemView::pressed, this, [this](const QModelIndex &index) {
        const QByteArray key = keyOf(index);
        if (!key.isEmpty())
            showChannel(key);
    });
    auto check = [this] {
        if (m_checkPending)
            return;
        m_checkPending = true; // one look per burst of removals
        QTimer::singleShot(0, this, &InspectorView::checkSource);
    };
    connect(source, &QAbstractItemModel::rowsRemoved, this, check);
    connect(source, &QAbstractItemModel::rowsInserted, this, check);
    connect(source, &QAbstractItemModel::modelReset, this, check);
    if (m_key.isEmpty())
        showChannel(keyOf(channels->selectionModel()->currentIndex()));
}

void InspectorView::settleCurrentChannel(const QByteArray &current, const QByteArray &previous)
{
    if (!m_key.isEmpty() && previous == m_key && !holds(m_channels->model(), m_key)) {
        // Our row went away under the user: stay on the channel, and say so if it is gone.
        checkSource();
        return;
    }
    if (!m_key.isEmpty() && previous.isEmpty())
        return; // the window picking a current row by itself (after a reset): not the user's choice
    if (!current.isEmpty())
        showChannel(current);
}

void InspectorView::checkSource()
{
    m_checkPending = false;
    if (m_key.isEmpty() || !m_source)
        return;
    const bool present = holds(m_source, m_key);
    if (!present && !m_gone) {
        markGone();
    } else if (present && m_gone) { // subscribed again
        m_gone = false;
        m_store->setWatched(m_key);
        refresh();
        updateWidgets();
    }
}

void InspectorView::showChannel(const QByteArray &canonical)
{
    if (canonical == m_key && !canonical.isEmpty()) {
        if (m_gone) {
            m_gone = false;
            m_store->setWatched(m_key);
        }
        refresh();
        updateWidgets();
        return;
    }
    m_key = canonical;
    m_gone = false;
    m_pinned = 0;
    m_shownSeq = 0;
    m_store->setWatched(m_key);
    m_selecting = true;
    m_model->setChannel(m_key);
    m_selecting = false;
    m_text->clear();
    updateTitle();
    selectPinnedOrNewest();
    updateWidgets();
}

void InspectorView::markGone()
{
    if (m_key.isEmpty() || m_gone)
        return;
    m_gone = true;
    m_store->setWatched({});
    updateWidgets();
}

void InspectorView::refresh()
{
    if (m_key.isEmpty() || m_gone || !m_follow->isChecked() || !isVisible())
        return;
    const int rowBefore = m_pinned ? m_list->currentIndex().row() : -1;
    m_selecting = true;
    m_model->refresh();
    m_selecting = false;
    if (m_pinned && rowBefore >= 0 && m_list->currentIndex().isValid()) {
        // The picked message stays where the user sees it while rows arrive above it.
        const int moved = m_list->currentIndex().row() - rowBefore;
        if (moved > 0) {
            m_list->doItemsLayout();
            QScrollBar *bar = m_list->verticalScrollBar();
            const int step = m_list->verticalScrollMode() == QAbstractItemView::ScrollPerItem
                                 ? 1
                                 : std::max(1, m_list->sizeHintForRow(0));
            bar->setValue(bar->value() + moved * step);
        }
    } else {
        selectPinnedOrNewest();
    }
    updateWidgets();
}

void InspectorView::showNewest()
{
    m_pinned = 0;
    m_model->setPinned(0);
    selectPinnedOrNewest();
    updateWidgets();
}

void InspectorView::selectRow(int proxyRow)
{
    m_selecting = true;
    if (proxyRow < 0)
        m_list->selectionModel()->clear();
    else
        m_list->selectionModel()->setCurrentIndex(m_proxy->index(proxyRow, 0),
                                                  QItemSelectionModel::ClearAndSelect);
    m_selecting = false;
}

void InspectorView::selectPinnedOrNewest()
{
    if (m_pinned) {
        const int row = m_model->rowOf(m_pinned);
        const QModelIndex at = row < 0 ? QModelIndex() : m_proxy->mapFromSource(m_model->index(row, 0));
        selectRow(at.isValid() ? at.row() : -1); // hidden by the search: still shown below
        if (at.isValid())
            m_list->scrollTo(at);
        showMessage(m_pinned);
        return;
    }
    if (m_proxy->rowCount() == 0) {
        selectRow(-1);
        showMessage(0);
        return;
    }
    selectRow(0);
    m_list->scrollToTop();
    showMessage(m_proxy->index(0, 0).data(KeyRole).toULongLong());
}

void InspectorView::onListCurrentChanged(const QModelIndex &current)
{
    if (m_selecting || !current.isValid())
        return;
    // The user's pick: it stays shown while new messages arrive.
    m_pinned = current.data(KeyRole).toULongLong();
    m_model->setPinned(m_pinned);
    showMessage(m_pinned);
    updateWidgets();
}

void InspectorView::onSearchChanged(const QString &text)
{
    m_selecting = true;
    m_proxy->setSearch(text);
    m_selecting = false;
    selectPinnedOrNewest();
    updateWidgets();
}

void InspectorView::showMessage(quint64 seq)
{
    if (seq == 0) {
        m_shownSeq = 0;
        if (!m_search->text().isEmpty() && m_proxy->rowCount() == 0 && m_model->rowCount() > 0)
            m_text->setPlainText(tr("No message contains “%1”.").arg(m_search->text()));
        else
            m_text->clear();
        return;
    }
    if (seq == m_shownSeq)
        return; // the same message: keep the user's place in the text
    const MessageInspector::Message *m = m_model->messageAt(m_model->rowOf(seq));
    if (!m)
        return;
    m_shownSeq = seq;
    const QJsonDocument doc = QJsonDocument::fromJson(m->raw);
    m_text->setPlainText(doc.isNull() ? QString::fromUtf8(m->raw)
                                      : QString::fromUtf8(doc.toJson(QJsonDocument::Indented)));
}

QString InspectorView::stateText() const
{
    return m_state->text();
}

QString InspectorView::countText() const
{
    return m_count->text();
}

void InspectorView::updateTitle()
{
    m_titleText = m_key.isEmpty() ? tr("Select a channel to see its last messages") : channelTitle(m_key);
    const QString json = QString::fromUtf8(m_key);
    m_title->setToolTip(m_key.isEmpty() ? QString() : m_titleText + u"\n"_s + json);
    m_copyChannel->setToolTip(m_key.isEmpty() ? tr("Copy the channel's subscription as JSON")
                                              : tr("Copy the channel's subscription as JSON: %1").arg(json));
    m_title->setText(m_title->fontMetrics().elidedText(m_titleText, Qt::ElideRight,
                                                       std::max(0, m_title->contentsRect().width())));
}

void InspectorView::updateWidgets()
{
    const bool channel = !m_key.isEmpty();
    const int shown = m_proxy->rowCount(), total = m_model->rowCount();
    QString state, why;
    if (m_gone) {
        state = tr("Gone: unsubscribed");
        why = total == 0 ? tr("This channel is no longer subscribed")
              : total == 1
                  ? tr("This channel is no longer subscribed; the last message it sent stays listed")
                  : tr("This channel is no longer subscribed; the last %1 messages it sent stay listed")
                        .arg(total);
    } else if (!m_follow->isChecked()) {
        state = tr("Paused");
        why = tr("Follow is off: new messages are not added to the list");
    } else {
        state = tr("Live");
        why = tr("New messages are added to the list once a second, the newest on top");
    }
    m_state->setToolTip(why);
    m_state->setText(state);
    m_state->setVisible(channel);
    if (m_state->font().bold() != m_gone || m_paletteChanged) { // "Gone" in bold red
        m_paletteChanged = false;
        QPalette p = palette();
        if (m_gone) {
            const bool dark = p.color(QPalette::Window).lightnessF() < 0.5;
            p.setColor(QPalette::WindowText, dark ? QColor(0xff, 0x7b, 0x72) : QColor(0xcf, 0x22, 0x2e));
        }
        m_state->setPalette(p);
        QFont f = m_state->font();
        f.setBold(m_gone);
        m_state->setFont(f);
    }

    m_count->setText(m_search->text().isEmpty()
                         ? (total == 1 ? tr("1 message") : tr("%1 messages").arg(total))
                         : tr("%1 of %2").arg(shown).arg(total));
    // Newest: how many arrived above the shown message.
    int newer = 0;
    if (m_pinned) {
        const int row = m_model->rowOf(m_pinned);
        const QModelIndex at = row < 0 ? QModelIndex() : m_proxy->mapFromSource(m_model->index(row, 0));
        newer = at.isValid() ? at.row() : shown;
    }
    m_newest->setText(newer > 0 ? tr("Newest (%1 new)").arg(newer) : tr("Newest"));
    m_newest->setEnabled(channel && m_pinned != 0);
    m_follow->setEnabled(channel && !m_gone);
    m_copyMessage->setEnabled(m_shownSeq != 0);
    m_copyChannel->setEnabled(channel);
    m_search->setEnabled(channel);
}

bool InspectorView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_title && (event->type() == QEvent::Resize || event->type() == QEvent::FontChange))
        updateTitle();
    return QWidget::eventFilter(watched, event);
}

void InspectorView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh(); // nothing was added while hidden
}

void InspectorView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        m_paletteChanged = true;
        updateWidgets();
    }
}

} // namespace FeedScope

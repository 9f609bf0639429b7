#pragma once

#include "inspectorlistview.h"

#include <QWidget>

class QAbstractItemModel;
class QAbstractItemView;
class QAction;
class QLabel;
class QLineEdit;
class QModelIndex;
class QPlainTextEdit;

namespace FeedScope {

class InspectorMessagesModel;
class InspectorSearchProxy;
class MessageInspector;

/// The inspector of one channel: its title in words (the canonical JSON in the tooltip and one
/// click away), whether it is live, paused or gone, a search over the messages' JSON with "N of
/// M", a compact list of the last messages (time, size, a one-line preview) and the selected
/// message as indented JSON below, taking most of the height.
///
/// With Follow on, refresh() (the window calls it once a second) adds the new messages on top.
/// Until the user picks a message (a click, the keys, or scrolling or selecting in its text) the
/// newest is shown; a picked message stays shown, by identity, while new ones arrive above it, and
/// Newest goes back to following the newest. A channel that
/// leaves the channels model (unsubscribed) is shown as gone, its last messages still listed.
/// The previews are made off the GUI thread (MessageInspector::setWatched); a refresh takes only
/// what is new.
class InspectorView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorView)

public:
    explicit InspectorView(MessageInspector *store, QWidget *parent = nullptr);
    ~InspectorView() override;

    /// Follows the current row of @p channels, whose rows carry the canonical subscription in
    /// KeyRole (column 0). @p source is the channels model behind any proxy: a channel that leaves
    /// it is shown as gone; one that the view's filter only hides stays shown.
    void watchChannels(QAbstractItemView *channels, QAbstractItemModel *source);
    /// Shows @p canonical's messages, live; empty: none. The same channel again only refreshes
    /// (or brings a gone one back).
    void showChannel(const QByteArray &canonical);
    QByteArray channel() const { return m_key; }
    /// Says the channel is gone; its last messages stay listed, frozen.
    void markGone();
    bool isGone() const { return m_gone; }
    /// With Follow on and the view shown: adds the messages that arrived since the last call.
    void refresh();
    /// Shows the newest message and follows the newest again.
    void showNewest();

    QAction *followAction() const { return m_follow; }
    QAction *newestAction() const { return m_newest; }
    QAction *copyMessageAction() const { return m_copyMessage; }
    QAction *copyChannelAction() const { return m_copyChannel; }
    InspectorListView *list() const { return m_list; }
    QPlainTextEdit *text() const { return m_text; }
    QLineEdit *searchBox() const { return m_search; }
    QLabel *titleLabel() const { return m_title; }
    /// The full title (the label may show it elided).
    QString title() const { return m_titleText; }
    QString stateText() const;
    QString countText() const;
    /// The message shown below the list (its seq), 0 for none.
    quint64 shownMessage() const { return m_shownSeq; }
    /// The message the user picked (kept shown while new ones arrive), 0 while following the newest.
    quint64 pinnedMessage() const { return m_pinned; }

Q_SIGNALS:
    /// A short confirmation for the status bar ("Message copied").
    void notice(const QString &text);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void onListCurrentChanged(const QModelIndex &current);
    void onSearchChanged(const QString &text);
    void settleCurrentChannel(const QByteArray &current, const QByteArray &previous);
    void checkSource();
    void selectRow(int proxyRow);
    void selectPinnedOrNewest();
    void showMessage(quint64 seq);
    void updateTitle();
    void updateWidgets();

    MessageInspector *m_store;
    InspectorMessagesModel *m_model = nullptr;
    InspectorSearchProxy *m_proxy = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_state = nullptr;
    QLineEdit *m_search = nullptr;
    QLabel *m_count = nullptr;
    InspectorListView *m_list = nullptr;
    QPlainTextEdit *m_text = nullptr;
    QAction *m_follow = nullptr;
    QAction *m_newest = nullptr;
    QAction *m_copyMessage = nullptr;
    QAction *m_copyChannel = nullptr;
    QAbstractItemView *m_channels = nullptr;
    QAbstractItemModel *m_source = nullptr;
    QByteArray m_key;
    QString m_titleText;
    quint64 m_pinned = 0;   ///< the user's pick; 0: follow the newest
    quint64 m_shownSeq = 0; ///< the message in m_text
    bool m_gone = false;
    bool m_selecting = false; ///< a selection change of ours, not the user's
    bool m_checkPending = false;
    bool m_paletteChanged = false;
};

} // namespace FeedScope

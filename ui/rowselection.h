#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QSet>

class QAbstractItemView;

namespace FeedScope {

/// Selects the rows of @p view whose @p keyRole value is one of @p keys, makes the first of them
/// current and scrolls to it; returns how many it found. Rows hidden by a filter are not found.
int selectRowsByKey(QAbstractItemView *view, const QSet<QByteArray> &keys, int keyRole);

/// Selects rows that are about to appear: after subscribing, the channels' rows arrive with the
/// model's next update. Tries at once and after every insert, reset or layout change of the view's
/// model, selecting and scrolling to what it finds, and deletes itself once every key was found,
/// when @p view goes away, or after @p updates model changes without all of them (a subscription
/// that was refused never shows).
class PendingRowSelection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PendingRowSelection)

public:
    static PendingRowSelection *start(QAbstractItemView *view, const QSet<QByteArray> &keys, int keyRole,
                                      int updates = 50);

    int found() const { return m_found; }

Q_SIGNALS:
    /// Every key was found and selected.
    void done(int rows);

private:
    PendingRowSelection(QAbstractItemView *view, const QSet<QByteArray> &keys, int keyRole, int updates);
    void attempt();

    QPointer<QAbstractItemView> m_view;
    QSet<QByteArray> m_keys;
    int m_role;
    int m_updatesLeft;
    int m_found = 0;
};

} // namespace FeedScope

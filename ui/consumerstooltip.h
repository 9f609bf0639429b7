#pragma once

#include <QObject>

class QAbstractItemView;

namespace FeedScope {

/// The Channels table's Consumers cell, in full, as its tooltip: who holds the subscription, one
/// consumer per line (the gateway's clients "gateway: NAME #ID" grouped after the others), since a
/// subscription shared by several bots does not fit its cell. Installed on the view's viewport;
/// the other cells keep their own tooltips.
class ConsumersToolTip final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConsumersToolTip)

public:
    ConsumersToolTip(QAbstractItemView *view, int column, QObject *parent = nullptr);

    /// The tooltip of a Consumers cell whose text is @p consumers ("a, gateway: b #1, …").
    static QString text(const QString &consumers, int count);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QAbstractItemView *m_view;
    int m_column;
};

} // namespace FeedScope

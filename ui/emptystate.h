#pragma once

#include <QString>

class QLabel;
class QPushButton;
class QScrollArea;
class QWidget;

namespace FeedScope {

/// A view's empty state: a centred, wrapped plain-text line and a button below it, in a
/// scroll area that never asks the window for room (the Alerts and Clients tabs).
struct EmptyState
{
    QScrollArea *area = nullptr;
    QLabel *text = nullptr;
    QPushButton *button = nullptr;
};

EmptyState makeEmptyState(const QString &buttonText, QWidget *parent);

} // namespace FeedScope

#include "emptystate.h"

#include <QBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>

namespace FeedScope {

EmptyState makeEmptyState(const QString &buttonText, QWidget *parent)
{
    EmptyState s;
    auto *empty = new QWidget(parent);
    auto *el = new QVBoxLayout(empty);
    el->addStretch(1);
    s.text = new QLabel(empty);
    s.text->setWordWrap(true);
    s.text->setAlignment(Qt::AlignCenter);
    s.text->setTextFormat(Qt::PlainText);
    el->addWidget(s.text);
    s.button = new QPushButton(buttonText, empty);
    auto *bl = new QHBoxLayout;
    bl->addStretch(1);
    bl->addWidget(s.button);
    bl->addStretch(1);
    el->addLayout(bl);
    el->addStretch(2);
    s.area = new QScrollArea(parent);
    s.area->setWidget(empty);
    s.area->setWidgetResizable(true);
    s.area->setFrameShape(QFrame::NoFrame);
    s.area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    return s;
}

} // namespace FeedScope

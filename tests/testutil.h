#pragma once

#include "subscription.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QTimer>

namespace FeedScope::Test {

/// Runs the event loop (without the 10 ms sleeps of QTRY_*'s qWait, which starve a busy
/// simulator) until @p pred holds or @p timeoutMs passes.
template<typename Pred> bool waitUntil(Pred pred, int timeoutMs = 10000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!pred()) {
        if (deadline.hasExpired())
            return false;
        QEventLoop loop;
        QTimer::singleShot(5, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

inline Hl::Subscription sub(const QByteArray &json)
{
    QString error;
    auto s = Hl::Subscription::fromJson(QJsonDocument::fromJson(json).object(), &error);
    if (!s)
        qFatal("bad test subscription %s: %s", json.constData(), qPrintable(error));
    return *s;
}

} // namespace FeedScope::Test

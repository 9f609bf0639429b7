#pragma once

#include <QLoggingCategory>

namespace FeedScope {
Q_DECLARE_LOGGING_CATEGORY(lcNet)
Q_DECLARE_LOGGING_CATEGORY(lcSim)
} // namespace FeedScope

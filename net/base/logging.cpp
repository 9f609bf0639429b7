#include "logging.h"

namespace FeedScope {
Q_LOGGING_CATEGORY(lcNet, "feedscope.net", QtWarningMsg)
Q_LOGGING_CATEGORY(lcSim, "feedscope.sim", QtWarningMsg)
} // namespace FeedScope

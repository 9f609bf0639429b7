#pragma once

#include "options.h"

namespace FeedScope {

/// The headless agent: runs the pool until --duration-s or SIGINT/SIGTERM, then closes cleanly
/// and writes the report. Returns the process exit code.
int runHeadless(const Options &options, qint64 startedMonotonicMs);

} // namespace FeedScope

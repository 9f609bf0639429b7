#pragma once

#include "options.h"

namespace FeedScope {

/// The desktop monitor: the main window on the pool (and the demo feed with its Chaos menu).
int runGui(const Options &options);

} // namespace FeedScope

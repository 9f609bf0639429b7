#include "pooltypes.h"

#include "enumname.h"

namespace FeedScope {

QLatin1StringView nameOf(ConnState s)
{
    return lowerCamelName(s);
}

QLatin1StringView nameOf(Cause c)
{
    return lowerCamelName(c);
}

QLatin1StringView nameOf(SubState s)
{
    return lowerCamelName(s);
}

} // namespace FeedScope

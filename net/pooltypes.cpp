#include "pooltypes.h"

using namespace Qt::StringLiterals;

namespace FeedScope {

QLatin1StringView nameOf(ConnState s)
{
    switch (s) {
    case ConnState::Idle:
        return "idle"_L1;
    case ConnState::Connecting:
        return "connecting"_L1;
    case ConnState::Open:
        return "open"_L1;
    case ConnState::Closing:
        return "closing"_L1;
    case ConnState::Backoff:
        return "backoff"_L1;
    case ConnState::Stopped:
        return "stopped"_L1;
    }
    return "idle"_L1;
}

QLatin1StringView nameOf(Cause c)
{
    switch (c) {
    case Cause::None:
        return "none"_L1;
    case Cause::Opened:
        return "opened"_L1;
    case Cause::CloseFrame:
        return "closeFrame"_L1;
    case Cause::SocketError:
        return "socketError"_L1;
    case Cause::PongTimeout:
        return "pongTimeout"_L1;
    case Cause::Stale:
        return "stale"_L1;
    case Cause::Oversized:
        return "oversized"_L1;
    case Cause::Manual:
        return "manual"_L1;
    case Cause::Shutdown:
        return "shutdown"_L1;
    case Cause::IdleClose:
        return "idleClose"_L1;
    case Cause::Backoff:
        return "backoff"_L1;
    case Cause::Retry:
        return "retry"_L1;
    }
    return "none"_L1;
}

QLatin1StringView nameOf(SubState s)
{
    switch (s) {
    case SubState::Pending:
        return "pending"_L1;
    case SubState::Active:
        return "active"_L1;
    case SubState::Restoring:
        return "restoring"_L1;
    case SubState::Rejected:
        return "rejected"_L1;
    case SubState::Failed:
        return "failed"_L1;
    case SubState::Unplaceable:
        return "unplaceable"_L1;
    }
    return "pending"_L1;
}

} // namespace FeedScope

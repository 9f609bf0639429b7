// libFuzzer target (issue 18): one message from an agent's /live stream through LiveSource's
// parser, as a first message and as a change to a known state. Whatever it is, nothing crashes,
// and a refused message leaves the state exactly as it was.
#include "livewire.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace FeedScope;

namespace {

const Live::State &seeded()
{
    static const Live::State state = [] {
        Live::State s;
        const QByteArray full =
            R"({"schema":"feedscope.live/1","type":"full","seq":1,"at":1700000000000,)"
            R"("agent":{"version":"f","url":"ws://v/ws","startedAt":0,"rateHz":10,"control":false,"gateway":false},)"
            R"("connections":[],"subscriptions":[{"i":7,"subscription":{"type":"trades","coin":"BTC"},)"
            R"("state":"active","connection":-1,"error":"","attempts":1,"ackLatencyMs":3,"restores":0,)"
            R"("stale":false,"consumers":["demo"],"firstMessageAt":null,"integrity":[0,0,0,0]}],)"
            R"("subCounters":[[7,5,100,10,1,1]]})";
        QString error;
        if (!Live::apply(full, s, nullptr, &error))
            __builtin_trap(); // the seed itself must be valid
        return s;
    }();
    return state;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray message(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    for (const Live::State &start : {Live::State{}, seeded()}) {
        Live::State s = start;
        Live::Applied applied;
        QString error;
        if (!Live::apply(message, s, &applied, &error)) {
            if (error.isEmpty() || s.seq != start.seq || s.valid != start.valid ||
                s.snapshot.subscriptions.size() != start.snapshot.subscriptions.size() ||
                s.events.size() != start.events.size())
                __builtin_trap(); // a refusal must say why and change nothing
            continue;
        }
        if (s.subIds.size() != s.snapshot.subscriptions.size() || s.subRow.size() != s.subIds.size())
            __builtin_trap(); // the row index must stay consistent with the rows
        (void)Live::chartSeries(s);
    }
    return 0;
}

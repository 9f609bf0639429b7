// The dispatcher under a 100 k msg/s flood on one subscription ("A", as one connection's flood)
// while another subscription ("B", another connection's steady 1 k msg/s) shares the producing
// I/O thread, with one deliberately slow consumer of A (20 µs a frame: half the flood rate) and a
// fast consumer of B. For each policy it prints A's dispatch lag, what was dropped, coalesced or
// run synchronously, and the effect on B: B's lag measured from when each B frame was due (so a
// stalled producer counts), against a baseline run with no slow consumer, in the same process.
//
//   bench_dispatch [--seconds N] [--smoke]
#include "budget.h"
#include "dispatcher.h"
#include "results.h"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>
#include <cstdio>
#include <thread>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

struct Percentiles
{
    double p50 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(std::vector<qint64> v)
{
    if (v.empty())
        return {};
    std::sort(v.begin(), v.end());
    auto at = [&v](double q) {
        return static_cast<double>(
            v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))]);
    };
    return {at(0.5), at(0.99), static_cast<double>(v.back())};
}

struct Result
{
    QString name;
    ConsumerStats slow;
    Percentiles aLag, bLag;
    double producedPerSec = 0;
    qint64 bDelivered = 0;
    bool identityOk = true;
};

void spinFor(qint64 ns)
{
    const qint64 until = monotonicNs() + ns;
    while (monotonicNs() < until) {
    }
}

Result run(const QString &name, std::optional<DispatchPolicy> policy, double seconds)
{
    Dispatcher d(2);
    std::mutex m;
    std::vector<qint64> aLag, bLag;
    aLag.reserve(1 << 20);
    bLag.reserve(1 << 16);
    if (policy) {
        d.addWorker(u"slow-A"_s,
                    [&](const DataFrame &f) {
                        spinFor(20000); // 20 µs of work a frame: 50 k/s, half the flood
                        std::lock_guard lock(m);
                        aLag.push_back((monotonicNs() - f.receivedNs) / 1000);
                    },
                    *policy, 10000, {"A"});
    }
    d.addWorker(u"fast-B"_s,
                [&](const DataFrame &f) {
                    // receivedNs of a B frame is when it was due, not when the producer got to it.
                    std::lock_guard lock(m);
                    bLag.push_back((monotonicNs() - f.receivedNs) / 1000);
                },
                DispatchPolicy::DropNewest, 100000, {"B"});

    // The producer: one I/O thread delivering batches every 1 ms: 100 A frames (100 k/s) and one
    // B frame (1 k/s), as a socket's read batch would.
    const QByteArray payload(330, 'x');
    const qint64 start = monotonicNs();
    const qint64 end = start + static_cast<qint64>(seconds * 1e9);
    qint64 produced = 0;
    qint64 tick = 0;
    while (true) {
        const qint64 due = start + tick * 1000000;
        if (due >= end)
            break;
        while (monotonicNs() < due) {
        }
        QList<DataFrame> batch;
        batch.reserve(101);
        const qint64 now = monotonicNs();
        for (int i = 0; i < 100; ++i)
            batch.append(DataFrame{1, "A", payload, now, false});
        batch.append(DataFrame{2, "B", payload, due, false});
        d.dispatch(batch);
        produced += batch.size();
        ++tick;
    }
    const double elapsed = static_cast<double>(monotonicNs() - start) / 1e9;
    d.drain(60000);
    Result r;
    r.name = name;
    const QList<ConsumerStats> st = d.stats();
    for (const ConsumerStats &s : st)
        r.identityOk &= s.received == s.delivered + s.dropped + s.coalesced + s.queued;
    if (policy)
        r.slow = st.constFirst();
    r.bDelivered = st.constLast().delivered;
    std::lock_guard lock(m);
    r.aLag = percentiles(aLag);
    r.bLag = percentiles(bLag);
    r.producedPerSec = static_cast<double>(produced) / elapsed;
    return r;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const bool smoke = args.contains(u"--smoke"_s);
    double seconds = smoke ? 0.5 : 3;
    if (const auto i = args.indexOf(u"--seconds"_s); i > 0 && i + 1 < args.size())
        seconds = args.at(i + 1).toDouble();

    std::printf(
        "Dispatcher under a 100 k msg/s flood on A (slow consumer: 20 us/frame, queue 10000) with B at "
        "1 k msg/s on the same I/O thread; %.1f s per row\n\n",
        seconds);
    std::printf("%-16s %10s %10s %10s %10s %10s %11s %11s %11s %10s\n", "policy", "A p50 us", "A p99 us",
                "dropped", "coalesced", "sync", "B p99 us", "B max us", "B p99 ratio", "produced/s");
    const Result base = run(u"(no slow A)"_s, std::nullopt, seconds);
    bool ok = base.identityOk;
    QString results;
    if (const auto i = args.indexOf(u"--results"_s); i > 0 && i + 1 < args.size())
        results = args.at(i + 1);
    auto print = [&base, &results, seconds](const Result &r) {
        Bench::appendResult(results, u"bench_dispatch"_s,
                            {{u"scenario"_s, u"slow_consumer"_s},
                             {u"mode"_s, r.name},
                             {u"secs"_s, seconds},
                             {u"a_p50_us"_s, r.aLag.p50},
                             {u"a_p99_us"_s, r.aLag.p99},
                             {u"dropped"_s, r.slow.dropped},
                             {u"coalesced"_s, r.slow.coalesced},
                             {u"sync_fallbacks"_s, r.slow.syncFallbacks},
                             {u"b_p99_us"_s, r.bLag.p99},
                             {u"b_max_us"_s, r.bLag.max},
                             {u"b_p99_ratio"_s, base.bLag.p99 > 0 ? r.bLag.p99 / base.bLag.p99 : 0.0},
                             {u"produced_per_s"_s, r.producedPerSec}});
        std::printf("%-16s %10.0f %10.0f %10lld %10lld %10lld %11.0f %11.0f %11.1f %10.0f\n",
                    qPrintable(r.name), r.aLag.p50, r.aLag.p99, static_cast<long long>(r.slow.dropped),
                    static_cast<long long>(r.slow.coalesced), static_cast<long long>(r.slow.syncFallbacks),
                    r.bLag.p99, r.bLag.max, base.bLag.p99 > 0 ? r.bLag.p99 / base.bLag.p99 : 0.0,
                    r.producedPerSec);
    };
    print(base);
    for (DispatchPolicy p : {DispatchPolicy::Lossless, DispatchPolicy::DropOldest, DispatchPolicy::DropNewest,
                             DispatchPolicy::CoalesceLatest}) {
        const Result r = run(QString(nameOf(p)), p, seconds);
        print(r);
        ok &= r.identityOk;
        // Functional checks (never speed): every B frame arrives; lossless loses nothing.
        ok &= r.bDelivered == static_cast<qint64>(seconds * 1000) ||
              r.bDelivered == static_cast<qint64>(seconds * 1000) + 1 ||
              r.bDelivered + 1 == static_cast<qint64>(seconds * 1000);
        if (p == DispatchPolicy::Lossless)
            ok &= r.slow.dropped == 0 && r.slow.delivered == r.slow.received;
        else
            ok &= r.slow.syncFallbacks == 0;
    }
    std::printf(
        "\n\"B p99 ratio\": B's dispatch lag p99 (from when each B frame was due) over the baseline's.\n");
    if (!ok) {
        std::fprintf(stderr,
                     "bench_dispatch: a functional check failed (counter identity, a lost B frame, or a "
                     "lossless drop)\n");
        return 1;
    }
    return 0;
}

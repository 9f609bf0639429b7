#pragma once

#include <QString>

#include <sys/timex.h>

namespace FeedScope {

/// The kernel's clock discipline (adjtimex(2), read only): whether the system clock is
/// synchronised (by NTP, chrony, PTP…) and its maximum error. Data latency is receipt time minus
/// the venue's event time, so a clock that is off reads as latency: this says by how much it may
/// be off (issue 17).
struct ClockSync
{
    bool known = false;        ///< the kernel answered
    bool synchronised = false; ///< neither STA_UNSYNC nor TIME_ERROR
    qint64 maxErrorUs = -1;    ///< the kernel's maximum error, µs (when known)
    qint64 estErrorUs = -1;    ///< its estimated error, µs (when known)

    /// From adjtimex's answer: @p state its return value, the rest its fields.
    static ClockSync fromTimex(int state, int status, long maxError, long estError)
    {
        ClockSync c;
        if (state < 0)
            return c;
        c.known = true;
        c.synchronised = state != TIME_ERROR && (status & STA_UNSYNC) == 0;
        c.maxErrorUs = maxError;
        c.estErrorUs = estError;
        return c;
    }
    /// Reads the kernel's state now (a system call: every few seconds, never per frame).
    static ClockSync read()
    {
        struct timex tx = {};
        tx.modes = 0; // read only
        const int state = ::adjtimex(&tx);
        return fromTimex(state, tx.status, tx.maxerror, tx.esterror);
    }

    /// "± 2.5 ms" (synchronised), or "not synchronised", or "unknown".
    QString errorText() const
    {
        if (!known)
            return QStringLiteral("unknown");
        if (!synchronised)
            return QStringLiteral("not synchronised");
        const double ms = static_cast<double>(maxErrorUs) / 1000.0;
        if (ms >= 10000)
            return QStringLiteral("± %1 s").arg(ms / 1000.0, 0, 'f', 0);
        return QStringLiteral("± %1 ms").arg(ms, 0, 'f', ms < 10 ? 1 : 0);
    }
    /// For a status line: "clock ± 2.5 ms", "clock not synchronised", "clock state unknown".
    QString text() const
    {
        if (!known)
            return QStringLiteral("clock state unknown");
        return QStringLiteral("clock ") + errorText();
    }
};

} // namespace FeedScope

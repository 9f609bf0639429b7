#include "cli.h"

#include <QCoreApplication>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace FeedScope::Cli {

std::optional<qint64> intOption(const QCommandLineParser &p, const QString &name, qint64 fallback, qint64 min,
                                qint64 max, QString *error)
{
    if (!p.isSet(name))
        return fallback;
    bool ok = false;
    const qint64 v = p.value(name).toLongLong(&ok);
    if (!ok || v < min || v > max) {
        *error = u"--%1 must be a whole number from %2 to %3 (got \"%4\")"_s.arg(name).arg(min).arg(max).arg(
            p.value(name));
        return std::nullopt;
    }
    return v;
}

std::optional<double> doubleOption(const QCommandLineParser &p, const QString &name, double fallback,
                                   double min, double max, QString *error)
{
    if (!p.isSet(name))
        return fallback;
    bool ok = false;
    const double v = p.value(name).toDouble(&ok);
    if (!ok || v < min || v > max) {
        *error = u"--%1 must be a number from %2 to %3 (got \"%4\")"_s.arg(name).arg(min).arg(max).arg(
            p.value(name));
        return std::nullopt;
    }
    return v;
}

int usageError(const QString &message)
{
    std::fprintf(stderr, "%s: %s\nTry '%s --help' for the options.\n",
                 qPrintable(QCoreApplication::applicationName()), qPrintable(message),
                 qPrintable(QCoreApplication::applicationName()));
    return ExitUsage;
}

} // namespace FeedScope::Cli

#pragma once

#include <QCommandLineParser>
#include <QString>

#include <optional>

namespace FeedScope::Cli {

/// Exit codes shared by both programs: 0 ok, 1 fatal error, 2 usage error.
inline constexpr int ExitOk = 0;
inline constexpr int ExitFatal = 1;
inline constexpr int ExitUsage = 2;

/// The value of integer option @p name within [min, max]; nullopt with @p error set when the
/// value is not such a number. Returns @p fallback when the option is absent.
std::optional<qint64> intOption(const QCommandLineParser &p, const QString &name, qint64 fallback, qint64 min,
                                qint64 max, QString *error);
std::optional<double> doubleOption(const QCommandLineParser &p, const QString &name, double fallback,
                                   double min, double max, QString *error);
/// Prints "PROGRAM: MESSAGE" and the hint to use --help on stderr; returns ExitUsage.
int usageError(const QString &message);

} // namespace FeedScope::Cli

// feedscope: the desktop monitor, or with --headless the agent for fleets.
#include "budget.h"
#include "cli.h"
#include "gui.h"
#include "headless.h"
#include "memorytuning.h"
#include "options.h"

#include <QApplication>
#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    using namespace FeedScope;
    const qint64 started = monotonicMs();
    tuneAllocatorForLongRuns(); // a monitor runs for weeks through floods
    // Headless runs on machines without a display: pick the application type before anything else.
    // --help and --version need no display either.
    bool headless = false;
    for (int i = 1; i < argc; ++i) {
        for (const char *flag : {"--headless", "--help", "-h", "--help-all", "--version", "-v"})
            headless |= std::strcmp(argv[i], flag) == 0;
    }
    std::unique_ptr<QCoreApplication> app;
    if (headless)
        app = std::make_unique<QCoreApplication>(argc, argv);
    else
        app = std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setOrganizationName(u"FeedScope"_s);
    QCoreApplication::setApplicationName(u"feedscope"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(FEEDSCOPE_VERSION));

    // After a flood, freed memory sits in the worker threads' malloc arenas; give it back now and
    // then so that the resident size shows what is live (cheap: a few ms every 10 s).
    QTimer trim;
    QObject::connect(&trim, &QTimer::timeout, [] { trimAllocator(); });
    trim.start(std::chrono::seconds(10));

    QString error;
    bool exitNow = false;
    // The GUI starts from the settings it saved; the headless agent only from what it is given.
    std::optional<Profile> saved;
    if (!headless) {
        saved = savedProfile(&error);
        if (!error.isEmpty())
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
        error.clear();
    }
    const auto options =
        parseOptions(QCoreApplication::arguments(), &error, &exitNow, saved ? &*saved : nullptr);
    if (!options)
        return exitNow ? Cli::ExitOk : Cli::usageError(error);
    return options->headless ? runHeadless(*options, started) : runGui(*options);
}

#include "gui.h"

#include "cli.h"
#include "demoserver.h"
#include "fleetmodel.h"
#include "fleetwindow.h"
#include "gatewayservice.h"
#include "livesource.h"
#include "mainwindow.h"
#include "metrics.h"
#include "poolcontroller.h"
#include "poolmodels.h"
#include "replaysession.h"
#include "simfeed.h"

#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QGuiApplication>
#include <QIcon>
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <QProcess>
#include <QSslCertificate>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace FeedScope {

namespace {

/// The simulator's id of the pool connection @p poolConnection (matched by local port).
int simulatorId(DemoServer &demo, const PoolSnapshot &snapshot, int poolConnection)
{
    quint16 port = 0;
    for (const ConnectionStatus &c : snapshot.connections) {
        if ((poolConnection < 0 && c.state == ConnState::Open) || c.id == poolConnection) {
            port = c.localPort;
            break;
        }
    }
    int id = -1;
    QMetaObject::invokeMethod(
        demo.simulator(), [&id, &demo, port] { id = demo.simulator()->idOfPeerPort(port); },
        Qt::BlockingQueuedConnection);
    return id;
}

/// Issue 18: File → Attach to agent… opens the agent in a window (a process) of its own, so the
/// window asking keeps what it shows. The token goes through the environment, never the command
/// line (which every user of the machine can read).
void openAttachedWindow(QWidget *parent, const QUrl &url, const QByteArray &token, const QString &caFile)
{
    QProcess process;
    process.setProgram(QCoreApplication::applicationFilePath());
    QStringList args{u"--attach"_s, url.toString()};
    if (!caFile.isEmpty())
        args << u"--attach-ca"_s << caFile;
    process.setArguments(args);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(u"FEEDSCOPE_CONTROL_TOKEN"_s); // the dialog's choice, not this process's
    if (!token.isEmpty())
        env.insert(u"FEEDSCOPE_CONTROL_TOKEN"_s, QString::fromUtf8(token));
    process.setProcessEnvironment(env);
    if (!process.startDetached())
        QMessageBox::warning(parent, QObject::tr("Attach to agent"),
                             QObject::tr("Could not start %1").arg(process.program()));
    else if (auto *w = qobject_cast<QMainWindow *>(parent))
        w->statusBar()->showMessage(
            QObject::tr("Attaching to %1 in a new window%2")
                .arg(url.toString(), token.isEmpty() ? QObject::tr(" (read-only)") : QString()),
            8000);
}

/// --screenshot: the main picture with the first tab, then one per other tab (FILE-2.png, …), after
/// the delay (the tables size their columns themselves: once, capped, keeping the user's widths).
void screenshotAndQuit(MainWindow &window, const Options &o)
{
    QTimer::singleShot(std::chrono::milliseconds(o.screenshotDelayMs), &window, [&window, &o] {
        QApplication::processEvents();
        QTabWidget *tabs = window.tabs();
        for (int i = 0; i < tabs->count(); ++i) {
            tabs->setCurrentIndex(i);
            QApplication::processEvents();
            QString path = o.screenshotFile;
            if (i > 0)
                path.insert(path.endsWith(u".png"_s, Qt::CaseInsensitive) ? path.size() - 4 : path.size(),
                            u"-%1"_s.arg(i + 1));
            if (!window.grab().save(path))
                std::fprintf(stderr, "feedscope: cannot save %s\n", qPrintable(path));
        }
        tabs->setCurrentIndex(0);
        window.close();
    });
}

/// Issue 18: --attach URL: the window on a remote agent's live stream; no local pool, no
/// simulator, no gateway. The engine the controller keeps never starts.
int runAttached(const Options &o)
{
    auto source = std::make_unique<LiveSource>();
    source->setUrl(o.attachUrl);
    source->setToken(o.attachToken);
    if (!o.attachCaFile.isEmpty()) {
        QFile f(o.attachCaFile);
        if (f.open(QIODevice::ReadOnly))
            source->setCaCertificates(QSslCertificate::fromData(f.readAll(), QSsl::Pem));
    }
    EngineConfig ec = engineConfig(o);
    ec.pool.url = QUrl();
    ec.dispatchThreads = 1; // idle: nothing is dispatched here
    ec.publishInterval = std::chrono::milliseconds(o.uiRefreshMs);
    PoolController controller(std::move(source), ec);
    controller.start(nullptr);
    MainWindow window(&controller);
    window.setDemoMode(false);
    window.setAttached();
    QObject::connect(&window, &MainWindow::attachRequested, &window,
                     [&window](const QUrl &url, const QByteArray &token, const QString &ca) {
                         openAttachedWindow(&window, url, token, ca);
                     });
    std::fprintf(stderr, "feedscope: attaching to %s\n", qPrintable(o.attachUrl.toString()));
    window.show();
    if (!o.screenshotFile.isEmpty())
        screenshotAndQuit(window, o);
    const int rc = QApplication::exec();
    controller.shutdown(0ms);
    return rc;
}

/// Issue 18: an agent of the fleet opened in a window (a process) of its own, attached to its /live.
void launchAttach(QWidget *from, const QUrl &liveUrl)
{
    openAttachedWindow(from, liveUrl, {}, {}); // read-only: the fleet holds no tokens
}

/// Issue 18: `feedscope --fleet FILE`: the fleet window alone (no pool), with FILE's agents; the
/// list is the file's, so it is not saved over the one File → Fleet… keeps.
int runFleetOnly(const Options &o)
{
    FleetWindow fleet;
    fleet.setWindowTitle(QObject::tr("FeedScope \u2014 Fleet (%1)").arg(QFileInfo(o.fleetFile).fileName()));
    for (const QString &e : fleet.loadFile(o.fleetFile))
        std::fprintf(stderr, "feedscope: --fleet %s: %s\n", qPrintable(o.fleetFile), qPrintable(e));
    QObject::connect(&fleet, &FleetWindow::attachRequested, &fleet,
                     [&fleet](const QUrl &url) { launchAttach(&fleet, url); });
    fleet.show();
    if (!o.screenshotFile.isEmpty()) {
        QTimer::singleShot(std::chrono::milliseconds(o.screenshotDelayMs), &fleet, [&fleet, &o] {
            QApplication::processEvents();
            if (!fleet.grab().save(o.screenshotFile))
                std::fprintf(stderr, "feedscope: cannot save %s\n", qPrintable(o.screenshotFile));
            fleet.close();
        });
    }
    return QApplication::exec();
}

} // namespace

int runGui(const Options &o)
{
    QGuiApplication::setDesktopFileName(QStringLiteral(FEEDSCOPE_APP_ID));
    QIcon icon;
    for (int size : {64, 256})
        icon.addFile(u":/icons/" FEEDSCOPE_APP_ID "-%1.png"_s.arg(size), QSize(size, size));
    QApplication::setWindowIcon(icon);
    if (!o.fleetFile.isEmpty()) // issue 18: the fleet view alone
        return runFleetOnly(o);
    if (!o.attachUrl.isEmpty()) // issue 18: a remote agent's window
        return runAttached(o);
    PoolConfig cfg = o.pool;
    std::unique_ptr<DemoServer> demo;
    if (o.demo) {
        demo = std::make_unique<DemoServer>(Sim::SimulatorConfig{});
        QString error;
        if (!demo->startDemo(o.demoFaults, &cfg, &error)) {
            std::fprintf(stderr, "feedscope: the demo feed did not start: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
        // What the demo changed for itself (12 subscriptions per connection, to show a pool) is
        // this run's only: the Settings dialog shows and saves the user's values instead.
        Profile user, run;
        user.engine.pool = o.pool;
        run.engine.pool = cfg;
        setRunOnlyValues(user, run);
    }
    std::unique_ptr<ReplaySession> replay; // issue 18: a recording served behind the pool
    if (!o.replayFile.isEmpty()) {
        replay = std::make_unique<ReplaySession>(o.replayFile, o.replaySpeed);
        QString error;
        if (!replay->start(&error)) {
            std::fprintf(stderr, "feedscope: the replay did not start: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
        cfg.url = replay->url();
    }

    EngineConfig ec = engineConfig(o);
    ec.pool = cfg;
    ec.recordingSwitchable = true;                                 // File → Record raw frames
    ec.publishInterval = std::chrono::milliseconds(o.uiRefreshMs); // the UI refreshes at a fixed rate (10 Hz)
    PoolController controller(ec);
    if (QString error; !controller.start(&error)) {
        std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
        return Cli::ExitFatal;
    }
    std::unique_ptr<MetricsServer> metrics;
    if (o.metricsPort >= 0) {
        metrics = std::make_unique<MetricsServer>(&controller.engine());
        metrics->setPerSubscriptionSeries(o.metricsPerSubscription);
        QString error;
        if (metrics->listen(o.metricsBind, static_cast<quint16>(o.metricsPort), &error) == 0) {
            std::fprintf(stderr, "feedscope: %s\n", qPrintable(error));
            return Cli::ExitFatal;
        }
    }
    MainWindow window(&controller);
    window.setDemoMode(o.demo);
    if (cfg.insecureTls && !o.demo)
        window.setInsecureWarning(QObject::tr("INSECURE: TLS certificates and host names are not verified"));
    window.setEndpoint(o.demo ? QObject::tr("demo feed %1").arg(redactedUrl(cfg.url)) : redactedUrl(cfg.url));
    if (replay) {
        window.setReplay(replay.get());
        window.setEndpoint(QObject::tr("replay on %1").arg(redactedUrl(cfg.url)));
    }
    // File → Replay recording…: checked here, played in a window (a process) of its own, so this
    // window keeps its pool.
    QObject::connect(&window, &MainWindow::replayRequested, &window, [&window](const QString &path) {
        QString error;
        const std::optional<Sim::RecordingSummary> rec = Sim::summarizeRecording(path, &error);
        if (rec && rec->subscriptions.isEmpty())
            error = QObject::tr("No subscription can be made from the frames of %1 (%2); replay it from the "
                                "command line with --subscriptions FILE")
                        .arg(path, rec->unrecoverable.join(u", "_s));
        if (!error.isEmpty()) {
            QMessageBox::warning(&window, QObject::tr("Replay recording"), error);
            return;
        }
        if (!QProcess::startDetached(QCoreApplication::applicationFilePath(), {u"--replay"_s, path}))
            QMessageBox::warning(
                &window, QObject::tr("Replay recording"),
                QObject::tr("Could not start %1").arg(QCoreApplication::applicationFilePath()));
        else
            window.statusBar()->showMessage(
                QObject::tr("Replaying %1 in a new window (%2 frames, %3 subscriptions)")
                    .arg(QFileInfo(path).fileName())
                    .arg(rec->dataFrames)
                    .arg(rec->subscriptions.size()),
                8000);
    });
    // Issue 18: File → Attach to agent…: in a window (a process) of its own.
    QObject::connect(&window, &MainWindow::attachRequested, &window,
                     [&window](const QUrl &url, const QByteArray &token, const QString &ca) {
                         openAttachedWindow(&window, url, token, ca);
                     });
    // Issue 18: File → Fleet… opens (or raises) the fleet window; its list persists in QSettings.
    QPointer<FleetWindow> fleet;
    QObject::connect(&window, &MainWindow::fleetRequested, &window, [&window, &fleet] {
        if (!fleet) {
            fleet = new FleetWindow(&window);
            fleet->setAttribute(Qt::WA_DeleteOnClose);
            fleet->setPersistent(true);
            QObject::connect(fleet, &FleetWindow::attachRequested, fleet,
                             [&fleet](const QUrl &url) { launchAttach(fleet, url); });
        }
        fleet->show();
        fleet->raise();
        fleet->activateWindow();
    });
    if (demo) {
        // Bad-data faults (issue 17) arrive in the simulator's /control format; their errors
        // (e.g. no connection carries that subscription yet) go to the status bar.
        QObject::connect(&window, &MainWindow::chaosFaultRequested, &window, [&](const QJsonObject &json) {
            QString error;
            bool applied = false;
            if (const std::optional<Sim::Fault> f = Sim::Fault::fromJson(json, &error))
                QMetaObject::invokeMethod(
                    demo->simulator(), [&] { applied = demo->simulator()->apply(*f, &error); },
                    Qt::BlockingQueuedConnection);
            if (!applied)
                window.statusBar()->showMessage(QObject::tr("Chaos: %1").arg(error), 8000);
        });
        QObject::connect(&window, &MainWindow::chaosRequested, &window, [&](ChaosAction a, int connection) {
            using Sim::Fault;
            using Sim::FaultKind;
            switch (a) {
            case ChaosAction::KillConnection:
            case ChaosAction::StallConnection: {
                const int id = simulatorId(*demo, controller.lastSnapshot(), connection);
                if (id > 0)
                    demo->apply(Fault::make(
                        a == ChaosAction::KillConnection ? FaultKind::Abort : FaultKind::Stall, id));
                break;
            }
            case ChaosAction::KillAll:
                demo->apply(Fault::make(FaultKind::Abort, -1));
                break;
            case ChaosAction::Garbage:
                for (auto k : {Sim::MalformedKind::NotJson, Sim::MalformedKind::Binary,
                               Sim::MalformedKind::UnknownChannel, Sim::MalformedKind::WrongShape,
                               Sim::MalformedKind::EmptyTrades}) {
                    Fault f = Fault::make(FaultKind::Malformed, -1);
                    f.malformed = k;
                    demo->apply(f);
                }
                break;
            case ChaosAction::Flood: {
                Fault f = Fault::make(FaultKind::Flood, -1);
                f.subscription =
                    *Hl::Subscription::fromJson(QJsonObject{{u"type"_s, u"trades"_s}, {u"coin"_s, u"BTC"_s}});
                f.amount = 100000;
                demo->apply(f);
                break;
            }
            case ChaosAction::RestartServer: {
                Fault f = Fault::make(FaultKind::Restart);
                f.amount = 2000;
                demo->apply(f);
                break;
            }
            }
        });
    }
    // Issue 14: the gateway on the controller's engine; the window owns it (Settings → Gateway
    // restarts it). One that does not start is reported, and the window says why.
    if (o.gateway.enabled) {
        auto *gateway = new GatewayService(controller.engine(), o.gateway.config);
        if (QString error; gateway->start(&error)) {
            std::fprintf(stderr, "feedscope: gateway on %s\n",
                         qPrintable(gateway->server().url().toString()));
            window.setGateway(gateway);
        } else {
            delete gateway;
            std::fprintf(stderr, "feedscope: the gateway did not start: %s\n", qPrintable(error));
            window.setGatewayError(o.gateway, error);
        }
    }
    controller.subscribe(o.subscriptions, !o.subscriptionsFile.isEmpty() ? u"subscriptions-file"_s
                                          : replay                       ? u"replay"_s
                                                                         : u"demo"_s);
    window.show();

    if (!o.screenshotFile.isEmpty())
        screenshotAndQuit(window, o);
    const int rc = QApplication::exec();
    window.stopGateway(); // its clients closed and their subscriptions released while the pool runs
    controller.shutdown(1500ms);
    return rc;
}

} // namespace FeedScope

// The main window's exports, re-opened sessions and charts, as a real (offscreen) window over a
// real pool and simulator.
#include "mainwindow.h"
#include "poolcontroller.h"
#include "recording.h"
#include "serieschart.h"
#include "sessioneventsview.h"
#include "simulator.h"
#include "testutil.h"

#include <QChart>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPushButton>
#include <QScatterSeries>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QValueAxis>

#include <cmath>
#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class tst_WindowExports : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void openedSessionIsAFileView();
    void harHoldsBothDirections();
    void exportIsLoggedAsOkTrue();
    void recordingHoldsSentFrames();
    void chartsHaveNiceTicksAndALogScale();
    void reconnectChartShowsEveryReconnect();
    void dispatcherChartsSeeAFlood();

private:
    /// With FEEDSCOPE_SHOT_DIR set, saves the window as NAME.png there (to look at, not asserted).
    void shot(const QString &name) const;
    QList<SessionEvent> manualEvents() const;
    ExportResult exportNow(const QString &path, ExportFormat format);

    std::unique_ptr<Sim::FeedSimulator> m_sim;
    std::unique_ptr<PoolController> m_controller;
    std::unique_ptr<MainWindow> m_window;
    QTemporaryDir m_dir;
};

void tst_WindowExports::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
}

void tst_WindowExports::init()
{
    m_sim = std::make_unique<Sim::FeedSimulator>();
    QVERIFY(m_sim->start());
    EngineConfig cfg;
    cfg.pool.url = m_sim->url();
    cfg.pool.maxSubscriptionsPerConnection = 3;
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.pool.manualStagger = 20ms;
    cfg.pool.backoffInitial = 50ms;
    cfg.publishInterval = 50ms;
    cfg.recordingSwitchable = true; // as the GUI starts it
    if (QTest::currentTestFunction() == QByteArrayView("dispatcherChartsSeeAFlood")) {
        cfg.policy = DispatchPolicy::DropOldest;
        cfg.queueCapacity = 200;
    }
    m_controller = std::make_unique<PoolController>(cfg);
    QVERIFY(m_controller->start(nullptr));
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->setDemoMode(true);
    m_window->resize(1024, 700);
    m_window->show();
    QList<Hl::Subscription> subs;
    for (int i = 0; i < 9; ++i)
        subs.append(sub(R"({"type":"bbo","coin":"C)" + QByteArray::number(i) + "\"}"));
    m_controller->subscribe(subs);
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 9; }));
}

void tst_WindowExports::cleanup()
{
    m_window.reset();
    m_controller->shutdown(1s);
    m_controller.reset();
    m_sim.reset();
}

void tst_WindowExports::shot(const QString &name) const
{
    const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOT_DIR");
    if (!dir.isEmpty())
        m_window->grab().save(dir + u'/' + name + u".png"_s);
}

QList<SessionEvent> tst_WindowExports::manualEvents() const
{
    QList<SessionEvent> out;
    for (const SessionEvent &e : m_controller->engine().sessionLog().events())
        if (e.type == u"manual"_s)
            out.append(e);
    return out;
}

ExportResult tst_WindowExports::exportNow(const QString &path, ExportFormat format)
{
    QSignalSpy done(m_window.get(), &MainWindow::exportFinished);
    m_window->exportSession(path, format);
    if (!done.wait(10000))
        return {};
    return done.constLast().at(0).value<ExportResult>();
}

void tst_WindowExports::openedSessionIsAFileView()
{
    SessionEventsView *page = m_window->eventsPage();
    QVERIFY(page);
    QVERIFY(!page->showingFile());
    QVERIFY(page->bannerText().isEmpty());
    QVERIFY(waitUntil([this] { return m_window->eventsView()->model()->rowCount() >= 12; }));
    const QString path = m_dir.filePath(u"opened.jsonl"_s);
    QVERIFY(exportNow(path, ExportFormat::Jsonl).ok);
    QString error;
    const auto file = importSessionJsonl(path, &error);
    QVERIFY2(file, qPrintable(error));

    QVERIFY(m_window->importSession(path, &error));
    QVERIFY(page->showingFile());
    QCOMPARE(m_window->tabs()->currentWidget(), page);
    QCOMPARE(page->bannerText(), u"Showing opened.jsonl (%1 events) — Back to live"_s.arg(file->size()));
    auto *banner = page->findChild<QWidget *>(u"fileBanner"_s);
    QVERIFY(banner && banner->isVisible());
    QAbstractItemModel *view = m_window->eventsView()->model();
    const int fileRows = view->rowCount();
    QVERIFY(fileRows >= 12);
    qint64 newestInFile = 0;
    for (const SessionEvent &e : *file)
        newestInFile = std::max(newestInFile, e.seq);

    // Live events go on in the live session but never into the file view.
    m_controller->engine().noteManual(u"subscribe"_s, {{u"count"_s, 1}});
    const qint64 liveSeq = m_controller->engine().sessionLog().lastSeq();
    QVERIFY(liveSeq > newestInFile);
    SessionEventsModel *live = m_controller->sessionEvents();
    QVERIFY(waitUntil(
        [&] { return live->rowCount() > 0 && live->eventAt(live->rowCount() - 1)->seq == liveSeq; }));
    QCOMPARE(view->rowCount(), fileRows);
    for (int row = 0; row < view->rowCount(); ++row)
        QVERIFY(view->index(row, SessionEventsModel::Seq).data(RawValueRole).toLongLong() <= newestInFile);
    shot(u"file-view"_s);

    // Back to live: the live view with the new event, the banner gone.
    QSignalSpy changed(page, &SessionEventsView::showingFileChanged);
    QTest::mouseClick(page->backToLiveButton(), Qt::LeftButton);
    QVERIFY(!page->showingFile());
    QCOMPARE(changed.size(), 1);
    QVERIFY(!banner->isVisible());
    QVERIFY(page->bannerText().isEmpty());
    bool found = false;
    for (int row = 0; row < view->rowCount(); ++row)
        found |= view->index(row, SessionEventsModel::Seq).data(RawValueRole).toLongLong() == liveSeq;
    QVERIFY(found);

    // A file that is not a session: a clear error, the live view untouched.
    QFile bad(m_dir.filePath(u"bad.jsonl"_s));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not json\n");
    bad.close();
    QVERIFY(!m_window->importSession(bad.fileName(), &error));
    QVERIFY2(error.contains(u"bad.jsonl"_s), qPrintable(error));
    QVERIFY(!page->showingFile());
}

void tst_WindowExports::harHoldsBothDirections()
{
    // The subscribes went out before any data came back; a ping goes out on demand (reconnect).
    QVERIFY(waitUntil([this] {
        for (int i = 0; i < 9; ++i) // data on every subscription, so on every connection
            if (m_controller->engine()
                    .inspector()
                    .messages(sub(R"({"type":"bbo","coin":"C)" + QByteArray::number(i) + "\"}").canonical())
                    .isEmpty())
                return false;
        return true;
    }));
    QVERIFY(m_controller->engine().sentFrames().size() >= 9);
    const QString path = m_dir.filePath(u"both.har"_s);
    QVERIFY(exportNow(path, ExportFormat::Har).ok);
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray entries = QJsonDocument::fromJson(f.readAll())[u"log"_s][u"entries"_s].toArray();
    QCOMPARE(entries.size(), 3); // one per connection
    int subscribes = 0;
    for (const QJsonValue &e : entries) {
        const QJsonArray msgs = e[u"_webSocketMessages"_s].toArray();
        QVERIFY(!msgs.isEmpty());
        // Its subscribes first (sent before any of its data came), then time order throughout.
        QCOMPARE(msgs[0][u"type"_s].toString(), u"send"_s);
        bool received = false;
        double previous = 0;
        for (const QJsonValue &m : msgs) {
            QVERIFY(m[u"time"_s].toDouble() >= previous);
            previous = m[u"time"_s].toDouble();
            const QString type = m[u"type"_s].toString();
            QVERIFY(type == u"send"_s || type == u"receive"_s);
            received |= type == u"receive"_s;
            if (type == u"send"_s && m[u"data"_s].toString().contains(u"\"subscribe\""_s))
                ++subscribes;
        }
        QVERIFY(received);
    }
    QCOMPARE(subscribes, 9);
}

void tst_WindowExports::exportIsLoggedAsOkTrue()
{
    QVERIFY(exportNow(m_dir.filePath(u"log.csv"_s), ExportFormat::Csv).ok);
    QVERIFY(waitUntil([this] { return !manualEvents().isEmpty(); }));
    const SessionEvent ok = manualEvents().constLast();
    QCOMPARE(ok.data[u"action"_s].toString(), u"export"_s);
    QVERIFY2(summarizeEvent(ok).contains(u"ok=true"_s), qPrintable(summarizeEvent(ok)));
    QVERIFY(!exportNow(m_dir.filePath(u"missing/log.csv"_s), ExportFormat::Csv).ok);
    QVERIFY(summarizeEvent(manualEvents().constLast()).contains(u"ok=false"_s));
}

void tst_WindowExports::recordingHoldsSentFrames()
{
    // File → Record raw frames: the subscribe that goes out is a "dir":"send" line beside the
    // data lines; both parse, and only the data lines are what a replay serves.
    const QString path = m_dir.filePath(u"frames.jsonl"_s);
    QVERIFY(m_window->startRecording(path));
    QVERIFY(waitUntil([this] { return m_controller->engine().dispatcherStats().at(2).received >= 5; }));
    const auto extra = sub(R"({"type":"trades","coin":"REC"})");
    m_controller->subscribe({extra});
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 10; }));
    m_window->recordAction()->trigger(); // stop
    QVERIFY(waitUntil([this] { return m_controller->engine().recording() == Engine::Recording::Off; }));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    qint64 data = 0;
    QList<RecordedFrame> sent;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        QString why;
        const auto frame = parseRecordedLine(line, &why);
        QVERIFY2(frame, qPrintable(why));
        if (frame->sent)
            sent.append(*frame);
        else
            ++data;
    }
    QCOMPARE(data, m_controller->engine().recorder()->written());
    QCOMPARE(static_cast<qint64>(sent.size()), m_controller->engine().recorder()->sentWritten());
    QVERIFY(std::any_of(sent.cbegin(), sent.cend(), [](const RecordedFrame &r) {
        return r.payload.contains("\"subscribe\"") && r.payload.contains("REC");
    }));
    // The session log says how many of each were written.
    const SessionEvent stopped = manualEvents().constLast();
    QCOMPARE(stopped.data[u"action"_s].toString(), u"recording stopped"_s);
    QCOMPARE(static_cast<qint64>(stopped.data[u"sentFrames"_s].toDouble()), static_cast<qint64>(sent.size()));
}

void tst_WindowExports::chartsHaveNiceTicksAndALogScale()
{
    m_window->tabs()->setCurrentIndex(1); // Throughput / RTT
    SeriesChart *throughput = m_window->charts().at(0);
    QVERIFY(waitUntil([&] { return throughput->lineCount() == 3; }, 5000));
    QSignalSpy samples(m_controller.get(), &PoolController::seriesUpdated);
    QVERIFY(samples.wait(3000));
    auto *linear = qobject_cast<QValueAxis *>(throughput->valueAxis());
    QVERIFY(linear);
    QCOMPARE(linear->min(), 0.0);
    const double step = linear->tickInterval();
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    QVERIFY2(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 || std::abs(mantissa - 5) < 1e-6,
             qPrintable(QString::number(step)));
    QVERIFY(std::abs(linear->max() / step - std::round(linear->max() / step)) < 1e-6);

    // The Log button: a log axis, every line on it, every point above its floor.
    QToolButton *log = throughput->logButton();
    QVERIFY(log->isVisible());
    QTest::mouseClick(log, Qt::LeftButton);
    QVERIFY(throughput->logScale());
    auto *logAxis = qobject_cast<QLogValueAxis *>(throughput->valueAxis());
    QVERIFY(logAxis);
    QCOMPARE(throughput->chart()->axes(Qt::Vertical).size(), 1);
    QVERIFY(samples.wait(3000));
    for (QAbstractSeries *s : throughput->chart()->series()) {
        QCOMPARE(s->attachedAxes().size(), 2);
        QVERIFY(s->attachedAxes().contains(logAxis));
        for (const QPointF &p : static_cast<QXYSeries *>(s)->points())
            QVERIFY(p.y() >= logAxis->min());
    }
    // Only that chart changed; and back.
    shot(u"throughput-log"_s);
    QVERIFY(!m_window->charts().at(1)->logScale());
    QTest::mouseClick(log, Qt::LeftButton);
    QVERIFY(qobject_cast<QValueAxis *>(throughput->valueAxis()));
}

void tst_WindowExports::reconnectChartShowsEveryReconnect()
{
    m_window->tabs()->setCurrentIndex(0); // Reconnect timeline
    SeriesChart *chart = m_window->charts().constLast();
    QVERIFY(chart->isVisible());
    Sim::Fault killAll = Sim::Fault::make(Sim::FaultKind::Abort); // every connection at once
    QVERIFY(m_sim->apply(killAll));
    QVERIFY(waitUntil(
        [this] {
            const PoolSnapshot &s = m_controller->lastSnapshot();
            return s.reconnects.size() == 3 &&
                   std::all_of(s.reconnects.cbegin(), s.reconnects.cend(),
                               [](const ReconnectRecord &r) { return r.durationMs >= 0; });
        },
        15000));
    QScatterSeries *automatic = nullptr;
    auto findAutomatic = [&] {
        for (QAbstractSeries *s : chart->chart()->series())
            if (s->name() == u"automatic"_s)
                automatic = static_cast<QScatterSeries *>(s);
        return automatic && automatic->count() == 3;
    };
    QVERIFY(waitUntil(findAutomatic, 5000));
    // Three points, apart from each other (a marker's width at least, once the layout settled:
    // the legend's new entries narrow the plot), each at its reconnect's data gap (seconds).
    auto apart = [&] {
        QList<double> xs;
        for (const QPointF &p : automatic->points())
            xs.append(p.x());
        std::sort(xs.begin(), xs.end());
        const double spacingS = chart->markerSpacingMs() / 1000.0;
        return xs.size() == 3 && xs[1] - xs[0] >= spacingS * 0.99 && xs[2] - xs[1] >= spacingS * 0.99;
    };
    QVERIFY(waitUntil(apart, 5000));
    shot(u"reconnects"_s);
    QList<double> gaps, ys;
    for (const ReconnectRecord &r : m_controller->lastSnapshot().reconnects)
        gaps.append(static_cast<double>(r.dataGapMs >= 0 ? r.dataGapMs : r.durationMs) / 1000.0);
    for (const QPointF &p : automatic->points())
        ys.append(p.y());
    std::sort(gaps.begin(), gaps.end());
    std::sort(ys.begin(), ys.end());
    QCOMPARE(ys, gaps);
    QVERIFY(chart->chart()->title().contains(u"data lost"_s));
}

void tst_WindowExports::dispatcherChartsSeeAFlood()
{
    // Drop-oldest with a 200-frame queue: a flood drops thousands of frames within a second or
    // two; the charts must show it, not a flat zero.
    const auto trades = sub(R"({"type":"trades","coin":"BTC"})");
    m_controller->subscribe({trades});
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 10; }));
    Sim::Fault flood = Sim::Fault::make(Sim::FaultKind::Flood);
    flood.subscription = trades;
    flood.amount = 30000;
    QVERIFY(m_sim->apply(flood));
    QVERIFY(waitUntil([this] { return m_controller->engine().dispatcherStats().at(1).dropped > 0; }, 20000));
    auto maxOf = [this](const QString &name) {
        double m = 0;
        for (const QPointF &p : m_controller->series().points(name))
            m = std::max(m, p.y());
        return m;
    };
    const QString queue = PoolController::seriesName(u"disp"_s, u"inspector"_s, u"queue"_s);
    const QString drops = PoolController::seriesName(u"disp"_s, u"inspector"_s, u"drops"_s);
    QVERIFY(waitUntil([&] { return maxOf(drops) > 0 && maxOf(queue) >= 200; }, 10000));
    QCOMPARE(maxOf(queue), 200.0); // full, never more than the capacity
    // And the drawn lines carry it.
    m_window->tabs()->setCurrentIndex(2); // Dispatcher
    SeriesChart *dropsChart = m_window->charts().at(3);
    QVERIFY(waitUntil(
        [&] {
            for (QAbstractSeries *s : dropsChart->chart()->series())
                if (s->name() == u"inspector"_s)
                    for (const QPointF &p : static_cast<QXYSeries *>(s)->points())
                        if (p.y() > 0)
                            return true;
            return false;
        },
        5000));
    shot(u"flood"_s);
}

QTEST_MAIN(tst_WindowExports)
#include "tst_window_exports.moc"

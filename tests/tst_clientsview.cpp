// The gateway in the window (issue 14): the real MainWindow offscreen over a real pool, the
// simulator and a real GatewayService, with real WebSocket clients.
#include "clientsmodel.h"
#include "clientsview.h"
#include "consumerstooltip.h"
#include "gatewayservice.h"
#include "livetableview.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "settingsdialog.h"
#include "simulator.h"
#include "tableproxy.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTest>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QWebSocket>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

/// A bot: a QWebSocket that subscribes once connected and counts what it receives.
struct Bot
{
    QWebSocket ws;
    QStringList received;
    QObject context;

    void open(const QUrl &base, const QString &name, const QList<QByteArray> &subscriptions)
    {
        QObject::connect(&ws, &QWebSocket::textMessageReceived, &context,
                         [this](const QString &t) { received.append(t); });
        QObject::connect(&ws, &QWebSocket::connected, &context, [this, subscriptions] {
            for (const QByteArray &s : subscriptions)
                ws.sendTextMessage(QString::fromUtf8(R"({"method":"subscribe","subscription":)" + s + "}"));
        });
        QUrl url = base;
        url.setQuery(u"name="_s + name);
        ws.open(url);
    }
    qsizetype dataFrames() const
    {
        qsizetype n = 0;
        for (const QString &t : received)
            n += t.contains(u"\"channel\":\"bbo\""_s);
        return n;
    }
};

/// Clicks @p button of the next message box that opens (a modal question).
void answerNextMessageBox(QMessageBox::StandardButton button)
{
    QTimer::singleShot(0, qApp, [button] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box) { // not open yet: try again
            answerNextMessageBox(button);
            return;
        }
        box->button(button)->click();
    });
}

} // namespace

class tst_ClientsView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void clientsShowWithNamesSubscriptionsAndFrames();
    void ratesAreThereWhenTheTabIsShown();
    void disconnectClientClosesExactlyThatOne();
    void cancelledDisconnectClosesNothing();
    void consumersColumnNamesEveryClientOfASharedSubscription();
    void emptyStateSaysHowToConnect();
    void modelFiguresAndFormats();
    void settingsGatewayTabValidates();
    void tokenIsNeverShownBack();
    void gatewayStartedFromSettings();
    void windowGoesWithItsGateway();

private:
    int rowOf(const QString &name) const;
    QString cell(int row, int column) const;
    void startGateway();

    std::unique_ptr<Sim::FeedSimulator> m_sim;
    std::unique_ptr<PoolController> m_controller;
    std::unique_ptr<MainWindow> m_window;
};

void tst_ClientsView::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
}

void tst_ClientsView::init()
{
    QSettings().clear();
    m_sim = std::make_unique<Sim::FeedSimulator>();
    QVERIFY(m_sim->start());
    EngineConfig cfg;
    cfg.pool.url = m_sim->url();
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    m_controller = std::make_unique<PoolController>(cfg);
    QVERIFY(m_controller->start(nullptr));
    m_window = std::make_unique<MainWindow>(m_controller.get());
    m_window->setDemoMode(true);
    m_window->resize(1400, 900);
    m_window->show();
    m_controller->subscribe({sub(R"({"type":"bbo","coin":"C0"})")});
    QVERIFY(waitUntil([this] { return m_controller->summary().subscriptionsActive == 1; }));
    if (QTest::currentTestFunction() != QByteArrayView("gatewayStartedFromSettings"))
        startGateway();
}

void tst_ClientsView::startGateway()
{
    GatewayServiceConfig gc; // port 0: a free port
    gc.hub.linger = 0ms;
    auto *gateway = new GatewayService(m_controller->engine(), gc);
    QString error;
    QVERIFY2(gateway->start(&error), qPrintable(error));
    m_window->setGateway(gateway);
    QVERIFY(m_window->clientsView());
    m_window->showClients();
}

void tst_ClientsView::cleanup()
{
    if (m_window)
        m_window->stopGateway();
    m_window.reset();
    m_controller->shutdown(1s);
    m_controller.reset();
    m_sim.reset();
}

int tst_ClientsView::rowOf(const QString &name) const
{
    const QAbstractItemModel *m = m_window->clientsView()->table()->model();
    for (int r = 0; r < m->rowCount(); ++r)
        if (m->index(r, ClientsModel::Name).data(RawValueRole).toString() == name)
            return r;
    return -1;
}

QString tst_ClientsView::cell(int row, int column) const
{
    return m_window->clientsView()->table()->model()->index(row, column).data().toString();
}

void tst_ClientsView::clientsShowWithNamesSubscriptionsAndFrames()
{
    ClientsView *view = m_window->clientsView();
    QAbstractItemModelTester tester(view->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(view->isVisible());
    QVERIFY(m_window->tabs()->indexOf(view) >= 0);
    QCOMPARE(m_window->gatewayButton()->text(), u"gateway: 0 clients"_s);
    QVERIFY(m_window->gatewayButton()->isVisible());

    Bot a, b;
    const QUrl url = m_window->gateway()->server().url();
    a.open(url, u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})", R"({"type":"bbo","coin":"C1"})"});
    b.open(url, u"bot-b"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return rowOf(u"bot-a"_s) >= 0 && rowOf(u"bot-b"_s) >= 0; }));
    QCOMPARE(view->model()->rowCount(), 2);
    QVERIFY(!view->emptyStateShown());
    QVERIFY(waitUntil([&] {
        return cell(rowOf(u"bot-a"_s), ClientsModel::Subscriptions) == u"2"_s &&
               cell(rowOf(u"bot-b"_s), ClientsModel::Subscriptions) == u"1"_s;
    }));
    // Frames out rise, and so does the rate.
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0 && b.dataFrames() > 0; }));
    const qint64 sentA = cell(rowOf(u"bot-a"_s), ClientsModel::FramesOut).toLongLong();
    QVERIFY(waitUntil([&] { return cell(rowOf(u"bot-a"_s), ClientsModel::FramesOut).toLongLong() > sentA; }));
    QVERIFY(waitUntil([&] {
        return view->table()
                   ->model()
                   ->index(rowOf(u"bot-b"_s), ClientsModel::MsgsPerSec)
                   .data(RawValueRole)
                   .toDouble() > 0;
    }));
    // The peer is this machine, the name's tooltip tells the user agent, the queue its bound.
    QVERIFY(cell(rowOf(u"bot-a"_s), ClientsModel::Peer).startsWith(u"127.0.0.1:"_s));
    QVERIFY(view->table()
                ->model()
                ->index(rowOf(u"bot-a"_s), ClientsModel::Name)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(u"User-Agent"_s));
    QVERIFY(cell(rowOf(u"bot-a"_s), ClientsModel::Queue).endsWith(u" of 4.0 MiB"_s));
    QVERIFY2(cell(rowOf(u"bot-a"_s), ClientsModel::Connected).contains(u" · for "_s),
             qPrintable(cell(rowOf(u"bot-a"_s), ClientsModel::Connected)));
    // The summary line and the status bar.
    QVERIFY(waitUntil([&] { return view->summaryText().contains(u"2 of 256 clients"_s); }));
    QVERIFY2(view->summaryText().contains(url.toString()), qPrintable(view->summaryText()));
    QCOMPARE(m_window->gatewayButton()->text(), u"gateway: 2 clients"_s);
    QVERIFY(m_window->tabs()->tabText(m_window->tabs()->indexOf(view)).contains(u"(2)"_s));
    // Hidden, the rows keep being sampled: shown again, the rates are there at once.
    m_window->tabs()->setCurrentIndex(0);
    QVERIFY(!view->isVisible());
    const qsizetype hiddenFrom = a.dataFrames();
    QVERIFY(waitUntil([&] { return a.dataFrames() > hiddenFrom + 15; }));
    m_window->showClients();
    QVERIFY(view->isVisible());
    QVERIFY(view->table()
                ->model()
                ->index(rowOf(u"bot-a"_s), ClientsModel::MsgsPerSec)
                .data(RawValueRole)
                .toDouble() > 0);
    // The filter finds one by name.
    view->filter()->setText(u"bot-b"_s);
    QCOMPARE(view->table()->model()->rowCount(), 1);
    QCOMPARE(view->countText(), u"1 of 2 clients"_s);
    view->filter()->clear();
    QCOMPARE(view->table()->model()->rowCount(), 2);

    // Pictures of the tab with two clients (FEEDSCOPE_SHOTS=DIR).
    if (const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOTS"); !dir.isEmpty()) {
        QDir().mkpath(dir);
        for (const QSize size : {QSize(1600, 1000), QSize(1024, 700)}) {
            m_window->resize(size);
            QVERIFY(waitUntil([&] { return m_window->size() == size; }, 2000));
            QTest::qWait(300); // the layout and one tick (only for the picture)
            QVERIFY(
                m_window->grab().save(dir + u"/clients-%1x%2.png"_s.arg(size.width()).arg(size.height())));
        }
    }
}

void tst_ClientsView::ratesAreThereWhenTheTabIsShown()
{
    // A bot that connects while another tab is shown: its rates are known when Clients is shown.
    ClientsView *view = m_window->clientsView();
    m_window->tabs()->setCurrentIndex(0);
    QVERIFY(!view->isVisible());
    Bot a;
    a.open(m_window->gateway()->server().url(), u"bot-a"_s,
           {R"({"type":"bbo","coin":"C0"})", R"({"type":"bbo","coin":"C1"})"});
    QVERIFY(waitUntil([&] { return a.dataFrames() > 15; }));
    m_window->showClients();
    QVERIFY(rowOf(u"bot-a"_s) >= 0);
    QVERIFY(view->table()
                ->model()
                ->index(rowOf(u"bot-a"_s), ClientsModel::MsgsPerSec)
                .data(RawValueRole)
                .toDouble() > 0);
}

void tst_ClientsView::disconnectClientClosesExactlyThatOne()
{
    ClientsView *view = m_window->clientsView();
    QAbstractItemModelTester tester(view->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    Bot a, b;
    const QUrl url = m_window->gateway()->server().url();
    a.open(url, u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})"});
    b.open(url, u"bot-b"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return rowOf(u"bot-a"_s) >= 0 && rowOf(u"bot-b"_s) >= 0; }));
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0 && b.dataFrames() > 0; }));
    QSignalSpy aClosed(&a.ws, &QWebSocket::disconnected), bClosed(&b.ws, &QWebSocket::disconnected);

    QVERIFY(!view->disconnectButton()->isEnabled()); // nothing selected
    view->table()->selectRow(rowOf(u"bot-a"_s));
    QVERIFY(view->disconnectButton()->isEnabled());
    answerNextMessageBox(QMessageBox::Yes);
    view->disconnectButton()->click();

    QVERIFY(aClosed.wait(5000));
    QCOMPARE(a.ws.closeCode(), QWebSocketProtocol::CloseCodeNormal);
    QCOMPARE(a.ws.closeReason(), u"disconnected by the operator"_s);
    QVERIFY(waitUntil([&] { return rowOf(u"bot-a"_s) < 0; }));
    QCOMPARE(view->model()->rowCount(), 1);
    QVERIFY(rowOf(u"bot-b"_s) >= 0);
    // The other one keeps its data.
    const qsizetype before = b.dataFrames();
    QVERIFY(waitUntil([&] { return b.dataFrames() > before; }));
    QCOMPARE(bClosed.size(), 0);
    QCOMPARE(b.ws.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(m_window->gatewayButton()->text(), u"gateway: 1 client"_s);
    // Its last figures stay in the summary's tooltip.
    QVERIFY(waitUntil([&] { return view->model()->departed().size() == 1; }));
    QCOMPARE(view->model()->departed().back().stats.name, u"bot-a"_s);
    QVERIFY(view->model()->departed().back().reason.contains(u"disconnected by the operator"_s));
    view->refresh();
    QVERIFY(
        m_window->clientsView()->findChild<QLabel *>(u"clientsSummary"_s)->toolTip().contains(u"bot-a"_s));
}

void tst_ClientsView::cancelledDisconnectClosesNothing()
{
    ClientsView *view = m_window->clientsView();
    Bot a;
    a.open(m_window->gateway()->server().url(), u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return rowOf(u"bot-a"_s) >= 0; }));
    const int id = view->table()->model()->index(rowOf(u"bot-a"_s), 0).data(KeyRole).toInt();
    answerNextMessageBox(QMessageBox::Cancel);
    QVERIFY(!view->disconnectClients({id}));
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0; }));
    QCOMPARE(a.ws.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(view->model()->rowCount(), 1);
}

void tst_ClientsView::consumersColumnNamesEveryClientOfASharedSubscription()
{
    Bot a, b, c;
    const QUrl url = m_window->gateway()->server().url();
    a.open(url, u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})"});
    b.open(url, u"bot-b"_s, {R"({"type":"bbo","coin":"C0"})"});
    c.open(url, u"bot-c"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0 && b.dataFrames() > 0 && c.dataFrames() > 0; }));
    SubscriptionsModel *subs = m_controller->subscriptions();
    const int row = subs->rowOf(sub(R"({"type":"bbo","coin":"C0"})").canonical());
    QVERIFY(row >= 0);
    QString consumers;
    QVERIFY(waitUntil([&] {
        consumers = subs->index(row, SubscriptionsModel::Consumers).data().toString();
        return consumers.contains(u"gateway: bot-a #"_s) && consumers.contains(u"gateway: bot-b #"_s) &&
               consumers.contains(u"gateway: bot-c #"_s);
    }));
    QVERIFY2(consumers.contains(u"user"_s), qPrintable(consumers));
    QCOMPARE(subs->index(row, SubscriptionsModel::Consumers).data(RawValueRole).toInt(), 4);
    // The cell does not hold them all: its tooltip lists every consumer, the bots apart.
    const QString tip = ConsumersToolTip::text(consumers, 4);
    QVERIFY2(tip.startsWith(u"4 consumers:\n• user\n3 gateway clients:\n• bot-"_s), qPrintable(tip));
    QVERIFY(tip.contains(u"• bot-a #"_s) && tip.contains(u"• bot-b #"_s) && tip.contains(u"• bot-c #"_s));
    QTableView *channels = m_window->subscriptionsView();
    QModelIndex cellIndex;
    for (int r = 0; r < channels->model()->rowCount(); ++r)
        if (channels->model()->index(r, 0).data(KeyRole).toByteArray() ==
            sub(R"({"type":"bbo","coin":"C0"})").canonical())
            cellIndex = channels->model()->index(r, SubscriptionsModel::Consumers);
    QVERIFY(cellIndex.isValid());
    channels->scrollTo(cellIndex);
    const QPoint at = channels->visualRect(cellIndex).center();
    QHelpEvent help(QEvent::ToolTip, at, channels->viewport()->mapToGlobal(at));
    QApplication::sendEvent(channels->viewport(), &help);
    QTRY_VERIFY2(QToolTip::text().contains(u"3 gateway clients:"_s), qPrintable(QToolTip::text()));
    // One upstream subscription for all of them.
    QCOMPARE(m_controller->summary().subscriptionsTotal, 1);
    // A client's *Show its channels* filters Channels to its subscriptions.
    QSignalSpy asked(m_window->clientsView(), &ClientsView::channelsRequested);
    const QModelIndex name = m_window->clientsView()->table()->model()->index(rowOf(u"bot-b"_s), 0);
    Q_EMIT m_window->clientsView()->table()->doubleClicked(name);
    QCOMPARE(asked.size(), 1);
    QVERIFY(m_window->channelsProxy()->filterWords().startsWith(u"gateway: bot-b #"_s));
    QCOMPARE(m_window->channelsProxy()->rowCount(), 1);
}

void tst_ClientsView::emptyStateSaysHowToConnect()
{
    ClientsView *view = m_window->clientsView();
    QVERIFY(view->emptyStateShown());
    const QString url = m_window->gateway()->server().url().toString();
    QVERIFY2(view->emptyStateText().contains(url), qPrintable(view->emptyStateText()));
    QVERIFY(view->emptyStateText().contains(u"?name="_s));
    QCOMPARE(view->countText(), u"0 clients"_s);
    // Stopped: the tab says so, and the status bar forgets it.
    m_window->stopGateway();
    QVERIFY(view->emptyStateShown());
    QVERIFY2(view->emptyStateText().contains(u"off"_s), qPrintable(view->emptyStateText()));
    QVERIFY(!m_window->gatewayButton()->isVisible());
    // One that cannot start (the port in use) says why.
    GatewayServiceConfig gc;
    GatewayService holder(m_controller->engine(), gc);
    QVERIFY(holder.start(nullptr));
    GatewaySettings busy;
    busy.enabled = true;
    busy.config.server.port = holder.server().port();
    QString error;
    QVERIFY(!m_window->startGateway(busy, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY2(view->emptyStateText().contains(error), qPrintable(view->emptyStateText()));
    QCOMPARE(m_window->gatewayButton()->text(), u"gateway: not running"_s);
    QVERIFY(m_window->gatewayButton()->isVisible());
}

void tst_ClientsView::modelFiguresAndFormats()
{
    ClientsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QDateTime t0 = QDateTime::currentDateTime();
    auto client = [&](int id, const QString &name, qint64 frames, qint64 bytes) {
        Gw::ClientStats s;
        s.id = id;
        s.name = name;
        s.peerAddress = QHostAddress::LocalHost;
        s.peerPort = static_cast<quint16>(40000 + id);
        s.connectedAt = t0;
        s.framesOut = frames;
        s.bytesOut = bytes;
        s.queueBoundBytes = 1000;
        return s;
    };
    m.applyClients({client(1, u"a"_s, 0, 0), client(2, u"b"_s, 0, 0), client(3, u"c"_s, 0, 0)}, 1000, t0);
    QCOMPARE(m.rowCount(), 3);
    // One second later: 100 frames and 10 KiB more for "a"; "b" has gone, "d" came, "c" nears its bound.
    Gw::ClientStats c = client(3, u"c"_s, 5, 5);
    c.queuedBytes = 900;
    c.closing = true;
    m.applyClients({client(1, u"a"_s, 100, 10240), c, client(4, u"d"_s, 0, 0)}, 2000, t0.addSecs(185));
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(m.rowOf(2), -1);
    const int a = m.rowOf(1);
    QCOMPARE(m.messagesPerSecond(a), 100.0);
    QCOMPARE(m.index(a, ClientsModel::KBPerSec).data().toString(), u"10.0"_s);
    QVERIFY(m.index(a, ClientsModel::Connected).data().toString().endsWith(u" · for 3 min"_s));
    const int cr = m.rowOf(3);
    QCOMPARE(m.index(cr, ClientsModel::Name).data().toString(), u"c · closing"_s);
    QCOMPARE(m.index(cr, ClientsModel::Queue).data(SeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(m.index(cr, 0).data(RowSeverityRole).value<Severity>(), Severity::Bad);
    QCOMPARE(m.index(a, ClientsModel::Queue).data(SeverityRole), QVariant());
    QCOMPARE(m.index(a, ClientsModel::Peer).data().toString(), u"127.0.0.1:40001"_s);
    QCOMPARE(ClientsModel::connectedFor(42000), u"for 42 s"_s);
    QCOMPARE(ClientsModel::connectedFor(2 * 3600000 + 5 * 60000), u"for 2 h 5 min"_s);
    QCOMPARE(ClientsModel::connectedFor(3 * 86400000LL + 4 * 3600000), u"for 3 d 4 h"_s);
    // Everything gone at once, then cleared.
    m.applyClients({}, 3000, t0);
    QCOMPARE(m.rowCount(), 0);
    m.applyClients({client(5, u"e"_s, 0, 0)}, 4000, t0);
    m.clear();
    QCOMPARE(m.rowCount(), 0);
    for (int i = 0; i < ClientsModel::DepartedCapacity + 5; ++i)
        m.noteDeparted(client(i, u"x"_s, 0, 0), Gw::CloseReason::Idle, 1000, QString(), t0);
    QCOMPARE(m.departed().size(), static_cast<size_t>(ClientsModel::DepartedCapacity));
}

void tst_ClientsView::settingsGatewayTabValidates()
{
    Profile p;
    p.gateway.enabled = true;
    SettingsDialog dialog(p);
    dialog.show();
    dialog.showGatewayPage();
    QCOMPARE(dialog.pages()->currentWidget(), dialog.gatewayPage());
    auto *port = dialog.findChild<QLineEdit *>(u"gatewayPort"_s);
    auto *bind = dialog.findChild<QLineEdit *>(u"gatewayBind"_s);
    auto *token = dialog.findChild<QLineEdit *>(u"gatewayToken"_s);
    QVERIFY(port && bind && token);
    QCOMPARE(token->echoMode(), QLineEdit::Password);
    QVERIFY(dialog.findChild<QLabel *>(u"gatewayNote"_s)->text().contains(u"restarts"_s));
    if (const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOTS"); !dir.isEmpty()) {
        QDir().mkpath(dir);
        dialog.resize(dialog.sizeHint());
        QVERIFY(dialog.grab().save(dir + u"/settings-gateway.png"_s));
    }

    // A port out of range: a message, the dialog stays open, on its Gateway page.
    dialog.pages()->setCurrentIndex(0);
    port->setText(u"70000"_s);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QVERIFY(dialog.result() != QDialog::Accepted);
    QCOMPARE(dialog.pages()->currentWidget(), dialog.gatewayPage());
    QVERIFY2(dialog.statusText().contains(u"70000"_s) && dialog.statusText().contains(u"65,535"_s),
             qPrintable(dialog.statusText()));
    port->setText(u"http"_s);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QVERIFY(dialog.statusText().contains(u"“http” is not a port"_s));

    // Not loopback and no token.
    port->setText(u"8765"_s);
    bind->setText(u"0.0.0.0"_s);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QVERIFY2(dialog.statusText().contains(u"token"_s) && dialog.statusText().contains(u"0.0.0.0"_s),
             qPrintable(dialog.statusText()));
    bind->setText(u"not-an-address"_s);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QVERIFY(dialog.statusText().contains(u"not an IP address"_s));
    // A token with a space.
    bind->setText(u"0.0.0.0"_s);
    token->setText(u"two words"_s);
    dialog.accept();
    QVERIFY(dialog.isVisible());
    QVERIFY(dialog.statusText().contains(u"no spaces"_s));

    // Good input: every field reaches the settings.
    token->setText(u"s3cret-token"_s);
    dialog.findChild<QSpinBox *>(u"gatewayMaxClients"_s)->setValue(12);
    dialog.findChild<QSpinBox *>(u"gatewayQueue"_s)->setValue(512);
    dialog.findChild<QSpinBox *>(u"gatewayIdle"_s)->setValue(0);
    dialog.findChild<QSpinBox *>(u"gatewayLinger"_s)->setValue(250);
    dialog.findChild<QSpinBox *>(u"gatewayMaxSubscriptions"_s)->setValue(50);
    dialog.findChild<QSpinBox *>(u"gatewayMessagesPerMinute"_s)->setValue(600);
    dialog.findChild<QSpinBox *>(u"gatewayFrame"_s)->setValue(64);
    auto *policy = dialog.findChild<QComboBox *>(u"gatewayPolicy"_s);
    policy->setCurrentIndex(policy->findData(u"coalesce-latest"_s));
    QString error;
    const auto s = dialog.gatewaySettings(&error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->enabled);
    QCOMPARE(s->config.server.port, quint16(8765));
    QCOMPARE(s->config.server.bind, QHostAddress(QHostAddress::AnyIPv4));
    QCOMPARE(s->config.server.token, QByteArray("s3cret-token"));
    QCOMPARE(s->config.server.maxClients, 12);
    QCOMPARE(s->config.server.queueBytes, qint64(512 * 1024));
    QCOMPARE(s->config.server.idleTimeout, 0ms);
    QCOMPARE(s->config.hub.linger, 250ms);
    QCOMPARE(s->config.server.maxSubscriptions, 50);
    QCOMPARE(s->config.server.maxMessagesPerMinute, 600);
    QCOMPARE(s->config.server.maxFrameBytes, qint64(64 * 1024));
    QCOMPARE(s->config.server.policy, Gw::SlowPolicy::CoalesceLatest);
    const auto whole = dialog.profile(&error);
    QVERIFY2(whole, qPrintable(error));
    QCOMPARE(whole->gateway.config.server.token, QByteArray("s3cret-token"));
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
}

void tst_ClientsView::tokenIsNeverShownBack()
{
    Profile p;
    p.gateway.enabled = true;
    p.gateway.config.server.bind = QHostAddress(QHostAddress::AnyIPv4);
    p.gateway.config.server.token = "kept-secret";
    SettingsDialog dialog(p);
    auto *token = dialog.findChild<QLineEdit *>(u"gatewayToken"_s);
    QVERIFY(token->text().isEmpty());
    QVERIFY(token->placeholderText().contains(u"not shown"_s));
    QString error;
    auto s = dialog.gatewaySettings(&error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->config.server.token, QByteArray("kept-secret")); // kept though not shown
    // Removed: then this non-loopback address is refused.
    dialog.findChild<QPushButton *>(u"gatewayRemoveToken"_s)->click();
    QVERIFY(!dialog.gatewaySettings(&error));
    QVERIFY(error.contains(u"token"_s));
    dialog.findChild<QLineEdit *>(u"gatewayBind"_s)->setText(u"127.0.0.1"_s);
    s = dialog.gatewaySettings(&error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->config.server.token.isEmpty());
}

void tst_ClientsView::gatewayStartedFromSettings()
{
    // The window started without a gateway: no Clients tab, nothing in the status bar.
    QVERIFY(!m_window->clientsView());
    QVERIFY(!m_window->gateway());
    // Settings → Gateway: on, any free port, Save.
    QTimer::singleShot(0, this, [] {
        auto *dialog = qobject_cast<SettingsDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        dialog->findChild<QCheckBox *>(u"gatewayEnabled"_s)->setChecked(true);
        dialog->findChild<QLineEdit *>(u"gatewayPort"_s)->setText(u"0"_s);
        dialog->accept();
    });
    m_window->settingsAction()->trigger();
    QVERIFY(m_window->gateway());
    QVERIFY(m_window->gateway()->isRunning());
    QVERIFY(m_window->clientsView());
    QVERIFY(m_window->tabs()->indexOf(m_window->clientsView()) >= 0);
    QVERIFY(m_window->gatewayButton()->isVisible());
    m_window->showClients();
    QVERIFY(
        m_window->clientsView()->emptyStateText().contains(m_window->gateway()->server().url().toString()));

    Bot a;
    a.open(m_window->gateway()->server().url(), u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0 && rowOf(u"bot-a"_s) >= 0; }));

    // Saved unchanged: the client stays connected.
    QTimer::singleShot(0, this, [] {
        auto *dialog = qobject_cast<SettingsDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        QVERIFY(dialog->findChild<QCheckBox *>(u"gatewayEnabled"_s)->isChecked());
        dialog->accept();
    });
    GatewayService *before = m_window->gateway();
    m_window->settingsAction()->trigger();
    QCOMPARE(m_window->gateway(), before);
    QCOMPARE(a.ws.state(), QAbstractSocket::ConnectedState);

    // Changed: the gateway restarts (the client is closed with 1001) on its new settings.
    QSignalSpy closed(&a.ws, &QWebSocket::disconnected);
    QTimer::singleShot(0, this, [] {
        auto *dialog = qobject_cast<SettingsDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        dialog->findChild<QSpinBox *>(u"gatewayMaxClients"_s)->setValue(7);
        dialog->accept();
    });
    m_window->openGatewaySettings();
    QVERIFY(closed.wait(5000));
    QCOMPARE(a.ws.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    QVERIFY(m_window->gateway()->isRunning());
    QCOMPARE(m_window->gateway()->config().server.maxClients, 7);
    QVERIFY(waitUntil([&] { return m_window->clientsView()->summaryText().contains(u"0 of 7 clients"_s); }));

    // Off: stopped, the status bar forgets it.
    QTimer::singleShot(0, this, [] {
        auto *dialog = qobject_cast<SettingsDialog *>(QApplication::activeModalWidget());
        QVERIFY(dialog);
        QCOMPARE(dialog->pages()->currentWidget(), dialog->gatewayPage()); // opened on its page
        dialog->findChild<QCheckBox *>(u"gatewayEnabled"_s)->setChecked(false);
        dialog->accept();
    });
    m_window->openGatewaySettings();
    QVERIFY(!m_window->gateway());
    QVERIFY(!m_window->gatewayButton()->isVisible());
    QVERIFY(m_window->clientsView()->emptyStateText().contains(u"off"_s));
}

void tst_ClientsView::windowGoesWithItsGateway()
{
    // The window owns the gateway: closed with it, clients told "going away", nothing left behind.
    Bot a;
    a.open(m_window->gateway()->server().url(), u"bot-a"_s, {R"({"type":"bbo","coin":"C0"})"});
    QVERIFY(waitUntil([&] { return a.dataFrames() > 0; }));
    QSignalSpy closed(&a.ws, &QWebSocket::disconnected);
    m_window.reset();
    QVERIFY(closed.size() == 1 || closed.wait(5000));
    QCOMPARE(a.ws.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    // Its subscription is the user's alone again.
    const int row = m_controller->subscriptions()->rowOf(sub(R"({"type":"bbo","coin":"C0"})").canonical());
    QVERIFY(waitUntil([&] {
        return m_controller->subscriptions()->index(row, SubscriptionsModel::Consumers).data().toString() ==
               u"user"_s;
    }));
}

QTEST_MAIN(tst_ClientsView)
#include "tst_clientsview.moc"

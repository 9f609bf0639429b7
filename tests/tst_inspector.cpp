// The inspector: the store's message identities and previews, the list model, and the real
// InspectorView over a MessageInspector filled with known frames; then the real MainWindow on the
// simulator for the unsubscribe case.
#include "inspector.h"
#include "inspectorview.h"
#include "mainwindow.h"
#include "poolcontroller.h"
#include "simulator.h"
#include "testutil.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

#include <memory>

using namespace FeedScope;
using namespace FeedScope::Test;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {

const QByteArray Btc = R"({"coin":"BTC","type":"bbo"})";
const QByteArray Eth = R"({"coin":"ETH","type":"bbo"})";

/// A bbo frame whose best bid is 65000 + i.
QByteArray bbo(int i, const char *coin = "BTC")
{
    return R"({"channel":"bbo","data":{"coin":")" + QByteArray(coin) + R"(","time":)" +
           QByteArray::number(1700000000000LL + i) + R"(,"bbo":[{"px":")" + QByteArray::number(65000 + i) +
           R"(","sz":"0.5","n":2},{"px":")" + QByteArray::number(65001 + i) + R"(","sz":"1.25","n":3}]}})";
}

void record(MessageInspector &store, const QByteArray &key, const QByteArray &raw, int connection = 1)
{
    store.record(DataFrame{connection, key, raw, 0, false});
}

quint64 seqAt(const InspectorView &view, int row)
{
    return view.list()->model()->index(row, 0).data(KeyRole).toULongLong();
}

/// With FEEDSCOPE_SHOTS=dir, saves a picture of @p w there (to look at, not to compare).
void shoot(QWidget &w, const char *name)
{
    const QString dir = qEnvironmentVariable("FEEDSCOPE_SHOTS");
    if (dir.isEmpty())
        return;
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest); // as the event loop would first
    w.grab().save(dir + u'/' + QLatin1StringView(name) + u".png"_s);
}

/// A user's click on a row of the inspector's list.
void clickRow(InspectorView &view, int row)
{
    InspectorListView *list = view.list();
    const QModelIndex index = list->model()->index(row, 0);
    list->scrollTo(index);
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, list->visualRect(index).center());
}

} // namespace

class tst_Inspector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void titles_data();
    void titles();
    void summaries_data();
    void summaries();
    void storeIdentitiesAndUpdates();
    void modelTakesWhatIsNewAndKeepsThePinned();
    void listPreviewsAndTheTextGetsTheHeight();
    void followKeepsThePickedMessage();
    void newestJumpsBackAndFollows();
    void searchFiltersWithACount();
    void pausedListStaysAsItIs();
    void nothingHappensPerMessage();
    void longTitleElides();
    void goneWhenTheChannelLeaves();
    void filteredChannelStaysLive();
    void mainWindowUnsubscribeSaysGone();
};

void tst_Inspector::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
}

void tst_Inspector::titles_data()
{
    QTest::addColumn<QByteArray>("canonical");
    QTest::addColumn<QString>("title");
    QTest::addRow("book with significant figures")
        << QByteArray(R"({"coin":"BTC","nSigFigs":5,"type":"l2Book"})")
        << u"l2Book · BTC · 5 significant figures"_s;
    QTest::addRow("book with mantissa, fast")
        << QByteArray(R"({"coin":"ETH","fast":true,"mantissa":2,"nSigFigs":5,"type":"l2Book"})")
        << u"l2Book · ETH · 5 significant figures · mantissa 2 · fast"_s;
    QTest::addRow("user fills")
        << QByteArray(R"({"type":"userFills","user":"0x0d1d9ae3ad8d0d7cd6db40a1a2e0e7f3a9c0ab12"})")
        << u"userFills · 0x0d1…ab12"_s;
    QTest::addRow("candle") << QByteArray(R"({"coin":"BTC","interval":"1m","type":"candle"})")
                            << u"candle · BTC · 1m"_s;
    QTest::addRow("all mids of a dex")
        << QByteArray(R"({"dex":"xyz","type":"allMids"})") << u"allMids · dex xyz"_s;
    QTest::addRow("false flags say nothing")
        << QByteArray(R"({"coin":"SOL","fast":false,"type":"l2Book"})") << u"l2Book · SOL"_s;
    QTest::addRow("unknown parameter")
        << QByteArray(R"({"speed":3,"type":"future"})") << u"future · speed 3"_s;
    QTest::addRow("not JSON") << QByteArray("garbage") << u"garbage"_s;
}

void tst_Inspector::titles()
{
    QFETCH(QByteArray, canonical);
    QFETCH(QString, title);
    QCOMPARE(channelTitle(canonical), title);
}

void tst_Inspector::summaries_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("summary");
    QTest::addRow("bbo") << bbo(0) << u"bid 65000 × 0.5 · ask 65001 × 1.25"_s;
    QTest::addRow("book")
        << QByteArray(
               R"({"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[{"px":"99","sz":"2","n":1},)"
               R"({"px":"98","sz":"1","n":1}],[{"px":"101","sz":"3","n":2}]]}})")
        << u"bid 99 × 2 · ask 101 × 3 · 2 + 1 levels"_s;
    QTest::addRow("trades")
        << QByteArray(R"({"channel":"trades","data":[{"coin":"BTC","side":"B","px":"65000.5","sz":"0.01"},)"
                      R"({"coin":"BTC","side":"A","px":"65000","sz":"0.2"}]})")
        << u"2 trades · BTC buy 0.01 @ 65000.5"_s;
    QTest::addRow("candle")
        << QByteArray(
               R"({"channel":"candle","data":{"t":1,"T":2,"s":"BTC","i":"1m","o":"1","c":"4","h":"5","l":"0.5","v":"9","n":3}})")
        << u"BTC 1m · open 1 · high 5 · low 0.5 · close 4 · volume 9"_s;
    QTest::addRow("mids") << QByteArray(
                                 R"({"channel":"allMids","data":{"mids":{"BTC":"65000","ETH":"3000"}}})")
                          << u"2 mids · BTC 65000"_s;
    QTest::addRow("fills snapshot")
        << QByteArray(
               R"({"channel":"userFills","data":{"isSnapshot":true,"user":"0xab","fills":[{"coin":"ETH","px":"3000",)"
               R"("sz":"1","side":"A"}]}})")
        << u"snapshot · 1 fill · ETH sell 1 @ 3000"_s;
    QTest::addRow("asset context")
        << QByteArray(
               R"({"channel":"activeAssetCtx","data":{"coin":"BTC","ctx":{"funding":"0.1","markPx":"65000"}}})")
        << u"markPx 65000 · funding 0.1"_s;
    QTest::addRow("not JSON") << QByteArray("{oops") << u"not JSON: {oops"_s;
}

void tst_Inspector::summaries()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, summary);
    QCOMPARE(messageSummary(raw), summary);
}

void tst_Inspector::storeIdentitiesAndUpdates()
{
    MessageInspector::Limits limits;
    limits.perSubscription = 5;
    MessageInspector store(limits);
    store.setWatched(Btc);
    for (int i = 0; i < 3; ++i) {
        record(store, Btc, bbo(i));
        record(store, Eth, bbo(i, "ETH"));
    }
    const QList<MessageInspector::Message> all = store.messages(Btc);
    QCOMPARE(all.size(), 3);
    QVERIFY(all.at(0).seq < all.at(1).seq && all.at(1).seq < all.at(2).seq); // identities increase
    // The watched subscription's previews are made while recording (the recording thread), the
    // others' are left to the reader.
    QCOMPARE(all.at(2).summary, u"bid 65002 × 0.5 · ask 65003 × 1.25"_s);
    QVERIFY(store.messages(Eth).constLast().summary.isEmpty());

    MessageInspector::Update u = store.messagesAfter(Btc, all.at(0).seq);
    QVERIFY(u.known);
    QCOMPARE(u.added.size(), 2); // only what is newer
    QCOMPARE(u.added.at(0).seq, all.at(1).seq);
    QCOMPARE(u.oldestSeq, all.at(0).seq);
    QCOMPARE(u.kept, 3);
    QVERIFY(store.messagesAfter(Btc, all.at(2).seq).added.isEmpty());
    for (int i = 3; i < 8; ++i)
        record(store, Btc, bbo(i));
    u = store.messagesAfter(Btc, all.at(2).seq);
    QCOMPARE(u.added.size(), 5);
    QCOMPARE(u.kept, 5);
    QVERIFY(u.oldestSeq > all.at(2).seq); // the first three went
    store.remove(Btc);
    QVERIFY(!store.messagesAfter(Btc, 0).known);
}

void tst_Inspector::modelTakesWhatIsNewAndKeepsThePinned()
{
    MessageInspector::Limits limits;
    limits.perSubscription = 4;
    MessageInspector store(limits);
    InspectorMessagesModel model(&store);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 3; ++i)
        record(store, Btc, bbo(i), 2);
    model.setChannel(Btc);
    QCOMPARE(model.rowCount(), 3);
    // Newest first; the preview line has time, size and the summary; the tooltip the connection.
    const QString line = model.index(0, 0).data().toString();
    QVERIFY2(line.contains(u"bid 65002 × 0.5"_s), qPrintable(line));
    QVERIFY2(line.contains(u" B "_s), qPrintable(line));
    QVERIFY(model.index(0, 0).data(Qt::ToolTipRole).toString().contains(u"connection #2"_s));
    QCOMPARE(model.index(2, 0).data(RawValueRole).toByteArray(), bbo(0));

    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QCOMPARE(model.refresh(), 0); // nothing new: nothing happens
    QCOMPARE(inserted.size(), 0);
    const quint64 oldest = model.index(2, 0).data(KeyRole).toULongLong();
    model.setPinned(oldest);
    for (int i = 3; i < 6; ++i) // the store keeps 4: bbo 0 and 1 go
        record(store, Btc, bbo(i));
    QCOMPARE(model.refresh(), 3);
    QCOMPARE(inserted.size(), 1); // one insert for the batch
    // bbo 1 went; bbo 0 (pinned) stays below the four the store keeps.
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.rowOf(oldest), 4);
    QCOMPARE(model.index(4, 0).data(RawValueRole).toByteArray(), bbo(0));
    QCOMPARE(model.index(3, 0).data(RawValueRole).toByteArray(), bbo(2));
    QVERIFY(model.index(4, 0).data(Qt::ToolTipRole).toString().contains(u"No longer kept"_s));
    model.setPinned(0);
    record(store, Btc, bbo(6));
    QCOMPARE(model.refresh(), 1);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.rowOf(oldest), -1);
    // Removed from the store (unsubscribed): the rows stay.
    store.remove(Btc);
    QCOMPARE(model.refresh(), 0);
    QCOMPARE(model.rowCount(), 4);
    model.setChannel({});
    QCOMPARE(model.rowCount(), 0);
}

void tst_Inspector::listPreviewsAndTheTextGetsTheHeight()
{
    MessageInspector store;
    for (int i = 0; i < 10; ++i)
        record(store, Btc, bbo(i));
    InspectorView view(&store);
    QAbstractItemModelTester tester(view.list()->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(420, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    QCOMPARE(view.list()->count(), 10);
    QCOMPARE(view.title(), u"bbo · BTC"_s);
    QCOMPARE(view.stateText(), u"Live"_s);
    QCOMPARE(view.countText(), u"10 messages"_s);
    // The newest is shown until the user picks one, indented.
    QCOMPARE(view.list()->currentIndex().row(), 0);
    QVERIFY(view.list()->model()->index(0, 0).data().toString().contains(
        u"bid 65009 × 0.5 · ask 65010 × 1.25"_s));
    QVERIFY2(view.text()->toPlainText().contains(u"\"px\": \"65009\""_s),
             qPrintable(view.text()->toPlainText()));
    QVERIFY(view.text()->toPlainText().count(u'\n') > 10);
    // The message text gets most of the height.
    QTRY_VERIFY(view.text()->height() > 2 * view.list()->height());
    QVERIFY(view.list()->height() >= 2 * view.list()->fontMetrics().height());
}

void tst_Inspector::followKeepsThePickedMessage()
{
    MessageInspector store;
    for (int i = 0; i < 30; ++i)
        record(store, Btc, bbo(i));
    InspectorView view(&store);
    QAbstractItemModelTester tester(view.list()->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(420, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    QVERIFY(view.followAction()->isChecked());
    QVERIFY(!view.newestAction()->isEnabled()); // already following the newest

    clickRow(view, 2);
    const quint64 picked = seqAt(view, 2);
    QCOMPARE(view.pinnedMessage(), picked);
    QCOMPARE(view.shownMessage(), picked);
    const QString text = view.text()->toPlainText();
    QVERIFY(text.contains(u"\"px\": \"65027\""_s)); // the 28th message
    for (int i = 30; i < 35; ++i)
        record(store, Btc, bbo(i));
    view.refresh();
    // Five arrived above it: the same message stays selected and shown, by identity.
    QCOMPARE(view.list()->count(), 35);
    QCOMPARE(view.list()->currentIndex().data(KeyRole).toULongLong(), picked);
    QCOMPARE(view.list()->currentIndex().row(), 7);
    QCOMPARE(view.shownMessage(), picked);
    QCOMPARE(view.text()->toPlainText(), text);
    QVERIFY(view.list()->viewport()->rect().intersects(view.list()->visualRect(view.list()->currentIndex())));
    QVERIFY(view.newestAction()->isEnabled());
    QCOMPARE(view.newestAction()->text(), u"Newest (7 new)"_s);
    // Picking another one moves the pin.
    clickRow(view, 0);
    QCOMPARE(view.pinnedMessage(), seqAt(view, 0));
    record(store, Btc, bbo(35));
    view.refresh();
    QCOMPARE(view.list()->currentIndex().row(), 1);
    QCOMPARE(view.newestAction()->text(), u"Newest (1 new)"_s);
}

void tst_Inspector::newestJumpsBackAndFollows()
{
    MessageInspector::Limits limits;
    limits.perSubscription = 10;
    MessageInspector store(limits);
    for (int i = 0; i < 10; ++i)
        record(store, Btc, bbo(i));
    InspectorView view(&store);
    QAbstractItemModelTester tester(view.list()->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(420, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    clickRow(view, 9); // the oldest: the store lets it go below
    const quint64 picked = seqAt(view, 9);
    for (int i = 10; i < 15; ++i)
        record(store, Btc, bbo(i));
    view.refresh();
    QCOMPARE(view.list()->count(), 11); // the ten kept and the picked one
    QCOMPARE(view.list()->currentIndex().data(KeyRole).toULongLong(), picked);
    QCOMPARE(view.shownMessage(), picked);

    view.newestAction()->trigger();
    QCOMPARE(view.pinnedMessage(), 0u);
    QCOMPARE(view.list()->currentIndex().row(), 0);
    QCOMPARE(view.shownMessage(), seqAt(view, 0));
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65014\""_s));
    QVERIFY(!view.newestAction()->isEnabled());
    record(store, Btc, bbo(15));
    view.refresh();
    QCOMPARE(view.list()->count(), 10); // the picked one went once let go
    QCOMPARE(view.list()->currentIndex().row(), 0);
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65015\""_s)); // following the newest again
    // Scrolling in the newest message while following keeps it shown too.
    view.text()->verticalScrollBar()->triggerAction(QAbstractSlider::SliderSingleStepAdd);
    QCOMPARE(view.pinnedMessage(), seqAt(view, 0));
    view.newestAction()->trigger();
    QCOMPARE(view.pinnedMessage(), 0u);
    // A click on the newest (already current while following) picks it: it stays shown.
    clickRow(view, 0);
    QCOMPARE(view.pinnedMessage(), seqAt(view, 0));
    record(store, Btc, bbo(16));
    view.refresh();
    QCOMPARE(view.list()->currentIndex().row(), 1);
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65015\""_s));
}

void tst_Inspector::searchFiltersWithACount()
{
    MessageInspector store;
    for (int i = 0; i < 10; ++i)
        record(store, Btc, bbo(i, i % 3 == 0 ? "XBT" : "BTC")); // 0, 3, 6, 9 carry "XBT"
    InspectorView view(&store);
    QAbstractItemModelTester tester(view.list()->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.resize(420, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    QTest::keyClicks(view.searchBox(), u"xbt"_s); // any case
    QCOMPARE(view.list()->count(), 4);
    QCOMPARE(view.countText(), u"4 of 10"_s);
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65009\""_s)); // the newest match
    // New messages are searched as they arrive.
    record(store, Btc, bbo(10, "XBT"));
    record(store, Btc, bbo(11));
    view.refresh();
    QCOMPARE(view.countText(), u"5 of 12"_s);
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65010\""_s));
    // The picked message survives a search that hides it.
    clickRow(view, 2);
    const quint64 picked = view.pinnedMessage();
    view.searchBox()->setText(u"no such thing"_s);
    QCOMPARE(view.countText(), u"0 of 12"_s);
    QCOMPARE(view.list()->count(), 0);
    QCOMPARE(view.shownMessage(), picked);
    view.searchBox()->clear();
    QCOMPARE(view.countText(), u"12 messages"_s);
    QCOMPARE(view.list()->currentIndex().data(KeyRole).toULongLong(), picked);
    // Nothing matches and nothing picked: the text says so.
    view.newestAction()->trigger();
    view.searchBox()->setText(u"no such thing"_s);
    QVERIFY(view.text()->toPlainText().contains(u"No message contains “no such thing”"_s));
    // A search in the JSON, not in the preview: every message has a "time" field.
    view.searchBox()->setText(u"\"TIME\":"_s);
    QCOMPARE(view.countText(), u"12 of 12"_s);
    // Text copied from the indented message finds the compact frames too.
    view.searchBox()->setText(u"\"coin\": \"XBT\""_s);
    QCOMPARE(view.countText(), u"5 of 12"_s);
}

void tst_Inspector::pausedListStaysAsItIs()
{
    MessageInspector store;
    for (int i = 0; i < 3; ++i)
        record(store, Btc, bbo(i));
    InspectorView view(&store);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    view.followAction()->setChecked(false);
    QCOMPARE(view.stateText(), u"Paused"_s);
    record(store, Btc, bbo(3));
    view.refresh();
    QCOMPARE(view.list()->count(), 3);
    view.followAction()->setChecked(true); // catches up at once
    QCOMPARE(view.list()->count(), 4);
    QCOMPARE(view.stateText(), u"Live"_s);
    QVERIFY(view.text()->toPlainText().contains(u"\"px\": \"65003\""_s));
}

void tst_Inspector::nothingHappensPerMessage()
{
    MessageInspector store;
    InspectorView view(&store);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    QCOMPARE(view.list()->count(), 0);
    QSignalSpy inserted(view.list()->model(), &QAbstractItemModel::rowsInserted);
    for (int i = 0; i < 100; ++i)
        record(store, Btc, bbo(i));
    QCoreApplication::processEvents();
    QCOMPARE(inserted.size(), 0); // the list changes only when refreshed (the window: once a second)
    QVERIFY(!store.messages(Btc).constLast().summary.isEmpty()); // previews were made while recording
    view.refresh();
    QCOMPARE(inserted.size(), 1); // and then in one batch
    QCOMPARE(view.list()->count(), 100);
}

void tst_Inspector::longTitleElides()
{
    MessageInspector store;
    InspectorView view(&store);
    view.resize(300, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.showChannel(Btc);
    const QSize hint = view.sizeHint(), minimum = view.minimumSizeHint();
    const QByteArray longKey =
        R"({"coin":"A-VERY-LONG-COIN-NAME-THAT-GOES-ON-AND-ON-AND-ON","interval":"15m","nSigFigs":5,"type":"l2Book",)"
        R"("user":"0x0d1d9ae3ad8d0d7cd6db40a1a2e0e7f3a9c0ab12"})";
    view.showChannel(longKey);
    // The title never widens the inspector (so it never squeezes the channels table)...
    QCOMPARE(view.sizeHint().width(), hint.width());
    QCOMPARE(view.minimumSizeHint().width(), minimum.width());
    QVERIFY(view.titleLabel()->width() <= view.width());
    // ...it elides, and the tooltip has all of it and the canonical JSON.
    QVERIFY(view.title().startsWith(u"l2Book · A-VERY-LONG-COIN-NAME"_s));
    QVERIFY(view.titleLabel()->text().endsWith(u'…'));
    QVERIFY(view.titleLabel()->text().size() < view.title().size());
    QVERIFY(view.titleLabel()->toolTip().contains(view.title()));
    QVERIFY(view.titleLabel()->toolTip().contains(QString::fromUtf8(longKey)));
    // A wider view shows more of it.
    const qsizetype narrow = view.titleLabel()->text().size();
    view.resize(1400, 400);
    QTRY_VERIFY(view.titleLabel()->text().size() > narrow);
    // The canonical JSON is one click away.
    view.copyChannelAction()->trigger();
    QCOMPARE(QApplication::clipboard()->text(), QString::fromUtf8(longKey));
}

void tst_Inspector::goneWhenTheChannelLeaves()
{
    MessageInspector store;
    for (int i = 0; i < 4; ++i) {
        record(store, Btc, bbo(i));
        record(store, Eth, bbo(i, "ETH"));
    }
    QStandardItemModel channels;
    for (const QByteArray &key : {Btc, Eth}) {
        auto *item = new QStandardItem(channelTitle(key));
        item->setData(key, KeyRole);
        channels.appendRow(item);
    }
    QTableView table;
    table.setModel(&channels);
    InspectorView view(&store);
    view.watchChannels(&table, &channels);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    table.setCurrentIndex(channels.index(0, 0));
    QTRY_COMPARE(view.channel(), Btc);
    QCOMPARE(view.list()->count(), 4);
    table.setCurrentIndex(channels.index(1, 0)); // moving the current row follows
    QTRY_COMPARE(view.channel(), Eth);
    table.setCurrentIndex(channels.index(0, 0));
    QTRY_COMPARE(view.channel(), Btc);

    // Unsubscribed: the row goes, the current row moves to ETH, the inspector stays and says so.
    channels.removeRow(0);
    store.remove(Btc);
    QTRY_VERIFY(view.isGone());
    QCOMPARE(view.channel(), Btc);
    QCOMPARE(view.title(), u"bbo · BTC"_s);
    QCOMPARE(view.stateText(), u"Gone: unsubscribed"_s);
    QVERIFY(view.findChild<QLabel *>(u"inspectorState"_s)->toolTip().contains(u"last 4 messages"_s));
    QCOMPARE(view.list()->count(), 4); // its last messages stay listed
    QVERIFY(!view.followAction()->isEnabled());
    record(store, Btc, bbo(9));
    view.refresh();
    QCOMPARE(view.list()->count(), 4); // frozen
    // Subscribed again: live again.
    auto *item = new QStandardItem(u"again"_s);
    item->setData(Btc, KeyRole);
    channels.appendRow(item);
    QTRY_VERIFY(!view.isGone());
    QCOMPARE(view.stateText(), u"Live"_s);
    QCOMPARE(view.list()->count(), 1); // what the store has now (the old ones went with it)
    // A click on a row (even the current one) inspects it.
    QCOMPARE(table.currentIndex().row(), 0); // ETH's row became current when BTC's went
    table.show();
    QVERIFY(QTest::qWaitForWindowExposed(&table));
    QTest::mouseClick(table.viewport(), Qt::LeftButton, {}, table.visualRect(channels.index(0, 0)).center());
    QTRY_COMPARE(view.channel(), Eth);
}

void tst_Inspector::filteredChannelStaysLive()
{
    MessageInspector store;
    record(store, Btc, bbo(0));
    QStandardItemModel channels;
    for (const QByteArray &key : {Btc, Eth}) {
        auto *item = new QStandardItem(QString::fromUtf8(key));
        item->setData(key, KeyRole);
        channels.appendRow(item);
    }
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&channels);
    QTableView table;
    table.setModel(&proxy);
    InspectorView view(&store);
    view.watchChannels(&table, &channels);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    table.setCurrentIndex(proxy.index(0, 0));
    QTRY_COMPARE(view.channel(), Btc);
    proxy.setFilterFixedString(u"ETH"_s); // the filter hides BTC's row: the channel is not gone
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(view.channel(), Btc);
    QVERIFY(!view.isGone());
    QCOMPARE(view.stateText(), u"Live"_s);
}

void tst_Inspector::mainWindowUnsubscribeSaysGone()
{
    Sim::FeedSimulator sim;
    QVERIFY(sim.start());
    EngineConfig cfg;
    cfg.pool.url = sim.url();
    cfg.pool.newConnectionsPerMinute = 1000;
    cfg.publishInterval = 50ms;
    PoolController controller(cfg);
    QVERIFY(controller.start(nullptr));
    {
        MainWindow window(&controller);
        window.setDemoMode(true);
        window.resize(1024, 700);
        window.show();
        const Hl::Subscription first = sub(R"({"type":"bbo","coin":"AAA"})");
        const Hl::Subscription second = sub(R"({"type":"bbo","coin":"BBB"})");
        controller.subscribe({first, second});
        QVERIFY(waitUntil([&] { return controller.summary().subscriptionsActive == 2; }));
        QTableView *v = window.subscriptionsView();
        QVERIFY(waitUntil([&] { return v->model()->rowCount() == 2; }));
        int row = v->model()->index(0, 0).data(KeyRole).toByteArray() == first.canonical() ? 0 : 1;
        v->selectRow(row);
        InspectorView *inspector = window.inspector();
        QVERIFY(waitUntil([&] { return inspector->channel() == first.canonical(); }));
        QCOMPARE(inspector->title(), u"bbo · AAA"_s);
        QVERIFY(waitUntil([&] { return window.inspectorList()->count() > 1; })); // Follow adds them
        QVERIFY(window.inspectorText()->toPlainText().contains(u"\"coin\": \"AAA\""_s));
        // The title fits the inspector at 1024 × 700: the channels table keeps its width.
        QVERIFY(inspector->titleLabel()->width() <= inspector->width());
        QVERIFY(v->width() > inspector->width());
        shoot(window, "live-1024x700");

        // A channel with a very long title: the inspector elides it, the channels table keeps its width.
        const Hl::Subscription longer = sub(
            R"({"type":"l2Book","coin":"A-VERY-LONG-COIN-NAME-THAT-GOES-ON-AND-ON-AND-ON-AND-ON","nSigFigs":5})");
        controller.subscribe({longer});
        QVERIFY(waitUntil([&] { return v->model()->rowCount() == 3; }));
        const int channelsWidth = v->width(), inspectorWidth = inspector->width();
        for (int r = 0; r < 3; ++r)
            if (v->model()->index(r, 0).data(KeyRole).toByteArray() == longer.canonical())
                v->selectRow(r);
        QVERIFY(waitUntil([&] { return inspector->channel() == longer.canonical(); }));
        QVERIFY(inspector->title().endsWith(u"5 significant figures"_s));
        QVERIFY(inspector->titleLabel()->text().endsWith(u'…'));
        QCoreApplication::processEvents();
        QCOMPARE(v->width(), channelsWidth);
        QCOMPARE(inspector->width(), inspectorWidth);
        for (int r = 0; r < 3; ++r)
            if (v->model()->index(r, 0).data(KeyRole).toByteArray() == first.canonical())
                v->selectRow(r);
        QVERIFY(waitUntil([&] { return inspector->channel() == first.canonical(); }));

        window.unsubscribeAction()->trigger();
        QVERIFY(waitUntil([&] { return v->model()->rowCount() == 2; }));
        QVERIFY(waitUntil([&] { return inspector->isGone(); }));
        QCOMPARE(inspector->channel(), first.canonical()); // not the neighbour the table moved to
        QCOMPARE(inspector->stateText(), u"Gone: unsubscribed"_s);
        QVERIFY(window.inspectorList()->count() > 0); // its last messages
        QVERIFY(window.inspectorText()->toPlainText().contains(u"\"coin\": \"AAA\""_s));
        shoot(window, "gone-1024x700");
        // Picking the other channel shows it live.
        row = v->model()->index(0, 0).data(KeyRole).toByteArray() == second.canonical() ? 0 : 1;
        QTest::mouseClick(v->viewport(), Qt::LeftButton, {},
                          v->visualRect(v->model()->index(row, 0)).center());
        QVERIFY(waitUntil([&] { return inspector->channel() == second.canonical(); }));
        QVERIFY(!inspector->isGone());
        QVERIFY(waitUntil(
            [&] { return window.inspectorText()->toPlainText().contains(u"\"coin\": \"BBB\""_s); }));
    }
    controller.shutdown(1s);
}

QTEST_MAIN(tst_Inspector)
#include "tst_inspector.moc"

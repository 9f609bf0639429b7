#include "latencyview.h"

#include "livetableview.h"
#include "poolcontroller.h"
#include "serieschart.h"

#include <QDateTime>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
QString seriesPrefix(const QString &type)
{
    return u"lat/"_s + type + u'/';
}
} // namespace

LatencyView::LatencyView(PoolController *controller, QWidget *parent)
    : QWidget(parent), m_controller(controller)
{
    setObjectName(u"latencyView"_s);
    auto *layout = new QVBoxLayout(this);
    m_clock = new QLabel(this);
    m_clock->setObjectName(u"latencyClock"_s);
    m_clock->setWordWrap(true);
    m_clock->setTextFormat(Qt::PlainText);
    layout->addWidget(m_clock);

    m_table = new LiveTableView(this);
    m_table->setObjectName(u"latencyTable"_s);
    m_table->setModel(&m_model);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    // A handful of types: room for five rows, no more.
    m_table->setMaximumHeight(m_table->horizontalHeader()->sizeHint().height() +
                              5 * m_table->verticalHeader()->defaultSectionSize() + 4);
    layout->addWidget(m_table);

    m_empty =
        new QLabel(tr("No latency yet: it appears with the first frames that carry the venue's event "
                      "time (trades, l2Book, bbo, fills, order updates…; candles and allMids carry none)."),
                   this);
    m_empty->setWordWrap(true);
    layout->addWidget(m_empty);

    auto *charts = new QWidget(this);
    m_chartGrid = new QGridLayout(charts);
    m_chartGrid->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(charts, 1);

    connect(controller, &PoolController::updated, this, &LatencyView::onUpdated);
    connect(controller, &PoolController::seriesUpdated, this, &LatencyView::onSecond);
    m_clock->setText(clockSentence(ClockSync::read()));
}

QString LatencyView::clockSentence(const ClockSync &clock)
{
    if (!clock.known)
        return tr("System clock: state unknown (the kernel did not say). Latency is receipt time minus the "
                  "venue's event time: an offset of this clock reads as latency.");
    if (!clock.synchronised)
        return tr(
            "System clock not synchronised: latency is receipt time minus the venue's event time, so "
            "this clock's offset (unknown) reads as latency. Run an NTP client (chrony, systemd-timesyncd).");
    return tr("System clock synchronised, maximum error %1: latency within that of zero is the clock's "
              "error, not the feed's.")
        .arg(clock.errorText());
}

void LatencyView::onUpdated()
{
    const PoolSnapshot &s = m_controller->lastSnapshot();
    m_model.applySnapshot(s);
    const QString sentence = clockSentence(s.clock);
    if (m_clock->text() != sentence)
        m_clock->setText(sentence);
    m_empty->setVisible(m_model.rowCount() == 0);
}

void LatencyView::onSecond()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (int row = 0; row < m_model.rowCount(); ++row) {
        const TypeLatency *t = m_model.latencyAt(row);
        if (!m_charts.contains(t->type)) {
            auto *chart = new SeriesChart(tr("%1: data latency, last 5 minutes").arg(t->type),
                                          seriesPrefix(t->type), QString(), tr("ms"), this);
            chart->setObjectName(u"latencyChart/"_s + t->type);
            chart->setMinimumHeight(180);
            const int n = static_cast<int>(m_charts.size());
            m_chartGrid->addWidget(chart, n / 2, n % 2);
            m_charts.insert(t->type, chart);
        }
        if (t->figures.samples10s > 0) {
            m_series.add(seriesPrefix(t->type) + u"p50"_s, now, t->figures.p50Ms);
            m_series.add(seriesPrefix(t->type) + u"p99"_s, now, t->figures.p99Ms);
        }
    }
    m_series.prune(now);
    for (SeriesChart *c : std::as_const(m_charts))
        c->refresh(m_series, now);
}

} // namespace FeedScope

#pragma once

#include "livemodels.h"
#include "poolmodels.h"

#include <QHash>
#include <QWidget>

class QGridLayout;
class QLabel;
class QTableView;

namespace FeedScope {

class PoolController;
class SeriesChart;

/// The Latency tab (issue 17): how old the data is when it arrives, per subscription type. At the
/// top the clock's own state in words (a clock offset reads as latency); a table of p50/p99/max
/// over 10 s and 5 min with the samples; a chart per type of p50 and p99 (10 s windows) over the
/// last 5 minutes, one point a second. Types appear with their first frame that carries an event
/// time.
class LatencyView final : public QWidget
{
    Q_OBJECT

public:
    explicit LatencyView(PoolController *controller, QWidget *parent = nullptr);

    LatencyModel *model() { return &m_model; }
    QTableView *table() const { return m_table; }
    QLabel *clockLabel() const { return m_clock; }
    int chartCount() const { return static_cast<int>(m_charts.size()); }
    /// The clock's state as the header says it.
    static QString clockSentence(const ClockSync &clock);

private:
    void onUpdated();
    void onSecond();

    PoolController *m_controller;
    LatencyModel m_model;
    TimeSeriesSet m_series;
    QLabel *m_clock = nullptr;
    QLabel *m_empty = nullptr;
    QTableView *m_table = nullptr;
    QGridLayout *m_chartGrid = nullptr;
    QHash<QString, SeriesChart *> m_charts; ///< by type
};

} // namespace FeedScope

#pragma once

#include "livemodels.h"

#include <QChartView>

class QDateTimeAxis;
class QValueAxis;

namespace FeedScope {

/// A live chart of the controller's fixed-window series whose names match `prefix*suffix`
/// (e.g. "conn/" … "/msgs": one line per connection). Updated with QXYSeries::replace() on the
/// whole window, no animations, and not at all while hidden.
class SeriesChart final : public QChartView
{
    Q_OBJECT

public:
    SeriesChart(const QString &title, const QString &prefix, const QString &suffix, const QString &unit,
                QWidget *parent = nullptr);

    /// Refreshes from @p series (call once a second); skipped while the chart is not visible.
    void refresh(const TimeSeriesSet &series, qint64 nowMs);
    /// Adds marker points (x = wall ms) drawn as a scatter series named @p name.
    void setMarkers(const QString &name, const QList<QPointF> &points);
    int lineCount() const;
    /// Redraws done so far (none while hidden).
    qint64 refreshes() const { return m_refreshes; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void applyTheme();
    QString m_prefix, m_suffix;
    QDateTimeAxis *m_x = nullptr;
    QValueAxis *m_y = nullptr;
    const TimeSeriesSet *m_last = nullptr;
    qint64 m_lastNow = 0;
    qint64 m_refreshes = 0;
};

} // namespace FeedScope

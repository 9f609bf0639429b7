#pragma once

#include "livemodels.h"

#include <QChartView>

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
    /// Marker points (x = wall ms) drawn as a scatter series named @p name at the next refresh.
    void setMarkers(const QString &name, const QList<QPointF> &points);
    int lineCount() const;
    /// Redraws done so far (none while hidden).
    qint64 refreshes() const { return m_refreshes; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void applyTheme();
    QString m_prefix, m_suffix;
    QValueAxis *m_x = nullptr; ///< seconds before now: the fixed window reads the same at any time
    QValueAxis *m_y = nullptr;
    const TimeSeriesSet *m_last = nullptr;
    QHash<QString, QList<QPointF>> m_markers; ///< x = wall ms
    qint64 m_lastNow = 0;
    qint64 m_refreshes = 0;
};

} // namespace FeedScope

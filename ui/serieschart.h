#pragma once

#include "livemodels.h"

#include <QChartView>
#include <QScatterSeries>

class QAbstractAxis;
class QLogValueAxis;
class QToolButton;
class QValueAxis;

namespace FeedScope {

/// A live chart of the controller's fixed-window series whose names match `prefix*suffix`
/// (e.g. "conn/" … "/msgs": one line per connection). Updated with QXYSeries::replace() on the
/// whole window, no animations, and not at all while hidden. The value axis starts at 0 with
/// nice ticks (1, 2 or 5 × 10^n; model/chartdata.h niceScale); its "Log" button (or the context
/// menu) switches it to a logarithmic scale, so that one spike does not flatten every other line.
class SeriesChart final : public QChartView
{
    Q_OBJECT

public:
    SeriesChart(const QString &title, const QString &prefix, const QString &suffix, const QString &unit,
                QWidget *parent = nullptr);
    ~SeriesChart() override;

    /// Refreshes from @p series (call once a second); skipped while the chart is not visible.
    void refresh(const TimeSeriesSet &series, qint64 nowMs);
    /// Marker points (x = wall ms) drawn as a scatter series named @p name at the next refresh;
    /// @p tips (one per point, optional) show when the mouse is over a point. @p shape is a
    /// shape of its markers.
    void setMarkers(const QString &name, const QList<QPointF> &points, const QStringList &tips = {},
                    QScatterSeries::MarkerShape shape = QScatterSeries::MarkerShapeCircle);
    int lineCount() const;
    /// Redraws done so far (none while hidden).
    qint64 refreshes() const { return m_refreshes; }

    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    QToolButton *logButton() const { return m_logButton; }
    /// The value axis in use (a QValueAxis, or a QLogValueAxis in log scale).
    QAbstractAxis *valueAxis() const;
    /// Wall milliseconds that a marker's width spans at the chart's current size (how far apart
    /// simultaneous reconnects are drawn).
    double markerSpacingMs() const;

protected:
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    void applyTheme();
    void redraw();
    QString m_prefix, m_suffix;
    QValueAxis *m_x = nullptr; ///< seconds before now: the fixed window reads the same at any time
    QValueAxis *m_y = nullptr;
    QLogValueAxis *m_logY = nullptr;
    QToolButton *m_logButton = nullptr;
    bool m_log = false;
    const TimeSeriesSet *m_last = nullptr;
    QHash<QString, QList<QPointF>> m_markers; ///< x = wall ms
    QHash<QString, QStringList> m_markerTips;
    qint64 m_lastNow = 0;
    qint64 m_refreshes = 0;
    qint64 m_windowMs = 300000;
};

} // namespace FeedScope

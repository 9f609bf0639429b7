#include "serieschart.h"

#include "chartdata.h"

#include <QApplication>
#include <QChart>
#include <QContextMenuEvent>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMenu>
#include <QScatterSeries>
#include <QToolButton>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace FeedScope {

SeriesChart::SeriesChart(const QString &title, const QString &prefix, const QString &suffix,
                         const QString &unit, QWidget *parent)
    : QChartView(new QChart, parent), m_prefix(prefix), m_suffix(suffix)
{
    // The chart is given to the constructor: setChart() would release (leak) a default one.
    QChart *c = chart();
    c->setTitle(title);
    c->setAnimationOptions(QChart::NoAnimation);
    c->legend()->setAlignment(Qt::AlignRight);
    c->setMargins(QMargins(2, 2, 2, 2));
    m_x = new QValueAxis;
    m_x->setLabelFormat(u"%.0f"_s);
    m_x->setTitleText(tr("seconds ago"));
    m_x->setTickType(QValueAxis::TicksDynamic);
    m_x->setTickAnchor(0);
    m_x->setTickInterval(50);
    m_x->setRange(-300, 0);
    m_y = new QValueAxis;
    m_y->setTitleText(unit);
    m_y->setTickType(QValueAxis::TicksDynamic);
    m_y->setTickAnchor(0);
    const NiceScale s = niceScale(1);
    m_y->setRange(0, s.max);
    m_y->setTickInterval(s.step);
    m_y->setLabelFormat(u"%.1f"_s);
    m_logY = new QLogValueAxis;
    m_logY->setTitleText(unit);
    m_logY->setBase(10);
    m_logY->setLabelFormat(u"%g"_s);
    m_logY->setMinorTickCount(-1);
    c->addAxis(m_x, Qt::AlignBottom);
    c->addAxis(m_y, Qt::AlignLeft);
    setRenderHint(QPainter::Antialiasing, false);
    setMinimumHeight(200);

    m_logButton = new QToolButton(this);
    m_logButton->setObjectName(u"logScale"_s);
    m_logButton->setText(tr("Log"));
    m_logButton->setCheckable(true);
    m_logButton->setAutoRaise(true);
    m_logButton->setToolTip(tr("Logarithmic value scale: small lines stay readable beside a spike"));
    connect(m_logButton, &QToolButton::toggled, this, &SeriesChart::setLogScale);
    applyTheme();
}

SeriesChart::~SeriesChart()
{
    // The axis not in the chart is ours to delete (the chart deletes the one it holds).
    if (m_log)
        delete m_y;
    else
        delete m_logY;
}

void SeriesChart::applyTheme()
{
    const bool dark = palette().color(QPalette::Window).lightnessF() < 0.5;
    chart()->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setBackgroundRoundness(0);
}

int SeriesChart::lineCount() const
{
    int n = 0;
    for (QAbstractSeries *s : chart()->series())
        n += s->type() == QAbstractSeries::SeriesTypeLine;
    return n;
}

QAbstractAxis *SeriesChart::valueAxis() const
{
    return m_log ? static_cast<QAbstractAxis *>(m_logY) : static_cast<QAbstractAxis *>(m_y);
}

double SeriesChart::markerSpacingMs() const
{
    const double width = std::max(50.0, chart()->plotArea().width());
    return static_cast<double>(m_windowMs) * 11.0 / width; // a 9 px marker and a little air
}

void SeriesChart::setLogScale(bool on)
{
    if (on == m_log)
        return;
    QAbstractAxis *from = valueAxis();
    m_log = on;
    QAbstractAxis *to = valueAxis();
    QChart *c = chart();
    for (QAbstractSeries *s : c->series())
        s->detachAxis(from);
    c->removeAxis(from); // ours again, kept for switching back
    c->addAxis(to, Qt::AlignLeft);
    // A log axis takes no zero: lift the points onto its floor before attaching (refresh() does
    // the same for every new sample).
    if (on) {
        double minPositive = 0, maxY = 0;
        for (QAbstractSeries *s : c->series())
            for (const QPointF &p : static_cast<QXYSeries *>(s)->points()) {
                maxY = std::max(maxY, p.y());
                if (p.y() > 0 && (minPositive <= 0 || p.y() < minPositive))
                    minPositive = p.y();
            }
        const LogScale scale = FeedScope::logScale(minPositive, maxY);
        m_logY->setRange(scale.min, scale.max);
        for (QAbstractSeries *s : c->series()) {
            QList<QPointF> pts = static_cast<QXYSeries *>(s)->points();
            for (QPointF &p : pts)
                p.setY(std::max(p.y(), scale.min));
            static_cast<QXYSeries *>(s)->replace(pts);
        }
    }
    for (QAbstractSeries *s : c->series())
        s->attachAxis(to);
    {
        const QSignalBlocker block(m_logButton);
        m_logButton->setChecked(on);
    }
    redraw();
}

void SeriesChart::showEvent(QShowEvent *event)
{
    QChartView::showEvent(event);
    if (m_last) // catch up at once with what happened while hidden
        refresh(*m_last, m_lastNow);
}

void SeriesChart::resizeEvent(QResizeEvent *event)
{
    QChartView::resizeEvent(event);
    m_logButton->adjustSize();
    m_logButton->move(width() - m_logButton->width() - 4, 4);
    m_logButton->raise();
}

void SeriesChart::contextMenuEvent(QContextMenuEvent *event)
{
    QMenu menu(this);
    QAction *log = menu.addAction(tr("Logarithmic scale"));
    log->setCheckable(true);
    log->setChecked(m_log);
    connect(log, &QAction::toggled, this, &SeriesChart::setLogScale);
    menu.exec(event->globalPos());
}

void SeriesChart::redraw()
{
    if (m_last)
        refresh(*m_last, m_lastNow);
}

void SeriesChart::refresh(const TimeSeriesSet &series, qint64 nowMs)
{
    m_last = &series;
    m_lastNow = nowMs;
    m_windowMs = std::chrono::duration_cast<std::chrono::milliseconds>(series.window()).count();
    if (!isVisible())
        return; // nothing is redrawn while hidden
    ++m_refreshes;
    QChart *c = chart();
    QHash<QString, QLineSeries *> existing;
    for (QAbstractSeries *s : c->series())
        if (s->type() == QAbstractSeries::SeriesTypeLine)
            existing.insert(s->name(), static_cast<QLineSeries *>(s));
    // Every series' points first (x: seconds before now), then the scale, then replace().
    struct Pending
    {
        QXYSeries *series;
        QList<QPointF> points;
    };
    QList<Pending> pending;
    double maxY = 0;
    double minPositive = 0;
    auto take = [&](QList<QPointF> pts) {
        for (QPointF &p : pts) {
            p.setX((p.x() - static_cast<double>(nowMs)) / 1000.0);
            maxY = std::max(maxY, p.y());
            if (p.y() > 0 && (minPositive <= 0 || p.y() < minPositive))
                minPositive = p.y();
        }
        return pts;
    };
    QSet<QString> seen;
    for (const QString &name : series.names(m_prefix)) {
        if (!name.endsWith(m_suffix))
            continue;
        const QString label = name.mid(m_prefix.size(), name.size() - m_prefix.size() - m_suffix.size());
        seen.insert(label);
        QLineSeries *line = existing.value(label);
        if (!line) {
            line = new QLineSeries;
            line->setName(label);
            c->addSeries(line);
            line->attachAxis(m_x);
            line->attachAxis(valueAxis());
        }
        pending.append({line, take(series.points(name))});
    }
    for (auto it = existing.cbegin(); it != existing.cend(); ++it) {
        if (!seen.contains(it.key())) {
            c->removeSeries(it.value());
            delete it.value();
        }
    }
    for (QAbstractSeries *s : c->series())
        if (s->type() == QAbstractSeries::SeriesTypeScatter)
            pending.append({static_cast<QXYSeries *>(s), take(m_markers.value(s->name()))});

    // As many nice x ticks as fit (about 60 px each), so narrow charts do not elide their labels.
    const double windowS = static_cast<double>(m_windowMs) / 1000.0;
    const NiceScale xs = niceScale(windowS, std::max(2, static_cast<int>(c->plotArea().width() / 60)));
    m_x->setTickAnchor(0);
    if (xs.step >= m_x->tickInterval()) {
        m_x->setTickInterval(xs.step);
        m_x->setRange(-windowS, 0);
    } else {
        m_x->setRange(-windowS, 0);
        m_x->setTickInterval(xs.step);
    }
    if (m_log) {
        const LogScale s = FeedScope::logScale(minPositive, maxY);
        m_logY->setRange(s.min, s.max);
        // Zero and what lies below the scale sit on its floor (a log scale has no zero).
        for (Pending &p : pending)
            for (QPointF &pt : p.points)
                pt.setY(std::max(pt.y(), s.min));
    } else {
        // Each change redraws the ticks: never pass through a state of a fine step over a wide
        // range (hundreds of thousands of tick items), so the larger step goes in first.
        // A little headroom, so that the highest point is not cut by the plot's edge.
        const NiceScale s = niceScale(maxY * 1.08);
        m_y->setLabelFormat(u"%.%1f"_s.arg(s.decimals)); // before the range: labels follow it
        if (s.step >= m_y->tickInterval()) {
            m_y->setTickInterval(s.step);
            m_y->setRange(0, s.max);
        } else {
            m_y->setRange(0, s.max);
            m_y->setTickInterval(s.step);
        }
    }
    for (const Pending &p : std::as_const(pending))
        p.series->replace(p.points);
}

void SeriesChart::setMarkers(const QString &name, const QList<QPointF> &points, const QStringList &tips,
                             QScatterSeries::MarkerShape shape)
{
    QScatterSeries *markers = nullptr;
    for (QAbstractSeries *s : chart()->series())
        if (s->type() == QAbstractSeries::SeriesTypeScatter && s->name() == name)
            markers = static_cast<QScatterSeries *>(s);
    if (!markers) {
        markers = new QScatterSeries;
        markers->setName(name);
        markers->setMarkerSize(9);
        markers->setMarkerShape(shape);
        chart()->addSeries(markers);
        markers->attachAxis(m_x);
        markers->attachAxis(valueAxis());
        connect(markers, &QScatterSeries::hovered, this, [this, markers](const QPointF &point, bool state) {
            if (!state) {
                QToolTip::hideText();
                return;
            }
            const QList<QPointF> pts = markers->points();
            const QStringList texts = m_markerTips.value(markers->name());
            for (qsizetype i = 0; i < pts.size() && i < texts.size(); ++i) {
                if (qFuzzyCompare(pts.at(i).x() + 1, point.x() + 1) &&
                    qFuzzyCompare(pts.at(i).y() + 1, point.y() + 1)) {
                    QToolTip::showText(QCursor::pos(), texts.at(i), this);
                    return;
                }
            }
        });
    }
    m_markers.insert(name, points);
    m_markerTips.insert(name, tips);
}

} // namespace FeedScope

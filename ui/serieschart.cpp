#include "serieschart.h"

#include <QApplication>
#include <QChart>
#include <QLineSeries>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>

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
    m_x->setTickCount(7);
    m_y = new QValueAxis;
    m_y->setLabelFormat(u"%.0f"_s);
    m_y->setTitleText(unit);
    m_y->setRange(0, 1);
    c->addAxis(m_x, Qt::AlignBottom);
    c->addAxis(m_y, Qt::AlignLeft);
    setRenderHint(QPainter::Antialiasing, false);
    setMinimumHeight(200);
    applyTheme();
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

void SeriesChart::showEvent(QShowEvent *event)
{
    QChartView::showEvent(event);
    if (m_last) // catch up at once with what happened while hidden
        refresh(*m_last, m_lastNow);
}

void SeriesChart::refresh(const TimeSeriesSet &series, qint64 nowMs)
{
    m_last = &series;
    m_lastNow = nowMs;
    if (!isVisible())
        return; // nothing is redrawn while hidden
    ++m_refreshes;
    QChart *c = chart();
    QHash<QString, QLineSeries *> existing;
    for (QAbstractSeries *s : c->series())
        if (s->type() == QAbstractSeries::SeriesTypeLine)
            existing.insert(s->name(), static_cast<QLineSeries *>(s));
    double maxY = 1;
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
            line->attachAxis(m_y);
        }
        QList<QPointF> pts = series.points(name);
        for (QPointF &p : pts) {
            p.setX((p.x() - static_cast<double>(nowMs)) / 1000.0);
            maxY = std::max(maxY, p.y());
        }
        line->replace(pts);
    }
    for (auto it = existing.cbegin(); it != existing.cend(); ++it) {
        if (!seen.contains(it.key())) {
            c->removeSeries(it.value());
            delete it.value();
        }
    }
    for (QAbstractSeries *s : c->series()) {
        if (s->type() != QAbstractSeries::SeriesTypeScatter)
            continue;
        QList<QPointF> pts = m_markers.value(s->name());
        for (QPointF &p : pts) {
            p.setX((p.x() - static_cast<double>(nowMs)) / 1000.0);
            maxY = std::max(maxY, p.y());
        }
        static_cast<QScatterSeries *>(s)->replace(pts);
    }
    const qint64 window = std::chrono::duration_cast<std::chrono::seconds>(series.window()).count();
    m_x->setRange(-static_cast<double>(window), 0);
    m_y->setRange(0, maxY * 1.15);
    m_y->setLabelFormat(maxY < 10 ? u"%.1f"_s : u"%.0f"_s);
}

void SeriesChart::setMarkers(const QString &name, const QList<QPointF> &points)
{
    QScatterSeries *markers = nullptr;
    for (QAbstractSeries *s : chart()->series())
        if (s->type() == QAbstractSeries::SeriesTypeScatter && s->name() == name)
            markers = static_cast<QScatterSeries *>(s);
    if (!markers) {
        markers = new QScatterSeries;
        markers->setName(name);
        markers->setMarkerSize(9);
        chart()->addSeries(markers);
        markers->attachAxis(m_x);
        markers->attachAxis(m_y);
    }
    m_markers.insert(name, points);
}

} // namespace FeedScope

#include "replaybar.h"

#include <QAction>
#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

/// Recorded time as m:ss (h:mm:ss past an hour).
QString clock(qint64 ns)
{
    const qint64 s = ns / 1'000'000'000;
    if (s >= 3600)
        return u"%1:%2:%3"_s.arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QChar(u'0'))
            .arg(s % 60, 2, 10, QChar(u'0'));
    return u"%1:%2"_s.arg(s / 60).arg(s % 60, 2, 10, QChar(u'0'));
}

} // namespace

ReplayBar::ReplayBar(ReplaySession *session, QWidget *parent)
    : QToolBar(tr("Replay"), parent), m_session(session)
{
    setObjectName(u"replayBar"_s);
    setMovable(false);
    m_title = new QLabel(tr("Replay of <b>%1</b>").arg(QFileInfo(session->path()).fileName().toHtmlEscaped()),
                         this);
    m_title->setToolTip(session->path());
    addWidget(m_title);
    addSeparator();
    m_pause = addAction(tr("Pause replay"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Stop serving the recording where it is; Resume goes on at the recorded pace"));
    connect(m_pause, &QAction::toggled, this, [this](bool paused) {
        m_pause->setText(paused ? tr("Resume replay") : tr("Pause replay"));
        m_session->setPaused(paused);
    });
    auto *speedLabel = new QLabel(tr(" Speed "), this);
    addWidget(speedLabel);
    m_speed = new QComboBox(this);
    m_speed->setObjectName(u"replaySpeed"_s);
    for (double s : {1.0, 10.0, 100.0, 0.0})
        m_speed->addItem(s > 0 ? ReplaySession::speedName(s) : tr("as fast as possible"), s);
    const int current = m_speed->findData(session->progress().speed);
    if (current >= 0) {
        m_speed->setCurrentIndex(current);
    } else {
        m_speed->addItem(ReplaySession::speedName(session->progress().speed), session->progress().speed);
        m_speed->setCurrentIndex(m_speed->count() - 1);
    }
    m_speed->setToolTip(tr("How fast the recording is served: as recorded (1×), faster, or as fast as the "
                           "pool takes it"));
    connect(m_speed, &QComboBox::activated, this,
            [this](int i) { m_session->setSpeed(m_speed->itemData(i).toDouble()); });
    addWidget(m_speed);
    addSeparator();
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumWidth(220);
    addWidget(m_progress);
    m_status = new QLabel(this);
    m_status->setObjectName(u"replayStatus"_s);
    addWidget(m_status);
    connect(session, &ReplaySession::progressed, this, &ReplayBar::showProgress);
    showProgress(session->progress());
}

ReplayBar::~ReplayBar() = default;

QString ReplayBar::statusText() const
{
    return m_status->text();
}

void ReplayBar::showProgress(const ReplaySession::Progress &p)
{
    const QLocale loc;
    m_progress->setValue(p.total > 0 ? static_cast<int>(p.sent * 1000 / p.total) : 0);
    QString state;
    if (!p.started)
        state = tr("waiting for the subscriptions");
    else if (p.finished)
        state = tr("finished");
    else if (p.paused)
        state = tr("paused");
    else
        state = ReplaySession::speedName(p.speed);
    m_status->setText(tr(" %1 of %2 frames · %3 of %4 recorded · %5")
                          .arg(loc.toString(p.sent), loc.toString(p.total), clock(p.positionNs),
                               clock(p.durationNs), state));
    m_pause->setEnabled(!p.finished);
}

} // namespace FeedScope

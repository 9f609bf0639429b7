#pragma once

#include "replaysession.h"

#include <QToolBar>

class QAction;
class QComboBox;
class QLabel;
class QProgressBar;

namespace FeedScope {

/// The replay's controls above the tables (issue 18): which recording, how far (frames and
/// recorded time), pause/resume and the speed (1×, 10×, 100×, as fast as possible).
class ReplayBar final : public QToolBar
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ReplayBar)

public:
    explicit ReplayBar(ReplaySession *session, QWidget *parent = nullptr);
    ~ReplayBar() override;

    QAction *pauseAction() const { return m_pause; }
    QComboBox *speedBox() const { return m_speed; }
    QProgressBar *progressBar() const { return m_progress; }
    /// "12 345 of 50 000 frames · 0:42 of 2:10 recorded · 10×"
    QString statusText() const;

private:
    void showProgress(const ReplaySession::Progress &p);

    ReplaySession *m_session;
    QLabel *m_title = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QAction *m_pause = nullptr;
    QComboBox *m_speed = nullptr;
};

} // namespace FeedScope

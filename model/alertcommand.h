#pragma once

#include "alerts.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <deque>
#include <memory>

namespace FeedScope {

class SessionLog;

/// `--alert-command CMD` (issue 17): runs a program for every fired and resolved alert with the
/// alert as one line of JSON (Alert::toJson(), compact, then a newline) on its standard input.
/// The command line is split into a program and its arguments (QProcess::splitCommand: quotes
/// group, no shell ever runs, nothing in an alert is interpreted). Each run has a time limit
/// (killed after it), at most maxRunning run at once, up to maxQueued wait (more are dropped and
/// counted), stdout and stderr are kept up to maxOutputBytes each. Every failure (cannot start,
/// non-zero exit, crash, time limit, dropped) is an "alertCommand" session event and counted.
/// The environment gets FEEDSCOPE_ALERT_STATE (firing/resolved), FEEDSCOPE_ALERT_RULE and
/// FEEDSCOPE_ALERT_SEVERITY besides the process's own.
class AlertCommand final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AlertCommand)

public:
    struct Limits
    {
        int timeoutMs = 10000;
        int maxRunning = 4;
        int maxQueued = 100;
        qint64 maxOutputBytes = 64 * 1024;
    };
    struct Counts
    {
        qint64 started = 0;
        qint64 succeeded = 0;
        qint64 failed = 0;   ///< could not start, non-zero exit, crash or time limit
        qint64 timedOut = 0; ///< of them killed at the time limit
        qint64 dropped = 0;  ///< never run: the queue was full
    };

    explicit AlertCommand(QObject *parent = nullptr);
    ~AlertCommand() override; ///< kills what still runs

    /// False with @p error when @p commandLine is empty or has an unbalanced quote.
    bool setCommand(const QString &commandLine, QString *error);
    QString program() const { return m_program; }
    QStringList arguments() const { return m_arguments; }
    void setLimits(const Limits &limits) { m_limits = limits; }
    const Limits &limits() const { return m_limits; }
    /// Failures are logged there (optional).
    void setSessionLog(SessionLog *log) { m_log = log; }
    /// Runs fired() and resolved() alerts of @p engine.
    void follow(AlertEngine *engine);

    /// Runs the command for @p alert now, or queues it.
    void run(const Alert &alert);
    const Counts &counts() const { return m_counts; }
    int running() const { return static_cast<int>(m_running.size()); }
    int queued() const { return static_cast<int>(m_queue.size()); }
    /// Runs the event loop until nothing runs or waits, at most @p timeoutMs; true when idle.
    bool waitForIdle(int timeoutMs);

Q_SIGNALS:
    /// One run ended: @p error empty on success; @p out / @p err what it printed (bounded).
    void finished(const FeedScope::Alert &alert, const QString &error, const QByteArray &out,
                  const QByteArray &err);

private:
    struct Run;
    void startNext();
    void end(Run *run, const QString &error);
    void logFailure(const Alert &alert, const QString &error, const QByteArray &err, int exitCode);

    QString m_program;
    QStringList m_arguments;
    Limits m_limits;
    SessionLog *m_log = nullptr;
    std::deque<Alert> m_queue;
    std::deque<std::unique_ptr<Run>> m_running;
    std::deque<std::unique_ptr<Run>> m_ended; ///< deleted on the next turn of the event loop
    Counts m_counts;
    qint64 m_droppedUnlogged = 0;
};

} // namespace FeedScope

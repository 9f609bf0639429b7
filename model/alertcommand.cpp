#include "alertcommand.h"

#include "sessionlog.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace FeedScope {

struct AlertCommand::Run
{
    Alert alert;
    QProcess process;
    QTimer timer;
    QByteArray out, err;
    bool timedOut = false;
    bool ended = false;
};

AlertCommand::AlertCommand(QObject *parent) : QObject(parent) {}

AlertCommand::~AlertCommand()
{
    for (auto &r : m_running) {
        r->ended = true; // no signal from here on
        r->process.disconnect();
        if (r->process.state() != QProcess::NotRunning) {
            r->process.kill();
            r->process.waitForFinished(1000);
        }
    }
}

bool AlertCommand::setCommand(const QString &commandLine, QString *error)
{
    // splitCommand() takes an unbalanced quote to the end: refuse it rather than guess.
    bool inQuote = false;
    for (const QChar c : commandLine)
        if (c == u'"')
            inQuote = !inQuote;
    if (inQuote) {
        *error = u"the alert command has an unbalanced double quote: %1"_s.arg(commandLine);
        return false;
    }
    const QStringList parts = QProcess::splitCommand(commandLine);
    if (parts.isEmpty() || parts.constFirst().isEmpty()) {
        *error = u"the alert command is empty"_s;
        return false;
    }
    m_program = parts.constFirst();
    m_arguments = parts.mid(1);
    return true;
}

void AlertCommand::follow(AlertEngine *engine)
{
    connect(engine, &AlertEngine::fired, this, &AlertCommand::run);
    connect(engine, &AlertEngine::resolved, this, &AlertCommand::run);
}

void AlertCommand::run(const Alert &alert)
{
    if (m_program.isEmpty())
        return;
    if (static_cast<int>(m_running.size()) >= std::max(1, m_limits.maxRunning)) {
        if (static_cast<int>(m_queue.size()) >= std::max(0, m_limits.maxQueued)) {
            ++m_counts.dropped;
            // One line for the first drop of a burst; the rest are summed up once it has drained.
            if (m_droppedUnlogged++ == 0)
                logFailure(alert,
                           u"too many alerts at once: not run (queue of %1 full)"_s.arg(m_limits.maxQueued),
                           {}, -1);
            return;
        }
        m_queue.push_back(alert);
        return;
    }
    auto run = std::make_unique<Run>();
    Run *r = run.get();
    r->alert = alert;
    m_running.push_back(std::move(run));
    ++m_counts.started;

    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"FEEDSCOPE_ALERT_STATE"_s, alert.firing() ? u"firing"_s : u"resolved"_s);
    env.insert(u"FEEDSCOPE_ALERT_RULE"_s, alert.ruleId);
    env.insert(u"FEEDSCOPE_ALERT_SEVERITY"_s, QString(nameOf(alert.severity)));
    r->process.setProcessEnvironment(env);
    r->process.setProgram(m_program);
    r->process.setArguments(m_arguments);
    const qint64 cap = std::max<qint64>(0, m_limits.maxOutputBytes);
    auto keep = [cap](QByteArray &into, const QByteArray &more) {
        if (into.size() < cap)
            into.append(more.left(cap - into.size()));
    };
    connect(&r->process, &QProcess::readyReadStandardOutput, this,
            [r, keep] { keep(r->out, r->process.readAllStandardOutput()); });
    connect(&r->process, &QProcess::readyReadStandardError, this,
            [r, keep] { keep(r->err, r->process.readAllStandardError()); });
    connect(&r->process, &QProcess::started, this, [r] {
        r->process.write(QJsonDocument(r->alert.toJson()).toJson(QJsonDocument::Compact) + '\n');
        r->process.closeWriteChannel();
    });
    connect(&r->process, &QProcess::errorOccurred, this, [this, r](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            end(r, u"cannot start %1: %2"_s.arg(m_program, r->process.errorString()));
    });
    connect(&r->process, &QProcess::finished, this, [this, r, keep](int code, QProcess::ExitStatus status) {
        keep(r->out, r->process.readAllStandardOutput());
        keep(r->err, r->process.readAllStandardError());
        if (r->timedOut)
            end(r, u"no answer within %1 s: killed"_s.arg(m_limits.timeoutMs / 1000.0));
        else if (status == QProcess::CrashExit)
            end(r, u"%1 crashed"_s.arg(m_program));
        else if (code != 0)
            end(r, u"%1 exited with code %2"_s.arg(m_program).arg(code));
        else
            end(r, QString());
    });
    r->timer.setSingleShot(true);
    r->timer.setInterval(std::max(1, m_limits.timeoutMs));
    connect(&r->timer, &QTimer::timeout, this, [r] {
        r->timedOut = true;
        r->process.kill(); // finished() follows
    });
    r->timer.start();
    r->process.start(QIODevice::ReadWrite);
}

void AlertCommand::end(Run *r, const QString &error)
{
    if (r->ended)
        return;
    r->ended = true;
    r->timer.stop();
    if (error.isEmpty()) {
        ++m_counts.succeeded;
    } else {
        ++m_counts.failed;
        if (r->timedOut)
            ++m_counts.timedOut;
        logFailure(r->alert, error, r->err,
                   r->process.exitStatus() == QProcess::NormalExit ? r->process.exitCode() : -1);
    }
    Q_EMIT finished(r->alert, error, r->out, r->err);
    // Deleted later: this runs inside the process's own signal.
    for (auto it = m_running.begin(); it != m_running.end(); ++it) {
        if (it->get() == r) {
            r->process.disconnect();
            m_ended.push_back(std::move(*it));
            m_running.erase(it);
            QTimer::singleShot(0, this, [this] { m_ended.clear(); });
            break;
        }
    }
    startNext();
}

void AlertCommand::startNext()
{
    while (!m_queue.empty() && static_cast<int>(m_running.size()) < std::max(1, m_limits.maxRunning)) {
        const Alert next = m_queue.front();
        m_queue.pop_front();
        run(next);
    }
    if (m_queue.empty() && m_running.empty() && m_droppedUnlogged > 1) {
        Alert none;
        none.text = u"%1 alerts in all were not passed to the command"_s.arg(m_droppedUnlogged);
        none.firedAt = QDateTime::currentDateTimeUtc();
        logFailure(none, u"too many alerts at once: not run"_s, {}, -1);
    }
    if (m_queue.empty() && m_running.empty())
        m_droppedUnlogged = 0;
}

void AlertCommand::logFailure(const Alert &alert, const QString &error, const QByteArray &err, int exitCode)
{
    if (!m_log)
        return;
    QJsonObject d{{u"error"_s, error},
                  {u"program"_s, m_program},
                  {u"rule"_s, alert.ruleId},
                  {u"subject"_s, alert.subject},
                  {u"text"_s, alert.text},
                  {u"state"_s, alert.firing() ? u"firing"_s : u"resolved"_s},
                  {u"seq"_s, static_cast<double>(alert.seq)}};
    if (exitCode >= 0)
        d.insert(u"exitCode"_s, exitCode);
    if (!err.isEmpty())
        d.insert(u"stderr"_s, QString::fromUtf8(err.left(4096)));
    m_log->append(u"alertCommand"_s, d);
}

bool AlertCommand::waitForIdle(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!m_running.empty() || !m_queue.empty()) {
        if (deadline.hasExpired())
            return false;
        QEventLoop loop;
        QTimer::singleShot(5, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

} // namespace FeedScope

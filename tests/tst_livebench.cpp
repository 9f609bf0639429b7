// Issue 18's figures: bytes a second and agent CPU per attached window on /live, at 1 000 and
// 10 000 subscriptions. The real headless agent against the real simulator (both their own
// processes, limits raised as bench_pool does); a LiveSource in this process is the window.
// Not a ctest (it takes minutes and measures the machine): run build/tests/tst_livebench [SECONDS].
#include "livesource.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>

#include <unistd.h>

#include <cstdio>
#include <functional>

using namespace FeedScope;
using namespace Qt::StringLiterals;

namespace {

void spin(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

bool waitFor(const std::function<bool()> &done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        spin(100);
    }
    return true;
}

/// CPU seconds (user + system) of process @p pid.
double cpuSeconds(qint64 pid)
{
    QFile f(u"/proc/%1/stat"_s.arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray s = f.readAll();
    const QList<QByteArray> fields = s.mid(s.lastIndexOf(')') + 2).split(' ');
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    return (fields.value(11).toDouble() + fields.value(12).toDouble()) / ticks;
}

QJsonObject getJson(quint16 port, const QString &path)
{
    QNetworkAccessManager nam;
    QNetworkReply *r = nam.get(QNetworkRequest(QUrl(u"http://127.0.0.1:%1%2"_s.arg(port).arg(path))));
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
    r->deleteLater();
    return o;
}

int run(int subscriptions, double rateScale, int seconds, const QTemporaryDir &dir)
{
    QProcess sim;
    sim.start(QStringLiteral(FEEDSCOPE_SIM_BIN),
              {u"--port"_s, u"0"_s, u"--rate-scale"_s, QString::number(rateScale), u"--max-subscriptions"_s,
               u"100000"_s, u"--max-messages-per-minute"_s, u"1000000"_s,
               u"--max-new-connections-per-minute"_s, u"1000"_s});
    if (!sim.waitForReadyRead(10000)) {
        std::fprintf(stderr, "FAIL: feedscope-sim did not start\n");
        return 1;
    }
    const QString url = QString::fromUtf8(sim.readLine()).section(u' ', 3, 3).trimmed();
    QJsonArray list;
    for (int i = 0; i < subscriptions; ++i)
        list.append(QJsonObject{{u"type"_s, u"bbo"_s}, {u"coin"_s, u"C%1"_s.arg(i)}});
    const QString file = dir.filePath(u"subs-%1.json"_s.arg(subscriptions));
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(list).toJson()) <= 0)
        return 1;
    f.close();
    const int perConnection = std::max(100, subscriptions / 10);
    QProcess agent;
    agent.start(QStringLiteral(FEEDSCOPE_BIN),
                {u"--headless"_s, u"--url"_s, url, u"--subscriptions"_s, file, u"--max-connections"_s,
                 u"10"_s, u"--max-subscriptions-per-connection"_s, QString::number(perConnection),
                 u"--outgoing-rate"_s, u"1000000"_s, u"--metrics-port"_s, u"0"_s});
    static const QRegularExpression where(u"live stream on ws://127\\.0\\.0\\.1:(\\d+)/live"_s);
    QByteArray err;
    QRegularExpressionMatch m;
    if (!waitFor(
            [&] {
                err += agent.readAllStandardError();
                m = where.match(QString::fromUtf8(err));
                return m.hasMatch();
            },
            20000)) {
        std::fprintf(stderr, "FAIL: the agent did not start: %s\n", err.constData());
        return 1;
    }
    const auto port = static_cast<quint16>(m.captured(1).toUInt());
    if (!waitFor(
            [&] {
                const QJsonObject h = getJson(port, u"/healthz"_s);
                return h.value("subscriptions"_L1).toObject().value("active"_L1).toInt() == subscriptions;
            },
            240000)) {
        std::fprintf(stderr, "FAIL: %d subscriptions did not become active\n", subscriptions);
        return 1;
    }
    spin(3000); // settle: the acks' burst is over
    const qint64 pid = agent.processId();
    double c0 = cpuSeconds(pid);
    spin(seconds * 1000);
    const double idleCpu = (cpuSeconds(pid) - c0) / seconds;

    LiveSource source;
    source.setUrl(QUrl(u"ws://127.0.0.1:%1/live"_s.arg(port)));
    source.attach();
    QElapsedTimer attachTimer;
    attachTimer.start();
    if (!waitFor([&] { return source.status() == LiveSource::Status::Attached; }, 60000)) {
        std::fprintf(stderr, "FAIL: no full state\n");
        return 1;
    }
    const qint64 fullMs = attachTimer.elapsed();
    const qint64 fullBytes = source.bytesReceived();
    spin(3000);
    const qint64 b0 = source.bytesReceived();
    const qint64 n0 = source.messagesReceived();
    const qint64 msgs0 = [&] {
        qint64 n = 0;
        for (const SubscriptionStatus &s : source.lastSnapshot().subscriptions)
            n += s.messages;
        return n;
    }();
    c0 = cpuSeconds(pid);
    spin(seconds * 1000);
    const double attachedCpu = (cpuSeconds(pid) - c0) / seconds;
    const double bytesPerSecond = static_cast<double>(source.bytesReceived() - b0) / seconds;
    const double messagesPerSecond = static_cast<double>(source.messagesReceived() - n0) / seconds;
    qint64 msgs1 = 0;
    for (const SubscriptionStatus &s : source.lastSnapshot().subscriptions)
        msgs1 += s.messages;
    std::printf(
        "{\"subscriptions\":%d,\"feed_msgs_per_s\":%.0f,\"full_state_bytes\":%lld,\"full_state_ms\":%lld,"
        "\"live_bytes_per_s\":%.0f,\"live_messages_per_s\":%.1f,\"agent_cpu_idle_percent\":%.2f,"
        "\"agent_cpu_with_window_percent\":%.2f,\"per_window_cpu_percent\":%.2f,\"rejected\":%lld}\n",
        subscriptions, static_cast<double>(msgs1 - msgs0) / seconds, static_cast<long long>(fullBytes),
        static_cast<long long>(fullMs), bytesPerSecond, messagesPerSecond, 100 * idleCpu, 100 * attachedCpu,
        100 * (attachedCpu - idleCpu), static_cast<long long>(source.messagesRejected()));
    std::fflush(stdout);
    source.detach();
    agent.terminate();
    agent.waitForFinished(10000);
    sim.kill();
    sim.waitForFinished(5000);
    return source.messagesRejected() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int seconds = argc > 1 ? std::max(5, QString::fromLocal8Bit(argv[1]).toInt()) : 20;
    const double rateScale = argc > 2 ? QString::fromLocal8Bit(argv[2]).toDouble() : 1.0;
    QTemporaryDir dir;
    int rc = 0;
    for (int n : {1000, 10000})
        rc |= run(n, rateScale, seconds, dir);
    return rc;
}

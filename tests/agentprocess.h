#pragma once
// Helpers of the tests that run a real headless agent as a process (the live stream, the
// attached window, the fleet view): its /report and other JSON endpoints read over HTTP.
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QTimer>
#include <QUrl>

#include <memory>

namespace FeedScope::Test {

/// GET http://127.0.0.1:PORT/PATH as a JSON object (empty when it does not answer within 10 s).
inline QJsonObject getJson(quint16 port, const QString &path)
{
    QNetworkAccessManager nam;
    QNetworkReply *r =
        nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path))));
    QEventLoop loop;
    QObject::connect(r, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(10000, &loop, &QEventLoop::quit);
    loop.exec();
    const QJsonObject o = QJsonDocument::fromJson(r->readAll()).object();
    r->deleteLater();
    return o;
}

#ifdef FEEDSCOPE_BIN
/// `feedscope --headless --demo EXTRA` as a process; the port of its live stream read from its
/// stderr ("live stream on ws://127.0.0.1:PORT/live"). Killed when it goes out of scope.
struct LiveAgent
{
    std::unique_ptr<QProcess> process = std::make_unique<QProcess>();
    QByteArray err;
    quint16 port = 0;

    bool start(const QStringList &extra)
    {
        process->start(QStringLiteral(FEEDSCOPE_BIN),
                       QStringList{QStringLiteral("--headless"), QStringLiteral("--demo")} + extra);
        if (!process->waitForStarted(10000))
            return false;
        static const QRegularExpression where(
            QStringLiteral("live stream on ws://127\\.0\\.0\\.1:(\\d+)/live"));
        QRegularExpressionMatch m;
        for (int i = 0; i < 200 && !m.hasMatch(); ++i) {
            process->waitForReadyRead(100);
            err += process->readAllStandardError();
            m = where.match(QString::fromUtf8(err));
        }
        if (!m.hasMatch())
            return false;
        port = static_cast<quint16>(m.captured(1).toUInt());
        return true;
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(port)); }
    void kill()
    {
        if (process->state() != QProcess::NotRunning) {
            process->kill();
            process->waitForFinished(10000);
        }
    }
    ~LiveAgent() { kill(); }
};
#endif

} // namespace FeedScope::Test

#pragma once

#include <QObject>

class QSocketNotifier;

namespace FeedScope {

/// Turns SIGINT/SIGTERM/SIGHUP into Qt signals on the main thread (self-pipe: the handler only
/// writes a byte, everything else happens in the event loop).
class UnixSignals final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignals)

public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;

Q_SIGNALS:
    void terminate(int signal); ///< SIGINT or SIGTERM
    void hangup();              ///< SIGHUP

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace FeedScope

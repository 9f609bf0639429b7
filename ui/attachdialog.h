#pragma once

#include <QDialog>
#include <QList>
#include <QUrl>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace FeedScope {

/// File → Attach to agent… (issue 18): the agent's live stream (ws://HOST:PORT/live or wss://…),
/// its control token (optional: without it the window is read-only) and, for wss://, a private
/// CA's certificate file. The agents attached before are offered (QSettings, newest first); the
/// token is stored with them only when "Remember the token" is ticked (in FeedScope's settings
/// file, in plain text: the tooltip says so), else it is never written anywhere.
class AttachDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttachDialog)

public:
    struct Recent
    {
        QUrl url;
        QString caFile;
        QByteArray token; ///< empty unless the user chose to remember it
    };
    static constexpr int MaxRecent = 10;

    explicit AttachDialog(QWidget *parent = nullptr);
    ~AttachDialog() override;

    QUrl url() const { return m_url; }
    QByteArray token() const;
    QString caFile() const;

    /// The agents attached before, newest first.
    static QList<Recent> recentAgents();
    /// Puts @p r first in the recent agents (its token only if not empty).
    static void remember(const Recent &r);

    QComboBox *urlBox() const { return m_urlBox; }
    QLineEdit *tokenEdit() const { return m_token; }
    QLineEdit *caEdit() const { return m_ca; }
    QCheckBox *rememberTokenBox() const { return m_rememberToken; }
    QLabel *errorLabel() const { return m_error; }
    QPushButton *attachButton() const { return m_attach; }

    /// Checks what is typed; false with the reason shown under the fields.
    bool validate();
    void accept() override;

private:
    void fillFromRecent(int index);

    QComboBox *m_urlBox = nullptr;
    QLineEdit *m_token = nullptr;
    QLineEdit *m_ca = nullptr;
    QCheckBox *m_rememberToken = nullptr;
    QLabel *m_error = nullptr;
    QPushButton *m_attach = nullptr;
    QList<Recent> m_recent;
    QUrl m_url;
};

} // namespace FeedScope

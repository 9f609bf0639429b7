#include "attachdialog.h"

#include "livesource.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSslCertificate>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {
constexpr auto RecentKey = "Attach/v1/recent";
} // namespace

AttachDialog::AttachDialog(QWidget *parent) : QDialog(parent), m_recent(recentAgents())
{
    setWindowTitle(tr("Attach to agent"));
    auto *intro = new QLabel(tr("Show a FeedScope agent running elsewhere (feedscope --headless "
                                "--metrics-port N) in a window of its own. Over the network, tunnel "
                                "its port with SSH or serve it with TLS (wss://)."),
                             this);
    intro->setWordWrap(true);

    m_urlBox = new QComboBox(this);
    m_urlBox->setObjectName(u"attachUrl"_s);
    m_urlBox->setEditable(true);
    m_urlBox->setInsertPolicy(QComboBox::NoInsert);
    m_urlBox->lineEdit()->setPlaceholderText(u"ws://10.0.0.5:9100/live"_s);
    m_urlBox->setToolTip(tr("The agent's live stream: ws://HOST:PORT/live, or wss://… when the agent "
                            "serves TLS; PORT is its --metrics-port"));
    for (const Recent &r : std::as_const(m_recent))
        m_urlBox->addItem(r.url.toString());
    m_urlBox->setCurrentIndex(m_recent.isEmpty() ? -1 : 0);
    m_urlBox->setMinimumContentsLength(36);

    m_token = new QLineEdit(this);
    m_token->setObjectName(u"attachToken"_s);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("optional: without it the window only watches"));
    m_token->setToolTip(tr("The agent's --control-token: with it Reconnect, Pause, Subscribe and "
                           "Unsubscribe act on the agent"));
    m_rememberToken = new QCheckBox(tr("Remember the token for this agent"), this);
    m_rememberToken->setObjectName(u"rememberToken"_s);
    m_rememberToken->setToolTip(tr("Stored in FeedScope's settings file in plain text; leave it off "
                                   "and the token is asked for each time"));

    m_ca = new QLineEdit(this);
    m_ca->setObjectName(u"attachCa"_s);
    m_ca->setPlaceholderText(tr("optional, wss:// only: the PEM file of a private CA"));
    auto *browse = new QToolButton(this);
    browse->setText(tr("…"));
    browse->setToolTip(tr("Choose the CA certificate file"));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("CA certificate"), m_ca->text(), tr("PEM certificates (*.pem *.crt);;All files (*)"));
        if (!path.isEmpty())
            m_ca->setText(path);
    });
    auto *caRow = new QHBoxLayout;
    caRow->setContentsMargins(0, 0, 0, 0);
    caRow->addWidget(m_ca, 1);
    caRow->addWidget(browse);

    m_error = new QLabel(this);
    m_error->setObjectName(u"attachError"_s);
    m_error->setWordWrap(true);
    {
        QPalette p = m_error->palette();
        p.setColor(QPalette::WindowText, QColor(0xcf, 0x22, 0x2e));
        m_error->setPalette(p);
    }
    m_error->setVisible(false);

    auto *form = new QFormLayout;
    form->addRow(tr("&Agent:"), m_urlBox);
    form->addRow(tr("Control &token:"), m_token);
    form->addRow(QString(), m_rememberToken);
    form->addRow(tr("&CA file:"), caRow);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    m_attach = buttons->addButton(tr("Attach"), QDialogButtonBox::AcceptRole);
    m_attach->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &AttachDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    connect(m_urlBox, &QComboBox::currentIndexChanged, this, &AttachDialog::fillFromRecent);
    connect(m_urlBox, &QComboBox::editTextChanged, this, [this] { m_error->setVisible(false); });
    fillFromRecent(m_urlBox->currentIndex());
}

AttachDialog::~AttachDialog() = default;

void AttachDialog::fillFromRecent(int index)
{
    if (index < 0 || index >= m_recent.size())
        return;
    const Recent &r = m_recent.at(index);
    m_ca->setText(r.caFile);
    m_token->setText(QString::fromUtf8(r.token));
    m_rememberToken->setChecked(!r.token.isEmpty());
}

QByteArray AttachDialog::token() const
{
    return m_token->text().trimmed().toUtf8();
}

QString AttachDialog::caFile() const
{
    return m_ca->text().trimmed();
}

bool AttachDialog::validate()
{
    QString error;
    const std::optional<QUrl> url = LiveSource::parseAgentUrl(m_urlBox->currentText(), &error);
    if (url && !caFile().isEmpty()) {
        QFile f(caFile());
        if (url->scheme() != "wss"_L1)
            error = tr("A CA file is for a wss:// agent: this one is ws://");
        else if (!f.open(QIODevice::ReadOnly))
            error = tr("Cannot read the CA file %1: %2").arg(caFile(), f.errorString());
        else if (QSslCertificate::fromData(f.readAll(), QSsl::Pem).isEmpty())
            error = tr("%1 holds no PEM certificate").arg(caFile());
    }
    if (!url && error.isEmpty())
        error = tr("Not an agent's address");
    if (!error.isEmpty()) {
        m_error->setText(error.left(1).toUpper() + error.mid(1));
        m_error->setVisible(true);
        return false;
    }
    m_url = *url;
    m_error->setVisible(false);
    return true;
}

void AttachDialog::accept()
{
    if (!validate())
        return; // the dialog stays, the reason under the fields
    remember({m_url, caFile(), m_rememberToken->isChecked() ? token() : QByteArray()});
    QDialog::accept();
}

QList<AttachDialog::Recent> AttachDialog::recentAgents()
{
    QList<Recent> out;
    const QVariantList list = QSettings().value(QLatin1StringView(RecentKey)).toList();
    for (const QVariant &v : list) {
        const QVariantMap m = v.toMap();
        const std::optional<QUrl> url = LiveSource::parseAgentUrl(m.value(u"url"_s).toString(), nullptr);
        if (!url)
            continue; // a settings file edited by hand: skipped
        out.append({*url, m.value(u"ca"_s).toString(), m.value(u"token"_s).toString().toUtf8()});
        if (out.size() == MaxRecent)
            break;
    }
    return out;
}

void AttachDialog::remember(const Recent &r)
{
    QList<Recent> recent = recentAgents();
    recent.removeIf([&r](const Recent &x) { return x.url == r.url; });
    recent.prepend(r);
    QVariantList list;
    for (const Recent &x : std::as_const(recent)) {
        if (list.size() == MaxRecent)
            break;
        QVariantMap m{{u"url"_s, x.url.toString()}};
        if (!x.caFile.isEmpty())
            m.insert(u"ca"_s, x.caFile);
        if (!x.token.isEmpty())
            m.insert(u"token"_s, QString::fromUtf8(x.token));
        list.append(m);
    }
    QSettings().setValue(QLatin1StringView(RecentKey), list);
}

} // namespace FeedScope

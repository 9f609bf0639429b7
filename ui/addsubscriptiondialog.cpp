#include "addsubscriptiondialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

AddSubscriptionDialog::AddSubscriptionDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Add subscriptions"));
    auto *layout = new QVBoxLayout(this);
    m_form = new QFormLayout;
    m_type = new QComboBox(this);
    for (const Hl::TypeSpec &t : Hl::catalogue())
        m_type->addItem(QString::fromLatin1(t.type) + (t.legacy ? tr(" (legacy)") : QString()),
                        QString::fromLatin1(t.type));
    m_form->addRow(tr("&Type"), m_type);
    layout->addLayout(m_form);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Subscribe"));
    QPushButton *import = m_buttons->addButton(tr("&Import JSON file…"), QDialogButtonBox::ActionRole);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddSubscriptionDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(import, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import subscriptions"), QString(),
                                                          tr("JSON files (*.json);;All files (*)"));
        QString error;
        if (!path.isEmpty() && !importFile(path, &error))
            m_status->setText(error);
    });
    connect(m_type, &QComboBox::currentIndexChanged, this, &AddSubscriptionDialog::rebuildParams);
    setType(u"trades"_s);
    rebuildParams();
}

void AddSubscriptionDialog::setType(const QString &type)
{
    const int i = m_type->findData(type);
    if (i >= 0)
        m_type->setCurrentIndex(i);
}

void AddSubscriptionDialog::rebuildParams()
{
    for (QWidget *w : std::as_const(m_rows))
        m_form->removeRow(w);
    m_rows.clear();
    m_fields.clear();
    const Hl::TypeSpec *spec = Hl::findType(m_type->currentData().toString());
    if (!spec)
        return;
    for (const Hl::ParamSpec &p : spec->params) {
        const QString name = QString::fromLatin1(p.name);
        QWidget *field = nullptr;
        switch (p.kind) {
        case Hl::ParamKind::Coin: {
            auto *e = new QLineEdit(this);
            e->setPlaceholderText(tr("BTC, ETH, @107, PURR/USDC, xyz:NVDA — one subscription per coin"));
            field = e;
            break;
        }
        case Hl::ParamKind::User: {
            auto *e = new QLineEdit(this);
            e->setPlaceholderText(u"0x…"_s);
            e->setValidator(new QRegularExpressionValidator(QRegularExpression(u"0x[0-9a-fA-F]{0,40}"_s), e));
            field = e;
            break;
        }
        case Hl::ParamKind::Dex: {
            auto *e = new QLineEdit(this);
            e->setPlaceholderText(tr("empty: the main dex"));
            field = e;
            break;
        }
        case Hl::ParamKind::Interval: {
            auto *c = new QComboBox(this);
            for (const QString &i : Hl::candleIntervals())
                c->addItem(i);
            field = c;
            break;
        }
        case Hl::ParamKind::SigFigs: {
            auto *c = new QComboBox(this);
            c->addItem(tr("(full precision)"), QString());
            for (int n = 2; n <= 5; ++n)
                c->addItem(QString::number(n), QString::number(n));
            field = c;
            break;
        }
        case Hl::ParamKind::Mantissa: {
            auto *c = new QComboBox(this);
            c->addItem(tr("(none)"), QString());
            for (int n : {1, 2, 5})
                c->addItem(QString::number(n), QString::number(n));
            field = c;
            break;
        }
        case Hl::ParamKind::Bool: {
            field = new QCheckBox(this);
            break;
        }
        }
        field->setObjectName(name);
        m_form->addRow(name + (p.required ? u" *"_s : QString()), field);
        m_rows.append(field);
        m_fields.insert(name, field);
        if (auto *e = qobject_cast<QLineEdit *>(field))
            connect(e, &QLineEdit::textChanged, this, &AddSubscriptionDialog::validate);
        else if (auto *c = qobject_cast<QComboBox *>(field))
            connect(c, &QComboBox::currentIndexChanged, this, &AddSubscriptionDialog::validate);
        else if (auto *b = qobject_cast<QCheckBox *>(field))
            connect(b, &QCheckBox::toggled, this, &AddSubscriptionDialog::validate);
    }
    validate();
}

void AddSubscriptionDialog::setParam(const QString &name, const QString &value)
{
    QWidget *w = m_fields.value(name);
    if (auto *e = qobject_cast<QLineEdit *>(w))
        e->setText(value);
    else if (auto *c = qobject_cast<QComboBox *>(w)) {
        const int i = c->findData(value) >= 0 ? c->findData(value) : c->findText(value);
        if (i >= 0)
            c->setCurrentIndex(i);
    } else if (auto *b = qobject_cast<QCheckBox *>(w))
        b->setChecked(value == u"true"_s);
}

std::optional<QList<Hl::Subscription>> AddSubscriptionDialog::subscriptions(QString *error) const
{
    const Hl::TypeSpec *spec = Hl::findType(m_type->currentData().toString());
    if (!spec) {
        *error = tr("Pick a type");
        return std::nullopt;
    }
    QJsonObject base{{u"type"_s, QString::fromLatin1(spec->type)}};
    QStringList coins{QString()};
    for (const Hl::ParamSpec &p : spec->params) {
        const QString name = QString::fromLatin1(p.name);
        QWidget *w = m_fields.value(name);
        if (auto *e = qobject_cast<QLineEdit *>(w)) {
            const QString text = e->text().trimmed();
            if (p.kind == Hl::ParamKind::Coin) {
                coins.clear();
                for (const QString &c : text.split(u',', Qt::SkipEmptyParts))
                    if (!c.trimmed().isEmpty())
                        coins.append(c.trimmed());
                if (coins.isEmpty()) {
                    *error = tr("\"%1\" needs at least one coin").arg(name);
                    return std::nullopt;
                }
            } else if (!text.isEmpty() || p.required) {
                base.insert(name, text);
            }
        } else if (auto *c = qobject_cast<QComboBox *>(w)) {
            const QString v = c->currentData().isValid() ? c->currentData().toString() : c->currentText();
            if (!v.isEmpty())
                base.insert(name, p.kind == Hl::ParamKind::Interval ? QJsonValue(v) : QJsonValue(v.toInt()));
        } else if (auto *b = qobject_cast<QCheckBox *>(w)) {
            if (b->isChecked())
                base.insert(name, true);
        }
    }
    QList<Hl::Subscription> out;
    for (const QString &coin : std::as_const(coins)) {
        QJsonObject o = base;
        if (!coin.isEmpty())
            o.insert(u"coin"_s, coin);
        QString why;
        const auto s = Hl::Subscription::fromJson(o, &why);
        if (!s) {
            *error = why;
            return std::nullopt;
        }
        out.append(*s);
    }
    return out;
}

void AddSubscriptionDialog::validate()
{
    QString error;
    const auto subs = subscriptions(&error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(subs.has_value());
    if (subs)
        m_status->setText(subs->size() == 1 ? QString::fromUtf8(subs->constFirst().canonical())
                                            : tr("%1 subscriptions").arg(subs->size()));
    else
        m_status->setText(error);
}

bool AddSubscriptionDialog::importFile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = tr("Cannot read %1: %2").arg(path, f.errorString());
        return false;
    }
    QString why;
    const auto list = Hl::Subscription::listFromJson(f.readAll(), &why);
    if (!list) {
        *error = tr("%1: %2").arg(path, why);
        return false;
    }
    m_result = *list;
    QDialog::accept();
    return true;
}

void AddSubscriptionDialog::accept()
{
    QString error;
    const auto subs = subscriptions(&error);
    if (!subs) {
        m_status->setText(error);
        return;
    }
    m_result = *subs;
    QDialog::accept();
}

} // namespace FeedScope

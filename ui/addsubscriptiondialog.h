#pragma once

#include "subscription.h"

#include <QDialog>
#include <QHash>

class QComboBox;
class QFormLayout;
class QLabel;
class QDialogButtonBox;

namespace FeedScope {

/// Add subscriptions: a type picker with the parameters that type takes (a coin list gives one
/// subscription per coin; users are validated as 0x + 40 hex; candle intervals, nSigFigs,
/// mantissa and fast are choices), or a JSON file in the `--subscriptions` format. Nothing is
/// added until every entry is valid; the error says which field is wrong.
class AddSubscriptionDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit AddSubscriptionDialog(QWidget *parent = nullptr);

    void setType(const QString &type);
    /// Sets a parameter's field by its name ("coin" takes a comma-separated list).
    void setParam(const QString &name, const QString &value);
    /// The subscriptions the current fields describe; nullopt with @p error when a field is bad.
    std::optional<QList<Hl::Subscription>> subscriptions(QString *error) const;
    /// Reads a `--subscriptions` file; the dialog accepts with its entries, or shows the error.
    bool importFile(const QString &path, QString *error);
    /// What accept() will add.
    QList<Hl::Subscription> result() const { return m_result; }

public Q_SLOTS:
    void accept() override;

private:
    void rebuildParams();
    void validate();

    QComboBox *m_type = nullptr;
    QFormLayout *m_form = nullptr;
    QLabel *m_status = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QHash<QString, QWidget *> m_fields;
    QList<QWidget *> m_rows;
    QList<Hl::Subscription> m_result;
};

} // namespace FeedScope

#pragma once

#include "subscription.h"

#include <QDialog>
#include <QHash>
#include <QSet>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QScrollArea;
class QStackedWidget;
class QStandardItemModel;

namespace FeedScope {

/// Add subscriptions: a type picker grouped by kind (market data for one coin, for all coins,
/// user data by address, no longer served), with a one-line explanation of the type, and the
/// parameters that type takes under human labels (the protocol's names are in the tooltips). A coin
/// list gives one subscription per coin; user addresses take only 0x and hexadecimal digits and
/// say what they did not take; candle intervals, significant figures, rounding step and the
/// switches are choices. Or a JSON file in the `--subscriptions` format, every bad entry listed,
/// numbered from 1.
///
/// Nothing is added until every entry is valid. Errors show once the user edited the field or
/// tried to subscribe; before that the message line says what to fill in. One page of fields per
/// type, so the dialog keeps its size when the type changes; Tab goes through the type, its fields
/// in order, then the buttons.
///
/// After accept(), result() holds what to subscribe; the caller subscribes them and can select
/// the new rows by their canonical JSON (Hl::Subscription::canonical(), the rows' KeyRole).
class AddSubscriptionDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit AddSubscriptionDialog(QWidget *parent = nullptr);

    void setType(const QString &type);
    QString type() const;
    /// Sets a parameter's field by its protocol name ("coin" takes a comma-separated list).
    void setParam(const QString &name, const QString &value);
    /// The field of parameter @p name of the current type (nullptr if it takes none).
    QWidget *paramField(const QString &name) const;
    /// The subscriptions the current fields describe; nullopt with @p error when a field is bad.
    std::optional<QList<Hl::Subscription>> subscriptions(QString *error) const;
    /// Reads a `--subscriptions` file; the dialog accepts with its entries, or shows every bad
    /// entry (numbered from 1) and returns false with the same text in @p error.
    bool importFile(const QString &path, QString *error);
    /// What accept() will add.
    QList<Hl::Subscription> result() const { return m_result; }
    /// The message line: what will be subscribed, what to fill in, or what is wrong.
    QString message() const;
    /// True when the message line shows an error (not a hint or a preview).
    bool messageIsError() const { return m_messageIsError; }

    /// Human words for a subscription type: its group, its name and a one-line explanation.
    struct TypeInfo
    {
        QString group;
        QString name;
        QString description;
    };
    static TypeInfo typeInfo(const Hl::TypeSpec &spec);

public Q_SLOTS:
    void accept() override;

protected:
    /// Tab and Shift+Tab: the type, the current type's fields top to bottom, the buttons left to
    /// right, and round again (the focus chain says the same; this keeps it true whatever Qt's
    /// chain does with the hidden pages).
    bool focusNextPrevChild(bool next) override;

private:
    QList<QWidget *> focusOrder() const;
    struct Page
    {
        QString type;
        QWidget *widget = nullptr;
        QList<QPair<QString, QWidget *>> fields; ///< by protocol name, in visual order
    };
    void buildPages();
    QWidget *makeField(const Hl::ParamSpec &p, QString *label, QString *tooltip);
    void onTypeChanged();
    void onUserEdited(QLineEdit *e, const QString &text);
    void validate();
    void setMessage(const QString &text, bool error);
    void updateTabOrder();
    const Page *currentPage() const;
    /// The first problem with the current fields: which field, and a sentence.
    std::optional<QPair<QString, QString>> firstProblem(QList<Hl::Subscription> *out) const;

    QComboBox *m_type = nullptr;
    QStandardItemModel *m_types = nullptr;
    QLabel *m_description = nullptr;
    QStackedWidget *m_pages = nullptr;
    QScrollArea *m_messageArea = nullptr;
    QLabel *m_messageIcon = nullptr;
    QLabel *m_message = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QList<Page> m_pageList;
    QSet<QWidget *> m_touched; ///< fields the user edited
    QString m_rejected;        ///< what the user address field did not take, until the next edit
    bool m_tried = false;      ///< the user tried to subscribe
    bool m_messageIsError = false;
    QList<Hl::Subscription> m_result;
};

} // namespace FeedScope

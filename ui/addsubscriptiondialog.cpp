#include "addsubscriptiondialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStyle>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace FeedScope {

namespace {

constexpr int TypeRole = Qt::UserRole;

struct TypeText
{
    const char *type;
    int group; ///< index into groupNames()
    const char *name;
    const char *description;
};

// PROTOCOL.md §2.1 in human words. A type missing here still shows (group "Other", its
// protocol name), so the catalogue can grow without the dialog hiding anything.
constexpr TypeText TypeTexts[] = {
    {"trades", 0, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Trades"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Every trade of the coin as it happens, starting with recent ones.")},
    {"l2Book", 0, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Order book"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The coin's book, up to 20 price levels a side, sent in full every 0.5 to 5 s.")},
    {"bbo", 0, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Best bid and offer"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The coin's best bid and ask, sent when they change on a block.")},
    {"candle", 0, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Candles"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Open, high, low, close and volume of the current bar at an "
                       "interval.")},
    {"activeAssetCtx", 0, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Asset context"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Mark, mid and oracle price, funding, open interest and volume "
                       "of a perp or spot coin.")},
    {"allMids", 1, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Mid prices"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The mid price of every coin, about every 5 s (large frames).")},
    {"fastAssetCtxs", 1, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Fast mark and mid prices"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Mark and mid price of every coin, compressed, then only what "
                       "changed (about once a second).")},
    {"assetCtxs", 1, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Perp contexts of a dex"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The context of every perp on one dex (undocumented but live).")},
    {"allDexsAssetCtxs", 1,
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Perp contexts of every dex"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The context of every perp on every dex (frames of 100 KB and "
                       "more).")},
    {"spotAssetCtxs", 1, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Spot contexts"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The context of every spot asset (undocumented but live).")},
    {"outcomeMetaUpdates", 1, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Outcome markets"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Outcome markets and questions as they are created, updated or "
                       "settled.")},
    {"webData3", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Account overview"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's account as the web app shows it, re-sent every few "
                       "seconds.")},
    {"clearinghouseState", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Positions and margin"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's positions and margin on one dex, re-sent every few "
                       "seconds.")},
    {"allDexsClearinghouseState", 2,
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Positions on every dex"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "The user's positions and margin on every dex.")},
    {"openOrders", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Open orders"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's resting orders on one dex, re-sent every few "
                       "seconds.")},
    {"orderUpdates", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Order updates"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Each change of the user's orders: placed, filled, cancelled, "
                       "rejected.")},
    {"userFills", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Fills"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's fills, starting with recent history.")},
    {"userEvents", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Account events"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's fills, funding payments, liquidations and cancels in "
                       "one feed.")},
    {"userFundings", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Funding payments"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's funding payments, starting with history.")},
    {"userNonFundingLedgerUpdates", 2,
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Deposits and transfers"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's deposits, withdrawals and transfers; the whole "
                       "history first, which can be large.")},
    {"activeAssetData", 2,
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Leverage and size on a coin"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's leverage and the size they can trade on one perp "
                       "coin.")},
    {"spotState", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Spot balances"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's spot balances, re-sent every few seconds.")},
    {"twapStates", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Running TWAPs"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "The user's running TWAP orders on one dex.")},
    {"userTwapSliceFills", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "TWAP slice fills"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Fills of the user's TWAP slices, starting with history.")},
    {"userTwapHistory", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "TWAP history"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's TWAP orders and how they ended, starting with "
                       "history.")},
    {"userHistoricalOrders", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Order history"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "The user's past orders (undocumented but live).")},
    {"notification", 2, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Notifications"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Notifications for the user, as the web app shows them.")},
    {"webData2", 3, QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog", "Old account overview"),
     QT_TRANSLATE_NOOP("FeedScope::AddSubscriptionDialog",
                       "Removed by Hyperliquid: the server refuses it. Use Account "
                       "overview instead.")},
};

QStringList groupNames()
{
    return {AddSubscriptionDialog::tr("Market data: one coin"),
            AddSubscriptionDialog::tr("Market data: all coins"),
            AddSubscriptionDialog::tr("User data: by address"), AddSubscriptionDialog::tr("No longer served"),
            AddSubscriptionDialog::tr("Other")};
}

QString intervalName(const QString &i)
{
    const QChar unit = i.back();
    const int n = QStringView(i).chopped(1).toInt();
    const bool one = n == 1;
    QString name;
    if (unit == u'm')
        name = one ? AddSubscriptionDialog::tr("1 minute") : AddSubscriptionDialog::tr("%1 minutes").arg(n);
    else if (unit == u'h')
        name = one ? AddSubscriptionDialog::tr("1 hour") : AddSubscriptionDialog::tr("%1 hours").arg(n);
    else if (unit == u'd')
        name = one ? AddSubscriptionDialog::tr("1 day") : AddSubscriptionDialog::tr("%1 days").arg(n);
    else if (unit == u'w')
        name = one ? AddSubscriptionDialog::tr("1 week") : AddSubscriptionDialog::tr("%1 weeks").arg(n);
    else if (unit == u'M')
        name = one ? AddSubscriptionDialog::tr("1 month") : AddSubscriptionDialog::tr("%1 months").arg(n);
    return name.isEmpty() ? i : name;
}

/// 1-based line and column of @p offset in @p text.
QPair<int, int> lineColumn(const QByteArray &text, qsizetype offset)
{
    int line = 1, column = 1;
    for (qsizetype i = 0; i < std::min(offset, text.size()); ++i) {
        if (text.at(i) == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return {line, column};
}

bool isHexDigit(QChar c)
{
    return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
}

} // namespace

AddSubscriptionDialog::TypeInfo AddSubscriptionDialog::typeInfo(const Hl::TypeSpec &spec)
{
    const QStringList groups = groupNames();
    for (const TypeText &t : TypeTexts) {
        if (qstrcmp(t.type, spec.type) == 0)
            return {groups.at(t.group), tr(t.name), tr(t.description)};
    }
    return {groups.constLast(), QString::fromLatin1(spec.type), tr("No description.")};
}

AddSubscriptionDialog::AddSubscriptionDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Add subscriptions"));
    auto *layout = new QVBoxLayout(this);
    auto *top = new QFormLayout;
    m_type = new QComboBox(this);
    m_type->setObjectName(u"type"_s);
    m_types = new QStandardItemModel(m_type);
    const QStringList groups = groupNames();
    for (int g = 0; g < groups.size(); ++g) {
        // In the order of TypeTexts (the common ones first); types it does not know under "Other".
        QList<const Hl::TypeSpec *> specs;
        for (const TypeText &t : TypeTexts)
            if (const Hl::TypeSpec *spec = Hl::findType(QString::fromLatin1(t.type)); spec && t.group == g)
                specs.append(spec);
        if (g == groups.size() - 1) {
            for (const Hl::TypeSpec &t : Hl::catalogue())
                if (typeInfo(t).group == groups.at(g))
                    specs.append(&t);
        }
        QList<QStandardItem *> members;
        for (const Hl::TypeSpec *t : std::as_const(specs)) {
            const TypeInfo info = typeInfo(*t);
            auto *item = new QStandardItem(info.name);
            item->setData(QString::fromLatin1(t->type), TypeRole);
            item->setToolTip(tr("%1\nProtocol type: %2").arg(info.description, QString::fromLatin1(t->type)));
            members.append(item);
        }
        const QString &group = groups.at(g);
        if (members.isEmpty())
            continue;
        auto *header = new QStandardItem(group);
        header->setFlags(Qt::NoItemFlags); // a heading: not selectable
        QFont bold = header->font();
        bold.setBold(true);
        header->setFont(bold);
        header->setForeground(m_type->palette().windowText()); // a heading, not a greyed-out type
        m_types->appendRow(header);
        for (QStandardItem *item : members)
            m_types->appendRow(item);
    }
    m_type->setModel(m_types);
    m_type->setMaxVisibleItems(20);
    m_type->setToolTip(tr("What to subscribe to; the line below explains it. Market data needs a coin, user "
                          "data a user address."));
    top->addRow(tr("&Type"), m_type);
    m_description = new QLabel(this);
    m_description->setObjectName(u"description"_s);
    m_description->setWordWrap(true);
    m_description->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Two lines always, so the dialog keeps its height whatever the type.
    m_description->setFixedHeight(2 * fontMetrics().lineSpacing() + 2);
    m_description->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    top->addRow(QString(), m_description);
    layout->addLayout(top);

    m_pages = new QStackedWidget(this);
    layout->addWidget(m_pages);
    buildPages();

    // The message line: a preview, a hint or an error, in full (wrapped, scrolled when long).
    auto *messageBox = new QWidget;
    auto *messageLayout = new QHBoxLayout(messageBox);
    messageLayout->setContentsMargins(0, 0, 0, 0);
    m_messageIcon = new QLabel(messageBox);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, this);
    m_messageIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning, nullptr, this).pixmap(iconSize));
    m_messageIcon->setAlignment(Qt::AlignTop);
    m_messageIcon->setFixedWidth(iconSize + 4);
    messageLayout->addWidget(m_messageIcon);
    m_message = new QLabel(messageBox);
    m_message->setObjectName(u"message"_s);
    m_message->setWordWrap(true);
    m_message->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setTextFormat(Qt::PlainText);
    messageLayout->addWidget(m_message, 1);
    m_messageArea = new QScrollArea(this);
    m_messageArea->setObjectName(u"messageArea"_s);
    m_messageArea->setWidget(messageBox);
    m_messageArea->setWidgetResizable(true);
    m_messageArea->setFrameShape(QFrame::NoFrame);
    m_messageArea->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_messageArea->setFocusPolicy(Qt::NoFocus);
    m_messageArea->setFixedHeight(4 * fontMetrics().lineSpacing() + 8);
    layout->addWidget(m_messageArea);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("&Subscribe"));
    QPushButton *import = m_buttons->addButton(tr("&Import JSON file…"), QDialogButtonBox::ActionRole);
    import->setObjectName(u"import"_s);
    import->setToolTip(tr("Subscribe to every entry of a JSON array of subscription objects (the format of "
                          "--subscriptions and of Copy JSON)"));
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &AddSubscriptionDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(import, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import subscriptions"), QString(),
                                                          tr("JSON files (*.json);;All files (*)"));
        QString error;
        if (!path.isEmpty())
            importFile(path, &error);
    });
    connect(m_type, &QComboBox::currentIndexChanged, this, &AddSubscriptionDialog::onTypeChanged);
    setType(u"trades"_s);
    onTypeChanged();
    updateTabOrder();
    // Wide enough for the longest explanation on two lines, so the height never changes.
    int longest = 0;
    for (const Hl::TypeSpec &t : Hl::catalogue())
        longest = std::max(longest, fontMetrics().horizontalAdvance(typeInfo(t).description));
    setMinimumWidth(
        std::max({minimumSizeHint().width(), longest * 3 / 5 + 120, 96 * fontMetrics().averageCharWidth()}));
}

QWidget *AddSubscriptionDialog::makeField(const Hl::ParamSpec &p, QString *label, QString *tooltip)
{
    const QString name = QString::fromLatin1(p.name);
    const QString optional = p.required ? QString() : tr(" (optional)");
    switch (p.kind) {
    case Hl::ParamKind::Coin: {
        auto *e = new QLineEdit;
        e->setPlaceholderText(tr("BTC, ETH, @107, PURR/USDC, xyz:NVDA — one subscription each"));
        *label = tr("&Coins");
        *tooltip = tr("Perps by name (BTC, kPEPE: case matters), spot as PURR/USDC or @index, builder perps "
                      "as dex:COIN. Several coins, separated by commas, give one subscription each.\n"
                      "Protocol parameter: %1")
                       .arg(name);
        return e;
    }
    case Hl::ParamKind::User: {
        auto *e = new QLineEdit;
        e->setPlaceholderText(tr("0x and 40 hexadecimal digits"));
        e->setMaxLength(60); // room to paste with spaces around; the extra is cut and said so
        *label = tr("&User address");
        *tooltip =
            tr("The account's address: 0x and 40 hexadecimal digits (0–9, a–f). User data is public "
               "by address; Hyperliquid tracks at most 10 users per IP address.\nProtocol parameter: %1")
                .arg(name);
        return e;
    }
    case Hl::ParamKind::Dex: {
        auto *e = new QLineEdit;
        e->setPlaceholderText(tr("empty: the main dex"));
        *label = tr("&Builder dex") + optional;
        *tooltip = tr("A builder-deployed perp dex by name (HIP-3); empty for the main dex.\nProtocol "
                      "parameter: %1")
                       .arg(name);
        return e;
    }
    case Hl::ParamKind::Interval: {
        auto *c = new QComboBox;
        for (const QString &i : Hl::candleIntervals())
            c->addItem(intervalName(i), i);
        *label = tr("Candle &interval");
        *tooltip = tr("How long one candle lasts.\nProtocol parameter: %1 (%2)")
                       .arg(name, Hl::candleIntervals().join(u' '));
        return c;
    }
    case Hl::ParamKind::SigFigs: {
        auto *c = new QComboBox;
        c->addItem(tr("Full precision"), QString());
        for (int n = 2; n <= 5; ++n)
            c->addItem(QString::number(n), QString::number(n));
        *label = tr("Si&gnificant figures") + optional;
        *tooltip = tr("Group the book's prices to this many significant figures (2 to 5); full precision "
                      "when not set.\nProtocol parameter: %1")
                       .arg(name);
        return c;
    }
    case Hl::ParamKind::Mantissa: {
        auto *c = new QComboBox;
        c->addItem(tr("None"), QString());
        for (int n : {1, 2, 5})
            c->addItem(QString::number(n), QString::number(n));
        *label = tr("&Rounding step") + optional;
        *tooltip = tr("With 5 significant figures only: group the last figure in steps of 1, 2 or 5.\n"
                      "Protocol parameter: %1")
                       .arg(name);
        return c;
    }
    case Hl::ParamKind::Bool: {
        auto *b = new QCheckBox;
        if (name == u"fast"_s) {
            b->setText(tr("&Fast: 5 levels every 0.5 s"));
            *tooltip =
                tr("On: 5 price levels a side about every 0.5 s. Off: 20 levels a side about every 5 s.\n"
                   "Protocol parameter: %1")
                    .arg(name);
        } else if (name == u"aggregateByTime"_s) {
            b->setText(tr("&Combine partial fills of an order"));
            *tooltip = tr("Fills of one order in the same block arrive as one fill.\nProtocol parameter: %1")
                           .arg(name);
        } else if (name == u"isPortfolioMargin"_s) {
            b->setText(tr("&Portfolio margin account"));
            *tooltip = tr("The balances of a portfolio-margin account.\nProtocol parameter: %1").arg(name);
        } else {
            b->setText(name);
            *tooltip = tr("Protocol parameter: %1").arg(name);
        }
        *label = tr("Options");
        return b;
    }
    }
    return nullptr;
}

void AddSubscriptionDialog::buildPages()
{
    for (const Hl::TypeSpec &spec : Hl::catalogue()) {
        Page page;
        page.type = QString::fromLatin1(spec.type);
        page.widget = new QWidget;
        auto *form = new QFormLayout(page.widget);
        form->setContentsMargins(0, 0, 0, 0);
        QWidget *sigFigs = nullptr, *mantissa = nullptr;
        QString lastLabel;
        for (const Hl::ParamSpec &p : spec.params) {
            QString label, tooltip;
            QWidget *field = makeField(p, &label, &tooltip);
            const QString name = QString::fromLatin1(p.name);
            field->setObjectName(name);
            field->setToolTip(tooltip);
            // Consecutive switches share one "Options" label.
            form->addRow(label == lastLabel && qobject_cast<QCheckBox *>(field) ? QString() : label, field);
            lastLabel = label;
            if (auto *l = qobject_cast<QLabel *>(form->labelForField(field)))
                l->setToolTip(tooltip);
            page.fields.append({name, field});
            if (p.kind == Hl::ParamKind::SigFigs)
                sigFigs = field;
            if (p.kind == Hl::ParamKind::Mantissa)
                mantissa = field;
            if (auto *e = qobject_cast<QLineEdit *>(field)) {
                if (p.kind == Hl::ParamKind::User)
                    connect(e, &QLineEdit::textEdited, this,
                            [this, e](const QString &t) { onUserEdited(e, t); });
                else
                    connect(e, &QLineEdit::textEdited, this, [this, e] { m_touched.insert(e); });
                connect(e, &QLineEdit::textChanged, this, &AddSubscriptionDialog::validate);
            } else if (auto *c = qobject_cast<QComboBox *>(field)) {
                connect(c, &QComboBox::activated, this, [this, c] { m_touched.insert(c); });
                connect(c, &QComboBox::currentIndexChanged, this, &AddSubscriptionDialog::validate);
            } else if (auto *b = qobject_cast<QCheckBox *>(field)) {
                connect(b, &QCheckBox::toggled, this, &AddSubscriptionDialog::validate);
            }
        }
        if (sigFigs && mantissa) {
            // The rounding step exists only with 5 significant figures.
            auto *s = static_cast<QComboBox *>(sigFigs);
            auto *m = static_cast<QComboBox *>(mantissa);
            auto sync = [s, m] {
                const bool five = s->currentData().toString() == u"5"_s;
                if (!five)
                    m->setCurrentIndex(0);
                m->setEnabled(five);
            };
            connect(s, &QComboBox::currentIndexChanged, m, sync);
            sync();
        }
        if (spec.params.isEmpty()) {
            auto *none =
                new QLabel(tr("This type takes no parameters: one subscription for the whole market."));
            none->setWordWrap(true);
            form->addRow(none);
        }
        m_pages->addWidget(page.widget);
        m_pageList.append(page);
    }
}

const AddSubscriptionDialog::Page *AddSubscriptionDialog::currentPage() const
{
    const int i = m_pages->currentIndex();
    return i >= 0 && i < m_pageList.size() ? &m_pageList.at(i) : nullptr;
}

void AddSubscriptionDialog::setType(const QString &type)
{
    const int i = m_type->findData(type, TypeRole);
    if (i >= 0)
        m_type->setCurrentIndex(i);
}

QString AddSubscriptionDialog::type() const
{
    return m_type->currentData(TypeRole).toString();
}

void AddSubscriptionDialog::onTypeChanged()
{
    const Page *before = currentPage();
    const QString t = type();
    for (int i = 0; i < m_pageList.size(); ++i) {
        if (m_pageList.at(i).type != t)
            continue;
        // Carry the coins, the address and the dex over to the new type's fields.
        if (before && before != &m_pageList.at(i)) {
            for (const auto &[name, w] : m_pageList.at(i).fields) {
                auto *to = qobject_cast<QLineEdit *>(w);
                for (const auto &[oldName, old] : before->fields) {
                    auto *from = qobject_cast<QLineEdit *>(old);
                    if (to && from && oldName == name && to->text().isEmpty()) {
                        to->setText(from->text());
                        if (m_touched.contains(from))
                            m_touched.insert(to);
                    }
                }
            }
        }
        m_pages->setCurrentIndex(i);
        break;
    }
    const Hl::TypeSpec *spec = Hl::findType(t);
    m_description->setText(spec ? typeInfo(*spec).description : QString());
    m_description->setToolTip(spec ? tr("Protocol type: %1").arg(t) : QString());
    m_rejected.clear();
    validate();
}

void AddSubscriptionDialog::onUserEdited(QLineEdit *e, const QString &text)
{
    m_touched.insert(e);
    // Take 0x and hexadecimal digits; say what was left out instead of dropping it silently.
    QString out;
    QStringList dropped;
    int cursor = e->cursorPosition();
    bool tooLong = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        bool keep = false;
        if (out == u"0"_s && (c == u'x' || c == u'X')) {
            keep = true;
        } else if (isHexDigit(c)) {
            const int digits = static_cast<int>(out.size()) - (out.startsWith(u"0x"_s) ? 2 : 0);
            keep = digits < 40;
            tooLong |= !keep;
        }
        if (keep) {
            out.append(c == u'X' ? u'x' : c);
            continue;
        }
        if (i < e->cursorPosition())
            --cursor;
        if (c.isSpace() || isHexDigit(c))
            continue; // spaces around a pasted address are no news; extra digits are said below
        const QString shown = u"“"_s + c + u"”"_s;
        if (!dropped.contains(shown))
            dropped.append(shown);
    }
    QStringList why;
    if (!dropped.isEmpty())
        why.append(tr("Not taken: %1 — an address has only 0x and the hexadecimal digits 0–9 and a–f.")
                       .arg(dropped.join(u", "_s)));
    if (tooLong)
        why.append(tr("Not taken: the digits after the 40th — an address has 40."));
    m_rejected = why.join(u' ');
    if (out != text) {
        const QSignalBlocker block(e); // one validation, below
        e->setText(out);
        e->setCursorPosition(std::clamp(cursor, 0, static_cast<int>(out.size())));
    }
    validate();
}

QWidget *AddSubscriptionDialog::paramField(const QString &name) const
{
    if (const Page *page = currentPage()) {
        for (const auto &[n, w] : page->fields)
            if (n == name)
                return w;
    }
    return nullptr;
}

void AddSubscriptionDialog::setParam(const QString &name, const QString &value)
{
    QWidget *w = paramField(name);
    if (auto *e = qobject_cast<QLineEdit *>(w))
        e->setText(value);
    else if (auto *c = qobject_cast<QComboBox *>(w)) {
        const int i = c->findData(value) >= 0 ? c->findData(value) : c->findText(value);
        if (i >= 0)
            c->setCurrentIndex(i);
    } else if (auto *b = qobject_cast<QCheckBox *>(w))
        b->setChecked(value == u"true"_s);
}

std::optional<QPair<QString, QString>> AddSubscriptionDialog::firstProblem(QList<Hl::Subscription> *out) const
{
    const Page *page = currentPage();
    const Hl::TypeSpec *spec = Hl::findType(type());
    if (!page || !spec)
        return QPair<QString, QString>{QString(), tr("Pick a type")};
    QJsonObject base{{u"type"_s, page->type}};
    QStringList coins{QString()};
    for (const auto &[name, w] : page->fields) {
        const auto p = std::find_if(spec->params.cbegin(), spec->params.cend(), [&](const Hl::ParamSpec &ps) {
            return name == QLatin1StringView(ps.name);
        });
        if (auto *e = qobject_cast<QLineEdit *>(w)) {
            const QString text = e->text().trimmed();
            if (p->kind == Hl::ParamKind::Coin) {
                coins.clear();
                for (const QString &c : text.split(u',', Qt::SkipEmptyParts))
                    if (!c.trimmed().isEmpty())
                        coins.append(c.trimmed());
                if (coins.isEmpty())
                    return QPair{name, tr("Enter at least one coin, such as BTC (several: BTC, ETH).")};
            } else if (p->kind == Hl::ParamKind::User) {
                if (text.isEmpty())
                    return QPair{name, tr("Enter the user address: 0x and 40 hexadecimal digits.")};
                if (!text.startsWith(u"0x"_s, Qt::CaseInsensitive))
                    return QPair{name, tr("The user address starts with 0x.")};
                if (text.size() != 42)
                    return QPair{name, tr("The user address has 40 hexadecimal digits after 0x; %1 so far.")
                                           .arg(text.size() - 2)};
                base.insert(name, text);
            } else if (!text.isEmpty() || p->required) {
                base.insert(name, text);
            }
        } else if (auto *c = qobject_cast<QComboBox *>(w)) {
            const QString v = c->currentData().toString();
            if (!v.isEmpty())
                base.insert(name, p->kind == Hl::ParamKind::Interval ? QJsonValue(v) : QJsonValue(v.toInt()));
        } else if (auto *b = qobject_cast<QCheckBox *>(w)) {
            if (b->isChecked())
                base.insert(name, true);
        }
    }
    for (const QString &coin : std::as_const(coins)) {
        QJsonObject o = base;
        if (!coin.isEmpty())
            o.insert(u"coin"_s, coin);
        QString why;
        const auto s = Hl::Subscription::fromJson(o, &why);
        if (!s)
            return QPair{QString(), why};
        if (out && !out->contains(*s))
            out->append(*s);
    }
    return std::nullopt;
}

std::optional<QList<Hl::Subscription>> AddSubscriptionDialog::subscriptions(QString *error) const
{
    QList<Hl::Subscription> out;
    if (const auto problem = firstProblem(&out)) {
        *error = problem->second;
        return std::nullopt;
    }
    return out;
}

void AddSubscriptionDialog::setMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_messageIsError = error;
    m_messageIcon->setVisible(error);
}

QString AddSubscriptionDialog::message() const
{
    return m_message->text();
}

void AddSubscriptionDialog::validate()
{
    if (!m_pages || !m_message)
        return; // still building
    QList<Hl::Subscription> subs;
    const auto problem = firstProblem(&subs);
    if (!m_rejected.isEmpty()) {
        setMessage(m_rejected + (problem ? u"\n"_s + problem->second : QString()), true);
        return;
    }
    if (!problem) {
        QStringList lines;
        for (const Hl::Subscription &s : std::as_const(subs))
            lines.append(QString::fromUtf8(s.canonical()));
        setMessage((subs.size() == 1 ? tr("Subscribe to 1 channel:")
                                     : tr("Subscribe to %1 channels:").arg(subs.size())) +
                       u"\n"_s + lines.join(u"\n"_s),
                   false);
        return;
    }
    // An error only once the user edited that field or tried to subscribe; a hint before.
    const QWidget *w = paramField(problem->first);
    if (m_tried || (w && m_touched.contains(const_cast<QWidget *>(w))) || problem->first.isEmpty())
        setMessage(problem->second, true);
    else
        setMessage(problem->second, false);
}

QList<QWidget *> AddSubscriptionDialog::focusOrder() const
{
    QList<QWidget *> order{m_type};
    if (const Page *page = currentPage()) {
        for (const auto &[name, w] : page->fields)
            order.append(w);
    }
    if (QLayout *l = m_buttons->layout()) {
        for (int i = 0; i < l->count(); ++i)
            if (auto *b = qobject_cast<QPushButton *>(l->itemAt(i)->widget()))
                order.append(b);
    }
    return order;
}

bool AddSubscriptionDialog::focusNextPrevChild(bool next)
{
    const QList<QWidget *> order = focusOrder();
    const auto i = order.indexOf(focusWidget());
    if (i < 0)
        return QDialog::focusNextPrevChild(next);
    const auto n = order.size();
    for (qsizetype step = 1; step < n; ++step) {
        QWidget *w = order.at(((i + (next ? step : -step)) % n + n) % n);
        if (w->isEnabled() && w->isVisibleTo(this) && (w->focusPolicy() & Qt::TabFocus)) {
            w->setFocus(next ? Qt::TabFocusReason : Qt::BacktabFocusReason);
            return true;
        }
    }
    return false;
}

void AddSubscriptionDialog::updateTabOrder()
{
    // Type, then each page's fields top to bottom (hidden pages are skipped), then the buttons as
    // they appear from left to right.
    QWidget *prev = m_type;
    for (const Page &page : std::as_const(m_pageList)) {
        for (const auto &[name, w] : page.fields) {
            setTabOrder(prev, w);
            prev = w;
        }
    }
    QList<QPushButton *> buttons;
    if (QLayout *l = m_buttons->layout()) {
        for (int i = 0; i < l->count(); ++i)
            if (auto *b = qobject_cast<QPushButton *>(l->itemAt(i)->widget()))
                buttons.append(b);
    }
    for (QPushButton *b : std::as_const(buttons)) {
        setTabOrder(prev, b);
        prev = b;
    }
}

bool AddSubscriptionDialog::importFile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = tr("Cannot read %1: %2").arg(path, f.errorString());
        setMessage(*error, true);
        return false;
    }
    const QByteArray bytes = f.readAll();
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    QStringList problems;
    QList<Hl::Subscription> list;
    if (pe.error != QJsonParseError::NoError) {
        const auto [line, column] = lineColumn(bytes, pe.offset);
        problems.append(
            tr("Not valid JSON at line %1, column %2: %3").arg(line).arg(column).arg(pe.errorString()));
    } else if (!doc.isArray()) {
        problems.append(tr("Expected a JSON array of subscription objects, such as "
                           "[{\"type\":\"trades\",\"coin\":\"BTC\"}]."));
    } else {
        const QJsonArray array = doc.array();
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QJsonValue v = array.at(i);
            QString why;
            std::optional<Hl::Subscription> s;
            if (v.isObject())
                s = Hl::Subscription::fromJson(v.toObject(), &why);
            else
                why = tr("not an object");
            if (!s)
                problems.append(
                    tr("Entry %1 %2: %3")
                        .arg(i + 1)
                        .arg(v.isObject() ? QString::fromUtf8(Hl::canonicalJson(v)) : QString(), why));
            else if (!list.contains(*s))
                list.append(*s);
        }
        if (!problems.isEmpty())
            problems.prepend(tr("%1 of %2 entries cannot be used; nothing was added:")
                                 .arg(problems.size())
                                 .arg(array.size()));
        else if (array.isEmpty())
            problems.append(tr("The array holds no subscriptions."));
    }
    if (!problems.isEmpty()) {
        *error = tr("%1: %2").arg(path, problems.join(u"\n"_s));
        setMessage(*error, true);
        return false;
    }
    m_result = list;
    QDialog::accept();
    return true;
}

void AddSubscriptionDialog::accept()
{
    m_tried = true;
    QList<Hl::Subscription> subs;
    if (const auto problem = firstProblem(&subs)) {
        validate();
        if (QWidget *w = paramField(problem->first))
            w->setFocus(Qt::OtherFocusReason);
        return;
    }
    m_result = subs;
    QDialog::accept();
}

} // namespace FeedScope

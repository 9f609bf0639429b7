#pragma once

#include <QHash>
#include <QTableView>

class QLabel;

namespace FeedScope {

class SeverityDelegate;

/// A table of live rows: compact fixed-height rows, severity colours, columns sized to their
/// contents once when the first rows appear (from a sample of rows and the header, never again
/// and never over a width the user set), an empty-state text over the viewport, and a hold of
/// its TableProxy's re-sorting while the pointer is over the rows or a context menu is open.
class LiveTableView final : public QTableView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveTableView)

public:
    /// Rows sampled when sizing columns to their contents.
    static constexpr int SizingSampleRows = 64;
    /// No column is sized wider than this by itself (the user may widen it).
    static constexpr int MaxAutoColumnWidth = 340;

    explicit LiveTableView(QWidget *parent = nullptr);
    ~LiveTableView() override;

    void setModel(QAbstractItemModel *model) override;

    /// Shown centred over the rows while there are none.
    void setEmptyText(const QString &text);
    QString emptyText() const;
    bool emptyTextShown() const;

    /// Whether the columns got their widths (sized to contents, restored or set by the user).
    bool columnsSized() const { return m_sized; }
    /// Restores widths saved by saveColumns(); false (nothing changed) when there are none.
    bool restoreColumns(const QByteArray &state);
    /// The header's state when the columns were sized, else empty (sized next time instead).
    QByteArray saveColumns() const;
    /// Column @p column is never sized (nor restored) narrower than @p text needs: for columns whose
    /// longest texts come later than the first rows (a state that turns into "open · silent 7 s").
    void setWidestText(int column, const QString &text);
    /// Sizes the columns to their contents now (what happens once when rows first appear).
    void sizeColumnsToContents();

    /// Keys (KeyRole of column 0) of the selected rows, and the current row's.
    QList<QVariant> selectedKeys() const;
    QVariant currentKey() const;
    void selectKeys(const QList<QVariant> &keys, const QVariant &current);
    /// The header's tooltip of @p section: the model's, else the whole title.
    QString headerToolTip(int section) const;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    bool event(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void updateHold();
    void updateEmpty();
    void maybeSize();

    int widestTextWidth(int column) const;
    QHash<int, QString> m_widest;
    QLabel *m_empty = nullptr;
    bool m_sized = false;
    bool m_sizing = false;
    bool m_sizePending = false; ///< sized to contents at the next turn of the event loop
    bool m_hovered = false;
    int m_menus = 0;
};

} // namespace FeedScope

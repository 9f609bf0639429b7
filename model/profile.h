#pragma once

#include "engine.h"

#include <QJsonObject>
#include <QString>

#include <optional>

namespace FeedScope {

inline constexpr auto ProfileSchema = "feedscope.profile/1";

/// Everything a user tunes, as one JSON document (`"schema":"feedscope.profile/1"`): the
/// endpoint, pool limits, heartbeat, backoff, outgoing budget, dispatcher policy, capacity and
/// threads, UI refresh, handshake headers and, optionally, the subscriptions. `--profile FILE`
/// and the GUI's settings read it; command-line options override it.
struct Profile
{
    QUrl url; ///< empty: the embedded demo feed
    EngineConfig engine;
    int uiRefreshMs = 100;
    QList<Hl::Subscription> subscriptions;
};

/// Strict: unknown keys, wrong types and out-of-range values are errors naming the key.
std::optional<Profile> profileFromJson(const QByteArray &json, QString *error);
/// Reads @p path; the error names the file and the problem.
std::optional<Profile> readProfile(const QString &path, QString *error);
/// The settings the GUI saved (QSettings), if any; nullopt with @p error set when they cannot be
/// read back (an older or damaged entry), and without error when nothing was saved.
std::optional<Profile> savedProfile(QString *error);
void saveProfile(const Profile &p);

/// @p withHeaders false (exports, logs): header names are kept, values are not written.
QJsonObject profileToJson(const Profile &p, bool withHeaders);

} // namespace FeedScope

#pragma once

#include "alerts.h"
#include "engine.h"
#include "gatewayservice.h"

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
    /// Section "alerts" (issue 17): the rules (also in engine.alertRules, which the engine
    /// uses), the headless alert command. Written only when it differs from the defaults.
    AlertSettings alerts;
    /// Section "gateway" (issue 14): written only when it differs from the defaults.
    GatewaySettings gateway;
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

/// A setting this run uses for itself only, which must not become the user's saved setting: the
/// demo feed spreads its subscriptions over several connections (12 per connection) where the
/// user's setting is the default, and a later run on a real endpoint must not inherit that.
struct RunOnlyValue
{
    QString section; ///< "pool", "dispatcher", "sessionLog" or "ui"
    QString key;     ///< e.g. "maxSubscriptionsPerConnection"
    QJsonValue user; ///< the user's setting (saved, from the profile, or the default)
    QJsonValue run;  ///< what this run uses instead
};

/// app/ tells once at start what the run changed for itself: @p user the settings the run started
/// from, @p run what it uses. Every setting that differs becomes run-only (the endpoint, the
/// subscriptions and the header values are not settings of this kind and are ignored).
void setRunOnlyValues(const Profile &user, const Profile &run);
void clearRunOnlyValues();
QList<RunOnlyValue> runOnlyValues();
/// @p p with each run-only value it still holds replaced by the user's setting (the Settings
/// dialog shows and saves these); @p replaced lists what was replaced.
Profile withoutRunOnlyValues(const Profile &p, QList<RunOnlyValue> *replaced = nullptr);

} // namespace FeedScope

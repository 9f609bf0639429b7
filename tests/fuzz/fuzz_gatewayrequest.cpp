// libFuzzer target: a gateway client's text frame through the request parser
// (net/gateway/clientrequest.h). Invariants: every input gives a request or the venue's error
// text, never a crash; an invalid request carries an error; a subscribe or unsubscribe carries a
// valid subscription whose ack frame is JSON; a post's request bytes lie inside the input, or
// (when the client wrote the key "request" with escapes the byte scanner does not compare) are
// the re-serialised object, whose "type" is info or action.
#include "clientrequest.h"

#include <QJsonDocument>

#include <cstdlib>

namespace Gw = FeedScope::Gw;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView in(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const Gw::ClientRequest r = Gw::parseClientRequest(in);
    switch (r.kind) {
    case Gw::RequestKind::Invalid:
        if (r.error.isEmpty())
            std::abort();
        if (QJsonDocument::fromJson(Gw::errorFrame(r.error)).isNull())
            std::abort();
        break;
    case Gw::RequestKind::Subscribe:
        if (!r.subscription.isValid() || QJsonDocument::fromJson(Gw::ackFrame(r.subscription)).isNull())
            std::abort();
        break;
    case Gw::RequestKind::Unsubscribe:
        if (QJsonDocument::fromJson(Gw::ackFrame(r.subscription, true)).isNull())
            std::abort();
        break;
    case Gw::RequestKind::Post:
        if (!in.contains(r.postRequest)) {
            const QJsonDocument d = QJsonDocument::fromJson(r.postRequest);
            const QString type = d.object().value(QStringLiteral("type")).toString();
            if (!d.isObject() || (type != QStringLiteral("info") && type != QStringLiteral("action")))
                std::abort();
        }
        break;
    case Gw::RequestKind::Ping:
        break;
    }
    return 0;
}

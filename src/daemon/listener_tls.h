// Which listeners speak TLS and with which certificates (docs/compatibility.md §8.4, docs/
// security.md): the [mtls] keys, the PROD rule for the API listener, and our metrics-tls /
// debug tls extensions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"
#include "tls/server_tls.h"

namespace l3afd::daemon {

/// Whether a listen address ("host:port") only reaches this host, for the PROD rule. Ours
/// (D49): "localhost" and loopback IP literals are loopback; an empty host (all interfaces) is
/// not; any other name is resolved and is loopback only when every address it resolves to is
/// (a name that does not resolve is not loopback).
bool is_loopback_listen_address(std::string_view address);

/// Whether the API listener uses mTLS: `[mtls] enabled`, or forced on by the PROD rule
/// (`environment: PROD` and a restapi-addr that is not loopback). `why` names the reason.
bool api_mtls_required(const config::DaemonConfig& cfg, std::string& why);

/// The certificates of one listener from the [mtls] keys: files under cert-dir (made absolute
/// against the working directory, so renewals are found whatever happens later), mTLS with the
/// CA and SAN rules or server-side TLS only. Errors name the [mtls] key and the file.
Result<std::shared_ptr<tls::ServerTls>> listener_tls(const config::DaemonConfig& cfg,
                                                     std::string name, bool mtls);

}  // namespace l3afd::daemon

#include "api/restart_routes.h"

#include "api/status.h"
#include "model/l3af_json.h"

namespace l3afd::api {

void add_restart_route(http::Router& r, RestartService& service, std::string host_name,
                       const std::atomic<bool>& ready) {
  r.add("PUT", "/l3af/configs/{version}/restart",
        [&service, host = std::move(host_name), &ready](const http::Request& req) {
          if (!ready.load()) {
            return error_response(
                Error{.code = Errc::NotReady, .message = "the daemon is restoring its state"});
          }
          auto body = model::decode_restart(req.body);
          if (!body) return error_response(body.error());
          if (body->hostname != host) {
            Error e{.code = Errc::WrongHost,
                    .message = "this api request is not for provided host: hostname \"" +
                               body->hostname + "\" is not \"" + host + "\""};
            e.items.push_back(ErrorItem{.field = "/hostname", .message = e.message});
            return error_response(e);
          }
          auto st = service.restart(*body, req.id);
          if (!st) {
            http::Response out = error_response(st.error());
            // A second restart is a conflict with the one running (§7.2); writes get 503.
            if (st.error().code == Errc::RestartInProgress) {
              out.status = 409;
              std::erase_if(out.headers, [](const auto& h) { return h.first == "Retry-After"; });
            }
            return out;
          }
          http::Response out;
          out.status = 200;
          return out;
        });
}

}  // namespace l3afd::api

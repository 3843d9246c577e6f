// Interface events for the health check's interface drift (docs/operations.md "Interface
// drift"): a NETLINK_ROUTE socket subscribed to RTNLGRP_LINK, read by a thread of its own. On
// RTM_NEWLINK or RTM_DELLINK of an interface `wanted(name)` accepts, `notify()` is called once
// per batch of messages (the daemon posts an immediate engine::CheckHealth there). The engine's
// poll stays the fallback: a lost message (ENOBUFS) also calls notify(). Nothing else is done
// on the watcher's thread.
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "core/result.h"
#include "core/unique_fd.h"

namespace l3afd::kernel::libbpf {

class LinkWatch {
 public:
  using Wanted = std::function<bool(const std::string& iface)>;
  using Notify = std::function<void()>;

  /// Opens and binds the socket and starts the thread. Kernel error if the socket cannot be
  /// opened (the daemon then relies on the poll alone).
  static Result<std::unique_ptr<LinkWatch>> start(Wanted wanted, Notify notify);
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  /// Stops and joins the thread. Idempotent.
  void stop();

 private:
  LinkWatch(UniqueFd sock, UniqueFd wake, Wanted wanted, Notify notify);
  void run();

  UniqueFd sock_;
  UniqueFd wake_;  ///< eventfd: written by stop()
  Wanted wanted_;
  Notify notify_;
  std::thread thread_;
};

}  // namespace l3afd::kernel::libbpf

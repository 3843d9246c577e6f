// Rules of the companion extension (model/companion.h). Account look-ups go through the
// reentrant NSS functions, with buffers grown on ERANGE; "not found" is a payload problem, any
// other failure of the look-up too (named, with the reason), since the companion cannot be
// started as an account the system cannot resolve.
#include "model/companion.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "json/convert.h"

namespace l3afd::model {

namespace {

/// Buffers of the *_r look-ups grow (ERANGE) up to this size.
constexpr std::size_t kMaxLookupBuffer = 1 << 20;
/// uid_t/gid_t -1 means "unchanged" to the set*id calls: never a valid id.
constexpr std::uint64_t kMaxId = 4294967294ULL;

/// At most the first 40 bytes of `s`, quoted, non-printable bytes as '?' (error messages never
/// echo a huge or binary value).
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (char c : s.substr(0, kMax)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  out += s.size() > kMax ? "\"..." : "\"";
  return out;
}

/// A decimal id: 1-10 digits, at most kMaxId. nullopt for anything else.
std::optional<std::uint32_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 10 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v > kMaxId) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// 1-32 of [A-Za-z0-9._-], not starting with '-', optionally ending in '$' (machine accounts).
bool valid_account_name(std::string_view s) {
  if (!s.empty() && s.back() == '$') s.remove_suffix(1);
  if (s.empty() || s.size() > kMaxAccountName || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

/// [A-Za-z_][A-Za-z0-9_]*
bool valid_variable_name(std::string_view s) {
  const auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  return !s.empty() && letter(s.front()) && std::all_of(s.begin(), s.end(), [&](char c) {
    return letter(c) || (c >= '0' && c <= '9');
  });
}

/// The *_r result codes that mean "no such entry" (getpwnam_r(3) "ERRORS" and NOTES).
bool not_found(int r) {
  return r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM;
}

struct UserEntry {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

/// Runs a reentrant look-up `call(buf, size, found)` with a growing buffer. The result: the
/// entry, nullopt when there is none, or the errno of a failed look-up.
template <class Entry, class Call, class Take>
Result<std::optional<Entry>> look_up(const char* what, Call call, Take take) {
  std::vector<char> buf(4096);
  for (;;) {
    bool found = false;
    const int r = call(buf.data(), buf.size(), found);
    if (r == ERANGE && buf.size() < kMaxLookupBuffer) {
      buf.resize(buf.size() * 4);
      continue;
    }
    if (found) return std::optional<Entry>(take());
    if (not_found(r)) return std::optional<Entry>();
    return fail(Errc::Io, what, r);
  }
}

Result<std::optional<UserEntry>> user_by_name(const std::string& name) {
  passwd pw{};
  return look_up<UserEntry>(
      "getpwnam_r",
      [&](char* b, std::size_t n, bool& found) {
        passwd* out = nullptr;
        const int r = ::getpwnam_r(name.c_str(), &pw, b, n, &out);
        found = r == 0 && out != nullptr;
        return r;
      },
      [&] {
        return UserEntry{pw.pw_uid, pw.pw_gid, pw.pw_name};
      });
}

Result<std::optional<UserEntry>> user_by_id(uid_t uid) {
  passwd pw{};
  return look_up<UserEntry>(
      "getpwuid_r",
      [&](char* b, std::size_t n, bool& found) {
        passwd* out = nullptr;
        const int r = ::getpwuid_r(uid, &pw, b, n, &out);
        found = r == 0 && out != nullptr;
        return r;
      },
      [&] {
        return UserEntry{pw.pw_uid, pw.pw_gid, pw.pw_name};
      });
}

Result<std::optional<gid_t>> group_by_name(const std::string& name) {
  group gr{};
  return look_up<gid_t>(
      "getgrnam_r",
      [&](char* b, std::size_t n, bool& found) {
        group* out = nullptr;
        const int r = ::getgrnam_r(name.c_str(), &gr, b, n, &out);
        found = r == 0 && out != nullptr;
        return r;
      },
      [&] { return gr.gr_gid; });
}

/// The groups initgroups(user, gid) would set: those listing the user as a member, and gid.
Result<std::vector<gid_t>> group_list(const std::string& user, gid_t gid) {
  int n = 32;
  for (;;) {
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    int got = n;
    if (::getgrouplist(user.c_str(), gid, groups.data(), &got) >= 0) {
      groups.resize(static_cast<std::size_t>(got));
      return groups;
    }
    if (got <= n) return fail(Errc::Io, "getgrouplist " + user);
    n = got;
  }
}

/// A capabilities(7) name ("CAP_" in any case, then a name libcap knows), nullopt otherwise.
std::optional<int> capability_number(const std::string& name) {
  if (name.size() <= 4) return std::nullopt;
  std::string prefix = name.substr(0, 4);
  std::transform(prefix.begin(), prefix.end(), prefix.begin(), [](char c) {
    return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  });
  if (prefix != "CAP_") return std::nullopt;
  cap_value_t v = -1;
  if (::cap_from_name(name.c_str(), &v) != 0 || v < 0) return std::nullopt;
  return static_cast<int>(v);
}

class Resolver {
 public:
  explicit Resolver(const CompanionSettings& s) : s_(s) {}

  Result<CompanionIdentity> run() {
    user();
    group();
    supplementary_groups();
    environment();
    capabilities();
    if (items_.empty()) return id_;
    Error e{.code = Errc::InvalidPayload,
            .message = items_.front().field + ": " + items_.front().message,
            .items = items_};
    if (items_.size() > 1) e.message += " (and " + std::to_string(items_.size() - 1) + " more)";
    return fail(std::move(e));
  }

 private:
  void bad(std::string field, std::string message) {
    items_.push_back(ErrorItem{.field = std::move(field), .message = std::move(message)});
  }

  void user() {
    if (!s_.user) return;
    const std::string& u = *s_.user;
    if (auto uid = parse_id(u)) {
      id_.change_user = true;
      id_.uid = *uid;
      auto entry = user_by_id(*uid);
      if (!entry) return bad("user", "looking up uid " + u + ": " + entry.error().to_string());
      entry_ = *entry;
      return;
    }
    if (all_digits(u)) return bad("user", "user must be a uid from 0 to 4294967294 or a name");
    if (!valid_account_name(u)) {
      return bad("user",
                 "user must be a user name (1-32 characters of [A-Za-z0-9._-], not starting with "
                 "'-') or a decimal uid, not " +
                     quoted(u));
    }
    auto entry = user_by_name(u);
    if (!entry)
      return bad("user", "looking up user " + quoted(u) + ": " + entry.error().to_string());
    if (!*entry) return bad("user", "no user " + quoted(u) + " on this host");
    entry_ = *entry;
    id_.change_user = true;
    id_.uid = (*entry)->uid;
  }

  void group() {
    if (!s_.group) {
      if (!id_.change_user) return;
      if (entry_) {
        id_.gid = entry_->gid;
      } else {
        bad("group", "group is required: uid " + std::to_string(id_.uid) +
                         " has no passwd entry to take a primary group from");
      }
      return;
    }
    const std::string& g = *s_.group;
    if (!s_.user) {
      return bad("group",
                 "group needs user: without user the companion keeps the daemon's user and groups");
    }
    if (auto gid = parse_id(g)) {
      id_.gid = *gid;
      return;
    }
    if (all_digits(g)) return bad("group", "group must be a gid from 0 to 4294967294 or a name");
    if (!valid_account_name(g)) {
      return bad("group",
                 "group must be a group name (1-32 characters of [A-Za-z0-9._-], not starting "
                 "with '-') or a decimal gid, not " +
                     quoted(g));
    }
    auto gid = group_by_name(g);
    if (!gid) return bad("group", "looking up group " + quoted(g) + ": " + gid.error().to_string());
    if (!*gid) return bad("group", "no group " + quoted(g) + " on this host");
    id_.gid = **gid;
  }

  void supplementary_groups() {
    if (!id_.change_user || !items_.empty()) return;
    if (!entry_) {  // a uid without passwd entry is a member of no group but its own
      id_.groups = {id_.gid};
      return;
    }
    auto groups = group_list(entry_->name, id_.gid);
    if (!groups)
      return bad("user",
                 "groups of user " + quoted(entry_->name) + ": " + groups.error().to_string());
    id_.groups = std::move(*groups);
  }

  void environment() {
    if (!s_.environment) return;
    const auto& env = *s_.environment;
    if (env.size() > kMaxCompanionVariables) {
      bad("environment", "environment must hold at most " + std::to_string(kMaxCompanionVariables) +
                             " variables, not " + std::to_string(env.size()));
    }
    std::size_t bytes = 0;
    for (const auto& [name, value] : env) {
      const std::string at = "environment/" + json::pointer_token(name);
      if (!valid_variable_name(name) || name.size() > kMaxCompanionVariableName) {
        bad(at, "environment variable names must be 1-" +
                    std::to_string(kMaxCompanionVariableName) +
                    " characters of [A-Za-z0-9_], not starting with a digit, not " + quoted(name));
        continue;
      }
      if (value.find('\0') != std::string::npos) {
        bad(at, "environment values must not contain NUL");
        continue;
      }
      bytes += name.size() + 1 + value.size();
      id_.environment.push_back(name + "=" + value);
    }
    if (bytes > kMaxCompanionEnvironmentBytes) {
      bad("environment", "environment must be at most " +
                             std::to_string(kMaxCompanionEnvironmentBytes) +
                             " bytes of NAME=value in all, not " + std::to_string(bytes));
    }
  }

  void capabilities() {
    if (!s_.capabilities) return;
    if (!s_.user) {
      bad("capabilities",
          "capabilities need user: without user the companion runs as the daemon's user, with "
          "its capabilities");
    } else if (id_.change_user && id_.uid == 0) {
      bad("capabilities",
          "capabilities apply to a user other than root: a companion running as uid 0 keeps "
          "every capability");
    }
    const auto kernel_bits = static_cast<int>(::cap_max_bits());
    const auto& caps = *s_.capabilities;
    for (std::size_t i = 0; i < caps.size(); ++i) {
      const std::string at = "capabilities/" + std::to_string(i);
      const auto n = capability_number(caps[i]);
      if (!n) {
        bad(at, "unknown capability " + quoted(caps[i]) +
                    " (names as in capabilities(7), e.g. CAP_BPF)");
      } else if (*n >= kernel_bits || *n >= 64) {
        bad(at, quoted(caps[i]) + " is not a capability of this kernel");
      } else {
        id_.capabilities |= std::uint64_t{1} << *n;
      }
    }
  }

  const CompanionSettings& s_;
  CompanionIdentity id_;
  std::optional<UserEntry> entry_;  ///< passwd entry of `user`, when it has one
  std::vector<ErrorItem> items_;
};

}  // namespace

Result<CompanionIdentity> resolve_companion(const CompanionSettings& s) {
  return Resolver(s).run();
}

}  // namespace l3afd::model

#include "supervisor/companion_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

#include "core/unique_fd.h"

namespace l3afd::supervisor {

namespace {

constexpr std::string_view kHeader = "# l3afd companions v1";

std::string escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '%' || c < 0x20 || c == 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

bool unescape(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return false;
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return false;
    out += static_cast<char>(v);
    i += 2;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

template <class T>
bool number(std::string_view s, T& v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::string encode_records(const std::vector<CompanionRecord>& records) {
  std::string out(kHeader);
  out += '\n';
  for (const auto& r : records) {
    out += std::to_string(r.pid) + '\t' + std::to_string(r.start_time) + '\t' +
           (r.stopping ? "stopping" : "running") + '\t' + escape(r.id) + '\t' +
           escape(r.executable.string()) + '\n';
  }
  return out;
}

Result<std::vector<CompanionRecord>> decode_records(std::string_view text) {
  auto lines = split(text, '\n');
  if (lines.empty() || lines.front() != kHeader) {
    return fail(Errc::InvalidPayload, "not a companion record");
  }
  std::vector<CompanionRecord> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const auto f = split(lines[i], '\t');
    CompanionRecord r;
    std::string exe;
    if (f.size() != 5 || !number(f[0], r.pid) || r.pid <= 0 || !number(f[1], r.start_time) ||
        (f[2] != "running" && f[2] != "stopping") || !unescape(f[3], r.id) ||
        !unescape(f[4], exe)) {
      return fail(Errc::InvalidPayload, "companion record line " + std::to_string(i + 1));
    }
    r.stopping = f[2] == "stopping";
    r.executable = exe;
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<CompanionRecord>> load_records(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::vector<CompanionRecord>{};
    return fail(Errc::Io, "read " + file.string(), errno);
  }
  std::stringstream s;
  s << in.rdbuf();
  auto r = decode_records(s.str());
  if (!r) return fail(Errc::InvalidPayload, file.string() + ": " + r.error().message);
  return r;
}

Status save_records(const std::filesystem::path& file,
                    const std::vector<CompanionRecord>& records) {
  const std::string text = encode_records(records);
  const auto tmp = file.string() + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(Errc::Io, "open " + tmp, errno);
  if (::fchmod(fd.get(), 0600) != 0) return fail(Errc::Io, "chmod " + tmp, errno);
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Errc::Io, "write " + tmp, errno);
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return fail(Errc::Io, "fsync " + tmp, errno);
  fd.reset();
  if (::rename(tmp.c_str(), file.c_str()) != 0) return fail(Errc::Io, "rename " + tmp, errno);
  const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
  return ok();
}

}  // namespace l3afd::supervisor

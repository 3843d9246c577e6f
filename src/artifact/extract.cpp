// Archive extraction with libarchive, using directory file descriptors so that every created
// object is reached without following symbolic links.
#include "artifact/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/unique_fd.h"

namespace l3afd::artifact::detail {
namespace {

constexpr mode_t kPermBits = 0777;
constexpr mode_t kImplicitDirMode = 0755;

Error entry_error(std::string_view name, const std::string& why, Errc code = Errc::Unavailable,
                  int sys_errno = 0) {
  return Error{code, sys_errno, "archive entry '" + std::string(name) + "': " + why, {}, {}, {}};
}

std::vector<std::string> split_path(const std::string& rel) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= rel.size()) {
    std::size_t next = rel.find('/', pos);
    if (next == std::string::npos) next = rel.size();
    out.push_back(rel.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

// libarchive's error text, which is NULL when a reader fails without setting one (a malformed
// zip entry does; found by tests/fuzz/fuzz_archive.cpp, the NULL crashed the daemon).
std::string error_text(archive* a) {
  const char* text = archive_error_string(a);
  if (text != nullptr) return text;
  return "unknown libarchive error (errno " + std::to_string(archive_errno(a)) + ")";
}

const char* rejected_type(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) return "hard link";
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
    case AE_IFDIR: return nullptr;
    case AE_IFLNK: return "symbolic link";
    case AE_IFCHR: return "character device";
    case AE_IFBLK: return "block device";
    case AE_IFIFO: return "fifo";
    case AE_IFSOCK: return "socket";
    default: return "unsupported entry type";
  }
}

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};

class Extractor {
 public:
  Extractor(int root_fd, const ExtractLimits& limits) : root_fd_(root_fd), limits_(limits) {}

  /// Opens (creating when missing) the parent directory of `parts` relative to the root.
  Result<UniqueFd> open_parent(std::string_view name, const std::vector<std::string>& parts) {
    UniqueFd cur(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0));
    if (!cur) return fail(Errc::Io, "dup staging directory", errno);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (::mkdirat(cur.get(), parts[i].c_str(), kImplicitDirMode) != 0 && errno != EEXIST) {
        return fail(entry_error(name, "create parent " + parts[i], Errc::Io, errno));
      }
      UniqueFd next(
          ::openat(cur.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) {
        const int err = errno;
        if (err == ENOTDIR || err == ELOOP) {
          return fail(entry_error(name, "parent " + parts[i] + " is not a directory"));
        }
        return fail(entry_error(name, "open parent " + parts[i], Errc::Io, err));
      }
      cur = std::move(next);
    }
    return cur;
  }

  Status make_dir(std::string_view name, const std::string& rel, mode_t mode) {
    const auto parts = split_path(rel);
    auto parent = open_parent(name, parts);
    if (!parent) return fail(std::move(parent.error()));
    if (::mkdirat(parent->get(), parts.back().c_str(), 0700) != 0) {
      const int err = errno;
      struct stat st {};
      if (err != EEXIST ||
          ::fstatat(parent->get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISDIR(st.st_mode)) {
        return fail(entry_error(name, "create directory",
                                err == EEXIST ? Errc::Unavailable : Errc::Io, err));
      }
    }
    dir_modes_.emplace_back(rel, (mode & kPermBits) | S_IRWXU);
    return ok();
  }

  Status write_file(archive* a, std::string_view name, const std::string& rel, mode_t mode) {
    const auto parts = split_path(rel);
    auto parent = open_parent(name, parts);
    if (!parent) return fail(std::move(parent.error()));
    UniqueFd fd(::openat(parent->get(), parts.back().c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail(entry_error(name, "create file", Errc::Io, errno));
    char buf[64 * 1024];
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n < 0) return fail(entry_error(name, "read data: " + error_text(a)));
      if (n == 0) break;
      bytes_ += static_cast<uint64_t>(n);
      if (bytes_ > limits_.max_bytes) {
        return fail(entry_error(name, "extracted size exceeds the limit of " +
                                          std::to_string(limits_.max_bytes) + " bytes"));
      }
      std::string_view chunk(buf, static_cast<std::size_t>(n));
      while (!chunk.empty()) {
        const ssize_t w = ::write(fd.get(), chunk.data(), chunk.size());
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return fail(entry_error(name, "write", Errc::Io, errno));
        chunk.remove_prefix(static_cast<std::size_t>(w));
      }
    }
    if (::fchmod(fd.get(), mode & kPermBits) != 0) {
      return fail(entry_error(name, "chmod", Errc::Io, errno));
    }
    if (::close(fd.release()) != 0) return fail(entry_error(name, "close", Errc::Io, errno));
    return ok();
  }

  /// Directory modes are applied last so that a read-only directory can still be filled.
  Status apply_dir_modes() {
    for (const auto& [rel, mode] : dir_modes_) {
      if (::fchmodat(root_fd_, rel.c_str(), mode, 0) != 0) {
        return fail(entry_error(rel, "chmod directory", Errc::Io, errno));
      }
    }
    return ok();
  }

  Status check_entry_count() {
    if (++entries_ > limits_.max_entries) {
      return fail(Errc::Unavailable,
                  "archive has more than " + std::to_string(limits_.max_entries) + " entries");
    }
    return ok();
  }

 private:
  int root_fd_;
  ExtractLimits limits_;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
  std::vector<std::pair<std::string, mode_t>> dir_modes_;
};

}  // namespace

Result<std::optional<std::string>> normalize_entry_name(std::string_view name) {
  if (name.empty()) return fail(Errc::Unavailable, "archive entry with an empty name");
  if (name.front() == '/') return fail(entry_error(name, "absolute path"));
  if (name.find("..") != std::string_view::npos) return fail(entry_error(name, "contains '..'"));
  std::string out;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t next = name.find('/', pos);
    if (next == std::string_view::npos) next = name.size();
    std::string_view comp = name.substr(pos, next - pos);
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out += '/';
      out += comp;
    }
    pos = next + 1;
  }
  if (out.empty()) return std::optional<std::string>{};
  return std::optional<std::string>(std::move(out));
}

Status extract_archive(const std::filesystem::path& archive_file, ArchiveFormat format,
                       const std::filesystem::path& dest, const ExtractLimits& limits) {
  UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return fail(Errc::Io, "open " + dest.string(), errno);

  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (!a) return fail(Errc::Internal, "archive_read_new failed");
  int rc = ARCHIVE_OK;
  if (format == ArchiveFormat::TarGz) {
    rc = archive_read_support_filter_gzip(a.get());
    if (rc == ARCHIVE_OK) rc = archive_read_support_format_tar(a.get());
  } else {
    rc = archive_read_support_format_zip(a.get());
  }
  if (rc != ARCHIVE_OK) {
    return fail(Errc::Internal, "libarchive setup: " + error_text(a.get()));
  }
  if (archive_read_open_filename(a.get(), archive_file.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return fail(Errc::Unavailable, "cannot read archive: " + error_text(a.get()));
  }

  Extractor ex(root.get(), limits);
  bool first = true;
  for (;;) {
    archive_entry* entry = nullptr;
    rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_WARN) {
      spdlog::warn("artifact: archive warning path={}: {}", archive_file.string(),
                   error_text(a.get()));
    } else if (rc != ARCHIVE_OK) {
      return fail(Errc::Unavailable, "cannot read archive: " + error_text(a.get()));
    }
    if (first && format == ArchiveFormat::TarGz &&
        archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_GZIP) {
      return fail(Errc::Unavailable, "archive is not gzip-compressed");
    }
    first = false;
    if (auto st = ex.check_entry_count(); !st) return st;

    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) return fail(Errc::Unavailable, "archive entry without a readable name");
    const std::string_view name(raw);
    if (const char* bad = rejected_type(entry); bad != nullptr) {
      return fail(entry_error(name, std::string(bad) + " not allowed"));
    }
    auto rel = normalize_entry_name(name);
    if (!rel) return fail(std::move(rel.error()));
    const bool is_dir = archive_entry_filetype(entry) == AE_IFDIR;
    if (!rel->has_value()) {
      if (!is_dir) return fail(entry_error(name, "resolves to the extraction directory"));
      continue;  // "./" as written by `tar -C dir .`: nothing to create
    }
    const mode_t mode = archive_entry_perm(entry);
    Status st = is_dir ? ex.make_dir(name, **rel, mode) : ex.write_file(a.get(), name, **rel, mode);
    if (!st) return st;
  }
  if (archive_read_close(a.get()) != ARCHIVE_OK) {
    return fail(Errc::Unavailable, "cannot read archive: " + error_text(a.get()));
  }
  return ex.apply_dir_modes();
}

}  // namespace l3afd::artifact::detail

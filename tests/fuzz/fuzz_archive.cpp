// libFuzzer target: package archives through the real extraction (artifact::detail::
// extract_archive, with its per-entry name, type and size checks) into a private temporary
// directory, which the target empties after every input and removes at exit (or, after a
// crash, at the next start).
//
// Input: the first byte chooses how the rest is used, so that mutations reach the tar headers
// directly and not only through a gzip stream:
//   byte % 3 == 0  the rest is a .tar.gz file, used as is (format TarGz)
//   byte % 3 == 1  the rest is a tar stream; the target gzip-compresses it (format TarGz)
//   byte % 3 == 2  the rest is a .zip file (format Zip)
//
// Properties checked on every input (abort() on violation):
//  * nothing is created next to the extraction directory (no escape), and below it there are
//    only directories and regular files: no link, device, fifo or socket; no file with setuid,
//    setgid or sticky bits; every directory has u+rwx; at most max_bytes of file data;
//  * an error is Unavailable or Io with a message;
//  * on success the archive (read again with libarchive, independently of the extractor) had
//    only regular files and directories with relative names without "..", at most max_entries
//    entries, and the directory holds exactly what those entries describe: the same paths
//    (plus their parents, 0755), file contents and rwx bits of the last entry of each name,
//    directory rwx bits plus u+rwx (extract.h).
#include <archive.h>
#include <archive_entry.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/extract.h"
#include "fuzz_check.h"

namespace l3afd::artifact {
namespace {

namespace fs = std::filesystem;

// Small limits, so that both are reached by inputs of a few KB.
constexpr detail::ExtractLimits kLimits{.max_entries = 64, .max_bytes = 256 * 1024};

struct Scratch {
  fs::path root;     // private directory of this process
  fs::path archive;  // root/archive: the input as a file (extract_archive reads a file)
  fs::path out;      // root/out: the extraction directory
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch().root, ec);
}

// $TMPDIR when set, else /dev/shm (a tmpfs: file creation on a loaded disk made the target
// 15 times slower), else /tmp.
fs::path scratch_base() {
  std::error_code ec;
  if (std::getenv("TMPDIR") == nullptr && fs::is_directory("/dev/shm", ec)) return "/dev/shm";
  return fs::temp_directory_path();
}

constexpr std::string_view kScratchPrefix = "l3afd-fuzz-archive-";

// A crash ends the process without atexit handlers, so a later run removes the scratch
// directories of processes that no longer exist (named by PID; parallel runs keep theirs).
void remove_stale_scratch(const fs::path& base) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kScratchPrefix, 0) != 0) continue;
    const std::string pid = name.substr(kScratchPrefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) {
      fs::remove_all(e.path(), ec);
    }
  }
}

void setup_scratch() {
  const fs::path base = scratch_base();
  remove_stale_scratch(base);
  scratch().root = base / (std::string(kScratchPrefix) + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(scratch().root, ec);
  if (!fs::create_directory(scratch().root, ec)) std::abort();
  scratch().archive = scratch().root / "archive";
  scratch().out = scratch().root / "out";
  std::atexit(remove_scratch);
}

std::optional<std::string> gzip(std::string_view raw) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(raw.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

// ---- the oracle: what the archive says, read with libarchive on the same file ----

struct Entry {
  std::string name;
  bool is_file = false;
  bool is_dir = false;
  bool is_link = false;
  mode_t perm = 0;
  std::string data;
};

struct ArchiveDeleter {
  void operator()(archive* a) const noexcept { archive_read_free(a); }
};

// Reads every entry (name, type, permission bits, file data) the same way extract_archive
// opens the file. nullopt when libarchive reports an error.
std::optional<std::vector<Entry>> read_entries(const fs::path& file, ArchiveFormat format) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (format == ArchiveFormat::TarGz) {
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
  } else {
    archive_read_support_format_zip(a.get());
  }
  if (archive_read_open_filename(a.get(), file.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return std::nullopt;
  }
  std::vector<Entry> entries;
  for (;;) {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return std::nullopt;
    Entry entry;
    const char* name = archive_entry_pathname(e);
    entry.name = name != nullptr ? name : "";
    entry.is_link = archive_entry_hardlink(e) != nullptr;
    entry.is_file = archive_entry_filetype(e) == AE_IFREG;
    entry.is_dir = archive_entry_filetype(e) == AE_IFDIR;
    entry.perm = archive_entry_perm(e) & 0777;
    if (entry.is_file && !entry.is_link) {
      char buf[16 * 1024];
      for (;;) {
        const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        entry.data.append(buf, static_cast<std::size_t>(n));
        if (entry.data.size() > kLimits.max_bytes) break;  // enough to know it is too much
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// Components of `name` without empty and "." ones (independent of normalize_entry_name).
std::vector<std::string> components(std::string_view name) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t next = name.find('/', pos);
    if (next == std::string_view::npos) next = name.size();
    const std::string_view c = name.substr(pos, next - pos);
    if (!c.empty() && c != ".") out.emplace_back(c);
    pos = next + 1;
  }
  return out;
}

struct Node {
  bool dir = false;
  mode_t mode = 0;  // permission bits (07777)
  std::string data;
};
using Tree = std::map<std::string, Node>;

// The tree the entries describe (extract.h): parents created 0755, last entry of a name wins.
Tree expected_tree(const std::vector<Entry>& entries) {
  Tree t;
  for (const Entry& e : entries) {
    const auto parts = components(e.name);
    if (parts.empty()) continue;  // "./": the extraction directory itself
    std::string rel;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!rel.empty()) rel += '/';
      rel += parts[i];
      if (i + 1 < parts.size() && t.find(rel) == t.end()) t[rel] = Node{true, 0755, {}};
    }
    if (e.is_dir) {
      t[rel] = Node{true, static_cast<mode_t>(e.perm | S_IRWXU), {}};
    } else {
      t[rel] = Node{false, e.perm, e.data};
    }
  }
  return t;
}

// ---- what is on disk ----

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Walks `out` without following links and checks the invariants of every outcome.
Tree actual_tree() {
  Tree t;
  std::uint64_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(scratch().out);
       it != fs::recursive_directory_iterator(); ++it) {
    const fs::path& p = it->path();
    struct stat st {};
    FUZZ_CHECK(::lstat(p.c_str(), &st) == 0, p.string());
    const std::string rel = p.lexically_relative(scratch().out).string();
    const mode_t mode = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      FUZZ_CHECK((mode & S_IRWXU) == S_IRWXU, "directory without u+rwx: " + rel);
      t[rel] = Node{true, mode, {}};
    } else {
      FUZZ_CHECK(S_ISREG(st.st_mode), "not a regular file or directory: " + rel);
      FUZZ_CHECK((mode & 07000) == 0, "setuid/setgid/sticky bit: " + rel);
      bytes += static_cast<std::uint64_t>(st.st_size);
      // A file may be stored without read permission; the walk needs to read it.
      ::chmod(p.c_str(), mode | S_IRUSR);
      t[rel] = Node{false, mode, read_file(p)};
    }
  }
  FUZZ_CHECK(bytes <= kLimits.max_bytes, "more file data than max_bytes");
  return t;
}

void check_nothing_escaped() {
  for (const auto& e : fs::directory_iterator(scratch().root)) {
    const auto name = e.path().filename();
    FUZZ_CHECK(name == "archive" || name == "out", "created outside: " + e.path().string());
  }
}

std::string describe(const Tree& t) {
  std::string s;
  for (const auto& [rel, n] : t) {
    s += "\n  " + rel + (n.dir ? "/ " : " ") + std::to_string(n.mode) + " " +
         std::to_string(n.data.size()) + "B";
  }
  return s;
}

void run(ArchiveFormat format, std::string_view file_bytes) {
  {
    std::ofstream f(scratch().archive, std::ios::binary | std::ios::trunc);
    f.write(file_bytes.data(), static_cast<std::streamsize>(file_bytes.size()));
    if (!f) std::abort();
  }
  fs::create_directory(scratch().out);

  const Status st = detail::extract_archive(scratch().archive, format, scratch().out, kLimits);

  check_nothing_escaped();
  const Tree actual = actual_tree();
  if (!st) {
    FUZZ_CHECK(st.error().code == Errc::Unavailable || st.error().code == Errc::Io,
               st.error().to_string());
    FUZZ_CHECK(!st.error().message.empty(), "error without a message");
  } else {
    const auto entries = read_entries(scratch().archive, format);
    FUZZ_CHECK(entries.has_value(), "extracted an archive libarchive cannot read");
    FUZZ_CHECK(entries->size() <= kLimits.max_entries, "more entries than max_entries");
    for (const Entry& e : *entries) {
      FUZZ_CHECK(!e.name.empty() && e.name.front() != '/', "accepted name: " + e.name);
      FUZZ_CHECK(e.name.find("..") == std::string::npos, "accepted name: " + e.name);
      FUZZ_CHECK(!e.is_link && (e.is_file || e.is_dir), "accepted type of " + e.name);
    }
    const Tree expected = expected_tree(*entries);
    if (actual.size() != expected.size()) {
      FUZZ_CHECK(false, "expected:" + describe(expected) + "\nactual:" + describe(actual));
    }
    for (const auto& [rel, n] : expected) {
      const auto a = actual.find(rel);
      FUZZ_CHECK(a != actual.end(), "missing: " + rel);
      FUZZ_CHECK(a->second.dir == n.dir, "type of " + rel);
      FUZZ_CHECK(a->second.mode == n.mode, "mode of " + rel);
      FUZZ_CHECK(a->second.data == n.data, "content of " + rel);
    }
  }
  fs::remove_all(scratch().out);
}

}  // namespace
}  // namespace l3afd::artifact

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // archive warnings would flood the fuzzer's output
  ::umask(022);                           // implicit parent directories are then 0755
  l3afd::artifact::setup_scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using l3afd::artifact::ArchiveFormat;
  if (size == 0) return 0;
  const std::string_view rest = l3afd::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: l3afd::artifact::run(ArchiveFormat::TarGz, rest); break;
    case 1:
      if (const auto gz = l3afd::artifact::gzip(rest)) {
        l3afd::artifact::run(ArchiveFormat::TarGz, *gz);
      }
      break;
    default: l3afd::artifact::run(ArchiveFormat::Zip, rest); break;
  }
  return 0;
}

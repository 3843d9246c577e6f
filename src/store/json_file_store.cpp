#include "store/json_file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "core/unique_fd.h"
#include "model/l3af_json.h"

namespace l3afd::store {

namespace {
Status io_error(const std::string& what, const std::filesystem::path& p, int err) {
  return fail(Errc::Io, what + " " + p.string(), err);
}
}  // namespace

Status write_file_atomically(const std::filesystem::path& file, std::string_view bytes,
                             mode_t file_mode, mode_t dir_mode) {
  const auto dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Errc::Io, "create directory " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), dir_mode);
  }
  std::string tmpl = (dir / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (!fd) return io_error("create temporary file in", dir, errno);
  const std::filesystem::path tmp(tmpl);
  auto cleanup = [&] { ::unlink(tmp.c_str()); };
  if (::fchmod(fd.get(), file_mode) != 0) {
    int e = errno;
    cleanup();
    return io_error("chmod", tmp, e);
  }
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      cleanup();
      return io_error("write", tmp, e);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    int e = errno;
    cleanup();
    return io_error("fsync", tmp, e);
  }
  fd.reset();
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    int e = errno;
    cleanup();
    return io_error("rename to", file, e);
  }
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return io_error("open directory", dir, errno);
  if (::fsync(dfd.get()) != 0) return io_error("fsync directory", dir, errno);
  return ok();
}

Status JsonFileStore::save(const std::vector<model::L3afBpfPrograms>& state) {
  if (file_.empty()) return ok();
  if (auto s = write_file_atomically(file_, model::encode_store(state)); !s) {
    return fail(std::move(s.error()).with_context("save state"));
  }
  return ok();
}

Result<std::vector<model::L3afBpfPrograms>> JsonFileStore::load() {
  if (file_.empty()) return std::vector<model::L3afBpfPrograms>{};
  std::ifstream in(file_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT || !std::filesystem::exists(file_)) return std::vector<model::L3afBpfPrograms>{};
    return fail(Errc::Io, "open " + file_.string(), errno);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = model::decode_programs(ss.str());
  if (!v) return fail(std::move(v.error()).with_context("read state file " + file_.string()));
  return v;
}

}  // namespace l3afd::store

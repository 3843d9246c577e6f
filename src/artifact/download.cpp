// Transfers for the package repository: libcurl for http/https, plain reads for file://.
#include "artifact/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <mutex>
#include <string_view>

#include "artifact/url_parts.h"
#include "core/log.h"
#include "core/unique_fd.h"

namespace l3afd::artifact::detail {
namespace {

/// Receives the body; returns 0 on success or an errno.
using Sink = std::function<int(std::string_view)>;

Error url_error(Errc code, const std::string& url, const std::string& why, int sys_errno = 0) {
  return Error{code, sys_errno, "fetch " + redact_url(url) + ": " + why, {}, {}, {}};
}

std::string cap_message(uint64_t max) {
  return "size limit of " + std::to_string(max) + " bytes exceeded";
}

Result<uint64_t> read_local(const std::string& url, const UrlParts& parts,
                            const DownloadLimits& limits, const Sink& sink) {
  auto path = percent_decode(parts.path);
  if (!path) return fail(url_error(Errc::InvalidPayload, url, path.error().message));
  UniqueFd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int err = errno;
    return fail(url_error(err == ENOENT ? Errc::NotFound : Errc::Io, url, "open " + *path, err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(url_error(Errc::Io, url, "fstat " + *path, errno));
  if (!S_ISREG(st.st_mode)) {
    return fail(url_error(Errc::Io, url, *path + " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
    return fail(url_error(Errc::Unavailable, url, cap_message(limits.max_bytes)));
  }
  uint64_t total = 0;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(url_error(Errc::Io, url, "read " + *path, errno));
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > limits.max_bytes) {
      return fail(url_error(Errc::Unavailable, url, cap_message(limits.max_bytes)));
    }
    if (int err = sink(std::string_view(buf, static_cast<std::size_t>(n))); err != 0) {
      return fail(url_error(Errc::Io, url, "write downloaded data", err));
    }
  }
  return total;
}

struct CurlTransfer {
  CURL* handle = nullptr;
  const Sink* sink = nullptr;
  uint64_t max_bytes = 0;
  uint64_t received = 0;
  long status = 0;
  bool over_cap = false;
  int sink_errno = 0;
};

size_t on_curl_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<CurlTransfer*>(user);
  const size_t len = size * count;
  if (t->status == 0) curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &t->status);
  if (t->status != 200) return 0;  // abort; the status is reported after curl_easy_perform
  if (t->received + len > t->max_bytes) {
    t->over_cap = true;
    return 0;
  }
  t->received += len;
  t->sink_errno = (*t->sink)(std::string_view(data, len));
  return t->sink_errno == 0 ? len : 0;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};

Result<uint64_t> read_http(const std::string& url, const DownloadLimits& limits, const Sink& sink) {
  curl_init_once();
  std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
  if (!h) return fail(url_error(Errc::Internal, url, "curl_easy_init failed"));
  char errbuf[CURL_ERROR_SIZE] = {};
  CurlTransfer t;
  t.handle = h.get();
  t.sink = &sink;
  t.max_bytes = limits.max_bytes;
  const long timeout_ms = static_cast<long>(limits.timeout.count());
  CURL* c = h.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](auto opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, value);
  };
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 1L);
  set(CURLOPT_MAXREDIRS, 10L);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_WRITEFUNCTION, &on_curl_write);
  set(CURLOPT_WRITEDATA, &t);
  set(CURLOPT_USERAGENT, "l3afd/2.1.0");
  if (rc != CURLE_OK) {
    return fail(
        url_error(Errc::Internal, url, std::string("curl setopt: ") + curl_easy_strerror(rc)));
  }
  rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (t.over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
    return fail(url_error(Errc::Unavailable, url, cap_message(limits.max_bytes)));
  }
  if (t.sink_errno != 0) {
    return fail(url_error(Errc::Io, url, "write downloaded data", t.sink_errno));
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return fail(url_error(Errc::Timeout, url,
                          "timed out after " + std::to_string(timeout_ms) +
                              " ms: " + (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc))));
  }
  if (status != 0 && status != 200) {
    return fail(url_error(status == 404 ? Errc::NotFound : Errc::Unavailable, url,
                          "http status " + std::to_string(status)));
  }
  if (rc != CURLE_OK) {
    return fail(url_error(Errc::Unavailable, url,
                          std::string(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc))));
  }
  if (status != 200) {
    return fail(url_error(Errc::Unavailable, url, "no http status received"));
  }
  return t.received;
}

Result<uint64_t> transfer(const std::string& url, const DownloadLimits& limits, const Sink& sink) {
  auto parts = split_url(url);
  if (!parts) return fail(url_error(Errc::InvalidPayload, url, parts.error().message));
  if (parts->scheme == "file") return read_local(url, *parts, limits, sink);
  if (parts->scheme == "http" || parts->scheme == "https") return read_http(url, limits, sink);
  return fail(url_error(Errc::InvalidPayload, url, "unknown url scheme '" + parts->scheme + "'"));
}

}  // namespace

Result<uint64_t> download_to_file(const std::string& url, const std::filesystem::path& dest,
                                  const DownloadLimits& limits) {
  UniqueFd fd(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(Errc::Io, "create " + dest.string(), errno);
  const int out = fd.get();
  Sink sink = [out](std::string_view chunk) {
    while (!chunk.empty()) {
      const ssize_t n = ::write(out, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      chunk.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
  };
  const auto start = std::chrono::steady_clock::now();
  auto bytes = transfer(url, limits, sink);
  if (!bytes) return bytes;
  if (::close(fd.release()) != 0) return fail(Errc::Io, "close " + dest.string(), errno);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  spdlog::info("artifact: downloaded url={} bytes={} duration_ms={}", redact_url(url), *bytes,
               ms.count());
  return bytes;
}

Result<std::optional<std::string>> download_optional(const std::string& url,
                                                     const DownloadLimits& limits) {
  std::string body;
  Sink sink = [&body](std::string_view chunk) {
    body.append(chunk);
    return 0;
  };
  auto bytes = transfer(url, limits, sink);
  if (!bytes) {
    if (bytes.error().code == Errc::NotFound) return std::optional<std::string>{};
    return fail(std::move(bytes.error()));
  }
  return std::optional<std::string>(std::move(body));
}

}  // namespace l3afd::artifact::detail

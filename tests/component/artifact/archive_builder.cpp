#include "component/artifact/archive_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>

namespace l3afd::artifact::testing {
namespace {

struct WriterDeleter {
  void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const noexcept { archive_entry_free(e); }
};

mode_t filetype_of(TestEntry::Type t) {
  switch (t) {
    case TestEntry::Type::File: return AE_IFREG;
    case TestEntry::Type::Dir: return AE_IFDIR;
    case TestEntry::Type::Symlink: return AE_IFLNK;
    case TestEntry::Type::Hardlink: return AE_IFREG;
    case TestEntry::Type::CharDevice: return AE_IFCHR;
    case TestEntry::Type::BlockDevice: return AE_IFBLK;
    case TestEntry::Type::Fifo: return AE_IFIFO;
  }
  return AE_IFREG;
}

}  // namespace

std::string write_archive(const std::filesystem::path& path, TestFormat format,
                          const std::vector<TestEntry>& entries) {
  std::unique_ptr<archive, WriterDeleter> a(archive_write_new());
  int rc = ARCHIVE_OK;
  switch (format) {
    case TestFormat::TarGz:
      rc = archive_write_add_filter_gzip(a.get());
      if (rc == ARCHIVE_OK) rc = archive_write_set_format_pax_restricted(a.get());
      break;
    case TestFormat::PlainTar: rc = archive_write_set_format_pax_restricted(a.get()); break;
    case TestFormat::Zip: rc = archive_write_set_format_zip(a.get()); break;
  }
  if (rc != ARCHIVE_OK) return archive_error_string(a.get());
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK) {
    return archive_error_string(a.get());
  }
  for (const auto& e : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_filetype(entry.get(), filetype_of(e.type));
    archive_entry_set_perm(entry.get(), e.perm);
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    if (e.type == TestEntry::Type::File) {
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.data.size()));
    } else {
      archive_entry_set_size(entry.get(), 0);
    }
    if (e.type == TestEntry::Type::Symlink) archive_entry_set_symlink(entry.get(), e.link.c_str());
    if (e.type == TestEntry::Type::Hardlink)
      archive_entry_set_hardlink(entry.get(), e.link.c_str());
    if (e.type == TestEntry::Type::CharDevice || e.type == TestEntry::Type::BlockDevice) {
      archive_entry_set_rdev(entry.get(), makedev(1, 3));
    }
    if (archive_write_header(a.get(), entry.get()) < ARCHIVE_WARN) {
      return std::string("header ") + e.name + ": " + archive_error_string(a.get());
    }
    if (!e.data.empty() && archive_write_data(a.get(), e.data.data(), e.data.size()) !=
                               static_cast<la_ssize_t>(e.data.size())) {
      return std::string("data ") + e.name + ": " + archive_error_string(a.get());
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_error_string(a.get());
  return {};
}

}  // namespace l3afd::artifact::testing

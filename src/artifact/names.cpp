// Naming rules for packages: path components, the artifact stem and the archive format.
#include <string>

#include "artifact/artifact.h"

namespace l3afd::artifact {

Status validate_component(std::string_view what, std::string_view value) {
  const std::string w(what);
  if (value.empty()) return fail(Errc::InvalidPayload, w + " is empty");
  if (value == ".") return fail(Errc::InvalidPayload, w + " must not be '.'");
  if (value.find('/') != std::string_view::npos) {
    return fail(Errc::InvalidPayload, w + " '" + std::string(value) + "' contains '/'");
  }
  if (value.find('\0') != std::string_view::npos) {
    return fail(Errc::InvalidPayload, w + " contains a nul byte");
  }
  if (value.find("..") != std::string_view::npos) {
    return fail(Errc::InvalidPayload, w + " '" + std::string(value) + "' contains '..'");
  }
  return ok();
}

Result<std::string> artifact_stem(std::string_view artifact) {
  if (auto st = validate_component("artifact", artifact); !st) return fail(std::move(st.error()));
  const std::string_view stem = artifact.substr(0, artifact.find('.'));
  if (stem.empty()) {
    return fail(Errc::InvalidPayload,
                "artifact '" + std::string(artifact) + "' has an empty name before the first '.'");
  }
  return std::string(stem);
}

Result<ArchiveFormat> artifact_format(std::string_view artifact) {
  auto ends_with = [&](std::string_view suffix) {
    return artifact.size() > suffix.size() && artifact.ends_with(suffix);
  };
  if (ends_with(".tar.gz")) return ArchiveFormat::TarGz;
  if (ends_with(".zip")) return ArchiveFormat::Zip;
  return fail(Errc::InvalidPayload,
              "unknown artifact format '" + std::string(artifact) + "' (want .tar.gz or .zip)");
}

}  // namespace l3afd::artifact

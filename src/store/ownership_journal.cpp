#include "store/ownership_journal.h"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "json/convert.h"
#include "json/encode.h"
#include "json/parse.h"
#include "store/json_file_store.h"

namespace l3afd::store {

namespace {

constexpr double kSchema = 1;

Error bad(const std::filesystem::path& file, const std::string& why) {
  return Error{.code = Errc::InvalidPayload,
               .message = "ownership journal " + file.string() + " is not usable: " + why};
}

const std::string* string_member(const json::Object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return nullptr;
  return std::get_if<std::string>(&it->second.v);
}

}  // namespace

std::filesystem::path FileOwnershipJournal::next_to(const std::filesystem::path& store_file) {
  if (store_file.empty()) return {};
  return store_file.parent_path() / (store_file.filename().string() + ".owned.json");
}

Status FileOwnershipJournal::record(const std::vector<engine::OwnedInstance>& owned) {
  if (file_.empty()) return ok();
  json::Array list;
  for (const auto& o : owned) {
    list.emplace_back(json::Object{{"iface", json::Value(o.iface)},
                                   {"map_dir", json::Value(o.paths.map_dir.string())},
                                   {"prog_pin", json::Value(o.paths.prog_pin.string())},
                                   {"link_pin", json::Value(o.paths.link_pin.string())}});
  }
  json::Value doc(
      json::Object{{"schema", json::Value(kSchema)}, {"instances", json::Value(std::move(list))}});
  // write_file_atomically's error already names the file and the failing call.
  return write_file_atomically(file_, json::encode_indent(doc, " ") + "\n", 0600);
}

Result<std::optional<std::vector<engine::OwnedInstance>>> FileOwnershipJournal::load() {
  using Out = std::optional<std::vector<engine::OwnedInstance>>;
  if (file_.empty()) return Out{};
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return Out{};
  std::ifstream in(file_, std::ios::binary);
  if (!in) return fail(Errc::Io, "read ownership journal " + file_.string(), errno);
  std::stringstream buf;
  buf << in.rdbuf();
  auto node = json::parse(buf.str());
  if (!node) return fail(bad(file_, json::to_error(node.error()).message));
  auto value = json::to_value(*node);
  if (!value) return fail(bad(file_, value.error().message));
  const auto* doc = std::get_if<json::Object>(&value->v);
  if (doc == nullptr) return fail(bad(file_, "not a JSON object"));
  auto schema = doc->find("schema");
  const double* version = schema == doc->end() ? nullptr : std::get_if<double>(&schema->second.v);
  if (version == nullptr) return fail(bad(file_, "no schema number"));
  if (*version != kSchema) {
    return fail(bad(file_, "schema " + json::format_double(*version) +
                               " is not one this l3afd understands (1)"));
  }
  auto list_it = doc->find("instances");
  const auto* list = list_it == doc->end() ? nullptr : std::get_if<json::Array>(&list_it->second.v);
  if (list == nullptr) return fail(bad(file_, "no instances array"));
  std::vector<engine::OwnedInstance> out;
  for (const auto& item : *list) {
    const auto* o = std::get_if<json::Object>(&item.v);
    if (o == nullptr) return fail(bad(file_, "an instance is not an object"));
    const auto* iface = string_member(*o, "iface");
    const auto* map_dir = string_member(*o, "map_dir");
    const auto* prog_pin = string_member(*o, "prog_pin");
    const auto* link_pin = string_member(*o, "link_pin");
    if (iface == nullptr || map_dir == nullptr || prog_pin == nullptr || link_pin == nullptr) {
      return fail(bad(file_, "an instance lacks iface, map_dir, prog_pin or link_pin"));
    }
    engine::OwnedInstance inst;
    inst.iface = *iface;
    inst.paths.map_dir = *map_dir;
    inst.paths.prog_pin = *prog_pin;
    inst.paths.link_pin = *link_pin;
    out.push_back(std::move(inst));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return Out{std::move(out)};
}

}  // namespace l3afd::store

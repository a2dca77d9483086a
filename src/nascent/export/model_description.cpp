#include "nascent/export/model_description.h"

#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/data/file_bytes.h"

namespace nascent::exporting {
namespace {

// A whole number in [lo, hi] at j (field `field`), else InputError.
int64_t bounded_int(const nlohmann::json& j, const std::string& path, const std::string& field, int64_t lo,
                    int64_t hi) {
  if (!j.is_number_integer() || j.get<int64_t>() < lo || j.get<int64_t>() > hi)
    throw InputError(path, field, fmt::format("expected a whole number from {} to {}, got {}", lo, hi, j.dump()));
  return j.get<int64_t>();
}

std::vector<std::string> string_list(const nlohmann::json& j, const std::string& path, const std::string& field) {
  if (!j.is_array()) throw InputError(path, field, "expected a list of strings, got " + j.dump());
  std::vector<std::string> out;
  for (const auto& s : j) {
    if (!s.is_string()) throw InputError(path, field, "expected a list of strings, found " + s.dump());
    out.push_back(s.get<std::string>());
  }
  return out;
}

// input.columns: what encode_table reads from each entry, checked here so that it can trust them.
void check_columns(const nlohmann::json& columns, const std::string& path) {
  if (!columns.is_array() || columns.empty())
    throw InputError(path, "input.columns", "expected a non-empty list of columns, got " + columns.dump());
  for (size_t i = 0; i < columns.size(); ++i) {
    const nlohmann::json& c = columns[i];
    const std::string field = fmt::format("input.columns[{}]", i);
    if (!c.is_object()) throw InputError(path, field, "expected {name, kind, ...}, got " + c.dump());
    if (!c.contains("name") || !c["name"].is_string()) throw InputError(path, field + ".name", "expected a string");
    if (c.contains("kind") && !c["kind"].is_string()) throw InputError(path, field + ".kind", "expected a string");
    if (c.contains("categories")) string_list(c["categories"], path, field + ".categories");
    if (c.contains("fill") && !c["fill"].is_number()) throw InputError(path, field + ".fill", "expected a number");
  }
}

}  // namespace

ModelDescription parse_model_description(const std::string& text, const std::string& path) {
  nlohmann::json d;
  try {
    d = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, "", std::string("not valid JSON: ") + e.what());
  }
  if (!d.is_object()) throw InputError(path, "", "expected a JSON object (a model description), got " + d.dump());
  ModelDescription m;
  if (d.contains("class_names")) m.class_names = string_list(d["class_names"], path, "class_names");
  if (!d.contains("input")) return m;
  const nlohmann::json& input = d["input"];
  if (!input.is_object()) throw InputError(path, "input", "expected an object, got " + input.dump());
  if (input.contains("shape")) m.input_shape = input["shape"];
  if (input.contains("columns")) {
    check_columns(input["columns"], path);
    m.table = true;
    m.columns = input["columns"];
    if (input.contains("label_column")) {
      if (!input["label_column"].is_string()) throw InputError(path, "input.label_column", "expected a string");
      m.label_column = input["label_column"].get<std::string>();
    }
    return m;
  }
  const nlohmann::json& shape = m.input_shape;
  if (shape.is_array() && shape.size() == 4) {
    m.image = true;
    m.channels = bounded_int(shape[1], path, "input.shape[1]", 1, 4);
    m.side = bounded_int(shape[2], path, "input.shape[2]", 1, kMaxImageSide);
    if (bounded_int(shape[3], path, "input.shape[3]", 1, kMaxImageSide) != m.side)
      throw InputError(path, "input.shape", "expected square images, got " + shape.dump());
  }
  return m;
}

ModelDescription read_model_description(const std::string& path) {
  return parse_model_description(data::read_file_bytes(path, "model description"), path);
}

}  // namespace nascent::exporting

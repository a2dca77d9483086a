// Reading model.json, the description nascent writes beside an exported model (describe_model in
// torchscript.h): checked field by field, so that a damaged or hand-edited file is one clear
// InputError naming the file and the field, never a JSON library exception or a wild allocation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nascent::exporting {

struct ModelDescription {
  std::vector<std::string> class_names;  // may be empty (the model then names classes by index)
  nlohmann::json input_shape;            // input.shape as written (null when absent)
  // A table model: input.columns, each {name, kind?, categories?, fill?}, and the label column.
  bool table = false;
  nlohmann::json columns;
  std::string label_column;
  // An image model: input.shape [batch, channels, side, side].
  bool image = false;
  int64_t channels = 0;
  int64_t side = 0;
};

// Image models take 1 to 4 channels and sides of 1 to this many pixels.
constexpr int64_t kMaxImageSide = 4096;

// Parses the text of a model description; `path` names it in errors. Throws InputError.
ModelDescription parse_model_description(const std::string& text, const std::string& path);
// Reads and parses the file at `path`. Throws InputError (also for a missing file).
ModelDescription read_model_description(const std::string& path);

}  // namespace nascent::exporting

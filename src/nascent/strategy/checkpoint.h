// Checkpoint files of a strategy's own training (a supernet, its optimisers, generators and the
// epoch): one torch archive per file, written to a temporary file, flushed to disk and renamed,
// so that a kill at any moment leaves either the previous or the new checkpoint, never half of one.
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <nlohmann/json.hpp>
#include <string>

namespace nascent::strategy {

void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::string& path);
// False when there is no file at path; throws InternalError when it cannot be read.
bool load_archive(torch::serialize::InputArchive& archive, const std::string& path);

// JSON inside an archive, as a string value under `key`.
void write_json(torch::serialize::OutputArchive& archive, const std::string& key, const nlohmann::json& value);
nlohmann::json read_json(torch::serialize::InputArchive& archive, const std::string& key);

}  // namespace nascent::strategy

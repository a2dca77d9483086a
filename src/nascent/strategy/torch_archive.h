// Torch modules and optimisers inside a strategy's JSON state: the archive torch::save writes,
// base64-encoded into a string, so that a resumed search continues with exactly the same
// weights and optimiser moments.
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <string>

namespace nascent::strategy {

std::string archive_to_base64(torch::serialize::OutputArchive& archive);
// Throws InternalError if the text is not base64 or not an archive.
void archive_from_base64(const std::string& text, torch::serialize::InputArchive& archive);

std::string base64_encode(const std::string& bytes);
std::string base64_decode(const std::string& text);  // throws InternalError on a bad character

}  // namespace nascent::strategy

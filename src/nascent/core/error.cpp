#include "nascent/core/error.h"

namespace nascent {
namespace {
std::string join_message(const std::string& file, const std::string& field, const std::string& problem) {
  std::string out;
  if (!file.empty()) out += file + ": ";
  if (!field.empty()) out += field + ": ";
  return out + problem;
}
}  // namespace

InputError::InputError(std::string file, std::string field, std::string problem)
    : std::runtime_error(join_message(file, field, problem)),
      file_(std::move(file)),
      field_(std::move(field)),
      problem_(std::move(problem)) {}

namespace detail {
void check_failed(const char* cond, const std::string& msg, const char* file, int line) {
  throw InternalError(std::string("internal error: ") + msg + " (" + cond + " at " + file + ":" + std::to_string(line) +
                      ")");
}
}  // namespace detail
}  // namespace nascent

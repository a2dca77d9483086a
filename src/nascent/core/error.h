// Errors. Broken invariants throw InternalError (via NASCENT_CHECK); bad user input (config,
// data files, arch JSON) throws InputError, which the CLI prints as one line and exits with 2.
// A failing candidate is not an error at all: see TrialFailure.
#pragma once

#include <stdexcept>
#include <string>

namespace nascent {

// A bug or broken invariant inside nascent.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad user input. what() is "FILE: FIELD: PROBLEM" (parts left out when unknown), ready to print.
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string field, std::string problem);
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_, field_, problem_;
};

// A candidate that could not be evaluated (NaN loss, too large, shape error). The runner records
// the trial as failed with this reason and the search goes on.
class TrialFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A candidate that breaks a hard constraint known before training (params, FLOPs): recorded as
// rejected, never trained.
class TrialRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void check_failed(const char* cond, const std::string& msg, const char* file, int line);
}  // namespace detail

}  // namespace nascent

#define NASCENT_CHECK(cond, msg)                                                    \
  do {                                                                              \
    if (!(cond)) ::nascent::detail::check_failed(#cond, (msg), __FILE__, __LINE__); \
  } while (0)

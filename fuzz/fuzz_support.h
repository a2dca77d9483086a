// Shared by the libFuzzer targets under fuzz/: a private scratch directory (files are how users
// hand nascent their input, so most targets write the fuzzed bytes to a file and read it the way
// the commands do) and the rule every target checks: bad input may only end in InputError.
// Any other exception escapes LLVMFuzzerTestOneInput, aborts, and libFuzzer saves the input.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "nascent/core/error.h"

namespace nascent::fuzz {

// A directory for this process (in /dev/shm when there is one: fuzzing writes a file per input).
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    const std::string d = std::string(base) + "/nascent-fuzz-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Whether the space has a decision with two options or more (else mutate() has nothing to change).
template <class Space>
bool can_mutate(const Space& space) {
  for (const auto& d : space.decisions())
    if (d.options.size() > 1) return true;
  return false;
}

// Runs f; InputError is the expected outcome of bad input, anything else propagates.
template <class F>
void expect_only_input_errors(F&& f) {
  try {
    f();
  } catch (const InputError&) {
  }
}

}  // namespace nascent::fuzz

// Running the nascent binary while the test acts on the world around it (fills a disk, watches
// the database), or under a limit set by a shell prefix.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/support.h"

namespace nascent::test {

// Runs nascent as run_nascent does, after a shell prefix (e.g. "trap '' XFSZ; prlimit --fsize=N"),
// calling `during` every 50 ms while it runs.
CommandResult run_nascent_during(const std::vector<std::string>& args, const std::function<void()>& during,
                                 const std::string& prefix = "");

}  // namespace nascent::test

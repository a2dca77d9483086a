// Ctrl-C handling: the first SIGINT asks the search to stop at the next safe point (between
// training steps); the running trial stays `running` in the store and is re-queued by --resume.
// A second SIGINT kills the process at once.
#pragma once

#include <stdexcept>

namespace nascent::run {

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handler();
void request_stop();
bool stop_requested();
// Throws Interrupted if a stop was requested.
void check_stop();

}  // namespace nascent::run

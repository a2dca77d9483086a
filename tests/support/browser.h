// A real browser for tests of web pages: headless Chromium (Debian's chromium-headless-shell,
// installed by scripts/install-deps.sh) loads a page, runs its scripts and prints the DOM.
#pragma once

#include <string>

namespace nascent::test {

// Runs a shell command; returns its standard output and sets `status` to its exit status.
std::string shell(const std::string& command, int& status);

// The DOM of `url` after the page's scripts have run for `virtual_ms` of virtual time (timers
// and network included), with a fresh browser profile in `profile_dir` (CI may have no writable
// home). Sets `status` to Chromium's exit status.
std::string browser_dom(const std::string& url, const std::string& profile_dir, int virtual_ms, int& status);

// How many times `what` occurs in `text`.
size_t count_of(const std::string& text, const std::string& what);

}  // namespace nascent::test

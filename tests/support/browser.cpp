#include "support/browser.h"

#include <array>
#include <cstdio>

namespace nascent::test {

std::string shell(const std::string& command, int& status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  std::array<char, 4096> buf;
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  status = pclose(p);
  return out;
}

std::string browser_dom(const std::string& url, const std::string& profile_dir, int virtual_ms, int& status) {
  const std::string budget = virtual_ms > 0 ? " --virtual-time-budget=" + std::to_string(virtual_ms) : "";
  return shell("chromium-headless-shell --no-sandbox --disable-gpu --user-data-dir=" + profile_dir + budget +
                   " --dump-dom '" + url + "' 2>/dev/null",
               status);
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace nascent::test

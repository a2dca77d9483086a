// nascent spaces: what can be searched; sampled architectures with their size and cost.
#include <fmt/format.h>
#include <torch/torch.h>

#include "cli/commands.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/estimate/profile.h"
#include "nascent/space/network.h"
#include "nascent/space/registry.h"

namespace nascent::cli {

int run_spaces(const SpacesFlags& f) {
  const nlohmann::json config = load_config(f.config, {});
  auto options_for = [&](const std::string& name) {
    if (config.contains("space") && config["space"].contains(name)) return config["space"][name];
    return nlohmann::json::object();
  };
  if (f.space.empty()) {
    if (f.sample > 0) throw InputError("", "--sample", "needs --space NAME");
    for (const auto& info : space::registered_spaces()) {
      ConfigSection o(options_for(info.name), "space." + info.name, f.config);
      std::unique_ptr<space::SearchSpace> sp;
      try {
        sp = info.factory(o);
      } catch (const InputError&) {
        // A space that cannot exist without options (declared) is listed without a size.
        if (!options_for(info.name).empty()) throw;
        fmt::print("{:<12} {:>40}                 {}\n", info.name, "(needs space." + info.name + ")", info.summary);
        continue;
      }
      fmt::print("{:<12} {:>40}, {:>3} decisions  {}\n", info.name, sp->size_text(), sp->num_decisions(), info.summary);
    }
    return 0;
  }
  ConfigSection o(options_for(f.space), "space." + f.space, f.config.empty() ? "--space" : f.config);
  auto sp = space::make_space(f.space, o);
  if (f.sample == 0) {
    fmt::print("space {}: {}\n", sp->name(), sp->size_text());
    for (const auto& d : sp->decisions()) {
      std::string opts;
      for (const auto& o2 : d.options) opts += (opts.empty() ? "" : ", ") + o2;
      std::string cond;
      if (d.condition) {
        std::string any;
        for (const auto& v : d.condition->any_of) any += (any.empty() ? "" : "|") + v;
        cond = fmt::format("   (when {} = {})", d.condition->decision, any);
      }
      fmt::print("  {:<14} {}{}\n", d.name, opts, cond);
    }
    return 0;
  }
  torch::set_num_threads(1);
  Rng rng = Rng::derive(static_cast<uint64_t>(f.seed), "spaces/sample");
  const Task task = task_for_space(*sp, config, f.config);
  for (int64_t i = 0; i < f.sample; ++i) {
    const Arch a = sp->sample(rng);
    nlohmann::json j = sp->to_json(a);
    if (!sp->text_field().empty()) j[sp->text_field()] = sp->to_text(a);
    j["hash"] = sp->hash(a);
    auto net = sp->build(a, task, 1.0);
    const auto prof = estimate::profile_network(*net, task);
    j["params"] = prof.params;
    j["flops"] = prof.flops;
    fmt::print("{}\n", j.dump());
  }
  return 0;
}

}  // namespace nascent::cli

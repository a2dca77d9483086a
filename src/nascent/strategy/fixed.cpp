#include "nascent/strategy/fixed.h"

#include <fmt/format.h>

#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/space/space.h"

namespace nascent::strategy {

FixedOptions FixedOptions::from_config(ConfigSection& sec) {
  FixedOptions o;
  o.archs = sec.get_json("archs");
  if (o.archs.is_null()) o.archs = nlohmann::json::array();
  if (!o.archs.is_array()) sec.fail("archs", "expected a list of architectures (text forms or arch objects)");
  sec.finish();
  return o;
}

FixedList::FixedList(const StrategyContext& ctx, const FixedOptions& options, const std::string& file) : Strategy(ctx) {
  const space::SearchSpace& space = *ctx.space;
  const std::string field = "strategy.fixed.archs";
  if (options.archs.empty())
    throw InputError(file, field, "empty; list the architectures to train (e.g. a best_arch.json's object)");
  for (size_t i = 0; i < options.archs.size(); ++i) {
    const nlohmann::json& item = options.archs[i];
    try {
      if (item.is_string()) {
        if (space.text_field().empty())
          throw InputError(file, "", fmt::format("space {} has no text form; give an arch object", space.name()));
        archs_.push_back(space.canonical(space.from_json({{"space", space.name()}, {space.text_field(), item}}, file)));
      } else {
        archs_.push_back(space.canonical(space.from_json(item, file)));
      }
    } catch (const InputError& e) {
      throw InputError(file, fmt::format("{}[{}]", field, i), e.problem());
    }
  }
}

std::optional<Proposal> FixedList::ask() {
  if (next_ >= archs_.size()) return std::nullopt;
  return Proposal{archs_[next_++], ctx_.fidelity, {{"listed", next_ - 1}}};
}

}  // namespace nascent::strategy

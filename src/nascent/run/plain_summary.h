// A run in a few plain sentences, computed from its trials: what was found and how it compares
// with the median and the worst trial, what the final training made of it, which decisions
// mattered and which option won each, the trade-off with size (and latency, where measured), and
// what failed. At the top of report.html and the dashboard, and printed at the end of a search.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/core/fidelity.h"
#include "nascent/core/objective.h"
#include "nascent/core/trial.h"
#include "nascent/space/space.h"

namespace nascent::run {

// "1 epoch on 25% of the training split" (+ ", at 16 px", ", at 0.5x width").
std::string fidelity_words(const Fidelity& f);

// Every active decision of `arch` with its option: "stem=16, act=relu, s1_blocks=1, ...", for
// people reading a space's short form (shown on hover in the report and the dashboard).
std::string decision_list(const space::SearchSpace& space, const Arch& arch);

// How to read the short form of a built-in space's architectures (space.describe()), in one
// paragraph; "" for a space nascent does not know (a C++ space added by a user).
std::string short_form_legend(const std::string& space_name);

// `summary`: summary.json (its "importance" and "final" are used when present) or null.
std::vector<std::string> plain_summary(const std::vector<Trial>& trials, const space::SearchSpace& space,
                                       const Objective& objective, const nlohmann::json& summary);

}  // namespace nascent::run

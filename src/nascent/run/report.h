// report.html: one self-contained page about a search (no scripts, no external files; plots and
// architecture drawings are inline SVG), written at the end of every `nascent search` and by
// `nascent report --run DIR`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nascent/core/objective.h"
#include "nascent/core/trial.h"
#include "nascent/space/space.h"
#include "nascent/store/store.h"

namespace nascent::run {

struct ReportInput {
  std::string run_dir;
  const std::vector<Trial>* trials = nullptr;
  const space::SearchSpace* space = nullptr;
  const Objective* objective = nullptr;
  nlohmann::json config;                     // the experiment's stored config
  nlohmann::json summary;                    // summary.json (null if none)
  std::vector<store::StoredEvent> supernet;  // one-shot strategies' supernet_epoch events
  std::vector<store::StoredEvent> spos;      // spos' evolution over the trained supernet (spos_generation)
};

std::string report_html(const ReportInput& in);

// Reads the experiment from `store` (trials, config, supernet epochs) and the run directory's
// summary.json, and writes report.html into the run directory; returns its path.
std::string write_report(const std::string& run_dir, const store::Store& store, const space::SearchSpace& space,
                         const Objective& objective);

// The operation names of each alpha row in supernet_epoch events ({"label": [names]}): the
// decision of that name's options, or the DARTS cell's operations for its edges.
nlohmann::json alpha_op_names(const space::SearchSpace& space, const std::vector<store::StoredEvent>& supernet);

// One architecture's drawing as an SVG element (a row of nodes, edges as labelled arcs).
std::string diagram_svg(const space::Diagram& diagram);

// Text for HTML: & < > " escaped.
std::string html_escape(const std::string& text);

}  // namespace nascent::run

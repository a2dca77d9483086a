// Answers proposals from a table of measured results instead of training (as NAS-Bench-201 is
// used): CSV rows of arch (compact JSON or the space's text form, e.g. an nb201 cell string),
// fidelity (its key, "e=4,d=0.33") and one column per metric, including train_seconds, which the
// runner counts against a simulated time budget. A proposal the table lacks is a failed trial.
#pragma once

#include <map>
#include <string>

#include "nascent/core/objective.h"
#include "nascent/estimate/evaluator.h"

namespace nascent::estimate {

// "e=2,d=0.2" (+ ",r=20,w=0.5"), as Fidelity::key() writes it; throws std::invalid_argument.
Fidelity parse_fidelity_key(const std::string& key);

class TableEvaluator : public Evaluator {
 public:
  // Reads and checks the whole file; throws InputError(path, "line N" or column, problem).
  TableEvaluator(const space::SearchSpace& space, const std::string& path, Objective objective);
  Evaluation evaluate(const Proposal& p, uint64_t seed, const ProgressFn& progress) override;
  size_t rows() const { return rows_.size(); }

 private:
  struct Row {
    std::string status;  // ok unless the table says otherwise
    std::string reason;
    Metrics metrics;
  };
  std::string key(const Arch& arch, const Fidelity& f) const;
  const space::SearchSpace& space_;
  std::string path_;
  Objective objective_;
  std::map<std::string, Row> rows_;  // by canonical arch hash and fidelity key
};

}  // namespace nascent::estimate

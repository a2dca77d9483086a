// The search-space interface. A space is an ordered list of categorical Decisions (with optional
// conditions on earlier decisions) plus a builder from one choice per decision to a network.
// Everything strategies need (sampling, mutation, neighbours, encodings, canonical form, hashes,
// JSON) is implemented here once, on the decisions alone; spaces add only what is their own.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/arch.h"
#include "nascent/core/rng.h"
#include "nascent/core/task.h"

namespace nascent {
class ConfigSection;
}

namespace nascent::space {

class Network;   // torch module with forward(x); see network.h
class Supernet;  // one-shot network over the whole space; see supernet.h
struct SupernetOptions;

// A drawing of an architecture for reports: one or more graphs, each with its nodes in order
// (drawn left to right) and labelled edges between them.
struct Diagram {
  struct Edge {
    int from = 0, to = 0;
    std::string label;
  };
  struct Graph {
    std::string title;
    std::vector<std::string> nodes;
    std::vector<Edge> edges;
  };
  std::vector<Graph> graphs;
};

class SearchSpace {
 public:
  SearchSpace(std::string name, std::vector<Decision> decisions);
  virtual ~SearchSpace() = default;

  const std::string& name() const { return name_; }
  const std::vector<Decision>& decisions() const { return decisions_; }
  size_t num_decisions() const { return decisions_.size(); }
  // Index of a decision by name, or -1.
  int index_of(const std::string& decision) const;
  // Whether decision i exists in arch (its condition, if any, holds).
  bool active(const Arch& arch, size_t i) const;

  // Uniform choice for every active decision; inactive decisions hold 0.
  virtual Arch sample(Rng& rng) const;
  // Changes exactly one active decision to a different option (decisions it activates are
  // sampled, decisions it deactivates reset); the result is canonical and differs from arch.
  virtual Arch mutate(const Arch& arch, Rng& rng) const;
  // Every architecture one decision away, canonical and distinct from arch and each other.
  virtual std::vector<Arch> neighbors(const Arch& arch) const;
  // Uniform crossover of two parents, decision by decision.
  Arch crossover(const Arch& a, const Arch& b, Rng& rng) const;
  // Fixed-length numeric vector: one-hot per decision (all zeros when inactive).
  virtual std::vector<float> encode(const Arch& arch) const;
  size_t encoding_size() const;

  // Canonical form: inactive decisions reset; spaces with symmetries (cells) also fold
  // equivalent architectures onto one representative.
  virtual Arch canonical(const Arch& arch) const;
  // Stable 16-hex-digit hash of the canonical form (by option names, not indices).
  std::string hash(const Arch& arch) const;

  // {"space": name, "choices": {decision: option}}; only active decisions are written.
  nlohmann::json to_json(const Arch& arch) const;
  // Validates and converts; throws InputError naming `source` and the bad field. Spaces with a
  // text form also accept {"space": name, "<text_field>": "..."} (with or without choices; when
  // both are given they must describe the same architecture).
  Arch from_json(const nlohmann::json& j, const std::string& source) const;

  // The conventional text form of an architecture, for spaces that have one (nb201's cell
  // string, darts' genotype): the name of the arch-file field that holds it, or empty.
  virtual std::string text_field() const { return {}; }
  // Arch -> text; only for spaces with a text_field().
  virtual std::string to_text(const Arch& arch) const;
  // Text -> arch; throws InputError(source, text_field(), problem) on malformed text.
  virtual Arch from_text(const std::string& text, const std::string& source) const;
  // The option an architecture takes for a decision, by name (the decision must exist).
  const std::string& option(const Arch& arch, const std::string& decision) const;
  // Short human-readable form for progress lines.
  virtual std::string describe(const Arch& arch) const;
  // The architecture as a drawing (report.html). Default: a chain input -> one node per word of
  // describe() -> output; cell spaces draw their cells.
  virtual Diagram diagram(const Arch& arch) const;

  // Number of architectures (counting decisions only where active). Doubles: spaces get huge.
  virtual double size() const;
  // Number of distinct architectures after canonicalisation, when the space can count them;
  // negative when unknown.
  virtual double distinct_size() const { return -1; }
  // What the space counts ("architectures"; "cells" for a cell space).
  virtual std::string size_unit() const { return "architectures"; }
  // The size for people, e.g. "2.986e+09 architectures" or "15,625 cells, 6,466 distinct".
  std::string size_text() const;

  // Builds the network for a task; width_mult scales every channel count (a fidelity knob).
  virtual std::shared_ptr<Network> build(const Arch& arch, const Task& task, double width_mult = 1.0) const = 0;
  // The one-shot supernet of this space, for DARTS, GDAS and SPOS. Spaces without one throw
  // InputError (the default).
  virtual std::shared_ptr<Supernet> build_supernet(const Task& task, const SupernetOptions& options) const;
  // Whether this space can build for the task (e.g. image spaces need [C, H, W] inputs).
  virtual bool supports(const Task& task) const;
  // A task the space builds for, used where no data is loaded (`nascent spaces --sample`,
  // `nascent profile` without a config): Fashion-MNIST's shape unless a space says otherwise.
  virtual Task default_task() const { return Task{}; }

 protected:
  // Throws InputError if the architecture is structurally invalid for this space.
  virtual void validate(const Arch& arch, const std::string& source) const;

 private:
  Arch choices_from_json(const nlohmann::json& choices, const std::string& source) const;

  std::string name_;
  std::vector<Decision> decisions_;
  std::vector<int> parent_;                       // condition's decision index, -1 if none
  std::vector<std::vector<bool>> parent_allows_;  // per option of the parent
};

// Helpers for spaces' decision lists.
// Integer options as option names: {1, 2} -> {"1", "2"}.
std::vector<std::string> int_options(const std::vector<int64_t>& values);
// Real options as option names, shortest form: {0.5, 1.0} -> {"0.5", "1"}.
std::vector<std::string> number_options(const std::vector<double>& values);
// "Decision `count` (integer options) is at least k": the condition of the k-th layer or block
// of a variable depth; none when every option is at least k (the layer always exists).
std::optional<Condition> count_at_least(const Decision& count, int64_t k);
// Width options per stage, `[[16, 24], [32, 48], ...]`: 1 to max_stages non-empty lists of
// channel counts from 1 to 4096; `def` when the key is absent. InputError names the bad list.
std::vector<std::vector<int64_t>> read_stage_widths(ConfigSection& section, const std::string& key,
                                                    const std::vector<std::vector<int64_t>>& def, size_t max_stages);
// Throws InputError naming section.key when an option list repeats a value.
void require_distinct(const ConfigSection& section, const std::string& key, const std::vector<std::string>& options);

}  // namespace nascent::space

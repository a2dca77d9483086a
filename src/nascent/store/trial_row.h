// A trial from the text of its stored columns, checked column by column. Shared by the store's
// reading and `nascent recover`, so that a row the store could not read back is never recovered.
#pragma once

#include <string>

#include "nascent/core/trial.h"
#include "nascent/store/salvage.h"

namespace nascent::space {
class SearchSpace;
}

namespace nascent::store {

// Throws InputError(db, "trial N", what is wrong) when a column is not what the store writes
// (damage, or an edit by hand): JSON that does not parse or is not an object, an unknown status,
// an architecture that is not of `space`.
Trial trial_from_row(const SalvagedRow& row, const space::SearchSpace& space, const std::string& db);

// A JSON column of the experiment's own rows (config, strategy state, events); a cell that does
// not parse is reported as damage (throw_damaged: what is wrong and the command that saves the
// readable trials).
nlohmann::json json_cell(const std::string& text, const std::string& db, const std::string& what);

}  // namespace nascent::store

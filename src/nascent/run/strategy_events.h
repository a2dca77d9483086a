// Where a strategy's own progress goes during a search: every event is stored in the experiment
// database (table strategy_event, so it survives a kill and can be read back) and printed as
// one progress line.
#pragma once

#include "nascent/strategy/strategy.h"

namespace nascent::store {
class Store;
}

namespace nascent::run {

class ProgressReporter;

class StoredEventSink : public strategy::EventSink {
 public:
  StoredEventSink(store::Store& store, ProgressReporter& progress) : store_(store), progress_(progress) {}
  void record(const strategy::StrategyEvent& event) override;

 private:
  store::Store& store_;
  ProgressReporter& progress_;
};

}  // namespace nascent::run

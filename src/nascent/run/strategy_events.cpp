#include "nascent/run/strategy_events.h"

#include "nascent/run/progress.h"
#include "nascent/store/store.h"

namespace nascent::run {

void StoredEventSink::record(const strategy::StrategyEvent& event) {
  store_.record_event(event.kind, event.step, event.data);
  if (!event.line.empty()) progress_.message(event.line);
}

}  // namespace nascent::run

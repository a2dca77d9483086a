#include "nascent/export/torchscript.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>

#include "export/export_fixture.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/space/registry.h"
#include "support/support.h"

namespace nascent::exporting {
namespace {

using export_test::random_input;
using export_test::space_options;

TEST(TorchScript, EverySpaceExportsAModuleThatComputesTheSameLogitsForAnyBatchSize) {
  test::TempDir dir;
  for (const auto& info : space::registered_spaces()) {
    SCOPED_TRACE(info.name);
    ConfigSection so(space_options(info.name), "space." + info.name, "test");
    auto space = info.factory(so);
    const Task task = space->default_task();
    Rng rng(11);
    const Arch arch = space->sample(rng);
    torch::manual_seed(3);
    auto net = space->build(arch, task);
    // A few training-mode passes move batch-norm statistics away from their initial values, so
    // a module that lost its buffers would compute different logits.
    net->train();
    {
      torch::NoGradGuard no_grad;
      for (int i = 0; i < 3; ++i) net->forward(random_input(task, 8) * (task.kind == "text" ? 1 : 2));
    }
    const std::string path = dir.path() + "/" + info.name + ".pt";
    save_torchscript(*net, task, path);
    ASSERT_TRUE(std::filesystem::exists(path));
    torch::jit::Module loaded = torch::jit::load(path);
    net->eval();
    for (int64_t batch : {1, 5}) {  // the example had 2
      torch::Tensor x = random_input(task, batch);
      torch::NoGradGuard no_grad;
      torch::Tensor want = net->forward(x);
      torch::Tensor got = loaded.forward({x}).toTensor();
      ASSERT_EQ(got.sizes(), want.sizes()) << "batch " << batch;
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5))
          << "batch " << batch << ": max difference " << (got - want).abs().max().item<double>();
    }
    // The saved module holds every parameter.
    int64_t params = 0;
    for (const auto& p : loaded.parameters()) params += p.numel();
    int64_t want_params = 0;
    for (const auto& p : net->parameters()) want_params += p.numel();
    EXPECT_EQ(params, want_params);
    // ... and every buffer (batch-norm statistics) as an attribute, not as a graph constant.
    EXPECT_EQ(loaded.buffers().size(), net->buffers().size());
  }
}

}  // namespace
}  // namespace nascent::exporting

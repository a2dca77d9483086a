#include "nascent/export/torchscript.h"

#include <gtest/gtest.h>
#include <torch/script.h>

#include <filesystem>

#include "export/export_fixture.h"
#include "nascent/core/config.h"
#include "nascent/core/error.h"
#include "nascent/core/rng.h"
#include "nascent/data/dataset.h"
#include "nascent/space/registry.h"
#include "support/support.h"

namespace nascent::exporting {
namespace {

using export_test::random_input;
using export_test::space_options;

TEST(TorchScript, EverySpaceExportsAModuleThatNormalisesItsInputAndComputesTheSameLogitsForAnyBatchSize) {
  test::TempDir dir;
  for (const auto& info : space::registered_spaces()) {
    SCOPED_TRACE(info.name);
    ConfigSection so(space_options(info.name), "space." + info.name, "test");
    auto space = info.factory(so);
    data::TaskData data;
    data.task = space->default_task();
    const Task& task = data.task;
    // Normalisation statistics that are not the identity: the model must apply them.
    const InputTransform stats = export_test::test_transform(task);
    data.mean = stats.mean;
    data.std = stats.std;
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
    save_torchscript(*net, data, path, space->to_json(arch));
    ASSERT_TRUE(std::filesystem::exists(path));
    torch::jit::Module loaded = torch::jit::load(path);
    net->eval();
    for (int64_t batch : {1, 5}) {  // the example had 2
      torch::Tensor x = random_input(task, batch);
      torch::NoGradGuard no_grad;
      torch::Tensor want = net->forward(InputTransform::of(data).apply(x));
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
    // The description beside it says what goes in and what comes out.
    const auto d = nlohmann::json::parse(test::read_file(dir.path() + "/" + info.name + ".json"));
    EXPECT_EQ(d.at("input").at("shape").at(0), nullptr);  // any batch size
    EXPECT_EQ(d.at("input").at("shape").size(), task.input_shape.size() + 1);
    EXPECT_EQ(d.at("output").at("shape").back(), task.num_classes);
    EXPECT_EQ(d.at("arch").at("space"), info.name);
    EXPECT_EQ(d.at("input").at("dtype"), task.kind == "text" ? "int64" : "float32");
  }
}

TEST(TorchScript, InputTransformStandardisesPerImageChannelAndPerTabularFeature) {
  InputTransform image{"image", {0.5f, 0.0f}, {0.25f, 2.0f}};
  const torch::Tensor x = torch::ones({1, 2, 2, 2});
  const torch::Tensor y = image.apply(x);
  EXPECT_FLOAT_EQ(y[0][0][1][1].item<float>(), 2.0f);  // (1 - 0.5) / 0.25
  EXPECT_FLOAT_EQ(y[0][1][0][0].item<float>(), 0.5f);  // (1 - 0) / 2
  InputTransform rows{"tabular", {1.0f, 2.0f, 3.0f}, {1.0f, 1.0f, 0.5f}};
  const torch::Tensor r = rows.apply(torch::full({4, 3}, 4.0f));
  EXPECT_FLOAT_EQ(r[3][0].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(r[3][2].item<float>(), 2.0f);
  InputTransform text{"text", {}, {}};
  const torch::Tensor ids = torch::ones({2, 5}, torch::kInt64);
  EXPECT_TRUE(text.apply(ids).equal(ids));
}

TEST(TorchScript, WeightsOfAnotherHeadSizeAreRefused) {
  // torch::load would silently take a 2-class head into a 10-class network.
  test::TempDir dir;
  auto space = space::make_space("cnn");
  Rng rng(1);
  const Arch a = space->sample(rng);
  Task two;
  two.num_classes = 2;
  auto net2 = space->build(a, two, 1.0);
  torch::save(net2, dir.file("w.pt"));
  auto net10 = space->build(a, Task{}, 1.0);
  const std::string why = load_weights(net10, dir.file("w.pt"));
  EXPECT_EQ(why, "head.linear.weight has shape [2, " +
                     std::to_string(net10->named_parameters()["head.linear.weight"].size(1)) + "] in the file, [10, " +
                     std::to_string(net10->named_parameters()["head.linear.weight"].size(1)) + "] in the network");
  auto again = space->build(a, two, 1.0);
  EXPECT_EQ(load_weights(again, dir.file("w.pt")), "");
}

}  // namespace
}  // namespace nascent::exporting

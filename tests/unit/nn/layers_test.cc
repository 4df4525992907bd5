// nn::Linear, nn::LayerNorm, nn::Embedding: built from a WeightMap under their torch names, and
// computing what torch computes. Expected values from torch 2.9.1:
//
//   x = torch.tensor([[1., 2., 3.], [-1., 0.5, 4.]])
//   l = torch.nn.Linear(3, 2); l.weight.data = torch.tensor([[1., 0., -1.], [.5, .5, .5]])
//   l.bias.data = torch.tensor([.25, -1.])
//   l(x).tolist()              # [[-1.75, 2.0], [-4.75, 0.75]]
//   torch.tanh(l(x)).tolist()  # [[-0.9413755536079407, 0.9640275835990906],
//                              #  [-0.999850332736969, 0.6351489424705505]]
//   ln = torch.nn.LayerNorm(3, eps=1e-12); ln.weight.data = torch.tensor([1., 2., .5])
//   ln.bias.data = torch.tensor([0., 1., -1.])
//   ln(x).tolist()  # [[-1.2247447967529297, 1.0, -0.38762760162353516],
//                   #  [-1.0342243909835815, 0.3635542392730713, -0.3237763047218323]]
//   r = torch.tensor([[.5, 0., -.5], [1., 1., 1.]]); ln(x + r)  # the same rows (shifted input)
#include <gtest/gtest.h>

#include "mlhub/nn.h"

namespace mlhub::nn {
namespace {

void expect_near(const Tensor& got, const std::vector<float>& want, float tol = 1e-6f) {
  const std::vector<float> g = got.to_floats();
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], tol) << "index " << i;
}

const Tensor kX = Tensor::from_floats(std::vector<float>{1, 2, 3, -1, 0.5f, 4}, {2, 3});

std::shared_ptr<const io::Checkpoint> layer_checkpoint() {
  io::Checkpoint c;
  c.put("dense.weight",
        Tensor::from_floats(std::vector<float>{1, 0, -1, 0.5f, 0.5f, 0.5f}, {2, 3}));
  c.put("dense.bias", Tensor::from_floats(std::vector<float>{0.25f, -1}, {2}));
  c.put("LayerNorm.weight", Tensor::from_floats(std::vector<float>{1, 2, 0.5f}, {3}));
  c.put("LayerNorm.bias", Tensor::from_floats(std::vector<float>{0, 1, -1}, {3}));
  c.put("word_embeddings.weight",
        Tensor::from_floats(std::vector<float>{0, 0.5f, 1, 1.5f, 2, 2.5f}, {3, 2}));
  return std::make_shared<const io::Checkpoint>(std::move(c));
}

TEST(Layers, LinearMatchesTorch) {
  WeightMap w(layer_checkpoint(), "", false);
  const Linear dense(w.sub("dense"), 3, 2);
  EXPECT_EQ(dense(kX).shape(), (Shape{2, 2}));
  expect_near(dense(kX), {-1.75f, 2.0f, -4.75f, 0.75f});
  expect_near(dense(kX, ops::Activation::kTanh),
              {-0.9413755536079407f, 0.9640275835990906f, -0.999850332736969f,
               0.6351489424705505f});
  // Without bias, the bias key is not read.
  const Linear no_bias(w.sub("dense"), 3, 2, /*bias=*/false);
  EXPECT_FALSE(no_bias.bias.defined());
  expect_near(no_bias(kX), {-2.0f, 3.0f, -5.0f, 1.75f});
}

TEST(Layers, LayerNormMatchesTorchWithAndWithoutResidual) {
  WeightMap w(layer_checkpoint(), "", false);
  const LayerNorm ln(w.sub("LayerNorm"), 3, 1e-12f);
  const std::vector<float> want = {-1.2247447967529297f, 1.0f, -0.38762760162353516f,
                                   -1.0342243909835815f, 0.3635542392730713f,
                                   -0.3237763047218323f};
  expect_near(ln(kX), want, 1e-5f);
  const Tensor shifted =
      Tensor::from_floats(std::vector<float>{0.5f, 2, 3.5f, -2, -0.5f, 3}, {2, 3});
  const Tensor r = Tensor::from_floats(std::vector<float>{0.5f, 0, -0.5f, 1, 1, 1}, {2, 3});
  expect_near(ln(shifted, r), want, 1e-5f);  // LayerNorm(shifted + r) == LayerNorm(x)
}

TEST(Layers, EmbeddingPicksRows) {
  WeightMap w(layer_checkpoint(), "", false);
  const Embedding emb(w.sub("word_embeddings"), 3, 2);
  const Tensor ids = Tensor::from_ints(std::vector<int64_t>{2, 0, 1, 2}, {2, 2});
  const Tensor out = emb(ids);
  EXPECT_EQ(out.shape(), (Shape{2, 2, 2}));
  expect_near(out, {2, 2.5f, 0, 0.5f, 1, 1.5f, 2, 2.5f});
}

TEST(Layers, ReadEveryWeightUnderItsTorchName) {
  WeightMap w(layer_checkpoint(), "", false);
  const Linear dense(w.sub("dense"), 3, 2);
  const LayerNorm ln(w.sub("LayerNorm"), 3, 1e-12f);
  const Embedding emb(w.sub("word_embeddings"), 3, 2);
  auto report = w.finish();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_TRUE(report->missing_keys.empty());
  EXPECT_TRUE(report->unexpected_keys.empty());
  // A wrong declared size is a mismatch, not a silent reshape.
  WeightMap bad(layer_checkpoint(), "", false);
  const Linear wrong(bad.sub("dense"), 2, 3);
  EXPECT_FALSE(bad.finish().ok());
}

}  // namespace
}  // namespace mlhub::nn

using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Losses;

public class DenoisingAndTotalLossTests
{
    [Fact]
    public void DenoisingLossIsTheMeanSquaredErrorToTheScaledNoise()
    {
        Torch.Init(seed: 61);
        using var scope = torch.NewDisposeScope();
        var pred = torch.tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, dtype: ScalarType.Float64).reshape(1, 2, 2);
        var noise = torch.tensor(new[] { 0.4, -0.8, 0.0, 1.0 }, dtype: ScalarType.Float64).reshape(1, 2, 2);
        // scale 1: ((0.6)^2 + (-1.2)^2 + 0.5^2 + 2^2) / 4
        Assert.Equal((0.36 + 1.44 + 0.25 + 4.0) / 4, DenoisingLoss.Mse(pred, noise).item<double>(), 1e-14);
        // released scale 1/0.4 = 2.5: targets (1, -2, 0, 2.5): (0 + 0 + 0.25 + 0.25) / 4
        Assert.Equal(0.5 / 4, DenoisingLoss.Mse(pred, noise, DenoisingLoss.ReleasedTargetScale).item<double>(), 1e-14);
        Assert.Equal(2.5, DenoisingLoss.ReleasedTargetScale, 1e-15);
        Assert.Equal(0.5, DenoisingLoss.Mse(pred, noise, 2.5, Reduction.Sum).item<double>(), 1e-14);
    }

    [Fact]
    public void DenoisingLossGradientMatchesFiniteDifferences()
    {
        Torch.Init(seed: 62);
        using var scope = torch.NewDisposeScope();
        var pred = Randn(3, 4, 2).requires_grad_(true);
        var noise = Randn(3, 4, 2);
        var g = torch.autograd.grad(new[] { DenoisingLoss.Mse(pred, noise, 2.5) }, new[] { pred }, retain_graph: false, create_graph: false)[0];
        AssertClose(CentralDifferences(x => DenoisingLoss.Mse(x, noise, 2.5).item<double>(), pred), Values(g), 1e-9, 1e-7, "d/d prediction");
    }

    [Fact]
    public void TotalIsTheWeightedSumOfTheTermsForBothPresets()
    {
        Torch.Init(seed: 63);
        using var scope = torch.NewDisposeScope();
        var pred = Randn(4, 3, 2);
        var noise = Randn(4, 3, 2);
        var guided = pred + 0.3 * Randn(4, 3, 2);
        var mu = Randn(4, 2, 5);
        var lv = 0.5 * Randn(4, 2, 5);
        var zt = mu + 0.1 * Randn(4, 2, 5);
        foreach (var config in new[] { DpAgLossConfig.ReleasedCode, DpAgLossConfig.Paper, DpAgLossConfig.Paper with { ContrastiveWeight = 0.3, KlWeight = 2 } })
        {
            var t = DpAgLoss.Compute(pred, noise, guided, mu, lv, zt, config);
            double expected = DenoisingLoss.Mse(pred, noise, config.DenoisingTargetScale).item<double>()
                + config.ContrastiveWeight * InfoNce.Loss(pred, guided, config.Contrastive).item<double>()
                + config.KlWeight * KlDivergence.ToPrior(config.KlPrior, mu, lv, zt, config.KlReduction).item<double>();
            Assert.Equal(expected, t.Total.item<double>(), 1e-12);
            Assert.Equal(t.Denoising.item<double>() + config.ContrastiveWeight * t.Contrastive.item<double>() + config.KlWeight * t.Kl.item<double>(), t.Total.item<double>(), 1e-12);
        }
        Assert.Equal(KlPrior.StandardNormal, DpAgLossConfig.ReleasedCode.KlPrior);
        Assert.Equal(KlPrior.StaticLatent, DpAgLossConfig.Paper.KlPrior);
        Assert.Equal(0.8, DpAgLossConfig.ReleasedCode.Contrastive.Temperature);
        Assert.Contains("KlWeight = -1", Assert.Throws<ArgumentException>(() => (DpAgLossConfig.Paper with { KlWeight = -1 }).Validate()).Message);
        Assert.Contains("KlReduction", Assert.Throws<ArgumentException>(() => (DpAgLossConfig.Paper with { KlReduction = Reduction.PerSample }).Validate()).Message);
    }
}

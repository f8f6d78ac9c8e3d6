using DpAg.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Diffusion;

public class ToyDenoiserTests
{
    [Fact]
    public void LearnsAMixtureWellEnoughToSampleItsModes()
    {
        Torch.Init(seed: 0);
        var mixture = new GaussianMixture([0.3, 0.7], [[-0.8, 0.0], [0.8, 0.2]], [0.1, 0.1]);
        var scheduler = new DdpmScheduler();
        var g = new torch.Generator(11);
        using var net = new ToyDenoiser(dim: 2, hidden: 64);
        var losses = ToyDenoiser.Train(net, n => mixture.Sample(n, g).Samples, scheduler, steps: 600, batchSize: 256, lr: 3e-3, seed: 0);
        Assert.True(losses.TakeLast(50).Average() < 0.7 * losses.Take(50).Average(), $"loss {losses.Take(50).Average():F3} -> {losses.TakeLast(50).Average():F3}");
        var report = SamplerReport.Measure("learned DDIM 16", new DdimScheduler(), 16, mixture,
            (x, k) => net.forward(x, torch.full(x.shape[0], k, dtype: int64)), 2000, seed: 3);
        Assert.True(report.ModeWeightTv < 0.1, $"mode weights off by TV {report.ModeWeightTv:F3}");
        Assert.True(report.MeanLogLikelihood > -2.0, $"samples far from the modes: mean log-likelihood {report.MeanLogLikelihood:F2}");
    }
}

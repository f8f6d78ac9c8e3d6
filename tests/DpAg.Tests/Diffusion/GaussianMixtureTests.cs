using DpAg.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Diffusion;

public class GaussianMixtureTests
{
    private static readonly GaussianMixture Mixture = new([0.2, 0.5, 0.3], [[-1.0, 0.5], [0.8, 0.6], [0.0, -0.9]], [0.15, 0.1, 0.2]);
    private static readonly NoiseSchedule Schedule = new(100, BetaScheduleKind.SquaredCosCapV2);

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(99)]
    public void ExactNoiseIsMinusSqrtOneMinusAbarTimesTheAutogradScore(int t)
    {
        Torch.Init(seed: 1);
        var x = (torch.randn(16, 2, dtype: float64) * 1.2).requires_grad_(true);
        var logp = Mixture.LogDensity(x, t, Schedule).sum();
        var score = torch.autograd.grad([logp], [x], retain_graph: false, create_graph: false)[0];
        var expected = -Math.Sqrt(1 - Schedule.AlphasCumprod[t]) * score;
        var actual = Mixture.ExactNoise(x.detach(), t, Schedule);
        Assert.True(torch.allclose(actual, expected, rtol: 1e-9, atol: 1e-10), $"max diff {(actual - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void SamplesHaveTheMixtureWeightsAndMeans()
    {
        Torch.Init();
        var g = new torch.Generator(7);
        var (x, component) = Mixture.Sample(20000, g);
        for (int j = 0; j < 3; j++)
        {
            var mask = component.eq(j);
            double w = mask.to(float64).mean().item<double>();
            Assert.InRange(w, Mixture.Weights[j] - 0.015, Mixture.Weights[j] + 0.015);
            var mean = x[mask].mean(new long[] { 0 }).to(float64).data<double>().ToArray();
            Assert.InRange(mean[0], Mixture.Means[j][0] - 0.01, Mixture.Means[j][0] + 0.01);
            Assert.InRange(mean[1], Mixture.Means[j][1] - 0.01, Mixture.Means[j][1] + 0.01);
        }
        Assert.True(Mixture.NearestMode(x).eq(component).to(float64).mean().item<double>() > 0.97);
    }

    [Fact]
    public void LogDensityIntegratesToOneOnAGrid()
    {
        Torch.Init();
        var axis = torch.linspace(-3, 3, 301, dtype: float64);
        var grid = torch.stack(torch.meshgrid([axis, axis], indexing: "ij"), 2).reshape(-1, 2);
        double cell = Math.Pow(6.0 / 300, 2);
        double mass = Mixture.LogDensity(grid, -1, Schedule).exp().sum().item<double>() * cell;
        Assert.InRange(mass, 0.995, 1.005);
    }

    [Fact]
    public void DdpmWithTheExactPredictorRecoversTheModeWeights()
    {
        Torch.Init();
        var scheduler = new DdpmScheduler();
        var g = new torch.Generator(3);
        var x0 = DiffusionSampler.Sample(scheduler, (x, t) => Mixture.ExactNoise(x, t, scheduler.Schedule), [6000, 2], 100, generator: g);
        var modes = Mixture.NearestMode(x0);
        for (int j = 0; j < 3; j++)
            Assert.InRange(modes.eq(j).to(float64).mean().item<double>(), Mixture.Weights[j] - 0.03, Mixture.Weights[j] + 0.03);
    }

    [Fact]
    public void BadMixturesAreRejectedWithTheValues()
    {
        var e = Assert.Throws<ArgumentException>(() => new GaussianMixture([0.5, 0.6], [[0.0], [1.0]], [1, 1]));
        Assert.Contains("sum to 1", e.Message);
        Assert.Throws<ArgumentException>(() => new GaussianMixture([1.0], [[0.0]], [0]));
    }
}

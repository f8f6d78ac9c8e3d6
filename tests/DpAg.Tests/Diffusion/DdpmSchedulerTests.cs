using DpAg.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Diffusion;

public class DdpmSchedulerTests
{
    private static void Rel(double expected, double actual, double rel) =>
        Assert.True(Math.Abs(actual - expected) <= rel * Math.Abs(expected), $"expected {expected:R}, got {actual:R} (relative tolerance {rel})");

    [Fact]
    public void FixedSmallVarianceMatchesThePushTCheckValues()
    {
        Torch.Init();
        var ddpm = new DdpmScheduler();
        Rel(4.035e-4, ddpm.Variance(1), 2e-4);
        Rel(0.030604, ddpm.Variance(50), 5e-5);
        Rel(0.998758, ddpm.Variance(99), 2e-6);
        Assert.Equal(1e-20, ddpm.Variance(0)); // (1 - 1) / (1 - abar_0) beta_0 = 0, clamped
    }

    [Fact]
    public void TimestepsAreLeadingAndDescending()
    {
        Torch.Init();
        var ddpm = new DdpmScheduler();
        Assert.Equal(Enumerable.Range(0, 100).Reverse(), ddpm.Timesteps);
        ddpm.SetTimesteps(10);
        Assert.Equal(new[] { 90, 80, 70, 60, 50, 40, 30, 20, 10, 0 }, ddpm.Timesteps);
        Assert.Equal(80, ddpm.PreviousTimestep(90));
        ddpm.SetTimesteps(16);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 6 * (15 - i)), ddpm.Timesteps);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void NumInferenceStepsOutsideTheRangeIsRefusedWithTheValue(int steps)
    {
        Torch.Init();
        var e = Assert.Throws<ArgumentException>(() => new DdpmScheduler().SetTimesteps(steps));
        Assert.Contains($"got {steps}", e.Message);
        Assert.Contains("1..100", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DdpmSchedulerConfig(NumInferenceSteps: steps).Validate());
        Assert.Contains("NumInferenceSteps", e.Message);
        Assert.Contains($"got {steps}", e.Message);
    }

    [Fact]
    public void AddNoiseIsTheClosedFormPerSample()
    {
        Torch.Init(1);
        using var scope = torch.NewDisposeScope();
        var ddpm = new DdpmScheduler();
        var x0 = torch.randn(3, 16, 2);
        var noise = torch.randn(3, 16, 2);
        int[] ts = { 0, 49, 99 };
        var xt = ddpm.AddNoise(x0, noise, torch.tensor(ts.Select(t => (long)t).ToArray()));
        Assert.Equal(x0.shape, xt.shape);
        Assert.Equal(ScalarType.Float32, xt.dtype);
        for (int b = 0; b < 3; b++)
        {
            double abar = ddpm.Schedule.AlphasCumprod[ts[b]];
            var expected = Math.Sqrt(abar) * x0[b] + Math.Sqrt(1 - abar) * noise[b];
            Assert.True(torch.allclose(expected, xt[b], rtol: 1e-5, atol: 1e-6), $"sample {b}, t = {ts[b]}");
        }
        var e = Assert.Throws<ArgumentException>(() => ddpm.AddNoise(x0, noise, torch.tensor(new long[] { 0, 1 })));
        Assert.Contains("(2)", e.Message);
        e = Assert.Throws<ArgumentException>(() => ddpm.AddNoise(x0, noise, torch.tensor(new long[] { 0, 1, 100 })));
        Assert.Contains("100", e.Message);
    }

    [Fact]
    public void OneStepIsThePosteriorMeanPlusScaledNoise()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddpm = new DdpmScheduler(new DdpmSchedulerConfig(ClipSample: false));
        var xt = torch.randn(new long[] { 4, 8, 2 }, dtype: ScalarType.Float64, generator: new Generator(3));
        var eps = torch.randn(new long[] { 4, 8, 2 }, dtype: ScalarType.Float64, generator: new Generator(4));
        int t = 50;
        var (prev, x0) = ddpm.Step(eps, t, xt, new Generator(5));
        var z = torch.randn(new long[] { 4, 8, 2 }, dtype: ScalarType.Float64, generator: new Generator(5));
        var s = ddpm.Schedule;
        double abar = s.AlphasCumprod[t], abarPrev = s.AlphasCumprod[t - 1], beta = s.Betas[t];
        var expectedX0 = (xt - Math.Sqrt(1 - abar) * eps) / Math.Sqrt(abar);
        var mean = Math.Sqrt(abarPrev) * beta / (1 - abar) * expectedX0 + Math.Sqrt(1 - beta) * (1 - abarPrev) / (1 - abar) * xt;
        var expected = mean + Math.Sqrt((1 - abarPrev) / (1 - abar) * beta) * z;
        Assert.True(torch.allclose(expectedX0, x0, rtol: 1e-10, atol: 1e-10));
        // beta_t recomputed as 1 - abar_t / abar_{t-1} differs from the stored float32 beta_t by float32 rounding.
        Assert.True(torch.allclose(expected, prev, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void SamplePredictionGivesTheSameStepAsTheEquivalentEpsilon()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var eps = new DdpmScheduler();
        var sample = new DdpmScheduler(new DdpmSchedulerConfig(PredictionType: PredictionType.Sample));
        var xt = torch.randn(new long[] { 5, 4, 2 }, dtype: ScalarType.Float64, generator: new Generator(1));
        var e = 0.3 * torch.randn(new long[] { 5, 4, 2 }, dtype: ScalarType.Float64, generator: new Generator(2));
        foreach (int t in new[] { 99, 40, 1, 0 })
        {
            double abar = eps.Schedule.AlphasCumprod[t];
            var x0 = (xt - Math.Sqrt(1 - abar) * e) / Math.Sqrt(abar);
            var a = eps.Step(e, t, xt, new Generator(7));
            var b = sample.Step(x0, t, xt, new Generator(7));
            Assert.True(torch.allclose(a.PrevSample, b.PrevSample, rtol: 1e-9, atol: 1e-9), $"t = {t}");
            Assert.True(torch.allclose(a.PredOriginalSample, b.PredOriginalSample, rtol: 1e-9, atol: 1e-9), $"t = {t}");
            Assert.True(a.PredOriginalSample.abs().max().item<double>() <= 1.0); // clipped
        }
    }

    [Fact]
    public void LastStepAddsNoNoise()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddpm = new DdpmScheduler();
        var xt = torch.randn(new long[] { 3, 2 }, dtype: ScalarType.Float64);
        var e = torch.randn(new long[] { 3, 2 }, dtype: ScalarType.Float64);
        var a = ddpm.Step(e, 0, xt, new Generator(1)).PrevSample;
        var b = ddpm.Step(e, 0, xt, new Generator(2)).PrevSample;
        Assert.True(torch.allclose(a, b, rtol: 0, atol: 0));
        // abar_{-1} = 1: the last step returns the (clipped) x_0 estimate itself.
        Assert.True(torch.allclose(a, ddpm.Step(e, 0, xt).PredOriginalSample, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void BadStepArgumentsAreRefused()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddpm = new DdpmScheduler();
        var x = torch.zeros(2, 3);
        Assert.Contains("got 100", Assert.Throws<ArgumentException>(() => ddpm.Step(x, 100, x)).Message);
        Assert.Contains("(2, 4)", Assert.Throws<ArgumentException>(() => ddpm.Step(torch.zeros(2, 4), 5, x)).Message);
    }
}

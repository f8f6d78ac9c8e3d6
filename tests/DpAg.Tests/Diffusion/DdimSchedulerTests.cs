using DpAg.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Diffusion;

public class DdimSchedulerTests
{
    [Fact]
    public void TimestepsUseLeadingSpacingWithAnyNumberOfSteps()
    {
        Torch.Init();
        var ddim = new DdimScheduler();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 6 * (15 - i)), ddim.Timesteps);
        ddim.SetTimesteps(10);
        Assert.Equal(new[] { 90, 80, 70, 60, 50, 40, 30, 20, 10, 0 }, ddim.Timesteps);
        ddim.SetTimesteps(1);
        Assert.Equal(new[] { 0 }, ddim.Timesteps);
        ddim.SetTimesteps(100);
        Assert.Equal(Enumerable.Range(0, 100).Reverse(), ddim.Timesteps);
        var e = Assert.Throws<ArgumentException>(() => ddim.SetTimesteps(101));
        Assert.Contains("got 101", e.Message);
    }

    [Fact]
    public void ConfigValidationNamesTheFieldAndValue()
    {
        var e = Assert.Throws<ArgumentException>(() => new DdimSchedulerConfig(Eta: -0.5).Validate());
        Assert.Contains("Eta", e.Message);
        Assert.Contains("-0.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DdimSchedulerConfig(NumInferenceSteps: 0).Validate());
        Assert.Contains("NumInferenceSteps", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DdimSchedulerConfig(NumTrainTimesteps: 0).Validate());
        Assert.Contains("NumTrainTimesteps", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DdimSchedulerConfig(StepsOffset: 10, NumInferenceSteps: 100).Validate());
        Assert.Contains("StepsOffset = 10", e.Message);
    }

    [Fact]
    public void EtaZeroIsDeterministicAndTheLastStepReturnsX0WithAlphaToOne()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddim = new DdimScheduler(new DdimSchedulerConfig(NumInferenceSteps: 10));
        var xt = torch.randn(new long[] { 4, 8, 2 }, dtype: ScalarType.Float64);
        var e = torch.randn(new long[] { 4, 8, 2 }, dtype: ScalarType.Float64);
        var a = ddim.Step(e, 50, xt, new Generator(1));
        var b = ddim.Step(e, 50, xt, new Generator(2));
        Assert.True(torch.allclose(a.PrevSample, b.PrevSample, rtol: 0, atol: 0));
        // Song et al. 2021 eq. 12 with sigma = 0.
        var s = ddim.Schedule;
        double abar = s.AlphasCumprod[50], abarPrev = s.AlphasCumprod[40];
        var x0 = ((xt - Math.Sqrt(1 - abar) * e) / Math.Sqrt(abar)).clamp(-1, 1);
        var expected = Math.Sqrt(abarPrev) * x0 + Math.Sqrt(1 - abarPrev) * e;
        Assert.True(torch.allclose(expected, a.PrevSample, rtol: 1e-12, atol: 1e-12));
        var last = ddim.Step(e, 0, xt);
        Assert.True(torch.allclose(last.PredOriginalSample, last.PrevSample, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void WithoutAlphaToOneTheLastStepTargetsAbar0()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddim = new DdimScheduler(new DdimSchedulerConfig(SetAlphaToOne: false, ClipSample: false, NumInferenceSteps: 10));
        Assert.Equal(ddim.Schedule.AlphasCumprod[0], ddim.FinalAlphaCumprod);
        var xt = torch.randn(new long[] { 6 }, dtype: ScalarType.Float64);
        var e = torch.randn(new long[] { 6 }, dtype: ScalarType.Float64);
        var step = ddim.Step(e, 0, xt);
        // t = 0 and t' = "-1" share abar_0, so x_{t'} = x_t.
        Assert.True(torch.allclose(xt, step.PrevSample, rtol: 1e-12, atol: 1e-12));
    }

    [Fact]
    public void EtaOneWithAllStepsEqualsDdpm()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var ddim = new DdimScheduler(new DdimSchedulerConfig(Eta: 1, ClipSample: false, NumInferenceSteps: 100));
        var ddpm = new DdpmScheduler(new DdpmSchedulerConfig(ClipSample: false));
        var xt = torch.randn(new long[] { 8, 4, 2 }, dtype: ScalarType.Float64, generator: new Generator(11));
        var e = torch.randn(new long[] { 8, 4, 2 }, dtype: ScalarType.Float64, generator: new Generator(12));
        foreach (int t in new[] { 99, 70, 50, 10, 1 })
        {
            Assert.Equal(ddpm.Variance(t), ddim.Variance(t), 12);
            var a = ddim.Step(e, t, xt, new Generator(13)).PrevSample;
            var b = ddpm.Step(e, t, xt, new Generator(13)).PrevSample;
            Assert.True(torch.allclose(a, b, rtol: 1e-9, atol: 1e-9), $"t = {t}: max |diff| {(a - b).abs().max().item<double>()}");
        }
    }

    [Fact]
    public void SamplePredictionGivesTheSameStepAsTheEquivalentEpsilon()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var eps = new DdimScheduler(new DdimSchedulerConfig(ClipSample: false, NumInferenceSteps: 10));
        var sample = new DdimScheduler(new DdimSchedulerConfig(ClipSample: false, NumInferenceSteps: 10, PredictionType: PredictionType.Sample));
        var xt = torch.randn(new long[] { 5, 3 }, dtype: ScalarType.Float64);
        var e = torch.randn(new long[] { 5, 3 }, dtype: ScalarType.Float64);
        foreach (int t in new[] { 90, 40, 0 })
        {
            double abar = eps.Schedule.AlphasCumprod[t];
            var x0 = (xt - Math.Sqrt(1 - abar) * e) / Math.Sqrt(abar);
            Assert.True(torch.allclose(eps.Step(e, t, xt).PrevSample, sample.Step(x0, t, xt).PrevSample, rtol: 1e-9, atol: 1e-9), $"t = {t}");
        }
    }
}

using DpAg.Diffusion;
using TorchSharp;

namespace DpAg.Tests.Diffusion;

public class NoiseScheduleTests
{
    private static void Rel(double expected, double actual, double rel) =>
        Assert.True(Math.Abs(actual - expected) <= rel * Math.Abs(expected), $"expected {expected:R}, got {actual:R} (relative tolerance {rel})");

    [Fact]
    public void CosineScheduleMatchesThePushTCheckValues()
    {
        Torch.Init();
        var s = new NoiseSchedule(100, BetaScheduleKind.SquaredCosCapV2);
        Rel(6.3128e-4, s.Betas[0], 1e-4);
        Rel(1.1169e-3, s.Betas[1], 1e-4);
        Rel(0.74994, s.Betas[98], 1e-5);
        Assert.Equal((double)(float)0.999, s.Betas[99]);
        Assert.Equal(0.99936873, s.AlphasCumprod[0], 7);
        Assert.Equal(0.49384353, s.AlphasCumprod[49], 7);
        Rel(2.4285e-7, s.AlphasCumprod[99], 1e-4);
    }

    [Fact]
    public void AlphasAreOneMinusBetasAndAbarIsTheirRunningProductInFloat32()
    {
        Torch.Init();
        var s = new NoiseSchedule(100, BetaScheduleKind.SquaredCosCapV2);
        double product = 1;
        for (int t = 0; t < 100; t++)
        {
            Assert.Equal((double)(1f - (float)s.Betas[t]), s.Alphas[t]);
            Assert.Equal((double)(float)s.AlphasCumprod[t], s.AlphasCumprod[t]); // float32 values
            product *= s.Alphas[t];
            Rel(product, s.AlphasCumprod[t], 1e-5);
        }
        using var scope = torch.NewDisposeScope();
        var tensor = s.AlphasCumprodTensor();
        Assert.Equal(torch.ScalarType.Float32, tensor.dtype);
        Assert.Equal(new long[] { 100 }, tensor.shape);
        Assert.Equal(s.AlphasCumprod.Select(a => (float)a).ToArray(), tensor.data<float>().ToArray());
        Assert.Equal(s.Betas.Select(a => (float)a).ToArray(), s.BetasTensor().data<float>().ToArray());
        Assert.Equal(s.Alphas.Select(a => (float)a).ToArray(), s.AlphasTensor().data<float>().ToArray());
    }

    [Fact]
    public void LinearScheduleRunsFromBetaStartToBetaEnd()
    {
        Torch.Init();
        var s = new NoiseSchedule(1000, BetaScheduleKind.Linear);
        Assert.Equal((double)1e-4f, s.Betas[0]);
        Assert.Equal(0.02, s.Betas[999], 6);
        for (int t = 1; t < 1000; t++) Rel((0.02 - 1e-4) / 999, s.Betas[t] - s.Betas[t - 1], 1e-3);
    }

    [Fact]
    public void BadArgumentsSayWhatWasReceived()
    {
        Torch.Init();
        var e = Assert.Throws<ArgumentException>(() => new NoiseSchedule(0, BetaScheduleKind.SquaredCosCapV2));
        Assert.Contains("got 0", e.Message);
        e = Assert.Throws<ArgumentException>(() => new NoiseSchedule(10, BetaScheduleKind.Linear, 0.1, 0.01));
        Assert.Contains("0.1", e.Message);
    }
}

using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Losses;

public class KlDivergenceTests
{
    private const double Log2Pi = 1.8378770664093453;

    /// <summary>log N(x; m, exp(lv)) summed over the last dimension.</summary>
    private static Tensor LogNormal(Tensor x, Tensor m, Tensor lv) => (-0.5 * (Log2Pi + lv + (x - m).pow(2) * torch.exp(-lv))).sum(-1);

    /// <summary>Asserts that a closed-form KL (one sample, summed) matches the Monte Carlo mean of log q - log p.</summary>
    private static void AssertMatchesMonteCarlo(double closedForm, Tensor muQ, Tensor lvQ, Tensor muP, Tensor lvP)
    {
        const int N = 200_000;
        using var gen = new Generator(seed: 7);
        var z = muQ + torch.exp(0.5 * lvQ) * torch.randn(new long[] { N, muQ.shape[1] }, dtype: ScalarType.Float64, generator: gen); // (N, D)
        var ratio = LogNormal(z, muQ, lvQ) - LogNormal(z, muP, lvP);                                                                    // (N)
        double mean = ratio.mean().item<double>(), se = ratio.std().item<double>() / Math.Sqrt(N);
        Assert.True(Math.Abs(mean - closedForm) < 5 * se, $"closed form {closedForm}, Monte Carlo {mean} +- {se}");
    }

    [Fact]
    public void ClosedFormsMatchMonteCarlo()
    {
        Torch.Init(seed: 31);
        using var scope = torch.NewDisposeScope();
        var mu = torch.tensor(new[] { 0.3, -1.2, 0.8, 2.0 }, dtype: ScalarType.Float64).reshape(1, 4);
        var lv = torch.tensor(new[] { -0.5, 0.7, -1.5, 0.1 }, dtype: ScalarType.Float64).reshape(1, 4);
        var zt = torch.tensor(new[] { 0.1, -0.4, 1.5, 1.0 }, dtype: ScalarType.Float64).reshape(1, 4);
        var lvP = torch.tensor(new[] { 0.4, -0.3, 0.2, -0.8 }, dtype: ScalarType.Float64).reshape(1, 4);
        var zeros = torch.zeros_like(mu);
        AssertMatchesMonteCarlo(KlDivergence.ToStandardNormal(mu, lv, Reduction.Sum).item<double>(), mu, lv, zeros, zeros);
        AssertMatchesMonteCarlo(KlDivergence.ToShiftedStandardNormal(mu, lv, zt, Reduction.Sum).item<double>(), mu, lv, zt, zeros);
        AssertMatchesMonteCarlo(KlDivergence.DiagonalGaussians(mu, lv, zt, lvP, Reduction.Sum).item<double>(), mu, lv, zt, lvP);
        // The general form reduces to the special ones.
        Assert.Equal(KlDivergence.ToStandardNormal(mu, lv, Reduction.Sum).item<double>(), KlDivergence.DiagonalGaussians(mu, lv, zeros, zeros, Reduction.Sum).item<double>(), 1e-12);
        Assert.Equal(KlDivergence.ToShiftedStandardNormal(mu, lv, zt, Reduction.Sum).item<double>(), KlDivergence.DiagonalGaussians(mu, lv, zt, zeros, Reduction.Sum).item<double>(), 1e-12);
        Assert.Equal(0.0, KlDivergence.DiagonalGaussians(mu, lv, mu, lv, Reduction.Sum).item<double>(), 1e-14);
    }

    [Fact]
    public void ReductionsAreConsistent()
    {
        Torch.Init(seed: 32);
        using var scope = torch.NewDisposeScope();
        var mu = Randn(3, 2, 4);
        var lv = Randn(3, 2, 4);
        double sum = KlDivergence.ToStandardNormal(mu, lv, Reduction.Sum).item<double>();
        Assert.Equal(sum / 24, KlDivergence.ToStandardNormal(mu, lv, Reduction.Mean).item<double>(), 1e-12);
        Assert.Equal(sum / 3, KlDivergence.ToStandardNormal(mu, lv, Reduction.BatchMean).item<double>(), 1e-12);
        var perSample = KlDivergence.ToStandardNormal(mu, lv, Reduction.PerSample);
        Assert.Equal(new long[] { 3 }, perSample.shape);
        Assert.Equal(sum, perSample.sum().item<double>(), 1e-12);
        Assert.Equal(KlDivergence.ToShiftedStandardNormal(mu, lv, mu.detach() * 0, Reduction.Sum).item<double>(), sum, 1e-12);
        Assert.Equal(KlDivergence.ToPrior(KlPrior.StandardNormal, mu, lv, mu, Reduction.Sum).item<double>(), sum, 1e-12);
        Assert.Equal(0.5 * (torch.exp(lv) - 1 - lv).sum().item<double>(), KlDivergence.ToPrior(KlPrior.StaticLatent, mu, lv, mu, Reduction.Sum).item<double>(), 1e-12);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        Torch.Init(seed: 33);
        using var scope = torch.NewDisposeScope();
        var mu = Randn(2, 3).requires_grad_(true);
        var lv = (0.5 * Randn(2, 3)).requires_grad_(true);
        var zt = Randn(2, 3).requires_grad_(true);
        var lvP = (0.5 * Randn(2, 3)).requires_grad_(true);

        void Check(Func<Tensor, Tensor, Tensor, Tensor, Tensor> kl, string name)
        {
            var value = kl(mu, lv, zt, lvP);
            var grads = torch.autograd.grad(new[] { value }, new[] { mu, lv, zt, lvP }, retain_graph: false, create_graph: false, allow_unused: true);
            var inputs = new[] { mu, lv, zt, lvP };
            for (int i = 0; i < 4; i++)
            {
                int index = i;
                var fd = CentralDifferences(x =>
                {
                    var args = inputs.Select((t, j) => j == index ? x : t.detach()).ToArray();
                    return kl(args[0], args[1], args[2], args[3]).item<double>();
                }, inputs[i]);
                var analytic = grads[i] is { IsInvalid: false } g ? Values(g) : new double[fd.Length];
                AssertClose(fd, analytic, 1e-8, 1e-6, $"{name} d/d input {i}");
            }
        }

        Check((m, l, _, _) => KlDivergence.ToStandardNormal(m, l, Reduction.Mean), "to N(0, I)");
        Check((m, l, p, _) => KlDivergence.ToShiftedStandardNormal(m, l, p, Reduction.Sum), "to N(z_t, I)");
        Check((m, l, p, lp) => KlDivergence.DiagonalGaussians(m, l, p, lp, Reduction.BatchMean), "general");
    }

    [Fact]
    public void PathSpaceKlOfOneStepIsTheKlOfTheTransitionKernels()
    {
        Torch.Init(seed: 34);
        using var scope = torch.NewDisposeScope();
        const double dt = 0.1;
        var z = Randn(2, 3);
        var sigma = torch.exp(0.3 * Randn(2, 3));
        var bP = Randn(2, 3);
        var bQ = Randn(2, 3);
        var path = KlDivergence.PathSpace(new[] { bP }, new[] { bQ }, sigma, dt);
        var logVar = torch.log(sigma.pow(2) * dt);
        var kernels = KlDivergence.DiagonalGaussians(z + bP * dt, logVar, z + bQ * dt, logVar, Reduction.PerSample);
        AssertClose(Values(kernels), Values(path), 1e-13, 1e-11, "one step");
    }

    [Fact]
    public void PathSpaceKlIsTheExpectedLogRatioOfTwoEulerMaruyamaChains()
    {
        Torch.Init(seed: 35);
        using var scope = torch.NewDisposeScope();
        const int N = 100_000, K = 3;
        const double dt = 0.2, s = 0.7;
        Tensor DriftP(Tensor x) => -x;
        Tensor DriftQ(Tensor x) => 0.5 * x + 1.0;
        using var gen = new Generator(seed: 5);
        var z = torch.randn(new long[] { N, 2 }, dtype: ScalarType.Float64, generator: gen);
        var sigma = torch.full(new long[] { 1, 2 }, s, dtype: ScalarType.Float64);
        var lv = torch.full(new long[] { 1, 2 }, Math.Log(s * s * dt), dtype: ScalarType.Float64);
        var logRatio = torch.zeros(N, dtype: ScalarType.Float64);
        var dP = new List<Tensor>();
        var dQ = new List<Tensor>();
        for (int k = 0; k < K; k++)
        {
            var (bp, bq) = (DriftP(z), DriftQ(z));
            var next = z + bp * dt + s * Math.Sqrt(dt) * torch.randn(new long[] { N, 2 }, dtype: ScalarType.Float64, generator: gen);
            logRatio += LogNormal(next, z + bp * dt, lv) - LogNormal(next, z + bq * dt, lv);
            dP.Add(bp);
            dQ.Add(bq);
            z = next;
        }
        var girsanov = KlDivergence.PathSpace(dP, dQ, sigma, dt);                  // (N): one value per path
        double mcMean = logRatio.mean().item<double>(), mcSe = logRatio.std().item<double>() / Math.Sqrt(N);
        double gMean = girsanov.mean().item<double>(), gSe = girsanov.std().item<double>() / Math.Sqrt(N);
        double se = Math.Sqrt(mcSe * mcSe + gSe * gSe);
        Assert.True(Math.Abs(mcMean - gMean) < 5 * se, $"log-ratio {mcMean} +- {mcSe}, Girsanov {gMean} +- {gSe}");
        Assert.Equal(new long[] { N }, girsanov.shape);
    }

    [Fact]
    public void BadShapesAreReported()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        Assert.Contains("logVar has shape [2, 4]", Assert.Throws<ArgumentException>(() => KlDivergence.ToStandardNormal(torch.zeros(2, 3), torch.zeros(2, 4))).Message);
        Assert.Contains("dt", Assert.Throws<ArgumentException>(() => KlDivergence.PathSpace(new[] { torch.zeros(1, 2) }, new[] { torch.zeros(1, 2) }, torch.ones(1), 0)).Message);
        Assert.Contains("steps", Assert.Throws<ArgumentException>(() => KlDivergence.PathSpace(new[] { torch.zeros(1, 2) }, Array.Empty<Tensor>(), torch.ones(1), 1)).Message);
    }
}

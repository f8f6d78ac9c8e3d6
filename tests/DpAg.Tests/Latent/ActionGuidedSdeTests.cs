using DpAg.Latent;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Latent;

public class ActionGuidedSdeTests
{
    [Fact]
    public void ReleasedStepHasUnitVjpPerObsStepAndAddsSigmaTimesItToMuWithoutAGraph()
    {
        Torch.Init(seed: 21);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var feature = Randn(3, p.To, p.F).requires_grad_(true);        // (B, To, F)
        var logvar = (0.3 * Randn(3, p.To, p.F)).requires_grad_(true);
        var sigma = torch.exp(0.5 * logvar);
        var eps = p.Forward(feature);
        var g = ActionGuidedSde.ReleasedStep(eps, feature, feature, sigma, keepPredictorGraph: true);

        var norms = torch.linalg.vector_norm(g.Direction, 2, new long[] { -1 }); // (B, To)
        AssertClose(Enumerable.Repeat(1.0, 3 * (int)p.To).ToArray(), Values(norms), 1e-12, 0, "unit norm per obs step");
        AssertClose(Values(sigma * g.Direction), Values(g.Latent - feature), 1e-14, 1e-12, "z_guided - mu");
        // The direction is the normalised VJP of Eq. 2, recomputed independently.
        var vjp = Vjp.Compute(eps, feature, retainGraph: true);
        AssertClose(Values(vjp / torch.linalg.vector_norm(vjp, 2, new long[] { -1 }, keepdim: true)), Values(g.Direction), 1e-13, 1e-11, "unit VJP");
        // No graph through the VJP: only mu and sigma carry gradients; d sum(z_guided) / d logvar = sigma/2 * unit.
        Assert.False(g.Vjp.requires_grad);
        Assert.False(g.Direction.requires_grad);
        var dLogvar = torch.autograd.grad(new[] { g.Latent.sum() }, new[] { logvar }, retain_graph: true, create_graph: false)[0];
        AssertClose(Values(0.5 * sigma * g.Direction), Values(dLogvar), 1e-14, 1e-12, "d z_guided / d logvar");
        // The predictor's graph was kept for the diffusion loss.
        eps.pow(2).mean().backward();
        Assert.NotNull(feature.grad);
        // With mu and sigma constants the guided latent carries no graph at all.
        var g2 = ActionGuidedSde.ReleasedStep(p.Forward(feature), feature, feature.detach(), sigma.detach(), keepPredictorGraph: false);
        Assert.False(g2.Latent.requires_grad);
    }

    [Fact]
    public void PerSampleNormalisationGivesUnitNormOverTheWholeSample()
    {
        Torch.Init(seed: 22);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(4, p.To, p.F).requires_grad_(true);
        var config = LatentGuidanceConfig.ReleasedCode with { NormalisePerObsStep = false };
        var (_, d) = ActionGuidedSde.Direction(p.Forward(z), z, config, keepPredictorGraph: false);
        AssertClose(new[] { 1.0, 1.0, 1.0, 1.0 }, Values(torch.linalg.vector_norm(d.reshape(4, -1), 2, new long[] { 1 })), 1e-12, 0, "unit norm per sample");
        // A zero VJP stays zero (the norm floor), no NaN.
        Assert.Equal(0.0, ActionGuidedSde.Normalise(torch.zeros(2, 3, dtype: ScalarType.Float64), 1e-8, true).abs().sum().item<double>());
        // Any (B, ...): a 4-D latent is normalised over all of its non-batch dimensions.
        var v4 = Randn(3, 2, 4, 5);
        var n4 = ActionGuidedSde.Normalise(v4, 1e-8, perObsStep: false);
        Assert.Equal(v4.shape, n4.shape);
        AssertClose(new[] { 1.0, 1.0, 1.0 }, Values(torch.linalg.vector_norm(n4.reshape(3, -1), 2, new long[] { 1 })), 1e-12, 0, "unit norm per 4-D sample");
    }

    [Fact]
    public void PaperReparameterisationIsMuPlusGammaSigmaVjpAndDifferentiatesThroughTheVjp()
    {
        Torch.Init(seed: 23);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(2, p.To, p.F).requires_grad_(true);
        var sigma = torch.exp(0.5 * Randn(2, p.To, p.F));
        var w = Randn(2, p.To, p.F);
        var config = LatentGuidanceConfig.Paper with { Gamma = 0.3 };
        var g = ActionGuidedSde.Reparameterise(p.Forward(z), z, z, sigma, config, keepPredictorGraph: false);
        var vjp = Vjp.Compute(p.Forward(z), z);
        AssertClose(Values(z + 0.3 * sigma * vjp), Values(g.Latent), 1e-14, 1e-12, "z~ = mu + gamma sigma VJP");
        // Detach = false: d <w, z~> / dz = w + gamma * H (sigma w), checked against central differences of z~(z).
        Assert.True(g.Direction.requires_grad);
        var grad = torch.autograd.grad(new[] { (g.Latent * w).sum() }, new[] { z }, retain_graph: false, create_graph: false)[0];
        var fd = CentralDifferences(x =>
        {
            using var on = torch.enable_grad();
            var xl = x.clone().requires_grad_(true);
            var v = Vjp.Compute(p.Forward(xl), xl);
            return ((x + 0.3 * sigma * v) * w).sum().item<double>();
        }, z, 1e-5);
        AssertClose(fd, Values(grad), 1e-7, 1e-5, "gradient through the VJP");
    }

    [Fact]
    public void SdeWithZeroGammaAndNoNoiseLeavesTheLatentUnchanged()
    {
        Torch.Init(seed: 24);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(3, p.To, p.F);
        var sigma = torch.ones_like(z);
        var config = LatentGuidanceConfig.Paper with { Form = GuidanceForm.Sde, Gamma = 0, Noise = false };
        var trajectory = ActionGuidedSde.Integrate((k, latent) => p.Forward(latent), z, sigma, 5, config);
        Assert.Equal(6, trajectory.Count);
        foreach (var zk in trajectory) AssertClose(Values(z), Values(zk), 0, 0, "z^k");
    }

    [Fact]
    public void SignFlipReversesTheDriftAndPlusOneAscendsHalfSquaredNorm()
    {
        Torch.Init(seed: 25);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor();
        var z = Randn(3, p.To, p.F);
        var sigma = torch.ones_like(z);
        var up = LatentGuidanceConfig.Paper with { Form = GuidanceForm.Sde, Gamma = 1e-3, Noise = false, Dt = 0.5, Detach = true };
        var down = up with { Sign = -1 };
        var zUp = ActionGuidedSde.EulerMaruyamaStep(p.Forward, z, sigma, up).Latent;
        var zDown = ActionGuidedSde.EulerMaruyamaStep(p.Forward, z, sigma, down).Latent;
        AssertClose(Values(zUp - z), Values(z - zDown), 1e-15, 1e-12, "drift(+1) = -drift(-1)");
        double n0, nUp, nDown;
        using (torch.no_grad())
        {
            n0 = p.Forward(z).pow(2).sum().item<double>();
            nUp = p.Forward(zUp).pow(2).sum().item<double>();
            nDown = p.Forward(zDown).pow(2).sum().item<double>();
        }
        Assert.True(nUp > n0 && n0 > nDown, $"||eps||^2: down {nDown}, start {n0}, up {nUp}");
    }

    [Fact]
    public void SdeNoiseHasVarianceSigmaSquaredDtAndIsReproducibleWithAGenerator()
    {
        Torch.Init(seed: 26);
        using var scope = torch.NewDisposeScope();
        const int B = 4000;
        // A predictor with zero VJP everywhere isolates the diffusion term.
        Func<Tensor, Tensor> constant = latent => latent.sum(new long[] { 1, 2 }, keepdim: true) * 0.0 + 1.0;
        var z = torch.zeros(B, 1, 2, dtype: ScalarType.Float64);
        var sigma = torch.tensor(new[] { 0.5, 2.0 }, dtype: ScalarType.Float64).reshape(1, 1, 2);
        var config = LatentGuidanceConfig.Paper with { Form = GuidanceForm.Sde, Noise = true, Dt = 0.25 };
        using var gen = new Generator(seed: 99);
        var step = ActionGuidedSde.EulerMaruyamaStep(constant, z, sigma, config, gen).Latent;
        var variance = Values(step.var(new long[] { 0, 1 }));
        double[] expected = { 0.25 * 0.25, 4.0 * 0.25 };
        for (int i = 0; i < 2; i++)
        {
            double se = expected[i] * Math.Sqrt(2.0 / (B - 1)); // standard error of a Gaussian sample variance
            Assert.True(Math.Abs(variance[i] - expected[i]) < 5 * se, $"variance[{i}] = {variance[i]}, expected {expected[i]} +- {se}");
        }
        using var gen2 = new Generator(seed: 99);
        var again = ActionGuidedSde.EulerMaruyamaStep(constant, z, sigma, config, gen2).Latent;
        AssertClose(Values(step), Values(again), 0, 0, "same seed");
    }

    [Fact]
    public void ConfigValidationNamesTheFieldAndTheValue()
    {
        var e = Assert.Throws<ArgumentException>(() => (LatentGuidanceConfig.ReleasedCode with { Sign = 0 }).Validate());
        Assert.Contains("Sign = 0", e.Message);
        Assert.Contains("Gamma = -1", Assert.Throws<ArgumentException>(() => (LatentGuidanceConfig.Paper with { Gamma = -1 }).Validate()).Message);
        Assert.Contains("NormEpsilon", Assert.Throws<ArgumentException>(() => (LatentGuidanceConfig.Paper with { NormEpsilon = 0 }).Validate()).Message);
        Assert.Contains("Dt", Assert.Throws<ArgumentException>(() => (LatentGuidanceConfig.Paper with { Dt = 0 }).Validate()).Message);
        LatentGuidanceConfig.ReleasedCode.Validate();
        LatentGuidanceConfig.Paper.Validate();
        Assert.True(LatentGuidanceConfig.ReleasedCode.Normalise && LatentGuidanceConfig.ReleasedCode.Detach);
        Assert.False(LatentGuidanceConfig.Paper.Normalise || LatentGuidanceConfig.Paper.Detach);
    }

    [Fact]
    public void WorksInFloat32AsThePolicyRunsIt()
    {
        Torch.Init(seed: 27);
        using var scope = torch.NewDisposeScope();
        using var net = nn.Sequential(nn.Linear(6, 16), nn.Mish(), nn.Linear(16, 8));
        Tensor Predictor(Tensor latent) => net.forward(latent.reshape(latent.shape[0], 6)).reshape(latent.shape[0], 4, 2);
        var feature = torch.randn(5, 2, 3).requires_grad_(true);              // float32 (B, To, F)
        var sigma = torch.full_like(feature, 0.3f);
        var g = ActionGuidedSde.ReleasedStep(Predictor(feature), feature, feature, sigma, keepPredictorGraph: false);
        Assert.Equal(ScalarType.Float32, g.Latent.dtype);
        var norms = Values(torch.linalg.vector_norm(g.Direction, 2, new long[] { -1 }));
        AssertClose(Enumerable.Repeat(1.0, norms.Length).ToArray(), norms, 1e-6, 0, "unit norm in float32");
        var check = DpAg.Losses.Theorem1.Measure(Predictor(feature), Predictor(g.Latent), 0.8);
        Assert.True(check.MeanPositiveCosine >= check.CosineLowerBound);
    }
}

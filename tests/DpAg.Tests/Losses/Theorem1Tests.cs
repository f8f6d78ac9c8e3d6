using DpAg.Latent;
using DpAg.Losses;
using DpAg.Tests.Latent;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Losses;

public class Theorem1Tests
{
    [Fact]
    public void BoundsHaveTheStatedFormulas()
    {
        // B = 9: ln 8 = 2.0794415416798357.
        double ln8 = Math.Log(8);
        Assert.Equal(0.5 * ln8 - 1 - 0.5 * 0.7, Theorem1.PositiveCosineLowerBound(0.5, 9, 0.7), 1e-14);
        Assert.Equal(2 * 1.5 * 1.5 * (2 - 0.5 * ln8 + 0.5 * 0.7), Theorem1.StepBound(1.5, 0.5, 9, 0.7), 1e-13);
        Assert.Equal(2 - 2 * Theorem1.PositiveCosineLowerBound(0.5, 9, 0.7), Theorem1.SquaredUnitDistanceBound(0.5, 9, 0.7), 1e-14);
        // Informative (bound on ||u - v||^2 below the trivial 4) exactly when alpha < ln(B - 1).
        Assert.True(Theorem1.IsInformative(9, ln8 - 1e-9));
        Assert.False(Theorem1.IsInformative(9, ln8));
        Assert.True(Theorem1.SquaredUnitDistanceBound(0.5, 9, ln8 - 0.1) < 4);
        Assert.True(Theorem1.SquaredUnitDistanceBound(0.5, 9, ln8 + 0.1) > 4);
        Assert.Throws<ArgumentException>(() => Theorem1.StepBound(1, 0.5, 1, 0));
        Assert.Throws<ArgumentException>(() => Theorem1.PositiveCosineLowerBound(0, 4, 0));
    }

    [Fact]
    public void WheneverTheLossIsBelowAlphaThePositiveCosineBoundHolds()
    {
        Torch.Init(seed: 71);
        using var gen = new Generator(seed: 71);
        var rng = new Random(71);
        int informative = 0;
        for (int draw = 0; draw < 300; draw++)
        {
            using var scope = torch.NewDisposeScope();
            int b = rng.Next(2, 17), d = rng.Next(2, 9);
            double tau = 0.05 + 1.95 * rng.NextDouble(), spread = 2 * rng.NextDouble();
            var u = torch.randn(new long[] { b, d }, dtype: ScalarType.Float64, generator: gen);
            u = u / torch.linalg.vector_norm(u, 2, new long[] { 1 }, keepdim: true);                       // random unit vectors
            var v = u + spread * torch.randn(new long[] { b, d }, dtype: ScalarType.Float64, generator: gen);
            v = v / torch.linalg.vector_norm(v, 2, new long[] { 1 }, keepdim: true);
            var config = new ContrastiveConfig { Temperature = tau, PositiveInDenominator = false, Direction = InfoNceDirection.OneWay };
            var rowLoss = Values(InfoNce.PerSample(u, v, config));
            var cos = Values((u * v).sum(1));
            var dist = Values((u - v).pow(2).sum(1));
            for (int i = 0; i < b; i++)
            {
                Assert.Equal(2 - 2 * cos[i], dist[i], 1e-12);                                                  // ||u - v||^2 = 2 - 2 s+
                double alpha = rowLoss[i] + rng.NextDouble() * (rng.Next(2) == 0 ? 0 : 1);                   // any alpha >= L
                Assert.True(cos[i] >= Theorem1.PositiveCosineLowerBound(tau, b, alpha) - 1e-12, $"draw {draw} row {i}: s+ = {cos[i]}, bound {Theorem1.PositiveCosineLowerBound(tau, b, alpha)}");
                Assert.True(dist[i] <= Theorem1.SquaredUnitDistanceBound(tau, b, alpha) + 1e-12);
            }
            // The batch form: mean loss <= alpha bounds the mean positive cosine.
            double meanLoss = rowLoss.Average();
            Assert.True(cos.Average() >= Theorem1.PositiveCosineLowerBound(tau, b, meanLoss) - 1e-12);
            if (Theorem1.IsInformative(b, meanLoss)) informative++;
        }
        Assert.True(informative > 10, $"only {informative} informative draws; the property test would be vacuous");
    }

    [Fact]
    public void TheBoundHoldsOnPredictionsFromStaticAndGuidedLatents()
    {
        Torch.Init(seed: 72);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor(hidden: 32);
        foreach (double gamma in new[] { 0.01, 0.1, 1.0 })
        {
            var z = Randn(8, p.To, p.F).requires_grad_(true);
            var sigma = torch.full_like(z, 0.5);
            var eps = p.Forward(z);
            var config = LatentGuidanceConfig.ReleasedCode with { Gamma = gamma };
            var guided = ActionGuidedSde.Reparameterise(eps, z, z.detach(), sigma, config, keepPredictorGraph: false);
            Tensor epsGuided;
            using (torch.no_grad()) epsGuided = p.Forward(guided.Latent);
            foreach (double tau in new[] { 0.1, 0.8 })
            {
                var check = Theorem1.Measure(eps, epsGuided, tau);
                // Above ln(B - 1) the bound is below -1 and holds for any vectors: the check would be empty.
                Assert.True(Theorem1.IsInformative(8, check.Loss), $"gamma {gamma}, tau {tau}: loss {check.Loss} leaves the bound uninformative");
                Assert.True(check.MeanPositiveCosine >= check.CosineLowerBound - 1e-12, $"gamma {gamma}, tau {tau}: {check}");
                Assert.Equal(2 - 2 * check.MeanPositiveCosine, check.MeanSquaredUnitDistance, 1e-12);
            }
        }
    }

    [Fact]
    public void TheBoundHoldsBetweenPredictionsAtConsecutiveSdeSteps()
    {
        Torch.Init(seed: 73);
        using var scope = torch.NewDisposeScope();
        using var p = new TestPredictor(hidden: 32);
        using var gen = new Generator(seed: 73);
        var z = Randn(6, p.To, p.F);
        var sigma = torch.full_like(z, 0.2);
        var config = LatentGuidanceConfig.Paper with { Form = GuidanceForm.Sde, Gamma = 0.05, Dt = 0.1, Noise = true, Detach = true };
        var trajectory = ActionGuidedSde.Integrate((k, latent) => p.Forward(latent), z, sigma, 6, config, gen);
        for (int k = 0; k + 1 < trajectory.Count; k++)
        {
            Tensor u, v;
            using (torch.no_grad()) (u, v) = (p.Forward(trajectory[k]), p.Forward(trajectory[k + 1]));
            var check = Theorem1.Measure(u, v, 0.8);
            Assert.True(Theorem1.IsInformative(6, check.Loss), $"step {k}: loss {check.Loss} leaves the bound uninformative");
            Assert.True(check.MeanPositiveCosine >= check.CosineLowerBound - 1e-12, $"step {k}: {check}");
            Assert.Equal(2 - 2 * check.MeanPositiveCosine, check.MeanSquaredUnitDistance, 1e-12);
        }
    }
}

using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Losses;

/// <summary>
/// A linear-Gaussian model where everything is known: z ~ N(m0, diag s0^2), y | z ~ N(A z, sy^2 I).
/// Diagonal A: the posterior is diagonal, so a diagonal q can be exact.
/// </summary>
public class ElboTests
{
    private const double Sy = 0.5;
    private static readonly double[] A = { 1.5, -0.7, 2.0 };
    private static readonly double[] M0 = { 0.2, -1.0, 0.5 };
    private static readonly double[] S0 = { 1.0, 0.6, 1.3 };

    private static Tensor T(double[] values) => torch.tensor(values, dtype: ScalarType.Float64).reshape(1, values.Length);

    /// <summary>log p(y) = sum_i log N(y_i; a_i m0_i, a_i^2 s0_i^2 + sy^2), per row of y (B, 3).</summary>
    private static double[] LogEvidence(double[,] y)
    {
        var result = new double[y.GetLength(0)];
        for (int b = 0; b < result.Length; b++)
            for (int i = 0; i < 3; i++)
            {
                double v = A[i] * A[i] * S0[i] * S0[i] + Sy * Sy, r = y[b, i] - A[i] * M0[i];
                result[b] += -0.5 * (Math.Log(2 * Math.PI * v) + r * r / v);
            }
        return result;
    }

    /// <summary>The exact posterior: var = 1 / (1/s0^2 + a^2/sy^2), mean = var (m0/s0^2 + a y / sy^2).</summary>
    private static (Tensor Mu, Tensor LogVar) Posterior(double[,] y)
    {
        int batch = y.GetLength(0);
        var mu = new double[batch * 3];
        var lv = new double[batch * 3];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < 3; i++)
            {
                double v = 1 / (1 / (S0[i] * S0[i]) + A[i] * A[i] / (Sy * Sy));
                mu[b * 3 + i] = v * (M0[i] / (S0[i] * S0[i]) + A[i] * y[b, i] / (Sy * Sy));
                lv[b * 3 + i] = Math.Log(v);
            }
        return (torch.tensor(mu, dtype: ScalarType.Float64).reshape(batch, 3), torch.tensor(lv, dtype: ScalarType.Float64).reshape(batch, 3));
    }

    private static readonly double[,] Y = { { 0.9, -0.2, 1.7 }, { -1.1, 0.8, 0.3 } };

    private static ElboEstimate Estimate(Tensor muQ, Tensor lvQ, int samples, ulong seed)
    {
        using var gen = new Generator(seed: seed);
        var a = T(A);
        var y = torch.tensor(Y.Cast<double>().ToArray(), dtype: ScalarType.Float64).reshape(2, 3);
        var muP = T(M0).expand(2, 3);
        var lvP = torch.log(T(S0).pow(2)).expand(2, 3);
        return Elbo.MonteCarlo(z => a * z, y, torch.tensor(Math.Log(Sy * Sy), dtype: ScalarType.Float64), muQ, lvQ, muP, lvP, samples, gen);
    }

    [Fact]
    public void ElboIsTightWhenQIsTheTruePosterior()
    {
        Torch.Init(seed: 41);
        using var scope = torch.NewDisposeScope();
        var (mu, lv) = Posterior(Y);
        var est = Estimate(mu, lv, 20_000, 1);
        var truth = LogEvidence(Y);
        var elbo = Values(est.Value);
        var se = Values(est.StandardError);
        for (int b = 0; b < 2; b++)
            Assert.True(Math.Abs(elbo[b] - truth[b]) < 5 * se[b], $"sample {b}: ELBO {elbo[b]} +- {se[b]}, log p(y) {truth[b]}");
    }

    [Fact]
    public void ElboIsBelowTheLogEvidenceByKlToThePosteriorForAnyOtherQ()
    {
        Torch.Init(seed: 42);
        using var scope = torch.NewDisposeScope();
        var (muPost, lvPost) = Posterior(Y);
        var muQ = muPost + torch.tensor(new[] { 0.5, -0.3, 0.2, -0.4, 0.1, 0.6 }, dtype: ScalarType.Float64).reshape(2, 3);
        var lvQ = lvPost + torch.tensor(new[] { 0.7, -0.5, 0.3, 0.2, 0.9, -0.6 }, dtype: ScalarType.Float64).reshape(2, 3);
        var est = Estimate(muQ, lvQ, 20_000, 2);
        var truth = LogEvidence(Y);
        var gap = Values(KlDivergence.DiagonalGaussians(muQ, lvQ, muPost, lvPost, Reduction.PerSample)); // log p(y) - ELBO = KL(q || posterior)
        var elbo = Values(est.Value);
        var se = Values(est.StandardError);
        for (int b = 0; b < 2; b++)
        {
            Assert.True(gap[b] > 0.1, $"the test needs a visible gap, got {gap[b]}");
            Assert.True(elbo[b] + 5 * se[b] < truth[b], $"sample {b}: ELBO {elbo[b]} +- {se[b]} is not below log p(y) {truth[b]}");
            Assert.True(Math.Abs(truth[b] - elbo[b] - gap[b]) < 5 * se[b], $"sample {b}: gap {truth[b] - elbo[b]}, KL(q || posterior) {gap[b]}, se {se[b]}");
        }
    }

    [Fact]
    public void ExpectedLogLikelihoodMatchesItsClosedForm()
    {
        Torch.Init(seed: 43);
        using var scope = torch.NewDisposeScope();
        var muQ = Randn(2, 3);
        var lvQ = 0.3 * Randn(2, 3);
        var est = Estimate(muQ, lvQ, 20_000, 3);
        // E_q log N(y; a z, sy^2) = sum_i -1/2 [log(2 pi sy^2) + ((y_i - a_i mu_i)^2 + a_i^2 var_i) / sy^2]
        var mu = Values(muQ);
        var lv = Values(lvQ);
        var expected = new double[2];
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
            {
                double r = Y[b, i] - A[i] * mu[b * 3 + i];
                expected[b] += -0.5 * (Math.Log(2 * Math.PI * Sy * Sy) + (r * r + A[i] * A[i] * Math.Exp(lv[b * 3 + i])) / (Sy * Sy));
            }
        var mc = Values(est.ExpectedLogLikelihood);
        var se = Values(est.StandardError);
        for (int b = 0; b < 2; b++)
            Assert.True(Math.Abs(mc[b] - expected[b]) < 5 * se[b], $"sample {b}: Monte Carlo {mc[b]} +- {se[b]}, closed form {expected[b]}");
        AssertClose(Values(est.ExpectedLogLikelihood - est.Kl), Values(est.Value), 1e-12, 0, "ELBO = E log p - KL");
    }

    [Fact]
    public void ElboIsBelowTheLogEvidenceWithANonDiagonalLikelihood()
    {
        Torch.Init(seed: 44);
        using var scope = torch.NewDisposeScope();
        // y (2) = W z (3) + N(0, sy^2 I); z ~ N(0, I). log p(y) = log N(y; 0, W W^T + sy^2 I) via Cholesky.
        var w = torch.tensor(new[] { 1.0, 0.5, -0.3, 0.2, -1.2, 0.8 }, dtype: ScalarType.Float64).reshape(2, 3);
        var y = torch.tensor(new[] { 0.7, -1.3 }, dtype: ScalarType.Float64).reshape(1, 2);
        var cov = torch.matmul(w, w.t()) + Sy * Sy * torch.eye(2, dtype: ScalarType.Float64);
        var l = torch.linalg.cholesky(cov);
        var solved = torch.linalg.solve_triangular(l, y.t(), upper: false);             // L^-1 y
        double logEvidence = -0.5 * (2 * Math.Log(2 * Math.PI) + 2 * torch.log(l.diagonal()).sum().item<double>() + solved.pow(2).sum().item<double>());
        // The exact posterior: precision I + W^T W / sy^2, mean = covariance W^T y / sy^2. The ELBO's gap to log p(y) is
        // KL(q || posterior) exactly, so the estimate is checked from both sides, not only for lying below log p(y).
        var postCov = torch.linalg.inv(torch.eye(3, dtype: ScalarType.Float64) + torch.matmul(w.t(), w) / (Sy * Sy));
        var postMean = torch.matmul(postCov, torch.matmul(w.t(), y.t())).t() / (Sy * Sy);            // (1, 3)
        var postPrecision = torch.linalg.inv(postCov);
        double KlToPosterior(Tensor muQ, Tensor lvQ)
        {
            var d = (postMean - muQ).t();                                                              // (3, 1)
            return 0.5 * ((postPrecision.diagonal() * lvQ.exp()[0]).sum().item<double>()
                          + torch.matmul(d.t(), torch.matmul(postPrecision, d)).item<double>() - 3
                          + torch.linalg.slogdet(postCov).Item2.item<double>() - lvQ.sum().item<double>());
        }
        var zeros = torch.zeros(1, 3, dtype: ScalarType.Float64);
        foreach (var (muQ, lvQ) in new[] { (zeros, zeros), (0.3 * Randn(1, 3), -0.5 + 0 * zeros), (Randn(1, 3), Randn(1, 3)) })
        {
            using var gen = new Generator(seed: 9);
            var est = Elbo.MonteCarlo(z => torch.matmul(z, w.t()), y, torch.tensor(Math.Log(Sy * Sy), dtype: ScalarType.Float64), muQ, lvQ, zeros, zeros, 20_000, gen);
            double elbo = est.Value.item<double>(), se = est.StandardError.item<double>(), gap = KlToPosterior(muQ, lvQ);
            Assert.True(gap > 0.05, $"the test needs a visible gap, got {gap}");
            Assert.True(elbo + 5 * se < logEvidence, $"ELBO {elbo} +- {se} is not below log p(y) {logEvidence}");
            Assert.True(Math.Abs(logEvidence - elbo - gap) < 5 * se, $"log p(y) - ELBO = {logEvidence - elbo}, KL(q || posterior) = {gap}, se {se}");
        }
    }
}

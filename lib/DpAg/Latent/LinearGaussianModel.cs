using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Latent;

/// <summary>
/// A latent model in which the DP-AG bound can be checked exactly: prior p(z~ | z_t) = N(z_t, I), likelihood
/// p(y | z~) = N(W z~ + b, s^2 I). Then the marginal p(y | z_t) = N(W z_t + b, W W^T + s^2 I) and the posterior
/// p(z~ | y, z_t) are Gaussian in closed form, so the ELBO can be compared with the true log-likelihood.
/// </summary>
/// <remarks>All tensors are float64. With a diagonal W the posterior is diagonal, so a diagonal q can be exact.</remarks>
public sealed class LinearGaussianModel
{
    /// <summary>Creates the model; <paramref name="w"/> is (m, d), <paramref name="b"/> (m), <paramref name="noiseStd"/> = s.</summary>
    public LinearGaussianModel(Tensor w, Tensor b, double noiseStd)
    {
        if (w.dim() != 2) throw new ArgumentException($"W must be (m, d); got shape ({string.Join(", ", w.shape)}).");
        if (b.dim() != 1 || b.shape[0] != w.shape[0]) throw new ArgumentException($"b must be (m) = ({w.shape[0]}); got ({string.Join(", ", b.shape)}).");
        if (!(noiseStd > 0)) throw new ArgumentException($"noiseStd must be positive; got {noiseStd}.");
        W = w.to(float64).detach(); B = b.to(float64).detach(); NoiseStd = noiseStd;
    }

    /// <summary>W (m, d).</summary>
    public Tensor W { get; }
    /// <summary>b (m).</summary>
    public Tensor B { get; }
    /// <summary>s, the likelihood's noise standard deviation.</summary>
    public double NoiseStd { get; }
    /// <summary>log s^2, as the likelihood log-variance.</summary>
    public double LikelihoodLogVar => 2 * Math.Log(NoiseStd);

    /// <summary>f(z) = W z + b for z (N, d) -> (N, m).</summary>
    public Tensor Mean(Tensor z) => z.matmul(W.T).Plus(B);

    /// <summary>Draws y ~ p(y | z~) for z~ (N, d).</summary>
    public Tensor SampleY(Tensor z, Generator? generator = null) =>
        Mean(z).Plus(torch.randn(new[] { z.shape[0], W.shape[0] }, dtype: float64, generator: generator).Times(NoiseStd));

    /// <summary>The exact log p(y | z_t) = log N(y; W z_t + b, W W^T + s^2 I); y (N, m), zt (N, d) -> (N).</summary>
    public Tensor ExactLogLikelihood(Tensor y, Tensor zt)
    {
        using var scope = torch.NewDisposeScope();
        long m = W.shape[0];
        var cov = W.matmul(W.T).Plus(torch.eye(m, dtype: float64).Times(NoiseStd * NoiseStd)); // (m, m)
        var chol = torch.linalg.cholesky(cov);
        var r = (y - Mean(zt)).unsqueeze(2);                                              // (N, m, 1)
        var solved = torch.linalg.solve_triangular(chol.expand(y.shape[0], m, m), r, upper: false); // L^-1 r
        var maha = solved.Power(2).sum(new long[] { 1, 2 });                              // (N)
        double logDet = 2 * chol.diagonal().log().sum().item<double>();
        return maha.Plus(logDet).Plus(m * Math.Log(2 * Math.PI)).Times(-0.5).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The exact posterior p(z~ | y, z_t) = N(mean, cov): precision I + W^T W / s^2, mean = cov (z_t + W^T (y - b) / s^2).
    /// Returns mean (N, d) and the shared covariance (d, d).
    /// </summary>
    public (Tensor Mean, Tensor Covariance) ExactPosterior(Tensor y, Tensor zt)
    {
        using var scope = torch.NewDisposeScope();
        long d = W.shape[1];
        double s2 = NoiseStd * NoiseStd;
        var precision = torch.eye(d, dtype: float64).Plus(W.T.matmul(W).DividedBy(s2));  // (d, d)
        var cov = torch.linalg.inv(precision);
        var mean = zt.Plus((y - B).matmul(W).DividedBy(s2)).matmul(cov.T);                // (N, d)
        return (mean.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }
}

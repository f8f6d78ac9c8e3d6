using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// An isotropic Gaussian mixture p(x) = sum_j w_j N(m_j, s_j^2 I) in D dimensions, with its EXACT noise predictor:
/// a toy "action distribution" whose ideal denoiser is known in closed form, so samplers can be judged without training.
/// </summary>
/// <remarks>
/// Under the forward process x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, component j becomes
/// N(sqrt(abar_t) m_j, v_j I) with v_j = abar_t s_j^2 + 1 - abar_t. The score is
/// grad log p_t(x) = sum_j r_j(x) (sqrt(abar_t) m_j - x) / v_j with responsibilities r_j(x), and the ideal noise
/// predictor is eps*(x, t) = -sqrt(1 - abar_t) grad log p_t(x).
/// </remarks>
public sealed class GaussianMixture
{
    /// <summary>Creates the mixture; means are (J, D), weights and stds have J entries.</summary>
    public GaussianMixture(double[] weights, double[][] means, double[] stds)
    {
        if (weights.Length == 0 || weights.Length != means.Length || weights.Length != stds.Length)
            throw new ArgumentException($"GaussianMixture needs as many weights ({weights.Length}), means ({means.Length}) and stds ({stds.Length}), at least one.");
        if (weights.Any(w => w <= 0) || Math.Abs(weights.Sum() - 1) > 1e-9)
            throw new ArgumentException($"GaussianMixture weights must be positive and sum to 1; got [{string.Join(", ", weights)}].");
        if (stds.Any(s => s <= 0)) throw new ArgumentException($"GaussianMixture stds must be positive; got [{string.Join(", ", stds)}].");
        if (means.Any(m => m.Length != means[0].Length)) throw new ArgumentException("GaussianMixture means must all have the same dimension.");
        Weights = weights; Means = means; Stds = stds;
    }

    /// <summary>w_j.</summary>
    public double[] Weights { get; }
    /// <summary>m_j, each of length D.</summary>
    public double[][] Means { get; }
    /// <summary>s_j.</summary>
    public double[] Stds { get; }
    /// <summary>D, the dimension.</summary>
    public int Dim => Means[0].Length;

    /// <summary>Draws n samples (n, D) in float32, and the component each came from.</summary>
    public (Tensor Samples, Tensor Components) Sample(long n, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        var component = torch.multinomial(torch.tensor(Weights), n, replacement: true, generator: generator); // (n)
        var means = MeansTensor(float64).index_select(0, component);                                          // (n, D)
        var stds = torch.tensor(Stds).index_select(0, component).unsqueeze(1);                                // (n, 1)
        var x = means.Plus(stds * torch.randn(new[] { n, (long)Dim }, dtype: float64, generator: generator));
        return (x.to(float32).MoveToOuterDisposeScope(), component.MoveToOuterDisposeScope());
    }

    /// <summary>The exact noise predictor eps*(x_t, t) for <paramref name="schedule"/>; x is (B, D), the result (B, D).</summary>
    public Tensor ExactNoise(Tensor x, int t, NoiseSchedule schedule)
    {
        using var scope = torch.NewDisposeScope();
        double abar = schedule.AlphasCumprod[t];
        var (logResp, centred, variance) = Posterior(x.to(float64), abar);
        // score = sum_j r_j (sqrt(abar) m_j - x) / v_j ; eps* = -sqrt(1 - abar) * score
        var score = (logResp.exp().unsqueeze(2) * (-centred) / variance.view(1, -1, 1)).sum(1); // (B, D)
        return score.Times(-Math.Sqrt(1 - abar)).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>log p_t(x) of the noised marginal at step t (t = -1 means the clean distribution); x (B, D) -> (B).</summary>
    public Tensor LogDensity(Tensor x, int t, NoiseSchedule schedule)
    {
        using var scope = torch.NewDisposeScope();
        double abar = t < 0 ? 1.0 : schedule.AlphasCumprod[t];
        var (_, _, _, logJoint) = Components(x.to(float64), abar);
        return logJoint.logsumexp(1).MoveToOuterDisposeScope();
    }

    /// <summary>Index of the nearest mixture mean for each row of x (B, D): a simple mode assignment for statistics.</summary>
    public Tensor NearestMode(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var d = torch.cdist(x.to(float64), MeansTensor(float64)); // (B, J)
        return d.argmin(1).MoveToOuterDisposeScope();
    }

    /// <summary>The means as a (J, D) tensor.</summary>
    public Tensor MeansTensor(ScalarType dtype) => torch.tensor(Means.SelectMany(m => m).ToArray(), dtype: float64).reshape(Means.Length, Dim).to(dtype);

    private (Tensor LogResp, Tensor Centred, Tensor Variance) Posterior(Tensor x, double abar)
    {
        var (centred, variance, _, logJoint) = Components(x, abar);
        return (logJoint - logJoint.logsumexp(1, keepdim: true), centred, variance);
    }

    private (Tensor Centred, Tensor Variance, Tensor SqDist, Tensor LogJoint) Components(Tensor x, double abar)
    {
        var means = MeansTensor(float64).Times(Math.Sqrt(abar));                              // (J, D)
        var variance = torch.tensor(Stds).Power(2).Times(abar).Plus(1 - abar);                // (J)
        var centred = x.unsqueeze(1) - means.unsqueeze(0);                                     // (B, J, D)
        var sq = centred.Power(2).sum(2);                                                      // (B, J)
        var logJoint = torch.tensor(Weights).log().unsqueeze(0) - sq.Times(0.5) / variance.unsqueeze(0)
                       - variance.Times(2 * Math.PI).log().unsqueeze(0).Times(0.5 * Dim);      // (B, J)
        return (centred, variance, sq, logJoint);
    }
}

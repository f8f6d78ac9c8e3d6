using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>A Monte Carlo ELBO estimate, every field (B): one value per sample.</summary>
/// <param name="Value">ELBO = ExpectedLogLikelihood - Kl.</param>
/// <param name="ExpectedLogLikelihood">Monte Carlo mean of log p(y | z~) over the draws z~ ~ q.</param>
/// <param name="Kl">KL(q || p) in closed form.</param>
/// <param name="StandardError">Standard error of the Monte Carlo mean (sample std / sqrt(S)).</param>
public sealed record ElboEstimate(Tensor Value, Tensor ExpectedLogLikelihood, Tensor Kl, Tensor StandardError);

/// <summary>
/// The variational lower bound of docs/method.md M5 (the paper's Eq. 12) for a Gaussian likelihood:
/// log p(y | z_t) >= E_{q(z~)} [ log p(y | z~) ] - KL( q(z~) || p(z~) ), with q and p diagonal Gaussians.
/// </summary>
/// <remarks>
/// In DP-AG y is the true noise eps_k, the likelihood mean is eps_theta(a^k, z~, k) with a fixed variance, so the
/// first term is (up to constants and scale) a denoising loss on the evolved latent and the second keeps it near
/// the prior (N(z_t, I) in the paper). This estimator draws z~ = muQ + sigmaQ * e, e ~ N(0, I) (reparameterised,
/// differentiable in muQ and logVarQ).
/// </remarks>
public static class Elbo
{
    /// <summary>
    /// log N(y; mean, exp(logVar) I), summed over the non-batch dimensions: (B, ...) -> (B).
    /// </summary>
    /// <param name="y">Observations (B, ...).</param>
    /// <param name="mean">Likelihood mean, shaped like y.</param>
    /// <param name="logVar">Likelihood log-variance, broadcastable to y (a scalar tensor for a fixed variance).</param>
    public static Tensor GaussianLogLikelihood(Tensor y, Tensor mean, Tensor logVar)
    {
        KlDivergence.RequireSameShape(y, mean, nameof(mean));
        using var scope = torch.NewDisposeScope();
        var terms = logVar.Plus(Math.Log(2 * Math.PI)).Plus((y - mean).Power(2) * torch.exp(-logVar)).Times(-0.5);
        terms = terms.expand(y.shape);
        return Reductions.Reduce(terms, Reduction.PerSample).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Monte Carlo ELBO per sample with <paramref name="samples"/> reparameterised draws from q.
    /// </summary>
    /// <param name="likelihoodMean">z~ (N, ...) -> mean of p(y | z~) (N, ...), samples independent; it is called
    /// once on all S * B draws stacked along the batch dimension.</param>
    /// <param name="y">Observations (B, ...).</param>
    /// <param name="likelihoodLogVar">Log-variance of p(y | z~), broadcastable to y.</param>
    /// <param name="muQ">Mean of q, (B, ...latent).</param>
    /// <param name="logVarQ">Log-variance of q, shaped like muQ.</param>
    /// <param name="muP">Mean of the prior p, shaped like muQ (the paper: the static latent z_t).</param>
    /// <param name="logVarP">Log-variance of the prior, shaped like muQ (zeros for unit variance).</param>
    /// <param name="samples">S, the number of draws per sample (at least 2, for the standard error).</param>
    /// <param name="generator">Random generator for the draws; null uses torch's global one.</param>
    public static ElboEstimate MonteCarlo(Func<Tensor, Tensor> likelihoodMean, Tensor y, Tensor likelihoodLogVar,
        Tensor muQ, Tensor logVarQ, Tensor muP, Tensor logVarP, int samples, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(likelihoodMean);
        if (samples < 2) throw new ArgumentException($"samples = {samples} is invalid: use at least 2 draws per sample.", nameof(samples));
        KlDivergence.RequireSameShape(muQ, logVarQ, nameof(logVarQ));
        if (y.shape[0] != muQ.shape[0]) throw new ArgumentException($"y has batch size {y.shape[0]} but muQ has {muQ.shape[0]}; they must match.", nameof(y));
        using var scope = torch.NewDisposeScope();
        long batch = muQ.shape[0];
        long[] latentShape = muQ.shape;
        long[] drawShape = new[] { (long)samples }.Concat(latentShape).ToArray();                      // (S, B, ...latent)
        var e = torch.randn(drawShape, dtype: muQ.dtype, device: muQ.device, generator: generator);
        var z = muQ.unsqueeze(0).Plus(torch.exp(logVarQ.Times(0.5)).unsqueeze(0) * e);                   // (S, B, ...latent)
        var zFlat = z.reshape(new[] { samples * batch }.Concat(latentShape.Skip(1)).ToArray());        // (S*B, ...latent)
        var meanFlat = likelihoodMean(zFlat);                                                          // (S*B, ...y)
        var yRep = y.unsqueeze(0).expand(new[] { (long)samples }.Concat(y.shape).ToArray())
                    .reshape(new[] { samples * batch }.Concat(y.shape.Skip(1)).ToArray());           // (S*B, ...y)
        var logLik = GaussianLogLikelihood(yRep, meanFlat, likelihoodLogVar).reshape(samples, batch); // (S, B)
        var expected = logLik.mean(new long[] { 0 });                                                  // (B)
        var stdErr = logLik.std(0).DividedBy(Math.Sqrt(samples));                                       // (B)
        var kl = KlDivergence.DiagonalGaussians(muQ, logVarQ, muP, logVarP, Reduction.PerSample);    // (B)
        var value = expected - kl;
        return new ElboEstimate(value.MoveToOuterDisposeScope(), expected.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope(), stdErr.MoveToOuterDisposeScope());
    }
}

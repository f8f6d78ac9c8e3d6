using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>Which prior the KL term of DP-AG pulls the posterior towards.</summary>
public enum KlPrior
{
    /// <summary>N(z_t, I), centred on the static latent (the paper, docs/method.md M5).</summary>
    StaticLatent,

    /// <summary>N(0, I) (the released code, docs/method.md).</summary>
    StandardNormal,
}

/// <summary>
/// Kullback-Leibler divergences of diagonal Gaussians in closed form, and the path-space (Girsanov) KL of two
/// Euler-Maruyama chains. Pure functions of tensors; shapes (B, ...) with every non-batch element a coordinate.
/// </summary>
public static class KlDivergence
{
    /// <summary>
    /// KL( N(muQ, exp(logVarQ)) || N(muP, exp(logVarP)) ) per coordinate:
    /// 1/2 [ logVarP - logVarQ + (exp(logVarQ) + (muQ - muP)^2) / exp(logVarP) - 1 ], then reduced.
    /// </summary>
    public static Tensor DiagonalGaussians(Tensor muQ, Tensor logVarQ, Tensor muP, Tensor logVarP, Reduction reduction = Reduction.Mean)
    {
        RequireSameShape(muQ, logVarQ, nameof(logVarQ));
        using var scope = torch.NewDisposeScope();
        var terms = (logVarP - logVarQ).Plus(torch.exp(logVarQ).Plus((muQ - muP).Power(2)) * torch.exp(-logVarP)).Minus(1.0).Times(0.5);
        return Reductions.Reduce(terms, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL( N(mu, exp(logVar)) || N(0, I) ) = 1/2 sum (exp(logVar) + mu^2 - 1 - logVar): the released code's term
    /// (mean-reduced there).
    /// </summary>
    public static Tensor ToStandardNormal(Tensor mu, Tensor logVar, Reduction reduction = Reduction.Mean)
    {
        RequireSameShape(mu, logVar, nameof(logVar));
        using var scope = torch.NewDisposeScope();
        var terms = torch.exp(logVar).Plus(mu.Power(2)).Minus(1.0).Minus(logVar).Times(0.5);
        return Reductions.Reduce(terms, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL( N(mu, exp(logVar)) || N(priorMean, I) ) = 1/2 sum (exp(logVar) + (mu - priorMean)^2 - 1 - logVar): the
    /// paper's prior N(z_t, I) with priorMean = z_t (docs/method.md M5). Gradients flow into priorMean unless the
    /// caller detaches it.
    /// </summary>
    public static Tensor ToShiftedStandardNormal(Tensor mu, Tensor logVar, Tensor priorMean, Reduction reduction = Reduction.Mean)
    {
        RequireSameShape(mu, logVar, nameof(logVar));
        RequireSameShape(mu, priorMean, nameof(priorMean));
        using var scope = torch.NewDisposeScope();
        var terms = torch.exp(logVar).Plus((mu - priorMean).Power(2)).Minus(1.0).Minus(logVar).Times(0.5);
        return Reductions.Reduce(terms, reduction).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The KL term for a <see cref="KlPrior"/> choice: <see cref="ToShiftedStandardNormal"/> with priorMean = the
    /// static latent, or <see cref="ToStandardNormal"/>.
    /// </summary>
    public static Tensor ToPrior(KlPrior prior, Tensor mu, Tensor logVar, Tensor staticLatent, Reduction reduction) => prior switch
    {
        KlPrior.StaticLatent => ToShiftedStandardNormal(mu, logVar, staticLatent, reduction),
        KlPrior.StandardNormal => ToStandardNormal(mu, logVar, reduction),
        _ => throw new ArgumentException($"prior = {prior} is not one of {string.Join(", ", Enum.GetNames<KlPrior>())}.", nameof(prior)),
    };

    /// <summary>
    /// Path-space KL between two Euler-Maruyama chains z^{k+1} = z^k + b(z^k) dt + sigma sqrt(dt) dW with the same
    /// diffusion sigma, evaluated along one path (Girsanov, discretised):
    /// sum_k 1/2 || (bP_k - bQ_k) / sigma ||^2 dt. Exact for the discretised chains: each step's term is the KL of
    /// the two Gaussian transition kernels N(z + bP dt, sigma^2 dt) and N(z + bQ dt, sigma^2 dt); its expectation
    /// over paths drawn from P is KL(P || Q) of the whole chain. Not confirmed to be in the paper (docs/method.md M5).
    /// </summary>
    /// <param name="driftP">Drifts of the first chain along the path, one (B, ...) tensor per step.</param>
    /// <param name="driftQ">Drifts of the second chain at the same states, same count and shapes.</param>
    /// <param name="sigma">Diffusion coefficient, broadcastable to a drift; must be positive.</param>
    /// <param name="dt">Time step, positive.</param>
    /// <param name="reduction">Reduction of the per-coordinate, step-summed terms.</param>
    public static Tensor PathSpace(IReadOnlyList<Tensor> driftP, IReadOnlyList<Tensor> driftQ, Tensor sigma, double dt, Reduction reduction = Reduction.PerSample)
    {
        ArgumentNullException.ThrowIfNull(driftP);
        ArgumentNullException.ThrowIfNull(driftQ);
        ArgumentNullException.ThrowIfNull(sigma);
        if (driftP.Count == 0 || driftP.Count != driftQ.Count)
            throw new ArgumentException($"driftP has {driftP.Count} steps and driftQ {driftQ.Count}; they must be equal and at least 1.", nameof(driftQ));
        if (!(dt > 0) || !double.IsFinite(dt)) throw new ArgumentException($"dt = {dt} is invalid: use a positive time step.", nameof(dt));
        using var scope = torch.NewDisposeScope();
        Tensor? total = null;
        for (int k = 0; k < driftP.Count; k++)
        {
            RequireSameShape(driftP[k], driftQ[k], $"driftQ[{k}]");
            var term = ((driftP[k] - driftQ[k]) / sigma).Power(2).Times(0.5 * dt);
            total = total is null ? term : total.Plus(term);
        }
        return Reductions.Reduce(total!, reduction).MoveToOuterDisposeScope();
    }

    internal static void RequireSameShape(Tensor reference, Tensor other, string name)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(other, name);
        if (!reference.shape.SequenceEqual(other.shape))
            throw new ArgumentException($"{name} has shape [{string.Join(", ", other.shape)}] but [{string.Join(", ", reference.shape)}] is expected.", name);
    }
}

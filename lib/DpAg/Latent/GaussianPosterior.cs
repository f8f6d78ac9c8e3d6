using System.Globalization;
using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Latent;

/// <summary>
/// The posterior q_phi(z | o) = N(mu(z_t), diag sigma^2(z_t)) over the latent observation feature (docs/method.md,
/// Notation): a mean head and a log-variance head on the encoder feature z_t.
/// </summary>
/// <remarks>
/// <para>Both heads act on the LAST dimension, so the module accepts any leading shape. The kit's choice is per obs
/// step: feed (B, To, F) and the heads are shared by the To steps (parameters independent of To, and the same layout
/// as the released code's per-obs-step VJP normalisation). Feeding the flattened global condition (B, To*F) with
/// <c>featureDim = To*F</c> also works, with heads that mix the obs steps.</para>
/// <para>Released code (docs/method.md): mu is the identity on the feature (<c>learnedMean = false</c>, the default here)
/// and log sigma^2 = Linear(feature), clamped to [-10, 2]. The paper writes mu(z_t) as a head: pass
/// <c>learnedMean = true</c>. The heads keep TorchSharp's default (PyTorch) Linear initialisation. The released
/// code's state-dict key for the log-variance layer is not recorded in docs/method.md; the kit names them
/// <c>mu_head</c> (only when learned) and <c>logvar_head</c>.</para>
/// </remarks>
public sealed class GaussianPosterior : Module<Tensor, (Tensor Mu, Tensor LogVar, Tensor Sigma)>
{
    private readonly Linear? mu_head;
    private readonly Linear logvar_head;

    /// <summary>Feature size F the heads act on (the last dimension of the input).</summary>
    public long FeatureDim { get; }

    /// <summary>Whether mu is a learned Linear head (paper) or the identity (released code).</summary>
    public bool LearnedMean { get; }

    /// <summary>Lower clamp of log sigma^2. Released code: -10.</summary>
    public double LogVarMin { get; }

    /// <summary>Upper clamp of log sigma^2. Released code: 2.</summary>
    public double LogVarMax { get; }

    /// <summary>Creates the heads.</summary>
    /// <param name="featureDim">F, the size of the last dimension of the feature.</param>
    /// <param name="learnedMean">False: mu = feature (released code). True: mu = Linear(F, F)(feature) (paper).</param>
    /// <param name="logVarMin">Lower clamp of log sigma^2 (released code: -10).</param>
    /// <param name="logVarMax">Upper clamp of log sigma^2 (released code: 2).</param>
    public GaussianPosterior(long featureDim, bool learnedMean = false, double logVarMin = -10.0, double logVarMax = 2.0)
        : base(nameof(GaussianPosterior))
    {
        if (featureDim <= 0) throw new ArgumentException($"featureDim = {featureDim} is invalid: use the feature size F > 0.", nameof(featureDim));
        if (!double.IsFinite(logVarMin) || !double.IsFinite(logVarMax) || logVarMin >= logVarMax)
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"log-variance clamp [{logVarMin}, {logVarMax}] is invalid: use finite bounds with min < max (released code: [-10, 2])."),
                nameof(logVarMin));
        FeatureDim = featureDim;
        LearnedMean = learnedMean;
        LogVarMin = logVarMin;
        LogVarMax = logVarMax;
        mu_head = learnedMean ? Linear(featureDim, featureDim) : null;
        logvar_head = Linear(featureDim, featureDim);
        RegisterComponents();
    }

    /// <summary>Posterior parameters of a feature.</summary>
    /// <param name="feature">z_t, shape (..., F): (B, To, F) per obs step, or (B, To*F) flattened.</param>
    /// <returns>mu, log sigma^2 (clamped) and sigma = exp(log sigma^2 / 2), each shaped like the input.</returns>
    public override (Tensor Mu, Tensor LogVar, Tensor Sigma) forward(Tensor feature)
    {
        if (feature.shape.Length == 0 || feature.shape[^1] != FeatureDim)
            throw new ArgumentException($"feature has shape [{string.Join(", ", feature.shape)}]; its last dimension must be F = {FeatureDim}.", nameof(feature));
        using var scope = torch.NewDisposeScope();
        var mu = mu_head is null ? feature.alias() : mu_head.forward(feature);
        var logvar = logvar_head.forward(feature).ClampTo(LogVarMin, LogVarMax);
        var sigma = torch.exp(logvar.Times(0.5));
        return (mu.MoveToOuterDisposeScope(), logvar.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope());
    }
}

using DpAg.Latent;
using DpAg.Losses;

namespace DpAg.Policies;

/// <summary>
/// Configuration of DP-AG: the Diffusion Policy it extends plus every DP-AG constant, named. Two presets:
/// <see cref="ReleasedCode"/> reproduces the authors' released implementation term by term, <see cref="Paper"/>
/// follows the paper's equations (docs/method.md). Variants via <c>with { ... }</c>.
/// </summary>
public sealed record ActionGuidedConfig
{
    /// <summary>The underlying policy (U-Net, encoder, scheduler, horizons).</summary>
    public DiffusionPolicyConfig Policy { get; init; } = new();
    /// <summary>How the latent is evolved by the VJP (single released step, or the paper's reparameterisation).</summary>
    public LatentGuidanceConfig Guidance { get; init; } = LatentGuidanceConfig.ReleasedCode;
    /// <summary>Loss weights, KL prior, InfoNCE variant and the denoising target scale.</summary>
    public DpAgLossConfig Loss { get; init; } = DpAgLossConfig.ReleasedCode;
    /// <summary>A learned mean head mu(z_t) (paper) instead of the identity (released code).</summary>
    public bool LearnedMean { get; init; }
    /// <summary>Lower clamp of log sigma^2 (released code: -10).</summary>
    public double LogVarMin { get; init; } = -10.0;
    /// <summary>Upper clamp of log sigma^2 (released code: 2).</summary>
    public double LogVarMax { get; init; } = 2.0;
    /// <summary>
    /// Evolve the latent by the VJP at every denoising step of inference too (the paper's SDE), instead of
    /// conditioning on the static mu as the released code does (same cost as DP).
    /// </summary>
    public bool EvolveLatentAtInference { get; init; }

    /// <summary>
    /// Build the VJP's second-order graph and then detach it, as the released code does (same numbers, extra time and
    /// memory). Only for measuring what the kit saves; never needed for training.
    /// </summary>
    public bool EmulateReleasedVjpCost { get; init; }

    /// <summary>The authors' released code: identity mu, detached unit VJP, one-way InfoNCE with the positive in the
    /// denominator at tau 0.8, KL to N(0, I), weights 1 and 1, denoising target noise / 0.4, static latent at inference.</summary>
    public static ActionGuidedConfig ReleasedCode => new();

    /// <summary>The paper's equations: learned mu, z~ = mu + gamma sigma VJP, cycle InfoNCE with the positive left out,
    /// KL to N(z_t, I), plain epsilon target, latent evolved by the VJP during inference.</summary>
    public static ActionGuidedConfig Paper => new()
    {
        Guidance = LatentGuidanceConfig.Paper,
        Loss = DpAgLossConfig.Paper,
        LearnedMean = true,
        EvolveLatentAtInference = true,
    };

    /// <summary>The named presets: "released" or "paper".</summary>
    public static ActionGuidedConfig FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "released" or "released-code" => ReleasedCode,
        "paper" => Paper,
        _ => throw new ArgumentException($"Unknown DP-AG preset '{name}'. Known: released, paper."),
    };

    /// <summary>Validates every part; throws <see cref="ArgumentException"/> naming the field and value.</summary>
    public ActionGuidedConfig Validate()
    {
        Policy.Validate();
        Guidance.Validate();
        Loss.Validate();
        if (!(LogVarMin < LogVarMax)) throw new ArgumentException($"LogVarMin = {LogVarMin} must be below LogVarMax = {LogVarMax} (released code: -10 and 2).");
        return this;
    }
}

namespace DpAg.Diffusion;

/// <summary>How the per-step noise variances beta_i of the forward process are laid out (diffusers' <c>beta_schedule</c>).</summary>
public enum BetaScheduleKind
{
    /// <summary>
    /// diffusers' <c>squaredcos_cap_v2</c> (Nichol and Dhariwal 2021): abar(t) = cos^2(((t + 0.008) / 1.008) pi / 2),
    /// beta_i = min(1 - abar((i+1)/N) / abar(i/N), 0.999). Diffusion Policy's default.
    /// </summary>
    SquaredCosCapV2,

    /// <summary>diffusers' <c>linear</c>: beta_i evenly spaced from beta_start to beta_end in float32 (Ho et al. 2020).</summary>
    Linear,
}

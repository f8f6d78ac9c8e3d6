using System.Globalization;
using DpAg.Latent;

namespace DpAg.Spirals;

/// <summary>Which cotangent v the VJP (d dec / d z)^T v uses; both are available at test time without ground truth.</summary>
public enum GuidanceTarget
{
    /// <summary>
    /// v = dec(z): the VJP is grad_z 1/2 ||dec(z)||^2, DP-AG's force (docs/method.md M2) with the decoder in place of
    /// the noise predictor. Applied inside the vector field at every solver step over the whole time span:
    /// dz/dt = f(z) + s * gamma * d(z).
    /// </summary>
    OutputEnergy,

    /// <summary>
    /// v = dec(z) - x_obs at the observed stamps only: a measurement correction z += s * gamma * d(z) applied when the
    /// solver reaches an observed (encoder-input) stamp, so it acts only during the observed part. Use Sign = -1
    /// (descent of the residual).
    /// </summary>
    PrefixResidual,
}

/// <summary>
/// Constants of the VJP-Guided Flow's latent correction. d(z) = s * VJP or s * unit VJP with VJP = (d dec / d z)^T v.
/// The step's settings are DP-AG's (<see cref="IVjpStepConfig"/>, the same names as <see cref="LatentGuidanceConfig"/>);
/// only the norm's floor differs by preset value: 1e-12 here (PyTorch's F.normalize), 1e-8 in the policies.
/// Presets: <see cref="Paper"/>, <see cref="ReleasedCode"/>, <see cref="PrefixResidualCorrection"/>.
/// </summary>
public sealed record FlowGuidanceConfig : IVjpStepConfig
{
    /// <summary>Step size gamma. The paper gives no value for the spirals; the kit's default is 1 (per unit time for
    /// <see cref="GuidanceTarget.OutputEnergy"/>, per observation for <see cref="GuidanceTarget.PrefixResidual"/>).</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>Sign s of the step: +1 is ascent of 1/2 ||v||^2 as written in the paper (docs/method.md, O).</summary>
    public double Sign { get; init; } = 1.0;

    /// <summary>Unit-norm VJP, v / max(||v||, epsilon) per sample (released code), instead of the raw VJP (paper).</summary>
    public bool Normalise { get; init; }

    /// <summary>Floor of the norm in the released normalisation (PyTorch F.normalize's default 1e-12).</summary>
    public double NormEpsilon { get; init; } = 1e-12;

    /// <summary>Which cotangent the VJP uses.</summary>
    public GuidanceTarget Target { get; init; } = GuidanceTarget.OutputEnergy;

    /// <summary>Detach the VJP (released code: computed, then detached; no gradient flows through the correction).
    /// False (paper, no stop-gradient written): the correction is differentiated (create_graph, second order).</summary>
    public bool Detach { get; init; }

    /// <summary>The paper's form: ascent of 1/2 ||dec(z)||^2, raw VJP, differentiable, gamma = 1.</summary>
    public static FlowGuidanceConfig Paper { get; } = new();

    /// <summary>The released code's habits: unit-norm VJP, detached; ascent; gamma = 1.</summary>
    public static FlowGuidanceConfig ReleasedCode { get; } = new() { Normalise = true, Detach = true };

    /// <summary>The residual-to-the-observed-prefix variant: descent (s = -1) of 1/2 ||dec(z) - x_obs||^2 at observed stamps.</summary>
    public static FlowGuidanceConfig PrefixResidualCorrection { get; } = new() { Target = GuidanceTarget.PrefixResidual, Sign = -1.0, Gamma = 0.5 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public FlowGuidanceConfig Validate()
    {
        if (!double.IsFinite(Gamma) || Gamma < 0) throw Bad(nameof(Gamma), Gamma, "use a non-negative step size such as 1");
        if (Sign != 1.0 && Sign != -1.0) throw Bad(nameof(Sign), Sign, "use +1 (ascent, paper) or -1 (descent)");
        if (!Enum.IsDefined(Target)) throw Bad(nameof(Target), Target, "use OutputEnergy or PrefixResidual");
        if (!double.IsFinite(NormEpsilon) || NormEpsilon <= 0) throw Bad(nameof(NormEpsilon), NormEpsilon, "use a small positive value such as 1e-12");
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"FlowGuidanceConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

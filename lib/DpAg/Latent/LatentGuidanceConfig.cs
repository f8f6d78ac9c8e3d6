using System.Globalization;

namespace DpAg.Latent;

/// <summary>
/// How the VJP guidance moves the latent observation feature. The released code's step and the paper's
/// reparameterisation (Eq. 4) are the same single step z~ = mu + gamma * sigma * d and differ only in settings
/// (<see cref="LatentGuidanceConfig.Normalise"/>, <see cref="LatentGuidanceConfig.Detach"/>, gamma); the SDE is the other form.
/// </summary>
public enum GuidanceForm
{
    /// <summary>
    /// One step z~ = mu + gamma * sigma * d (docs/method.md M4; the released code's z = mu + sigma * VJP / ||VJP|| is
    /// this step with Normalise on and gamma 1). Computed by <see cref="ActionGuidedSde.Reparameterise"/>.
    /// </summary>
    SingleStep,

    /// <summary>
    /// The paper's action-guided SDE dz~ = VJP dt + sigma dW (docs/method.md M3), integrated by Euler-Maruyama over
    /// the denoising steps (<see cref="ActionGuidedSde.EulerMaruyamaStep"/>); the only form that reads
    /// <see cref="LatentGuidanceConfig.Noise"/> and <see cref="LatentGuidanceConfig.Dt"/>.
    /// </summary>
    Sde,
}

/// <summary>
/// The settings of one VJP step that DP-AG's latent guidance and the spirals' VJP-guided flow share, named once:
/// d = s * VJP, or s * VJP / max(||VJP||, epsilon) when normalised, scaled by gamma; detached or differentiated.
/// </summary>
internal interface IVjpStepConfig
{
    /// <summary>Step size gamma multiplying the direction.</summary>
    double Gamma { get; }
    /// <summary>Sign s: +1 ascends 1/2 ||v||^2 (the paper as written), -1 descends.</summary>
    double Sign { get; }
    /// <summary>Use the unit-norm VJP (released code) instead of the raw one (paper).</summary>
    bool Normalise { get; }
    /// <summary>Floor of the norm in the normalisation: v / max(||v||, epsilon).</summary>
    double NormEpsilon { get; }
    /// <summary>Detach the VJP (no second-order gradient through the correction).</summary>
    bool Detach { get; }
}

/// <summary>
/// Every constant of DP-AG's latent guidance, named. Two presets: <see cref="ReleasedCode"/> (what the authors' code
/// runs) and <see cref="Paper"/> (the equations as written). Variants via <c>with { ... }</c>.
/// </summary>
/// <remarks>
/// Symbols (docs/method.md): VJP(a^k, z) = (d eps_theta / d z)^T eps_theta = grad_z 1/2 ||eps_theta||^2 (Eq. 2);
/// gamma = <see cref="Gamma"/>; s = <see cref="Sign"/>; sigma = exp(logvar / 2) from <see cref="GaussianPosterior"/>.
/// The guidance direction d = s * VJP, or s * VJP / max(||VJP||, epsilon) when <see cref="Normalise"/> is on.
/// </remarks>
public sealed record LatentGuidanceConfig : IVjpStepConfig
{
    /// <summary>Which guidance is applied. Released code and the paper's Eq. 4: <see cref="GuidanceForm.SingleStep"/>.</summary>
    public GuidanceForm Form { get; init; } = GuidanceForm.SingleStep;

    /// <summary>
    /// Step size gamma multiplying the guidance direction. Released code: 1 (z_guided = mu + sigma * unit_VJP, no
    /// factor; with normalisation gamma is effectively 1 / ||VJP||). Paper: a free per-task constant (docs/method.md, O: "gamma per task"); no value is given, so the preset uses the neutral 1.
    /// </summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>
    /// Sign s of the step: +1 ascends 1/2 ||eps_theta||^2 (the paper's equations as written and the released code,
    /// both add the VJP); -1 descends it. An open point of docs/method.md, hence an option.
    /// </summary>
    public double Sign { get; init; } = 1.0;

    /// <summary>L2-normalise the VJP before use. Released code: true. Paper: false (Eq. 4 uses the raw VJP).</summary>
    public bool Normalise { get; init; } = true;

    /// <summary>
    /// Floor of the norm in the normalisation: unit = v / max(||v||, epsilon) (the semantics of PyTorch's
    /// F.normalize). docs/method.md does not record the released value; 1e-8 is the kit's assumption.
    /// </summary>
    public double NormEpsilon { get; init; } = 1e-8;

    /// <summary>
    /// Normalise per obs step: the norm is taken over the last dimension of a (B, To, F) latent, so each obs step's
    /// VJP has unit norm (released code). False: one norm over all non-batch dimensions of each sample.
    /// </summary>
    public bool NormalisePerObsStep { get; init; } = true;

    /// <summary>
    /// Detach the VJP (no second-order gradient through the noise predictor). Released code: true (it even builds
    /// the double-backward graph and then detaches it; the kit simply does not build it). Paper: false, Eq. 4 is
    /// written without a stop-gradient; set true to save the double backward.
    /// </summary>
    public bool Detach { get; init; } = true;

    /// <summary>
    /// Add the diffusion term sigma * sqrt(dt) * dW of the SDE (Eq. 3); only valid with <see cref="GuidanceForm.Sde"/>
    /// (the single step has no noise term). Off gives the deterministic probability-flow-like drift only.
    /// </summary>
    public bool Noise { get; init; }

    /// <summary>
    /// Time step dt of the Euler-Maruyama integration of Eq. 3, per denoising step (read by <see cref="GuidanceForm.Sde"/> only). Not given in the paper; 1 makes
    /// one step's drift equal to gamma * VJP (the size of Eq. 4's correction); use 1/K to spread unit time over K steps.
    /// </summary>
    public double Dt { get; init; } = 1.0;

    /// <summary>The authors' released code (docs/method.md, R).</summary>
    public static LatentGuidanceConfig ReleasedCode { get; } = new();

    /// <summary>
    /// The paper's reparameterisation, Eq. 4: the single step with the raw VJP, gamma = 1 (no value given), no
    /// stop-gradient. For the SDE of Eq. 3 use <c>Paper with { Form = GuidanceForm.Sde, Noise = true }</c>.
    /// </summary>
    public static LatentGuidanceConfig Paper { get; } = new()
    {
        Normalise = false,
        Detach = false,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public LatentGuidanceConfig Validate()
    {
        if (!Enum.IsDefined(Form)) throw Bad(nameof(Form), Form.ToString(), "use one of " + string.Join(", ", Enum.GetNames<GuidanceForm>()));
        if (!double.IsFinite(Gamma) || Gamma < 0) throw Bad(nameof(Gamma), Gamma, "use a finite value >= 0 (flip the direction with Sign)");
        if (Sign is not (1.0 or -1.0)) throw Bad(nameof(Sign), Sign, "use +1 (ascent of 1/2||eps||^2) or -1 (descent)");
        if (!double.IsFinite(NormEpsilon) || NormEpsilon <= 0) throw Bad(nameof(NormEpsilon), NormEpsilon, "use a small positive value such as 1e-8");
        if (!double.IsFinite(Dt) || Dt <= 0) throw Bad(nameof(Dt), Dt, "use a positive time step such as 1 or 1/K");
        if (Noise && Form != GuidanceForm.Sde) throw Bad(nameof(Noise), Noise, $"the noise term belongs to the SDE; set Form = {GuidanceForm.Sde} or Noise = false (the single step has no noise)");
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"LatentGuidanceConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

using System.Globalization;

namespace DpAg.Losses;

/// <summary>
/// Weights and choices of DP-AG's total loss L = L_DP + lambda_cont L_cont + lambda_KL L_KL (docs/method.md M7), with
/// presets <see cref="ReleasedCode"/> and <see cref="Paper"/>.
/// </summary>
public sealed record DpAgLossConfig
{
    /// <summary>lambda_cont. Released code: 1.</summary>
    public double ContrastiveWeight { get; init; } = 1.0;

    /// <summary>lambda_KL. Released code: 1.</summary>
    public double KlWeight { get; init; } = 1.0;

    /// <summary>Prior of the KL term. Released code: N(0, I); paper: N(z_t, I).</summary>
    public KlPrior KlPrior { get; init; } = KlPrior.StandardNormal;

    /// <summary>Reduction of the KL term. Released code: mean over all elements ("mean-reduced", docs/method.md).</summary>
    public Reduction KlReduction { get; init; } = Reduction.Mean;

    /// <summary>Target scale of the denoising loss. Released code: 1 / 0.4; paper: 1.</summary>
    public double DenoisingTargetScale { get; init; } = DenoisingLoss.ReleasedTargetScale;

    /// <summary>The contrastive loss constants.</summary>
    public ContrastiveConfig Contrastive { get; init; } = ContrastiveConfig.ReleasedCode;

    /// <summary>The authors' released code (docs/method.md, R).</summary>
    public static DpAgLossConfig ReleasedCode { get; } = new();

    /// <summary>The paper's equations: prior N(z_t, I), target scale 1, paper InfoNCE; weights 1 (the paper's values
    /// are not recorded in docs/method.md) and the KL mean-reduced like the released code.</summary>
    public static DpAgLossConfig Paper { get; } = new()
    {
        KlPrior = KlPrior.StaticLatent,
        DenoisingTargetScale = 1.0,
        Contrastive = ContrastiveConfig.Paper,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public DpAgLossConfig Validate()
    {
        if (!double.IsFinite(ContrastiveWeight) || ContrastiveWeight < 0) throw Bad(nameof(ContrastiveWeight), ContrastiveWeight, "use a finite weight >= 0 (released code: 1)");
        if (!double.IsFinite(KlWeight) || KlWeight < 0) throw Bad(nameof(KlWeight), KlWeight, "use a finite weight >= 0 (released code: 1)");
        if (!Enum.IsDefined(KlPrior)) throw Bad(nameof(KlPrior), KlPrior, "use StaticLatent or StandardNormal");
        if (KlReduction is not (Reduction.Mean or Reduction.Sum or Reduction.BatchMean)) throw Bad(nameof(KlReduction), KlReduction, "use Mean, Sum or BatchMean (a scalar is needed)");
        if (!double.IsFinite(DenoisingTargetScale) || DenoisingTargetScale <= 0) throw Bad(nameof(DenoisingTargetScale), DenoisingTargetScale, "use 1 (paper) or 1/0.4 (released code)");
        ArgumentNullException.ThrowIfNull(Contrastive);
        Contrastive.Validate();
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"DpAgLossConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

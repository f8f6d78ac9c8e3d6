using System.Globalization;

namespace DpAg.Losses;

/// <summary>Which directions of the InfoNCE loss are taken.</summary>
public enum InfoNceDirection
{
    /// <summary>Rows = static predictions eps_k (anchors), columns = evolved predictions eps~_k (released code).</summary>
    OneWay,

    /// <summary>The mean of both directions (anchors to candidates and back): the "cycle" reading of the paper.</summary>
    Cycle,
}

/// <summary>Which vectors are compared by the cosine similarity.</summary>
public enum ContrastiveVectors
{
    /// <summary>The whole noise chunk (B, Ta, Da) flattened to (B, Ta*Da) (released code).</summary>
    FlattenedChunk,

    /// <summary>One InfoNCE per action step t over the (B, Da) vectors, averaged over the Ta steps.</summary>
    PerActionStep,
}

/// <summary>
/// Every constant of DP-AG's contrastive loss (docs/method.md M6), with presets <see cref="ReleasedCode"/> and
/// <see cref="Paper"/>. Variants via <c>with { ... }</c>.
/// </summary>
public sealed record ContrastiveConfig
{
    /// <summary>Temperature tau of the softmax over cosine similarities. Released code: 0.8. The paper's value is not
    /// recorded in docs/method.md; its preset keeps 0.8.</summary>
    public double Temperature { get; init; } = 0.8;

    /// <summary>
    /// True: standard cross-entropy, the positive is in the denominator (released code). False: the denominator sums
    /// over j != i only, the form Theorem 1 uses (docs/method.md M6 and M8); that loss can be negative.
    /// </summary>
    public bool PositiveInDenominator { get; init; } = true;

    /// <summary>One direction (released code) or both ("cycle", paper).</summary>
    public InfoNceDirection Direction { get; init; } = InfoNceDirection.OneWay;

    /// <summary>Which vectors are compared. Released code: the flattened noise chunk.</summary>
    public ContrastiveVectors Vectors { get; init; } = ContrastiveVectors.FlattenedChunk;

    /// <summary>Floor of the norm when normalising vectors for the cosine: v / max(||v||, eps), PyTorch's F.normalize
    /// default 1e-12 (the released code normalises rows and columns before the product).</summary>
    public double CosineEpsilon { get; init; } = 1e-12;

    /// <summary>Detach the evolved predictions (candidates) inside the loss. Released code: true (eps_guided is
    /// computed without a graph). Paper: false, no stop-gradient is written.</summary>
    public bool DetachCandidates { get; init; } = true;

    /// <summary>The authors' released code: tau = 0.8, positive included, one direction, flattened chunk, detached.</summary>
    public static ContrastiveConfig ReleasedCode { get; } = new();

    /// <summary>The paper's form: positive excluded (Theorem 1), both directions ("cycle"), tau = 0.8 (not given in
    /// docs/method.md), no stop-gradient.</summary>
    public static ContrastiveConfig Paper { get; } = new()
    {
        PositiveInDenominator = false,
        Direction = InfoNceDirection.Cycle,
        DetachCandidates = false,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public ContrastiveConfig Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature <= 0) throw Bad(nameof(Temperature), Temperature, "use a positive temperature such as 0.8 (released code)");
        if (!Enum.IsDefined(Direction)) throw Bad(nameof(Direction), Direction, "use OneWay or Cycle");
        if (!Enum.IsDefined(Vectors)) throw Bad(nameof(Vectors), Vectors, "use FlattenedChunk or PerActionStep");
        if (!double.IsFinite(CosineEpsilon) || CosineEpsilon <= 0) throw Bad(nameof(CosineEpsilon), CosineEpsilon, "use a small positive value such as 1e-12");
        return this;
    }

    private static ArgumentException Bad(string field, object value, string fix) =>
        new($"ContrastiveConfig.{field} = {Convert.ToString(value, CultureInfo.InvariantCulture)} is invalid: {fix}.", field);
}

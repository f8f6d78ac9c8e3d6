using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>
/// DP-AG's contrastive loss (docs/method.md M6): InfoNCE over a batch of B with cosine similarity and temperature tau.
/// The positive of anchor i is candidate i (eps_k and eps~_k of the same sample); the negatives are the other
/// candidates.
/// </summary>
/// <remarks>
/// With s_ij = cos(anchor_i, candidate_j) and logits l_ij = s_ij / tau, the loss of row i is
/// -l_ii + log sum_j exp(l_ij) with the positive in the denominator, or -l_ii + log sum_{j != i} exp(l_ij) without it.
/// One direction takes rows; the cycle form averages rows and columns (the transposed matrix).
/// </remarks>
public static class InfoNce
{
    /// <summary>The InfoNCE loss (a scalar): mean over the batch of <see cref="PerSample"/>.</summary>
    /// <param name="anchors">Static predictions eps_k, (B, T, Da) or (B, D).</param>
    /// <param name="candidates">Evolved predictions eps~_k, shaped like the anchors.</param>
    /// <param name="config">Contrastive constants.</param>
    public static Tensor Loss(Tensor anchors, Tensor candidates, ContrastiveConfig config)
    {
        using var scope = torch.NewDisposeScope();
        return PerSample(anchors, candidates, config).mean().MoveToOuterDisposeScope();
    }

    /// <summary>Per-sample InfoNCE losses (B), averaged over directions and (for per-step vectors) over action steps.</summary>
    public static Tensor PerSample(Tensor anchors, Tensor candidates, ContrastiveConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        KlDivergence.RequireSameShape(anchors, candidates, nameof(candidates));
        if (anchors.shape.Length < 2) throw new ArgumentException($"anchors has shape [{string.Join(", ", anchors.shape)}]; expected (B, D) or (B, T, Da).", nameof(anchors));
        long batch = anchors.shape[0];
        if (batch < 2) throw new ArgumentException($"InfoNCE needs a batch of at least 2 (one positive and one negative); got B = {batch}.", nameof(anchors));
        if (config.Vectors == ContrastiveVectors.PerActionStep && anchors.shape.Length != 3)
            throw new ArgumentException($"PerActionStep needs (B, T, Da) vectors; got [{string.Join(", ", anchors.shape)}].", nameof(anchors));
        using var scope = torch.NewDisposeScope();
        if (config.DetachCandidates) candidates = candidates.detach();
        var sim = CosineSimilarities(anchors, candidates, config.Vectors, config.CosineEpsilon);   // (G, B, B)
        var logits = sim.DividedBy(config.Temperature);
        var rows = RowLosses(logits, config.PositiveInDenominator);                               // (G, B)
        if (config.Direction == InfoNceDirection.Cycle)
            rows = rows.Plus(RowLosses(logits.transpose(1, 2), config.PositiveInDenominator)).Times(0.5);
        return rows.mean(new long[] { 0 }).MoveToOuterDisposeScope();                              // (B)
    }

    /// <summary>
    /// Cosine similarities s_ij = cos(anchor_i, candidate_j), shape (G, B, B): G = 1 for the flattened chunk, G = Ta
    /// per action step.
    /// </summary>
    public static Tensor CosineSimilarities(Tensor anchors, Tensor candidates, ContrastiveVectors vectors, double epsilon)
    {
        using var scope = torch.NewDisposeScope();
        long batch = anchors.shape[0];
        Tensor a, c;
        if (vectors == ContrastiveVectors.FlattenedChunk)
        {
            a = anchors.reshape(1, batch, -1);                  // (B, ...) -> (1, B, D)
            c = candidates.reshape(1, batch, -1);
        }
        else
        {
            a = anchors.permute(1, 0, 2);                       // (B, T, Da) -> (Ta, B, Da)
            c = candidates.permute(1, 0, 2);
        }
        a = a / torch.linalg.norm(a, new long[] { -1 }, keepdim: true).AtLeast(epsilon);
        c = c / torch.linalg.norm(c, new long[] { -1 }, keepdim: true).AtLeast(epsilon);
        return torch.bmm(a, c.transpose(1, 2)).MoveToOuterDisposeScope();   // (G, B, D) x (G, D, B) -> (G, B, B)
    }

    /// <summary>-l_ii + logsumexp_j l_ij per row, the diagonal left out of the sum when the positive is excluded.</summary>
    private static Tensor RowLosses(Tensor logits, bool positiveInDenominator)
    {
        long batch = logits.shape[1];
        var positive = logits.diagonal(0, 1, 2);                                                        // (G, B)
        var eye = torch.eye(batch, dtype: ScalarType.Bool, device: logits.device).unsqueeze(0);          // (1, B, B)
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        var denominator = positiveInDenominator ? logits : logits.masked_fill(eye, minusInfinity);
        return denominator.logsumexp(2) - positive;                                                      // (G, B)
    }
}

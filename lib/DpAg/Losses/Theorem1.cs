using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>What a batch of predictions says about Theorem 1 (scalars, as doubles).</summary>
/// <param name="Loss">L_cont in the theorem's form: one direction, positive excluded.</param>
/// <param name="MeanPositiveCosine">Mean over i of s+_i = cos(anchor_i, candidate_i).</param>
/// <param name="MeanSquaredUnitDistance">Mean over i of || u_i - v_i ||^2 for the unit vectors u, v.</param>
/// <param name="CosineLowerBound">tau ln(B-1) - 1 - tau * Loss: the bound on MeanPositiveCosine with alpha = Loss.</param>
public sealed record Theorem1Check(double Loss, double MeanPositiveCosine, double MeanSquaredUnitDistance, double CosineLowerBound);

/// <summary>
/// Theorem 1 of the paper (docs/method.md M8): if L_cont &lt;= alpha (InfoNCE, positive excluded, batch B, temperature
/// tau), then the positive cosine satisfies s+ >= tau ln(B-1) - 1 - tau alpha, hence ||u - v||^2 = 2 - 2 s+
/// &lt;= 2 (2 - tau ln(B-1) + tau alpha), and with an L-Lipschitz latent update
/// ||z~^{k+1} - z~^k||^2 &lt;= 2 L^2 (2 - tau ln(B-1) + tau alpha).
/// </summary>
/// <remarks>
/// Derivation of the cosine bound: every similarity is >= -1, so each row loss
/// -s+/tau + log sum_{j != i} exp(s_ij / tau) >= -s+/tau + ln(B-1) - 1/tau; L &lt;= alpha rearranges to the bound.
/// Averaging over rows, it holds for the mean positive cosine when the mean loss is &lt;= alpha, and row by row for the
/// row losses. The bound beats the trivial ||u - v||^2 &lt;= 4 only when alpha &lt; ln(B-1).
/// </remarks>
public static class Theorem1
{
    /// <summary>The step bound 2 L^2 (2 - tau ln(B-1) + tau alpha).</summary>
    public static double StepBound(double lipschitz, double temperature, int batchSize, double alpha)
    {
        Check(temperature, batchSize);
        return 2 * lipschitz * lipschitz * (2 - temperature * Math.Log(batchSize - 1) + temperature * alpha);
    }

    /// <summary>The positive-cosine lower bound tau ln(B-1) - 1 - tau alpha.</summary>
    public static double PositiveCosineLowerBound(double temperature, int batchSize, double alpha)
    {
        Check(temperature, batchSize);
        return temperature * Math.Log(batchSize - 1) - 1 - temperature * alpha;
    }

    /// <summary>The bound on ||u - v||^2 for unit vectors: 2 - 2 * <see cref="PositiveCosineLowerBound"/>.</summary>
    public static double SquaredUnitDistanceBound(double temperature, int batchSize, double alpha) =>
        2 - 2 * PositiveCosineLowerBound(temperature, batchSize, alpha);

    /// <summary>Whether the bound says anything (beats ||u - v||^2 &lt;= 4): alpha &lt; ln(B-1).</summary>
    public static bool IsInformative(int batchSize, double alpha)
    {
        if (batchSize < 2) throw new ArgumentException($"batchSize = {batchSize} is invalid: the theorem needs B >= 2.", nameof(batchSize));
        return alpha < Math.Log(batchSize - 1);
    }

    /// <summary>Measures the theorem's quantities on a batch (flattened vectors, one direction, positive excluded).</summary>
    /// <param name="anchors">Static predictions, (B, ...).</param>
    /// <param name="candidates">Evolved predictions, shaped like the anchors.</param>
    /// <param name="temperature">tau.</param>
    public static Theorem1Check Measure(Tensor anchors, Tensor candidates, double temperature)
    {
        int batch = checked((int)anchors.shape[0]);
        Check(temperature, batch);
        using var scope = torch.NewDisposeScope();
        anchors = anchors.detach().to_type(ScalarType.Float64);        // measured in float64 whatever the model's dtype
        candidates = candidates.detach().to_type(ScalarType.Float64);
        var config = new ContrastiveConfig { Temperature = temperature, PositiveInDenominator = false, Direction = InfoNceDirection.OneWay, DetachCandidates = true };
        double loss = InfoNce.Loss(anchors, candidates, config).item<double>();
        var sim = InfoNce.CosineSimilarities(anchors, candidates, ContrastiveVectors.FlattenedChunk, config.CosineEpsilon)[0]; // (B, B)
        double meanCos = sim.diagonal().mean().item<double>();
        var u = anchors.reshape(batch, -1);
        var v = candidates.reshape(batch, -1);
        u = u / torch.linalg.norm(u, new long[] { 1 }, keepdim: true);
        v = v / torch.linalg.norm(v, new long[] { 1 }, keepdim: true);
        double dist = (u - v).Power(2).sum(1).mean().item<double>();
        return new Theorem1Check(loss, meanCos, dist, PositiveCosineLowerBound(temperature, batch, loss));
    }

    private static void Check(double temperature, int batchSize)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentException($"temperature = {temperature} is invalid: use tau > 0.", nameof(temperature));
        if (batchSize < 2) throw new ArgumentException($"batchSize = {batchSize} is invalid: the theorem needs B >= 2.", nameof(batchSize));
    }
}

using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Evaluation;

/// <summary>
/// How well the static and evolved noise predictions of DP-AG are aligned (Wang and Isola 2020): on unit vectors
/// u_i (static) and v_i (evolved), the mean positive cosine cos(u_i, v_i), the mean negative cosine cos(u_i, v_j), j != i,
/// the alignment E ||u_i - v_i||^2 (lower = better aligned) and the uniformity log E_{i != j} exp(-2 ||u_i - u_j||^2)
/// of the static predictions (lower = more spread over the sphere).
/// </summary>
public sealed record AlignmentMetrics(double PositiveCosine, double NegativeCosine, double Alignment, double Uniformity)
{
    /// <summary>Measures a batch; both inputs are (B, ...) and are flattened per sample.</summary>
    public static AlignmentMetrics Measure(Tensor staticPredictions, Tensor evolvedPredictions)
    {
        if (!staticPredictions.shape.SequenceEqual(evolvedPredictions.shape) || staticPredictions.shape[0] < 2)
            throw new ArgumentException($"AlignmentMetrics needs two batches of the same shape with B >= 2; got ({string.Join(", ", staticPredictions.shape)}) and ({string.Join(", ", evolvedPredictions.shape)}).");
        using var scope = torch.NewDisposeScope();
        long b = staticPredictions.shape[0];
        var u = nn.functional.normalize(staticPredictions.detach().to(float64).reshape(b, -1), dim: 1);
        var v = nn.functional.normalize(evolvedPredictions.detach().to(float64).reshape(b, -1), dim: 1);
        var cos = u.matmul(v.T);                                         // (B, B)
        var offDiagonal = ~torch.eye(b, dtype: ScalarType.Bool);
        double positive = cos.diagonal().mean().item<double>();
        double negative = cos.masked_select(offDiagonal).mean().item<double>();
        double alignment = (u - v).Power(2).sum(1).mean().item<double>();
        var sq = torch.cdist(u, u).Power(2).masked_select(offDiagonal);
        double uniformity = Math.Log(sq.Times(-2).exp().mean().item<double>());
        return new AlignmentMetrics(positive, negative, alignment, uniformity);
    }
}

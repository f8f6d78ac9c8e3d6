using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Spirals;

/// <summary>Error and smoothness measures of the spirals experiment.</summary>
public static class SpiralMetrics
{
    /// <summary>Mean squared error over the stamps of <paramref name="kind"/>, averaged over both coordinates.</summary>
    /// <param name="predicted">(B, N, 2).</param>
    /// <param name="target">(B, N, 2), usually the clean trajectory.</param>
    /// <param name="kinds">(B, N) <see cref="PointKind"/> as int64.</param>
    /// <param name="kind">Which stamps; null for every non-observed (held-out) stamp.</param>
    public static double Mse(Tensor predicted, Tensor target, Tensor kinds, PointKind? kind)
    {
        using var scope = torch.NewDisposeScope();
        using var kindValue = ((long)(kind ?? PointKind.Observed)).ToScalar();
        var mask = kind is not null ? kinds.eq(kindValue) : kinds.ne(kindValue);                // (B, N)
        var se = (predicted - target).Power(2).mean(new long[] { -1 });                         // (B, N)
        var m = mask.to(se.dtype);
        double count = m.sum().to(float64).item<double>();
        if (count == 0) throw new ArgumentException($"No stamps of kind {kind} to score.", nameof(kind));
        return (se * m).sum().to(float64).item<double>() / count;
    }

    /// <summary>Mean squared first difference, mean over b and i of ||x_{i+1} - x_i||^2, for (B, G, D) paths.</summary>
    public static double MeanSquaredStep(Tensor path)
    {
        RequirePath(path, 2);
        using var scope = torch.NewDisposeScope();
        long g = path.shape[1];
        var d = path.narrow(1, 1, g - 1) - path.narrow(1, 0, g - 1);                                                 // (B, G-1, D)
        return d.Power(2).sum(-1).mean().to(float64).item<double>();
    }

    /// <summary>Mean squared second difference, mean ||x_{i+1} - 2 x_i + x_{i-1}||^2, for (B, G, D) paths (a discrete
    /// curvature/acceleration measure on a regular grid).</summary>
    public static double MeanSquaredCurvature(Tensor path)
    {
        RequirePath(path, 3);
        using var scope = torch.NewDisposeScope();
        long g = path.shape[1];
        var d2 = path.narrow(1, 2, g - 2).Minus(path.narrow(1, 1, g - 2).Times(2)).Plus(path.narrow(1, 0, g - 2));            // (B, G-2, D)
        return d2.Power(2).sum(-1).mean().to(float64).item<double>();
    }

    /// <summary>
    /// The trivial baseline: at each held-out stamp, linear interpolation between the neighbouring observed points of
    /// the prefix; before the first observed point its value, after the last one the last value (hold).
    /// </summary>
    /// <returns>(n, N, 2) flat predictions in the layout of <see cref="SpiralSet.Noisy"/>.</returns>
    public static double[] TrivialPrediction(SpiralSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        int N = set.Points;
        var result = new double[set.Count * N * 2];
        var obs = new List<int>();
        for (int i = 0; i < set.Count; i++)
        {
            obs.Clear();
            for (int j = 0; j < N; j++) if (set.Kinds[i * N + j] == PointKind.Observed) obs.Add(i * N + j);
            for (int j = 0; j < N; j++)
            {
                int p = i * N + j;
                double t = set.Times[p];
                int after = obs.FindIndex(q => set.Times[q] >= t);
                for (int c = 0; c < 2; c++)
                {
                    double value;
                    if (after < 0) value = set.Noisy[2 * obs[^1] + c];
                    else if (after == 0) value = set.Noisy[2 * obs[0] + c];
                    else
                    {
                        int a = obs[after - 1], b = obs[after];
                        double ta = set.Times[a], tb = set.Times[b];
                        double w = tb > ta ? (t - ta) / (tb - ta) : 0;
                        value = (1 - w) * set.Noisy[2 * a + c] + w * set.Noisy[2 * b + c];
                    }
                    result[2 * p + c] = value;
                }
            }
        }
        return result;
    }

    /// <summary>Projects (M, D) points on their first two principal components: (M, 2).</summary>
    public static Tensor Pca2(Tensor points)
    {
        if (points.dim() != 2 || points.shape[1] < 2)
            throw new ArgumentException($"Pca2 needs (M, D >= 2) points, got ({string.Join(", ", points.shape)}).", nameof(points));
        using var scope = torch.NewDisposeScope();
        var x = points.to(float64);
        var centred = x - x.mean(new long[] { 0 }, keepdim: true);                             // (M, D)
        var cov = centred.t().matmul(centred).DividedBy(Math.Max(1, points.shape[0] - 1));       // (D, D)
        var (_, vectors) = torch.linalg.eigh(cov);                                             // ascending eigenvalues
        var top = vectors.narrow(1, points.shape[1] - 2, 2).flip(1);                                                    // (D, 2), largest first
        // Fix each component's sign (largest |loading| positive) so figures do not flip between runs.
        var idx = top.abs().argmax(0);                                                          // (2)
        var signs = top.gather(0, idx.unsqueeze(0)).sign();                                     // (1, 2)
        using var zero = 0.ToScalar();
        signs = torch.where(signs.eq(zero), torch.ones_like(signs), signs);
        return centred.matmul(top * signs).MoveToOuterDisposeScope();                           // (M, 2)
    }

    private static void RequirePath(Tensor path, int minLength)
    {
        if (path.dim() != 3 || path.shape[1] < minLength)
            throw new ArgumentException($"Expected a (B, G >= {minLength}, D) path, got ({string.Join(", ", path.shape)}).", nameof(path));
    }
}

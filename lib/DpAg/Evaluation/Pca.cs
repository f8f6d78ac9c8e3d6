using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Evaluation;

/// <summary>Principal-component projection for plotting latent paths and prediction clouds in 2-D or 3-D.</summary>
public sealed class Pca
{
    private Pca(Tensor mean, Tensor components, double[] explained) { Mean = mean; Components = components; ExplainedVariance = explained; }

    /// <summary>The data mean (D).</summary>
    public Tensor Mean { get; }
    /// <summary>The principal axes as rows (k, D).</summary>
    public Tensor Components { get; }
    /// <summary>Fraction of the total variance along each kept axis.</summary>
    public double[] ExplainedVariance { get; }

    /// <summary>Fits k components to the rows of x (N, D) by SVD of the centred data.</summary>
    public static Pca Fit(Tensor x, int k)
    {
        if (x.dim() != 2) throw new ArgumentException($"Pca.Fit expects (N, D) rows; got ({string.Join(", ", x.shape)}). Flatten each sample first.");
        if (k < 1 || k > Math.Min(x.shape[0], x.shape[1])) throw new ArgumentException($"Pca.Fit: k = {k} must be in 1..min(N, D) = {Math.Min(x.shape[0], x.shape[1])}.");
        using var scope = torch.NewDisposeScope();
        var data = x.detach().to(float64);
        var mean = data.mean([0]);
        var (_, s, vh) = torch.linalg.svd(data - mean, fullMatrices: false);
        var variance = s.Power(2);
        var explained = (variance[..k] / variance.sum()).data<double>().ToArray();
        return new Pca(mean.MoveToOuterDisposeScope(), vh[..k].MoveToOuterDisposeScope(), explained);
    }

    /// <summary>Projects rows of x (N, D) onto the axes: (N, k), float64.</summary>
    public Tensor Transform(Tensor x) => (x.detach().to(float64) - Mean).matmul(Components.T);
}

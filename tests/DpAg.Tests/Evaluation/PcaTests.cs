using DpAg.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Evaluation;

public class PcaTests
{
    [Fact]
    public void FindsTheDominantAxisAndItsVarianceShare()
    {
        Torch.Init();
        var g = new torch.Generator(3);
        var t = torch.randn([2000, 1], dtype: float64, generator: g) * 3;                 // variance 9 along (1, 1, 0)/sqrt 2
        var noise = torch.randn([2000, 3], dtype: float64, generator: g) * 0.1;
        var x = t * torch.tensor(new[] { 1.0, 1.0, 0.0 }).unsqueeze(0) / Math.Sqrt(2) + noise;
        var pca = Pca.Fit(x, 2);
        var axis = pca.Components[0].abs().data<double>().ToArray();
        Assert.InRange(axis[0], 0.70, 0.72); Assert.InRange(axis[1], 0.70, 0.72); Assert.InRange(axis[2], 0, 0.02);
        Assert.InRange(pca.ExplainedVariance[0], 0.99, 1.0);
        Assert.Equal(new long[] { 2000, 2 }, pca.Transform(x).shape);
        Assert.Throws<ArgumentException>(() => Pca.Fit(torch.zeros(3, 2, 2), 1));
    }
}

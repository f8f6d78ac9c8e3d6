using DpAg.Spirals;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Spirals;

public class SpiralMetricsTests
{
    [Fact]
    public void StepAndCurvatureHaveTheirClosedFormsOnLinesAndParabolas()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var i = torch.arange(10, dtype: float64).reshape(1, 10, 1);                        // (1, G, 1)
        var v = torch.tensor(new double[] { 1, -2, 0.5 }).reshape(1, 1, 3);
        var line = i * v;                                                                   // x_i = i v
        Assert.Equal(5.25, SpiralMetrics.MeanSquaredStep(line), 5);                         // ||v||^2
        Assert.Equal(0.0, SpiralMetrics.MeanSquaredCurvature(line), 6);
        var parabola = i.pow(2) * v;                                                        // second difference 2 v
        Assert.Equal(4 * 5.25, SpiralMetrics.MeanSquaredCurvature(parabola), 4);
    }

    [Fact]
    public void MseCountsOnlyTheRequestedStamps()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var kinds = torch.tensor(new long[] { 0, 1, 2, 2 }).reshape(1, 4);
        var target = torch.zeros(1, 4, 2);
        var pred = torch.tensor(new float[] { 9, 9, 1, 1, 2, 2, 4, 4 }).reshape(1, 4, 2);
        Assert.Equal(1.0, SpiralMetrics.Mse(pred, target, kinds, PointKind.Interpolation), 6);
        Assert.Equal(10.0, SpiralMetrics.Mse(pred, target, kinds, PointKind.Extrapolation), 6);
        Assert.Equal(7.0, SpiralMetrics.Mse(pred, target, kinds, null), 6);
    }

    [Fact]
    public void TrivialBaselineInterpolatesTheObservedPrefixAndHoldsTheLastValue()
    {
        var set = new SpiralSet(1, 4, [0.1, 0.2, 0.3, 0.8], new double[8],
            [0, 0, 5, 5, 2, 4, 7, 7], [PointKind.Observed, PointKind.Interpolation, PointKind.Observed, PointKind.Extrapolation], [false], [0.0], [1.0]);
        var p = SpiralMetrics.TrivialPrediction(set);
        Assert.Equal(1.0, p[2], 12);                                                        // halfway between (0,0) and (2,4)
        Assert.Equal(2.0, p[3], 12);
        Assert.Equal(2.0, p[6], 12);                                                        // held after the last observed point
        Assert.Equal(4.0, p[7], 12);
    }

    [Fact]
    public void Pca2KeepsAPlanarCloudUpToRotation()
    {
        Torch.Init(seed: 5);
        using var scope = torch.NewDisposeScope();
        var plane = torch.randn(50, 2, dtype: float64) * torch.tensor(new double[] { 3, 1 });   // (M, 2)
        var basis = torch.linalg.qr(torch.randn(6, 2, dtype: float64)).Q;                      // (6, 2) orthonormal columns
        var points = plane.matmul(basis.t()) + 0.5;                                            // (M, 6)
        var proj = SpiralMetrics.Pca2(points);
        var d1 = torch.cdist(proj, proj);                                                     // cdist uses a matmul form: ~1e-8 rounding
        var d2 = torch.cdist(points, points);
        double err = (d1 - d2).abs().max().item<double>();
        Assert.True(err < 1e-6, $"max distance error {err}, proj {proj[0].ToString(TorchSharp.TensorStringStyle.Numpy)}");
    }
}

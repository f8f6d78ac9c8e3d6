using DpAg.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Evaluation;

public class AlignmentMetricsTests
{
    [Fact]
    public void IdenticalPairsArePerfectlyAlignedAndOrthogonalOnesAreNot()
    {
        Torch.Init();
        var eye = torch.eye(4, dtype: float64);                          // 4 orthonormal vectors
        var same = AlignmentMetrics.Measure(eye, eye);
        Assert.Equal(1.0, same.PositiveCosine, 12);
        Assert.Equal(0.0, same.NegativeCosine, 12);
        Assert.Equal(0.0, same.Alignment, 12);
        Assert.Equal(-4.0, same.Uniformity, 12);                         // ||e_i - e_j||^2 = 2 -> log exp(-4)
        var shifted = AlignmentMetrics.Measure(eye, eye.roll(1, 0));      // each paired with another basis vector
        Assert.Equal(0.0, shifted.PositiveCosine, 12);
        Assert.Equal(2.0, shifted.Alignment, 12);
        Assert.Throws<ArgumentException>(() => AlignmentMetrics.Measure(eye, torch.eye(3)));
    }
}

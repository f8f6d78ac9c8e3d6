using DpAg.Nets;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Nets;

public class SinusoidalPosEmbTests
{
    [Fact]
    public void SineHalfComesFirstWithGeometricFrequencies()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var emb = new SinusoidalPosEmb(8);
        var e = emb.forward(torch.tensor(new long[] { 0, 3 }));            // (2, 8)
        Assert.Equal(new long[] { 2, 8 }, e.shape);
        Assert.Equal(ScalarType.Float32, e.dtype);
        var row = e[1].data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            double w = Math.Exp(-i * Math.Log(10000) / 3);                     // h = 4, w_i = 10000^(-i/(h-1))
            Assert.Equal(Math.Sin(3 * w), row[i], 5);
            Assert.Equal(Math.Cos(3 * w), row[4 + i], 5);
        }
        Assert.Equal(new float[] { 0, 0, 0, 0, 1, 1, 1, 1 }, e[0].data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => new SinusoidalPosEmb(5));
    }
}

using DpAg.Nets;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Nets;

/// <summary>
/// The port against PyTorch: golden/unet_golden.py builds the same tiny U-Net with PyTorch 1.13's own layers, sets
/// every parameter from its state-dict key by a formula repeated here, and prints the output below.
/// </summary>
public class ConditionalUnet1DGoldenTests
{
    private static readonly double[] Golden =
    {
        0.055292987195742244, -0.02953880644693479, 0.046043971367989614, -0.020807458895422747,
        0.042980273070722046, -0.01808578875365329, 0.05412507706318974, -0.02973654103658703,
        0.0445423928258018, -0.01960944503587962, 0.05401591963792905, -0.029488477259231295,
        0.06298034840396295, -0.03861983805293946, 0.09199883831522938, -0.06926794130394773,
        0.056253477504625095, -0.03007589480155237, 0.0443238265751844, -0.018658761677289765,
        0.04055627378620115, -0.015267432436576328, 0.051463927569010005, -0.02687126164045573,
        0.04415830142742999, -0.01896454685508941, 0.054668980152999806, -0.0301305031954031,
        0.06533931821926137, -0.041170850126915404, 0.09381736516570442, -0.07160460980107217,
    };

    [Fact]
    public void SameKeysAndWeightsGiveThePyTorchOutput()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(new UnetConfig
        {
            DiffusionStepEmbedDim = 8, DownDims = new[] { 8, 16 }, KernelSize = 3, NGroups = 4,
        }, inputDim: 2, globalCondDim: 3);
        net.to(ScalarType.Float64);
        var sd = net.state_dict();
        Assert.Equal(100, sd.Count);
        Assert.Equal(12290, net.parameters().Sum(p => p.numel()));
        using (torch.no_grad())
        {
            foreach (var (key, p) in sd)
            {
                int seed = key.Sum(c => (int)c) % 1000;
                var values = 0.3 * torch.sin(torch.arange(p.numel(), dtype: ScalarType.Float64) * 0.37 + seed * 0.01);
                p.copy_(values.reshape(p.shape));
            }
        }
        var x = torch.sin(torch.arange(32, dtype: ScalarType.Float64) * 0.5).reshape(2, 8, 2);   // (B, T, Da)
        var g = torch.cos(torch.arange(6, dtype: ScalarType.Float64) * 0.7).reshape(2, 3);       // (B, Dg)
        var y = net.forward(x, torch.tensor(new long[] { 3, 71 }), g).flatten().data<double>().ToArray();
        Assert.Equal(Golden.Length, y.Length);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - Golden[i]) < 1e-12 + 1e-9 * Math.Abs(Golden[i]), $"output {i}: {y[i]:R} vs PyTorch {Golden[i]:R}");
    }
}

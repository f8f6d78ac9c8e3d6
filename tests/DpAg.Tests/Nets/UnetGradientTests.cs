using DpAg.Nets;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DpAg.Tests.Nets;

/// <summary>Backpropagation through a tiny float64 U-Net agrees with central finite differences.</summary>
public class UnetGradientTests(ITestOutputHelper output)
{
    private static readonly UnetConfig Tiny = new()
    {
        DiffusionStepEmbedDim = 8, DownDims = new[] { 4, 8 }, KernelSize = 3, NGroups = 2,
    };

    private const double H = 1e-6;

    [Fact]
    public void ParameterAndInputGradientsMatchFiniteDifferences()
    {
        Torch.Init(5);
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(Tiny, inputDim: 2, globalCondDim: 3);
        net.to(ScalarType.Float64);
        var x = torch.randn(new long[] { 2, 4, 2 }, dtype: ScalarType.Float64).requires_grad_(true);   // (B, T, Da)
        var cond = torch.randn(new long[] { 2, 3 }, dtype: ScalarType.Float64).requires_grad_(true);   // (B, Dg)
        var t = torch.tensor(new long[] { 3, 71 });
        var w = torch.randn(new long[] { 2, 4, 2 }, dtype: ScalarType.Float64);                        // fixed output weights
        Tensor Loss() => (net.forward(x, t, cond) * w).sum();

        net.zero_grad();
        Loss().backward();

        var named = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var probes = new List<(string Name, Tensor Tensor, long Index)>
        {
            ("diffusion_step_encoder.1.weight", named["diffusion_step_encoder.1.weight"], 5),
            ("down_modules.0.0.blocks.0.block.0.weight", named["down_modules.0.0.blocks.0.block.0.weight"], 7),
            ("down_modules.0.0.blocks.0.block.1.weight (GroupNorm)", named["down_modules.0.0.blocks.0.block.1.weight"], 1),
            ("down_modules.0.2.conv.weight (stride-2 conv)", named["down_modules.0.2.conv.weight"], 3),
            ("mid_modules.1.cond_encoder.1.weight (FiLM)", named["mid_modules.1.cond_encoder.1.weight"], 20),
            ("up_modules.0.2.conv.weight (transposed conv)", named["up_modules.0.2.conv.weight"], 9),
            ("final_conv.1.weight", named["final_conv.1.weight"], 1),
            ("sample x", x, 5),
            ("global cond", cond, 4),
        };
        foreach (var (name, tensor, index) in probes)
        {
            double analytic = tensor.grad!.flatten()[index].item<double>();
            double numeric;
            using (torch.no_grad())
            {
                var entry = tensor.flatten()[index];                  // a view into the parameter or input
                entry.add_(H);
                double plus = Loss().item<double>();
                entry.add_(-2 * H);
                double minus = Loss().item<double>();
                entry.add_(H);
                numeric = (plus - minus) / (2 * H);
            }
            output.WriteLine($"{name}[{index}]: backprop {analytic:R}, finite difference {numeric:R}");
            Assert.True(Math.Abs(analytic) > 1e-8, $"{name}: gradient {analytic} is too small to be a meaningful check");
            Assert.True(Math.Abs(analytic - numeric) <= 1e-7 + 1e-6 * Math.Abs(analytic),
                $"{name}[{index}]: backprop {analytic:R} vs finite difference {numeric:R}");
        }
    }
}

using DpAg.Nets;
using TorchSharp;

namespace DpAg.Tests.Nets;

public class NormsTests
{
    [Fact]
    public void GroupNormStartsAsTheIdentityAffineMapLikePyTorch()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var norm = Norms.GroupNorm(4, 16);
        Assert.True(norm.weight!.eq(1).all().item<bool>());
        Assert.True(norm.bias!.eq(0).all().item<bool>());
        // Normalised per (sample, group): mean 0, variance 1.
        var y = norm.forward(torch.randn(2, 16, 5) * 3 + 1).reshape(2, 4, -1);
        Assert.True(y.mean(new long[] { 2 }).abs().max().item<float>() < 1e-5);
        Assert.True((y.var(2, unbiased: false) - 1).abs().max().item<float>() < 1e-3);
        Assert.Contains("divide", Assert.Throws<ArgumentException>(() => Norms.GroupNorm(3, 16)).Message);
    }

    [Fact]
    public void EveryGroupNormOfAFreshUnetIsInitialised()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(new UnetConfig { DiffusionStepEmbedDim = 8, DownDims = new[] { 8, 16 } }, inputDim: 2, globalCondDim: 4);
        var norms = net.named_parameters().Where(p => p.name.EndsWith("block.1.weight")).ToList();
        Assert.NotEmpty(norms);
        Assert.All(norms, p => Assert.True(p.parameter.eq(1).all().item<bool>(), p.name));
        Assert.All(net.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }

    [Fact]
    public void EveryParameterOfFreshNetworksIsInitialisedAndBounded()
    {
        Torch.Init(9);
        using var scope = torch.NewDisposeScope();
        using var unet = new ConditionalUnet1D(new UnetConfig { DiffusionStepEmbedDim = 8, DownDims = new[] { 8, 16 } }, inputDim: 2, globalCondDim: 4);
        using var encoder = new ResNet18Encoder();
        foreach (var (name, p) in unet.named_parameters().Concat(encoder.named_parameters()))
        {
            double maxAbs = p.abs().max().item<float>();
            Assert.True(p.isfinite().all().item<bool>(), name);
            Assert.True(maxAbs <= 1.0, $"{name}: max |w| = {maxAbs}");   // PyTorch-style inits are far below 1 at these widths
            bool zeroInit = name.EndsWith("bias") && (name.Contains("bn") || name.Contains("block.1") || name.Contains("downsample.1"));
            if (!zeroInit) Assert.True(maxAbs > 0, $"{name} is all zeros");
        }
        // torchvision ResNet init: Kaiming-normal fan_out, std = sqrt(2 / (C_out k^2)); conv1 is 64 x 3 x 7 x 7.
        var conv1 = encoder.named_parameters().Single(p => p.name == "backbone.conv1.weight").parameter;
        double expectedStd = Math.Sqrt(2.0 / (64 * 49)), std = conv1.std().item<float>();
        Assert.True(Math.Abs(std / expectedStd - 1) < 0.05, $"conv1 std {std}, expected {expectedStd} (9408 draws)");
    }
}

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
        using var net = new ConditionalUnet1D(new UnetConfig { GlobalCondDim = 4, DiffusionStepEmbedDim = 8, DownDims = new[] { 8, 16 } });
        var norms = net.named_parameters().Where(p => p.name.EndsWith("block.1.weight")).ToList();
        Assert.NotEmpty(norms);
        Assert.All(norms, p => Assert.True(p.parameter.eq(1).all().item<bool>(), p.name));
        Assert.All(net.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }
}

using DpAg.Latent;
using TorchSharp;
using static TorchSharp.torch;
using static DpAg.Tests.Latent.Numerics;

namespace DpAg.Tests.Latent;

public class GaussianPosteriorTests
{
    [Fact]
    public void IdentityMeanReturnsTheFeatureAndSigmaIsExpHalfLogVar()
    {
        Torch.Init(seed: 11);
        using var scope = torch.NewDisposeScope();
        using var post = new GaussianPosterior(3);
        post.to(ScalarType.Float64);
        var feature = Randn(4, 2, 3); // (B, To, F)
        var (mu, logvar, sigma) = post.forward(feature);
        Assert.Equal(feature.shape, mu.shape);
        Assert.Equal(feature.shape, logvar.shape);
        AssertClose(Values(feature), Values(mu), 0, 0, "mu");
        AssertClose(Values(torch.exp(0.5 * logvar)), Values(sigma), 1e-15, 1e-14, "sigma");
        Assert.Equal(new[] { "logvar_head.weight", "logvar_head.bias" }, post.named_parameters().Select(p => p.name).ToArray());
    }

    [Fact]
    public void LogVarianceIsClampedToTheConfiguredRange()
    {
        Torch.Init(seed: 12);
        using var scope = torch.NewDisposeScope();
        using var post = new GaussianPosterior(3);
        post.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in post.parameters()) p.mul_(1000.0); // huge pre-activations of both signs
        var (_, logvar, sigma) = post.forward(Randn(64, 2, 3));
        Assert.Equal(-10.0, logvar.min().item<double>());
        Assert.Equal(2.0, logvar.max().item<double>());
        Assert.True(sigma.max().item<double>() <= Math.Exp(1.0) + 1e-12);

        using var custom = new GaussianPosterior(3, logVarMin: -1, logVarMax: 0.5);
        custom.to(ScalarType.Float64);
        using (torch.no_grad())
            foreach (var p in custom.parameters()) p.mul_(1000.0);
        var (_, lv, _) = custom.forward(Randn(64, 3));
        Assert.Equal(-1.0, lv.min().item<double>());
        Assert.Equal(0.5, lv.max().item<double>());
    }

    [Fact]
    public void LearnedMeanIsALinearHeadAndFlattenedFeaturesWork()
    {
        Torch.Init(seed: 13);
        using var scope = torch.NewDisposeScope();
        using var post = new GaussianPosterior(6, learnedMean: true);
        post.to(ScalarType.Float64);
        Assert.Equal(new[] { "mu_head.weight", "mu_head.bias", "logvar_head.weight", "logvar_head.bias" }, post.named_parameters().Select(p => p.name).ToArray());
        var flat = Randn(5, 6); // (B, To*F)
        var (mu, logvar, sigma) = post.forward(flat);
        Assert.Equal(new long[] { 5, 6 }, mu.shape);
        Assert.Equal(new long[] { 5, 6 }, sigma.shape);
        Assert.True(mu.requires_grad && logvar.requires_grad);
    }

    [Fact]
    public void BadArgumentsAreReportedWithTheValuesReceived()
    {
        Torch.Init();
        Assert.Contains("featureDim = 0", Assert.Throws<ArgumentException>(() => new GaussianPosterior(0)).Message);
        Assert.Contains("[2, -1]", Assert.Throws<ArgumentException>(() => new GaussianPosterior(3, logVarMin: 2, logVarMax: -1)).Message);
        using var post = new GaussianPosterior(3);
        using var scope = torch.NewDisposeScope();
        Assert.Contains("last dimension must be F = 3", Assert.Throws<ArgumentException>(() => post.forward(torch.zeros(2, 4))).Message);
    }
}

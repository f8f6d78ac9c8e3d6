using DpAg.Nets;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Nets;

public class ConditionalUnet1DTests
{
    private static readonly UnetConfig Small = new() { DiffusionStepEmbedDim = 16, DownDims = new[] { 16, 32, 64 } };
    private const int Da = 2, Dg = 10;

    private static long CountOnMeta(UnetConfig config, int globalCondDim)
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(config, 2, globalCondDim, torch.META);
        return net.parameters().Sum(p => p.numel());
    }

    [Fact]
    public void ParameterCountsMatchThePushTCheckValues()
    {
        Torch.Init();
        // Built on the meta device: the same modules and parameter shapes, without allocating 1 GB or initialising it.
        Assert.Equal(65_783_298, CountOnMeta(UnetConfig.LowDimPushT, 40));
        Assert.Equal(251_511_938, CountOnMeta(UnetConfig.ImagePushT, 132));
        // Bias-only FiLM (cond_predict_scale = False), counted by hand: each cond Linear loses cond_dim x C_out + C_out.
        Assert.Equal(63_654_402, CountOnMeta(UnetConfig.LowDimPushT with { CondPredictScale = false }, 40));
        Assert.Equal(247_770_242, CountOnMeta(UnetConfig.ImagePushT with { CondPredictScale = false }, 132));
    }

    [Fact]
    public void StateDictKeysAndShapesAreThoseOfThePyTorchModel()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(UnetConfig.LowDimPushT, 2, 40, torch.META);
        var sd = net.state_dict();
        var expected = new Dictionary<string, long[]>
        {
            ["diffusion_step_encoder.1.weight"] = new long[] { 1024, 256 },
            ["diffusion_step_encoder.3.bias"] = new long[] { 256 },
            ["down_modules.0.0.blocks.0.block.0.weight"] = new long[] { 256, 2, 5 },
            ["down_modules.0.0.blocks.0.block.1.weight"] = new long[] { 256 },
            ["down_modules.0.0.cond_encoder.1.weight"] = new long[] { 512, 296 },
            ["down_modules.0.0.residual_conv.weight"] = new long[] { 256, 2, 1 },
            ["down_modules.0.2.conv.weight"] = new long[] { 256, 256, 3 },
            ["down_modules.2.1.blocks.1.block.0.weight"] = new long[] { 1024, 1024, 5 },
            ["mid_modules.0.cond_encoder.1.weight"] = new long[] { 2048, 296 },
            ["mid_modules.1.blocks.1.block.1.bias"] = new long[] { 1024 },
            ["up_modules.0.0.blocks.0.block.0.weight"] = new long[] { 512, 2048, 5 },
            ["up_modules.0.0.residual_conv.weight"] = new long[] { 512, 2048, 1 },
            ["up_modules.0.2.conv.weight"] = new long[] { 512, 512, 4 },
            ["up_modules.1.2.conv.bias"] = new long[] { 256 },
            ["final_conv.0.block.0.weight"] = new long[] { 256, 256, 5 },
            ["final_conv.1.weight"] = new long[] { 2, 256, 1 },
        };
        foreach (var (key, shape) in expected)
        {
            Assert.True(sd.ContainsKey(key), $"missing {key}");
            Assert.Equal(shape, sd[key].shape);
        }
        // No weights for the identity "downsample" of the last level, no residual conv where channels stay, no buffers.
        Assert.DoesNotContain(sd.Keys, k => k.StartsWith("down_modules.2.2.") || k.StartsWith("mid_modules.0.residual_conv"));
        Assert.Equal(net.parameters().Count(), sd.Count);
        Assert.All(sd.Keys, k => Assert.Matches("^(diffusion_step_encoder|down_modules|mid_modules|up_modules|final_conv)\\.", k));
    }

    [Fact]
    public void OutputHasTheInputShapeAndScalarTimestepsBroadcast()
    {
        Torch.Init(7);
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(Small, Da, Dg);
        net.eval();
        var x = torch.randn(3, 16, 2);                          // (B, T, Da)
        var cond = torch.randn(3, 10);                          // (B, Dg)
        var y = net.forward(x, torch.tensor(new long[] { 5, 5, 5 }), cond);
        Assert.Equal(new long[] { 3, 16, 2 }, y.shape);
        var yScalar = net.forward(x, torch.tensor(5L), cond);
        Assert.True(torch.allclose(y, yScalar, rtol: 1e-6, atol: 1e-6));
        Assert.False(y.isnan().any().item<bool>());
        var yOther = net.forward(x, torch.tensor(new long[] { 5, 60, 5 }), cond);
        Assert.True(torch.allclose(y[0], yOther[0], rtol: 1e-6, atol: 1e-6));
        Assert.False(torch.allclose(y[1], yOther[1], rtol: 1e-4, atol: 1e-4)); // the timestep conditions the output
        Assert.Equal(new long[] { 1, 8, 2 }, net.forward(torch.randn(1, 8, 2), torch.tensor(0L), torch.randn(1, 10)).shape);
    }

    [Fact]
    public void WrongShapesAndHorizonsAreRefusedWithTheValuesReceived()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(Small, Da, Dg);
        var e = Assert.Throws<ArgumentException>(() => net.forward(torch.randn(2, 10, 2), torch.tensor(1L), torch.randn(2, 10)));
        Assert.Contains("divisible by 2^(levels - 1) = 4", e.Message);
        Assert.Contains("got 10", e.Message);
        Assert.Contains("use 8 or 12", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.forward(torch.randn(2, 8, 3), torch.tensor(1L), torch.randn(2, 10)));
        Assert.Contains("(2, 8, 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.forward(torch.randn(2, 8, 2), torch.tensor(1L), torch.randn(2, 9)));
        Assert.Contains("(2, 9)", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.forward(torch.randn(2, 8, 2), torch.tensor(1L), null));
        Assert.Contains("null", e.Message);
        UnetConfig.LowDimPushT.CheckHorizon(16);
        Assert.Throws<ArgumentException>(() => UnetConfig.LowDimPushT.CheckHorizon(0));
        Assert.Equal(4, UnetConfig.LowDimPushT.HorizonMultiple);
    }

    [Fact]
    public void ConfigValidationNamesTheFieldAndValue()
    {
        var e = Assert.Throws<ArgumentException>(() => (UnetConfig.LowDimPushT with { DownDims = new[] { 256, 100 } }).Validate());
        Assert.Contains("DownDims", e.Message);
        Assert.Contains("100", e.Message);
        e = Assert.Throws<ArgumentException>(() => (UnetConfig.LowDimPushT with { KernelSize = 4 }).Validate());
        Assert.Contains("KernelSize", e.Message);
        Assert.Contains("got 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => (UnetConfig.LowDimPushT with { DiffusionStepEmbedDim = 7 }).Validate());
        Assert.Contains("got 7", e.Message);
        e = Assert.Throws<ArgumentException>(() => (UnetConfig.LowDimPushT with { DownDims = Array.Empty<int>() }).Validate());
        Assert.Contains("DownDims", e.Message);
    }

    [Fact]
    public void BiasOnlyFilmConditionsTheOutputToo()
    {
        Torch.Init(2);
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(Small with { CondPredictScale = false }, Da, Dg);
        Assert.Equal(new long[] { 16, 26 }, net.state_dict()["down_modules.0.0.cond_encoder.1.weight"].shape);   // (C_out, dsed + Dg)
        var x = torch.randn(2, 8, 2);
        var a = net.forward(x, torch.tensor(3L), torch.zeros(2, 10));
        var b = net.forward(x, torch.tensor(3L), torch.ones(2, 10));
        Assert.Equal(new long[] { 2, 8, 2 }, a.shape);
        Assert.True(a.isfinite().all().item<bool>());
        Assert.False(torch.allclose(a, b, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void WithoutGlobalConditioningOnlyTheStepEmbeddingConditions()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var net = new ConditionalUnet1D(Small, Da, 0);
        net.eval();
        var x = torch.randn(1, 8, 2).expand(2, 8, 2).contiguous();                   // one input, twice
        using var noGrad = torch.no_grad();
        var sameStep = net.forward(x, torch.tensor(new long[] { 5, 5 }), null);
        Assert.Equal(new long[] { 2, 8, 2 }, sameStep.shape);
        // Same input and step: the same output, and the same as alone in a batch (nothing else, no other sample, conditions it).
        Assert.True((sameStep[0] - sameStep[1]).abs().max().item<float>() == 0, "two identical rows gave different outputs");
        var alone = net.forward(x[..1], torch.tensor(new long[] { 5 }), null);
        Assert.True((alone[0] - sameStep[0]).abs().max().item<float>() < 1e-6, "a row's output depends on the other rows of the batch");
        // Another step: a different output, so the step embedding does condition the network.
        var otherStep = net.forward(x, torch.tensor(new long[] { 5, 60 }), null);
        double change = (otherStep[1] - otherStep[0]).abs().max().item<float>();
        Assert.True(change > 1e-4, $"changing the step from 5 to 60 changed the output by only {change}");
    }
}

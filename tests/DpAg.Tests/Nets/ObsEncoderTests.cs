using DpAg.Nets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DpAg.Tests.Nets;

public class ObsEncoderTests
{
    private static Dictionary<string, Tensor> ImageObs(long b, long to) => new()
    {
        [ObsKeys.Image] = torch.rand(new[] { b, to, 3, 96, 96 }) * 2 - 1,       // (B, To, 3, 96, 96) in [-1, 1]
        [ObsKeys.AgentPos] = torch.randn(b, to, 2),                   // (B, To, 2)
    };

    [Fact]
    public void LowDimEncoderFlattensTheWindowStepMajor()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var enc = new LowDimObsEncoder(20);
        var obs = torch.randn(3, 2, 20);                              // (B, To, Do)
        var g = enc.Encode(new Dictionary<string, Tensor> { [ObsKeys.Obs] = obs });
        Assert.Equal(new long[] { 3, 40 }, g.shape);
        Assert.Equal(20, enc.FeatureDimPerStep);
        Assert.True(torch.allclose(g[.., 20..], obs[.., 1], rtol: 0, atol: 0));   // step 1 follows step 0
        Assert.Empty(enc.parameters());
        Assert.Contains("(3, 2, 18)", Assert.Throws<ArgumentException>(() => enc.forward(torch.randn(3, 2, 18))).Message);
        Assert.Contains("\"obs\"", Assert.Throws<ArgumentException>(() => enc.Encode(new Dictionary<string, Tensor>())).Message);
    }

    [Fact]
    public void ImageEncoderGives66FeaturesPerStepWithAgentPositionLast()
    {
        Torch.Init(3);
        using var scope = torch.NewDisposeScope();
        using var enc = new ResNet18Encoder();
        enc.eval();
        var obs = ImageObs(2, 2);
        var g = enc.Encode(obs);
        Assert.Equal(66, enc.FeatureDimPerStep);
        Assert.Equal(new long[] { 2, 132 }, g.shape);                 // (B, To * 66)
        var perStep = g.reshape(2, 2, 66);                             // (B, To, 66)
        Assert.True(torch.allclose(perStep[.., .., 64..], obs[ObsKeys.AgentPos], rtol: 0, atol: 0));
        Assert.True(perStep[.., .., ..64].min().item<float>() >= 0);  // ReLU features
        Assert.True(torch.allclose(g, enc.Encode(obs), rtol: 0, atol: 0)); // evaluation is deterministic
        var e = Assert.Throws<ArgumentException>(() => enc.Encode(new Dictionary<string, Tensor> { [ObsKeys.Image] = obs[ObsKeys.Image] }));
        Assert.Contains("agent_pos", e.Message);
        e = Assert.Throws<ArgumentException>(() => enc.forward(torch.rand(1, 3, 84, 84)));
        Assert.Contains("(1, 3, 84, 84)", e.Message);
    }

    [Fact]
    public void CropIsRandomWhileTrainingAndCentredInEvaluation()
    {
        Torch.Init(11);
        using var scope = torch.NewDisposeScope();
        using var enc = new ResNet18Encoder();
        // Pixel (r, c) of every image holds 96 r + c, so a crop's top-left value tells where it was taken.
        var grid = torch.arange(96 * 96, dtype: ScalarType.Float32).reshape(1, 1, 96, 96).expand(32, 3, 96, 96).contiguous();
        enc.eval();
        var centre = enc.Crop(grid);
        Assert.Equal(new long[] { 32, 3, 84, 84 }, centre.shape);
        Assert.True(torch.allclose(centre, grid[.., .., 6..90, 6..90], rtol: 0, atol: 0));
        enc.train();
        var crops = enc.Crop(grid);
        Assert.Equal(new long[] { 32, 3, 84, 84 }, crops.shape);
        var offsets = new HashSet<(long, long)>();
        for (int i = 0; i < 32; i++)
        {
            long corner = (long)crops[i, 0, 0, 0].item<float>();
            long top = corner / 96, left = corner % 96;
            Assert.InRange(top, 0, 12);
            Assert.InRange(left, 0, 12);
            Assert.True(torch.allclose(crops[i], grid[i, .., (int)top..(int)(top + 84), (int)left..(int)(left + 84)], rtol: 0, atol: 0));
            offsets.Add((top, left));
        }
        Assert.True(offsets.Count > 10, $"only {offsets.Count} distinct crop offsets among 32 images");
        Assert.False(torch.allclose(crops, enc.Crop(grid), rtol: 0, atol: 0)); // each training call draws new crops
        enc.eval();
        Assert.True(torch.allclose(enc.Crop(grid), centre, rtol: 0, atol: 0));
    }

    [Fact]
    public void TheTrunkUsesGroupNormWithCOver16GroupsAndNoBatchNorm()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var enc = new ResNet18Encoder();
        var modules = enc.modules().ToList();
        Assert.DoesNotContain(modules, m => m is BatchNorm1d or BatchNorm2d or BatchNorm3d);
        var norms = modules.OfType<GroupNorm>().ToList();
        Assert.Equal(20, norms.Count);   // stem 1 + 8 blocks x 2 + 3 downsample norms
        Assert.All(norms, n => Assert.Equal(n.weight.shape[0] / 16, n.num_groups));
        Assert.Equal(new long[] { 4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32 }, norms.Select(n => n.num_groups).Order());
        var sd = enc.state_dict();
        // Each norm normalises groups of 16 channels: its output has zero mean over every block of 16 channels.
        var norm = norms[0];
        using (torch.no_grad())
        {
            var y = norm.forward(torch.randn(2, 64, 5, 5) * 4 + 3).reshape(2, 4, 16 * 25);   // (N, 64/16 groups, 16 * H * W)
            Assert.True(y.mean(new long[] { 2 }).abs().max().item<float>() < 1e-4);
        }
        foreach (var key in new[] { "backbone.conv1.weight", "backbone.bn1.weight", "backbone.layer1.0.conv1.weight", "backbone.layer4.1.bn2.bias",
                     "backbone.layer2.0.downsample.0.weight", "backbone.layer2.0.downsample.1.weight", "pool.nets.weight", "linear.weight" })
            Assert.True(sd.ContainsKey(key), $"missing {key}");
    }

    [Fact]
    public void ParameterCountsAreResNet18WithoutFcPlusTheHead()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var enc = new ResNet18Encoder(device: torch.META);
        using var trunk = new ResNet18Conv(device: torch.META);
        // torchvision resnet18: 11,689,512 parameters, of which fc has 513,000; GroupNorm has as many as BatchNorm's affine.
        Assert.Equal(11_176_512, trunk.parameters().Sum(p => p.numel()));
        // + spatial-softmax 1x1 conv 512 x 32 + 32 + Linear 64 x 64 + 64.
        Assert.Equal(11_176_512 + 16_416 + 4_160, enc.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void SpatialSoftmaxOfADeltaIsThePixelsCoordinates()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        var logits = torch.zeros(1, 3, 7, 9);                           // (N, K, H, W)
        logits[0, 0, 2, 5] = torch.tensor(60f);
        logits[0, 1, 6, 0] = torch.tensor(60f);
        var kp = SpatialSoftmax.ExpectedKeypoints(logits);              // (N, K, 2)
        Assert.Equal(new long[] { 1, 3, 2 }, kp.shape);
        Assert.Equal(-1 + 2 * 5 / 8.0, kp[0, 0, 0].item<float>(), 4);  // x from the column
        Assert.Equal(-1 + 2 * 2 / 6.0, kp[0, 0, 1].item<float>(), 4);  // y from the row
        Assert.Equal(-1.0, kp[0, 1, 0].item<float>(), 4);
        Assert.Equal(1.0, kp[0, 1, 1].item<float>(), 4);
        Assert.Equal(0.0, kp[0, 2, 0].item<float>(), 5);                // a uniform map averages to the centre
        Assert.Equal(0.0, kp[0, 2, 1].item<float>(), 5);
        using var layer = new SpatialSoftmax(16, 32);
        Assert.Equal(new long[] { 4, 64 }, layer.forward(torch.randn(4, 16, 3, 3)).shape);
    }
}

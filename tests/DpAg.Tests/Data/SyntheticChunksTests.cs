using DpAg.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Data;

public class SyntheticChunksTests
{
    [Fact]
    public void ChunksStartAtTheObservedPositionAndBendBothWays()
    {
        Torch.Init();
        var (obs, action) = SyntheticChunks.Make(400, seed: 1);
        Assert.Equal(new long[] { 400, 2, 4 }, obs["obs"].shape);
        Assert.Equal(new long[] { 400, 16, 2 }, action.shape);
        Assert.True(torch.allclose(action[.., 0, ..], obs["obs"][.., -1, ..2], atol: 1e-6));
        // The sign of the turn (cross product of first and last displacement) splits the data into two modes.
        var d1 = action[.., 4, ..] - action[.., 0, ..];
        var d2 = action[.., 15, ..] - action[.., 4, ..];
        var cross = d1[.., 0] * d2[.., 1] - d1[.., 1] * d2[.., 0];
        double left = cross.gt(0).to(float64).mean().item<double>();
        Assert.InRange(left, 0.4, 0.6);
        var (_, again) = SyntheticChunks.Make(400, seed: 1);
        Assert.True(torch.allclose(action, again, rtol: 0, atol: 0));
    }
}

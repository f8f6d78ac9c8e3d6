using DpAg.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Training;

public class PolicyBaseTests
{
    [Fact]
    public void The_executed_window_starts_at_the_latest_observation()
    {
        Torch.Init();
        using var policy = new ToyPolicy(obsSteps: 2, horizon: 4, actionSteps: 2);
        using var obs = torch.randn(3, 2, 3); // (B, To, Do)
        var chunk = policy.PredictActionChunk(new Dictionary<string, Tensor> { ["obs"] = obs }); // (B, T, Da)
        Assert.Equal([3L, 4, 2], chunk.shape);
        var executed = policy.ExecutableActions(chunk);                                         // (B, Ta, Da)
        Assert.Equal([3L, 2, 2], executed.shape);
        Assert.True(TensorAssert.Identical(executed.select(1, 0), chunk.select(1, 1)));          // index To - 1
        Assert.True(TensorAssert.Identical(executed.select(1, 1), chunk.select(1, 2)));
        Assert.Equal("toy", policy.Name);
        Assert.Throws<ArgumentException>(() => policy.ExecutableActions(chunk.narrow(1, 0, 3)));
    }

    [Fact]
    public void Horizons_that_do_not_fit_are_refused()
    {
        Torch.Init();
        var ex = Assert.Throws<ArgumentException>(() => new ToyPolicy(obsSteps: 2, horizon: 4, actionSteps: 4));
        Assert.Contains("Ta <= T - To + 1", ex.Message);
    }

    [Fact]
    public void Batch_validation_names_the_key()
    {
        Torch.Init();
        var batch = new PolicyBatch(new Dictionary<string, Tensor> { ["obs"] = torch.zeros(5, 2, 3) }, torch.zeros(4, 8, 2));
        var ex = Assert.Throws<ArgumentException>(batch.Validate);
        Assert.Contains("Obs[\"obs\"]", ex.Message);
        Assert.Throws<ArgumentException>(new PolicyBatch(new Dictionary<string, Tensor> { ["obs"] = torch.zeros(4, 2) }, torch.zeros(4, 8)).Validate);
    }
}

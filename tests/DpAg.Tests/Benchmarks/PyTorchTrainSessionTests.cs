using DpAg.Benchmarks;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Benchmarks;

/// <summary>The plumbing of the side-by-side timing (no wall-clock asserts): the reference session and the tensor files.</summary>
public class PyTorchTrainSessionTests
{
    [Fact]
    public void TheReferenceRunsRoundsUnderTheKitsNames()
    {
        Torch.Init();
        var (version, detail) = PyTorchReference.Probe();
        Assert.True(version is not null, $"The PyTorch reference needs {PyTorchReference.DefaultPython} with torch: {detail}.");
        var size = DiffusionPolicyConfig.Tiny with { LowDimObsDim = 3, Horizon = 8, ActionSteps = 4 };
        using var session = PyTorchTrainSession.Start(size, batchSize: 4, stepsPerRound: 1, threads: 1, device: "cpu");
        Assert.Equal(1, session.Threads);
        Assert.Equal(["train step DP", "train step DP-AG (kit)", "train step DP-AG (released code's way)"], session.Names);
        var ms = session.RunRound();
        Assert.Equal(3, ms.Length);
        Assert.All(ms, x => Assert.True(x > 0 && double.IsFinite(x), $"time {x}"));
        // The kit's variants carry the same names, so the report can pair them.
        var kit = KitBenchmarks.TrainSteps(size, 4, 1, 1, torch.CPU);
        Assert.Equal(session.Names, kit.Select(r => r.Name));
    }

    [Fact]
    public void TensorFilesRoundTripEveryDtypeAndShape()
    {
        Torch.Init(3);
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = torch.randn(3, 4, 5), ["b"] = torch.randn(2, dtype: float64),
            ["k"] = torch.tensor(new long[] { 1, -2, 99 }), ["scalar"] = torch.tensor(2.5f), ["empty"] = torch.zeros(0, 3),
        };
        string path = dir.Sub("t.safetensors");
        TensorExchange.Save(path, tensors);
        var back = TensorExchange.Load(path);
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, back[name].dtype);
            Assert.Equal(t.shape, back[name].shape);
            Assert.True(t.eq(back[name]).all().item<bool>(), name);
        }
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => TensorExchange.Load(path));
    }
}

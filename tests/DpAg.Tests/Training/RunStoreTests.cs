using DpAg.Data;
using DpAg.Policies;
using DpAg.Tests.Data;
using DpAg.Training;

namespace DpAg.Tests.Training;

/// <summary>Runs trained once and reused: a finished run trains nothing, a half one resumes, another config is another run.</summary>
[Collection(nameof(GlobalGeneratorCollection))]
public sealed class RunStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpag-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PushTDataset Data(string name, int[] lengths)
    {
        string store = Path.Combine(_dir, name);
        if (!Directory.Exists(store)) PushTFixture.Make(lengths).Save(store);
        return PushTDataset.Open(store, new PushTDatasetConfig());
    }

    [Fact]
    public void A_finished_run_trains_nothing_a_half_run_resumes_and_other_configs_get_other_folders()
    {
        Torch.Init();
        var data = Data("demo.zarr", [40, 40, 40, 40]);
        var store = new RunStore(Path.Combine(_dir, "runs"));
        var spec = PolicySpec.FromNames("dp", size: "tiny");

        string runDir;
        using (var half = store.Open(spec, data, steps: 8, batchSize: 8))
        {
            runDir = Path.GetDirectoryName(half.MetricsCsvPath)!;
            Assert.Equal(4, half.Run(stopAfterSteps: 4).CompletedSteps);
        }
        Assert.False(RunStore.IsFinished(runDir));
        Assert.True(File.Exists(Path.Combine(runDir, RunStore.KeyFile)));

        using (var resumed = store.Open(spec, data, steps: 8, batchSize: 8))
        {
            Assert.Equal(4, resumed.CompletedSteps);                 // the half run, not a new one
            var result = resumed.Run();
            Assert.Equal(8, result.CompletedSteps);
            Assert.Equal(4, result.StepsThisSession);
            Assert.True(double.IsFinite(result.LastLoss));
        }
        Assert.True(RunStore.IsFinished(runDir));
        var metricsBefore = File.ReadAllText(Path.Combine(runDir, MetricsLog.CsvName));
        var emaBefore = File.ReadAllBytes(Path.Combine(runDir, "checkpoints", CheckpointStore.FolderName(8), Trainer.EmaFile));

        using (var hit = store.Open(spec, data, steps: 8, batchSize: 8))
        {
            Assert.Equal(8, hit.CompletedSteps);
            var result = hit.Run();
            Assert.True(double.IsNaN(result.LastLoss), "a store hit must train no step");
            Assert.Equal(0, result.StepsThisSession);
            Assert.NotNull(hit.EmaPolicy);
        }
        Assert.Equal(metricsBefore, File.ReadAllText(Path.Combine(runDir, MetricsLog.CsvName)));
        Assert.Equal(emaBefore, File.ReadAllBytes(Path.Combine(runDir, "checkpoints", CheckpointStore.FolderName(8), Trainer.EmaFile)));

        // What changes the numbers changes the folder; what does not (how often to checkpoint) does not.
        var baseConfig = PolicyRuns.Recipe(8, batchSize: 8);
        Assert.Equal(runDir, store.RunDir(spec, data, baseConfig));
        Assert.Equal(runDir, store.RunDir(spec, data, baseConfig with { CheckpointEvery = 1, KeepLastCheckpoints = 9 }));
        Assert.NotEqual(runDir, store.RunDir(spec, data, baseConfig with { LearningRate = 1e-4 }));
        Assert.NotEqual(runDir, store.RunDir(spec, data, baseConfig with { Seed = 43 }));
        Assert.NotEqual(runDir, store.RunDir(PolicySpec.FromNames("dp-ag", "released", "tiny"), data, baseConfig));
        Assert.NotEqual(runDir, store.RunDir(spec, Data("other.zarr", [40, 40, 40, 41]), baseConfig));
    }
}

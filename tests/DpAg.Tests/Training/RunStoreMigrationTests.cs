using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.Policies;
using DpAg.Tests.Data;
using DpAg.Tests.Policies;
using DpAg.Training;

namespace DpAg.Tests.Training;

/// <summary>
/// A run folder of the older key layout is found, refused with the migration command instead of silently trained
/// again, and re-keyed by the migration to exactly the folder the store now asks for, which then trains nothing.
/// </summary>
[Collection(nameof(GlobalGeneratorCollection))]
public sealed class RunStoreMigrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpag-migrate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AnOlderLayoutRunIsRefusedThenReKeyedToTheFolderTheStoreAsksForAndTrainsNothing()
    {
        Torch.Init();
        string zarr = Path.Combine(_dir, "demo.zarr");
        PushTFixture.Make([40, 40, 40]).Save(zarr);
        var data = PushTDataset.Open(zarr, new PushTDatasetConfig());
        var store = new RunStore(Path.Combine(_dir, "runs"));
        // The spec the committed format-1 fixture (data/policies/dp-ag's policy.json as first written) describes.
        var spec = PolicySpec.FromNames("dp-ag", "released", "small");
        var config = PolicyRuns.Recipe(2, batchSize: 8);

        string runDir;
        using (var trainer = store.Open(spec, data, config))
        {
            runDir = Path.GetDirectoryName(trainer.MetricsCsvPath)!;
            Assert.Equal(2, trainer.Run().CompletedSteps);
        }
        var ema = File.ReadAllBytes(Path.Combine(runDir, "checkpoints", CheckpointStore.FolderName(2), Trainer.EmaFile));

        // Make it a run written before the per-kind layout: format-1 key and policy.json, the old folder name.
        string oldFormat = File.ReadAllText(PolicySpecTests.Format1Fixture("dp-ag"));
        var key = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, RunStore.KeyFile)))!.AsObject();
        key["format"] = 1;
        key["policy"] = JsonNode.Parse(oldFormat);
        File.WriteAllText(Path.Combine(runDir, RunStore.KeyFile), key.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(runDir, PolicySpec.FileName), oldFormat);
        string oldDir = Path.Combine(store.Root, "dp_ag-0123456789ab");
        Directory.Move(runDir, oldDir);

        // The store refuses to train it again and says how to keep it.
        var refused = Assert.Throws<InvalidOperationException>(() => store.RunDir(spec, data, config));
        Assert.Contains("dpag store migrate --store", refused.Message);
        Assert.Contains(oldDir, refused.Message);
        Assert.Throws<InvalidOperationException>(() => store.Open(spec, data, config));
        Assert.False(Directory.Exists(runDir));

        var dry = RunStoreMigration.MigrateStore(store.Root, dryRun: true);
        Assert.Equal(runDir, Assert.Single(dry).To);
        Assert.True(Directory.Exists(oldDir), "a dry run changes nothing");

        var outcome = Assert.Single(RunStoreMigration.MigrateStore(store.Root));
        Assert.Equal((oldDir, runDir, (string?)null), (outcome.From, outcome.To, outcome.Reason));
        Assert.False(Directory.Exists(oldDir));
        Assert.Equal(RunStore.Describe(spec, data, config), File.ReadAllText(Path.Combine(runDir, RunStore.KeyFile)));
        Assert.Equal(spec.ToJson(), File.ReadAllText(Path.Combine(runDir, PolicySpec.FileName)));
        Assert.Contains("dp_ag-0123456789ab", File.ReadAllText(Path.Combine(runDir, RunStoreMigration.NoteFile)));
        Assert.Equal(ema, File.ReadAllBytes(Path.Combine(runDir, "checkpoints", CheckpointStore.FolderName(2), Trainer.EmaFile)));

        using (var hit = store.Open(spec, data, config))
        {
            Assert.Equal(2, hit.CompletedSteps);
            Assert.True(double.IsNaN(hit.Run().LastLoss), "the migrated run is finished: no step is trained");
        }
        Assert.Empty(RunStoreMigration.MigrateStore(store.Root));   // nothing left to migrate
    }

    [Fact]
    public void TheShippedPoliciesKeysConvert()
    {
        foreach (var kind in new[] { "dp", "dp-ag" })
        {
            string path = Path.Combine(Cli.CliRunner.RepoRoot, "data", "policies", kind, RunStore.KeyFile);
            var converted = RunStoreMigration.ConvertKey(File.ReadAllText(path), path);
            Assert.NotNull(converted);
            Assert.Equal(kind, converted.Value.Spec.Name);
            Assert.Equal(PolicySpec.Load(Path.Combine(Path.GetDirectoryName(path)!, PolicySpec.FileName)).ToJson(), converted.Value.Spec.ToJson());
            Assert.Null(RunStoreMigration.ConvertKey(converted.Value.Key, path));   // already current
        }
    }
}

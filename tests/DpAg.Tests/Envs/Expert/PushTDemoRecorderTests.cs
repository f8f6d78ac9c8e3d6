using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.Data.Zarr;
using DpAg.Envs;
using DpAg.Envs.Expert;
using DpAg.Tests.Cli;

namespace DpAg.Tests.Envs.Expert;

public sealed class PushTDemoRecorderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dpag-demos-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void StoreRoundTripsThroughReplayBufferWithOfficialKeys()
    {
        var options = new PushTDemoOptions { Episodes = 3, FirstSeed = 10, Workers = 2 };
        var (episodes, summary) = PushTDemoRecorder.Generate(options);
        var path = Path.Combine(_dir, "demo.zarr");
        PushTDemoRecorder.Save(path, episodes, options, summary);

        var buffer = ReplayBuffer.Open(path);
        Assert.Equal(["action", "keypoint", "n_contacts", "state"], buffer.Keys);
        Assert.Equal(3, buffer.EpisodeCount);
        Assert.Equal(episodes.Sum(e => e.Length), buffer.StepCount);
        Assert.Equal([9, 2], buffer.StepShape("keypoint"));
        Assert.Equal([5], buffer.StepShape("state"));
        Assert.Equal([2], buffer.StepShape("action"));
        Assert.Equal([1], buffer.StepShape("n_contacts"));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(episodes[i].Length, buffer.EpisodeLength(i));
            var ep = buffer.GetEpisode(i);
            Assert.Equal(episodes[i].Actions, ep["action"].As<float>());
            Assert.Equal(episodes[i].State, ep["state"].As<float>());
            Assert.Equal(episodes[i].Keypoints, ep["keypoint"].As<float>());
        }
        var meta = ZarrStore.ReadMetadata(path, "data/action");
        Assert.Equal(new BloscCompressor(), meta.Compressor);
        var attrs = JsonNode.Parse(File.ReadAllText(Path.Combine(path, ".zattrs")))!;
        Assert.Equal(summary.KeptSeeds, attrs["kept_seeds"]!.AsArray().Select(n => n!.GetValue<long>()));
        Assert.False(attrs["legacy_reset"]!.GetValue<bool>());
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.')); // no temp folders left
    }

    [Fact]
    public void RecordedEpisodeReplaysToSuccessFromItsSeed()
    {
        var options = new PushTDemoOptions();
        var e = PushTDemoRecorder.RecordEpisode(4, options);
        Assert.True(e.Success);
        using var env = new PushTEnv(new PushTConfig { LegacyReset = false });
        var obs = env.Reset(4);
        for (int t = 0; t < e.Length; t++)
        {
            // obs is the state BEFORE action t; keypoints are the 9 block keypoints (agent not included).
            for (int i = 0; i < 5; i++) Assert.Equal((float)obs.State[i], e.State[5 * t + i]);
            for (int i = 0; i < 18; i++) Assert.Equal((float)obs.Keypoints[i], e.Keypoints[18 * t + i]);
            var r = env.Step(e.Actions[2 * t], e.Actions[2 * t + 1]);
            Assert.Equal(t == e.Length - 1, r.Done); // the episode ends at the first step with coverage > 0.95
            if (t + 1 < e.Length) Assert.Equal(r.Info.NContacts, e.NContacts[t + 1]);
            obs = r.Observation;
        }
        Assert.Equal(0, e.NContacts[0]);
    }

    [Fact]
    public void GenerationDoesNotDependOnWorkers()
    {
        var a = PushTDemoRecorder.Generate(new PushTDemoOptions { Episodes = 4, FirstSeed = 88, Workers = 1 });
        var b = PushTDemoRecorder.Generate(new PushTDemoOptions { Episodes = 4, FirstSeed = 88, Workers = 2 });
        Assert.Equal(a.Summary.KeptSeeds, b.Summary.KeptSeeds);
        Assert.Equal(a.Summary.DroppedSeeds, b.Summary.DroppedSeeds);
        for (int i = 0; i < 4; i++) Assert.Equal(a.Episodes[i].Actions, b.Episodes[i].Actions);
    }

    [Fact]
    public void ImagesAreRecordedOnRequest()
    {
        var options = new PushTDemoOptions { Images = true, MaxSteps = 5 };
        var e = PushTDemoRecorder.RecordEpisode(1, options);
        Assert.Equal(5, e.Length);
        Assert.Equal(5 * 96 * 96 * 3, e.Images!.Length);
        Assert.InRange(e.Images.Max(), 200f, 255f);
        Assert.Equal(255f, e.Images[0], 1e-3f); // white background in the corner
        Assert.False(e.Success);
    }

    [Fact]
    public void DemosCommandWritesAStore()
    {
        var path = Path.Combine(_dir, "cli.zarr");
        var (code, stdout, err) = CliRunner.Run("demos", "--episodes", "2", "--seed", "20", "--workers", "1", "--output", path);
        Assert.True(code == 0, $"dpag demos failed ({code}): {err}\n{stdout}");
        Assert.Contains("kept=2", stdout);
        Assert.Equal(2, ReplayBuffer.Open(path).EpisodeCount);
    }
}

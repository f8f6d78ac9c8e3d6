using System.Text.Json;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

public class TrainEvalCliTests
{
    [Fact]
    public void TrainResumeAndEvaluateEndToEnd()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-cli-{Guid.NewGuid():N}");
        try
        {
            string store = Path.Combine(dir, "demo.zarr"), run = Path.Combine(dir, "run");
            PushTFixture.Make([40, 40, 40, 40, 40]).Save(store);
            string[] common = ["--policy", "dp-ag", "--size", "tiny", "--dataset", store, "--run-dir", run, "--batch-size", "8", "--warmup", "2", "--checkpoint-every", "10", "--threads", "1"];

            var (code, output, err) = CliRunner.Run([.. new[] { "train", "--steps", "30", "--stop-after", "20" }, .. common]);
            Assert.True(code == 0, $"train failed ({code}): {err}");
            Assert.Contains("trained 20/30 steps", output);
            var header = File.ReadLines(Path.Combine(run, "metrics.csv")).First();
            Assert.Contains("denoise", header); Assert.Contains("contrastive", header); Assert.Contains("kl", header);
            Assert.True(File.Exists(Path.Combine(run, "policy.json")) && File.Exists(Path.Combine(run, "normalizer.json")));

            // The same command again resumes from the last checkpoint instead of starting over.
            (code, output, err) = CliRunner.Run([.. new[] { "train", "--steps", "30" }, .. common]);
            Assert.True(code == 0, $"resumed train failed ({code}): {err}");
            Assert.Contains("trained 30/30 steps", output);
            Assert.Equal(31, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length); // header + 30 rows, no duplicates

            (code, output, err) = CliRunner.Run("eval", "--run-dir", run, "--episodes", "2", "--max-steps", "16", "--sampler", "ddim", "--inference-steps", "4", "--gifs", "1", "--threads", "1");
            Assert.True(code == 0, $"eval failed ({code}): {err}");
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval", "eval.json")));
            Assert.Equal(2, json.RootElement.GetProperty("episodes").GetInt32());
            Assert.Equal(30, json.RootElement.GetProperty("checkpoint_step").GetInt64());
            Assert.InRange(json.RootElement.GetProperty("mean_max_coverage").GetDouble(), 0, 1);
            Assert.True(new FileInfo(Path.Combine(run, "eval", "episode_100000.gif")).Length > 100);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadOptionsFailBeforeAnyWorkWithTheFix()
    {
        var (code, _, err) = CliRunner.Run("train", "--policy", "gpt", "--run-dir", Path.Combine(Path.GetTempPath(), "never-created"));
        Assert.Equal(2, code);
        Assert.Contains("Unknown policy 'gpt'. Known: dp, dp-ag.", err);

        (code, _, err) = CliRunner.Run("train", "--dataset", "/no/such/store.zarr", "--size", "tiny", "--steps", "1");
        Assert.Equal(2, code);
        Assert.Contains("/no/such/store.zarr", err);

        string cfg = Path.GetTempFileName();
        try
        {
            File.WriteAllText(cfg, "{ \"policy\": \"dp\", \"stepz\": 3 }");
            (code, _, err) = CliRunner.Run("train", "--config", cfg);
            Assert.Equal(2, code);
            Assert.Contains("unknown key 'stepz'", err);
        }
        finally { File.Delete(cfg); }
    }
}

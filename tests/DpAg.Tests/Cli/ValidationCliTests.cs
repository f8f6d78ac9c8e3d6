using System.Text.Json;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// `dpag train --budget ci` validates in the simulator during training and keeps the best checkpoint; `dpag eval
/// --checkpoint` scores latest, best, a kept step, or all of them with the protocol's two summaries; `--store` reuses runs.
/// </summary>
public class ValidationCliTests
{
    [Fact]
    public void TrainWithValidationThenEvaluateEveryCheckpointWithTheProtocolSummaries()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-val-{Guid.NewGuid():N}");
        try
        {
            string data = Path.Combine(dir, "demo.zarr"), runs = Path.Combine(dir, "runs");
            PushTFixture.Make([40, 40, 40, 40, 40]).Save(data);
            string[] train = ["train", "--budget", "ci", "--policy", "dp", "--dataset", data, "--store", runs, "--threads", "1", "--eval-episodes", "2"];
            // --plan says what a train would do and creates nothing.
            var (code, output, err) = CliRunner.Run([.. train, "--plan"]);
            Assert.True(code == 0, $"train --plan failed ({code}): {err}");
            Assert.Matches(@"^plan: new 0/40 \S+dp-[0-9a-f]{12}$", output.Trim());
            Assert.False(Directory.Exists(runs) && Directory.EnumerateFileSystemEntries(runs).Any(), "a plan creates nothing in the store");
            (code, output, err) = CliRunner.Run(train);
            Assert.True(code == 0, $"train failed ({code}): {err}");
            Assert.Contains("trained 40/40 steps (40 now)", output);
            Assert.Contains("validation at step 20", err);
            Assert.Contains("validation at step 40", err);
            string run = Assert.Single(Directory.GetDirectories(runs));
            Assert.StartsWith("dp-", Path.GetFileName(run));
            // The notebooks (KitRuns) compute the same folder from the library's recipe, so they reuse this run.
            Torch.Init();
            var budget = DpAg.Evaluation.TrainBudget.Ci;
            var spec = budget.Spec("dp");
            var dataset = DpAg.Data.PushTDataset.Open(data, DpAg.Evaluation.TrainBudget.DatasetConfig(spec));
            Assert.Equal(Path.GetFullPath(run), Path.GetFullPath(new DpAg.Training.RunStore(runs).RunDir(spec, dataset, budget.Train, budget.Validation(spec))));
            var rows = File.ReadAllLines(Path.Combine(run, "validation.csv"));
            Assert.Equal("step,train_minutes,score,success_rate,episodes,eval_seconds", rows[0]);
            Assert.Equal(["20", "40"], rows.Skip(1).Select(r => r.Split(',')[0]));
            using (var best = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "best", "best.json"))))
                Assert.Contains(best.RootElement.GetProperty("Step").GetInt64(), new long[] { 20, 40 });

            // The same request again is a store hit: nothing is trained.
            (code, output, err) = CliRunner.Run(train);
            Assert.True(code == 0, $"second train failed ({code}): {err}");
            Assert.Contains("finished run, nothing to train", err);
            Assert.Contains("already trained: 40/40 steps, nothing to do", output);
            Assert.DoesNotContain("validation at step", err);
            (code, output, _) = CliRunner.Run([.. train, "--plan"]);
            Assert.Equal(0, code);
            Assert.Equal($"plan: finished 40/40 {run}", output.Trim());
            (code, _, err) = CliRunner.Run("train", "--budget", "ci", "--dataset", data, "--plan");
            Assert.Equal(2, code);
            Assert.Contains("--plan reads the run store: add --store", err);

            string[] eval = ["eval", "--run-dir", run, "--episodes", "2", "--max-steps", "20", "--sampler", "ddim", "--inference-steps", "4", "--gifs", "0", "--threads", "1"];
            (code, output, err) = CliRunner.Run([.. eval, "--checkpoint", "all"]);
            Assert.True(code == 0, $"eval all failed ({code}): {err}");
            using (var protocol = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval", "protocol.json"))))
            {
                var scores = protocol.RootElement.GetProperty("checkpoints").EnumerateArray().Select(c => c.GetProperty("score").GetDouble()).ToList();
                Assert.Equal(2, scores.Count);
                Assert.Equal(scores.Max(), protocol.RootElement.GetProperty("max_over_checkpoints").GetProperty("score").GetDouble());
                Assert.Equal(scores.Average(), protocol.RootElement.GetProperty("mean_of_last_checkpoints").GetProperty("score").GetDouble(), 12);
                Assert.Equal(JsonValueKind.Object, protocol.RootElement.GetProperty("best_by_validation").ValueKind);
            }
            Assert.True(File.Exists(Path.Combine(run, "eval", "best", "eval.json")));

            (code, _, err) = CliRunner.Run([.. eval, "--checkpoint", "7"]);
            Assert.Equal(2, code);
            Assert.Contains("No kept checkpoint at step 7", err);
            Assert.Contains("kept: 20, 40", err);

            (code, _, err) = CliRunner.Run("train", "--budget", "gpu-week", "--dataset", data, "--run-dir", Path.Combine(dir, "x"));
            Assert.Equal(2, code);
            Assert.Contains("unknown budget 'gpu-week'", err);
            (code, _, err) = CliRunner.Run("train", "--budget", "ci", "--dataset", data, "--run-dir", Path.Combine(dir, "y"), "--eval-first-seed", "100010");
            Assert.Equal(2, code);
            Assert.Contains("overlap the test seeds", err);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

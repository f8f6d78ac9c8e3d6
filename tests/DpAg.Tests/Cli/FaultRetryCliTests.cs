using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// A native fault inside a training step (injected with DPAG_TEST_FAULT_STEPS, the error text libtorch raises for a
/// freed scalar) stops `dpag train` with one line naming the step and how to resume, keeps the last checkpoint, and
/// `--retries N` resumes by itself to the same bytes as a run without faults.
/// </summary>
public class FaultRetryCliTests
{
    [Fact]
    public void AFaultStopsCleanlyAndRetriesResumeToTheSameResult()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-fault-{Guid.NewGuid():N}");
        try
        {
            string store = Path.Combine(dir, "demo.zarr");
            PushTFixture.Make([40, 40, 40, 40]).Save(store);
            string[] Args(string run, params string[] extra) => ["train", "--policy", "dp", "--size", "tiny", "--dataset", store, "--run-dir", run,
                "--steps", "16", "--batch-size", "8", "--warmup", "2", "--checkpoint-every", "4", "--threads", "1", "--seed", "3", .. extra];
            string faulty = Path.Combine(dir, "faulty"), reference = Path.Combine(dir, "reference");

            var (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, new Dictionary<string, string> { ["DPAG_TEST_FAULT_STEPS"] = "6" }, Args(faulty));
            Assert.Equal(4, code);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("dpag: training stopped:"));
            Assert.Contains("Native fault at step 6", line);
            Assert.Contains("Scalar.h:140", line);
            Assert.Contains("after 4 steps", line);
            Assert.Contains("--retries", line);
            Assert.DoesNotContain("frame #0", err);   // no native backtrace for the reader
            Assert.True(File.Exists(Path.Combine(faulty, "checkpoints", DpAg.Training.CheckpointStore.FolderName(4), "ema.bin")));

            (code, var output, err) = CliRunner.Run(CliRunner.RepoRoot, new Dictionary<string, string> { ["DPAG_TEST_FAULT_STEPS"] = "9,13" }, Args(faulty, "--retries", "2"));
            Assert.True(code == 0, $"the retried run failed ({code}): {err}");
            Assert.Contains("retry 1/2", err);
            Assert.Contains("retry 2/2", err);
            Assert.Contains("trained 16/16 steps", output);
            Assert.Contains("2 retries after native faults", output);

            (code, _, err) = CliRunner.Run(Args(reference));
            Assert.True(code == 0, $"the reference run failed ({code}): {err}");
            foreach (var file in new[] { "model.bin", "ema.bin", "optimizer.bin" })
                Assert.True(File.ReadAllBytes(Latest(faulty, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Latest(reference, file))), $"{file} differs after faults and retries");
            Assert.Equal(File.ReadAllLines(Path.Combine(reference, "metrics.csv")), File.ReadAllLines(Path.Combine(faulty, "metrics.csv")));

            (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, new Dictionary<string, string> { ["DPAG_TEST_FAULT_STEPS"] = "1" }, Args(Path.Combine(dir, "x"), "--retries", "-1"));
            Assert.Equal(2, code);
            Assert.Contains("--retries must be >= 0", err);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static string Latest(string run, string file) =>
        Path.Combine(run, "checkpoints", DpAg.Training.CheckpointStore.FolderName(16), file);
}

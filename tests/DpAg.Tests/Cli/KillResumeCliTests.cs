using System.Diagnostics;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// Kills a real `dpag train` process (SIGKILL: no chance to clean up, possibly inside a checkpoint write) at random
/// moments, three times, running the same command again after each, and requires the result to equal an uninterrupted
/// run byte for byte (same thread count, CPU).
/// </summary>
public class KillResumeCliTests
{
    [Fact]
    public void AKilledTrainingRunResumesToTheSameParameters()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-kill-{Guid.NewGuid():N}");
        try
        {
            string store = Path.Combine(dir, "demo.zarr");
            PushTFixture.Make([40, 40, 40, 40]).Save(store);
            string[] Args(string run) => ["train", "--policy", "dp-ag", "--size", "tiny", "--dataset", store, "--run-dir", run, "--steps", "60",
                "--batch-size", "8", "--warmup", "5", "--checkpoint-every", "4", "--threads", "1", "--seed", "3"];
            string killed = Path.Combine(dir, "killed"), reference = Path.Combine(dir, "reference");

            // Three kills at random, increasing moments; each time the same command starts again from the last checkpoint.
            // Seeded, and the seed is in every failure message: DPAG_KILL_SEED=N repeats a failing run's kill points.
            int seed = int.TryParse(Environment.GetEnvironmentVariable("DPAG_KILL_SEED"), out int s) ? s : Random.Shared.Next();
            var random = new Random(seed);
            int first = random.Next(4, 16), second = random.Next(first + 6, 30), third = random.Next(second + 6, 46);
            int[] killAtRows = [first, second, third];
            string kills = $"kills after rows {string.Join(", ", killAtRows)} (DPAG_KILL_SEED={seed})";
            foreach (int killAfterRows in killAtRows)
            {
                using var child = Process.Start(CliRunner.StartInfo(Args(killed)))!;
                child.OutputDataReceived += (_, _) => { };
                child.ErrorDataReceived += (_, _) => { };
                child.BeginOutputReadLine(); child.BeginErrorReadLine();
                var metrics = Path.Combine(killed, "metrics.csv");
                var deadline = Stopwatch.StartNew();
                while (CliRunner.CsvRows(metrics) < killAfterRows && !child.HasExited)
                {
                    Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(180), $"the training process logged too few steps in 180 s; {kills}");
                    Thread.Sleep(5);
                }
                Assert.False(child.HasExited, $"the run finished before it could be killed (after {CliRunner.CsvRows(metrics)} rows); {kills}");
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }
            var (code, output, err) = CliRunner.Run(Args(killed));
            Assert.True(code == 0, $"the resumed run failed ({code}): {err}");
            Assert.Contains("trained 60/60 steps", output);
            (code, _, err) = CliRunner.Run(Args(reference));
            Assert.True(code == 0, $"the reference run failed ({code}): {err}");

            foreach (var file in new[] { "model.bin", "ema.bin", "optimizer.bin" })
                Assert.True(File.ReadAllBytes(Latest(killed, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Latest(reference, file))),
                    $"{file} differs after {kills} and resumes");
            Assert.Equal(File.ReadAllLines(Path.Combine(reference, "metrics.csv")), File.ReadAllLines(Path.Combine(killed, "metrics.csv")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    private static string Latest(string run, string file) =>
        Path.Combine(Directory.GetDirectories(Path.Combine(run, "checkpoints"), "step-*").Order().Last(), file);
}

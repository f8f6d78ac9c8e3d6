using System.Diagnostics;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// Ctrl-C and SIGTERM (`kill`, `timeout`, Slurm at a time limit) stop `dpag train` and `dpag study` the way
/// --stop-after does: a resume point after the current step, exit status 128 + the signal, and the same command
/// continues from there. A real process gets a real signal.
/// </summary>
public class SignalStopCliTests
{
    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public void A_signal_stops_training_with_a_resume_point_that_the_same_command_continues(string signal, int exitCode)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-signal-{Guid.NewGuid():N}");
        try
        {
            string store = Path.Combine(dir, "demo.zarr");
            PushTFixture.Make([40, 40, 40, 40]).Save(store);
            string run = Path.Combine(dir, "run");
            // Far more steps than the test waits for, and no scheduled checkpoint before step 1000.
            string[] args = ["train", "--policy", "dp", "--size", "tiny", "--dataset", store, "--run-dir", run, "--steps", "5000",
                "--batch-size", "8", "--warmup", "2", "--checkpoint-every", "1000", "--threads", "1", "--seed", "3"];

            var (code, output, err) = RunAndSignal(args, signal, errContains: "step   50/5000");
            Assert.True(code == exitCode, $"exit {code}, expected {exitCode}; stderr: {err}");
            Assert.Contains($"SIG{signal} received", err);
            Assert.Contains($"stopped by SIG{signal}; run the same command again to continue.", output);
            long stoppedAt = Assert.Single(Steps(run));
            Assert.InRange(stoppedAt, 50, 999);                      // a resume point, off the schedule
            Assert.Equal(stoppedAt, CliRunner.CsvRows(Path.Combine(run, "metrics.csv")));

            (code, output, err) = CliRunner.Run([.. args, "--stop-after", (stoppedAt + 2).ToString()]);
            Assert.True(code == 0, $"the continued run failed ({code}): {err}");
            Assert.Contains($"at step {stoppedAt}/5000", err);      // "Resuming dp from ... at step N/5000."
            Assert.Contains($"trained {stoppedAt + 2}/5000 steps (2 now)", output);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void SIGTERM_stops_a_study_before_its_report_with_exit_143()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-signal-study-{Guid.NewGuid():N}");
        try
        {
            string store = Path.Combine(dir, "store"), report = Path.Combine(dir, "report");
            string[] args = ["study", "--study", Path.Combine(CliRunner.RepoRoot, "studies", "ci-tiny.json"),
                "--dataset", Path.Combine(CliRunner.RepoRoot, "data", "pusht_expert.zarr"), "--threads", "1", "--store", store, "--report", report];
            var (code, output, err) = RunAndSignal(args, "TERM", errContains: "dp/0: training");
            Assert.True(code == 143, $"exit {code}, expected 143; stdout: {output}; stderr: {err}");
            Assert.Contains("stopped by SIGTERM (no report or archive written); run the same command again to continue.", output);
            Assert.False(Directory.Exists(report), "a stopped study wrote its report");
            Assert.DoesNotContain("dpag/1:", output);               // it stopped in the first cells, not after the last
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Starts <c>dpag args</c>, sends <c>kill -SIGNAL</c> once its standard error contains <paramref name="errContains"/>
    /// (the metrics file is written in blocks, so progress lines are the live signal), and waits for the exit.
    /// </summary>
    private static (int Code, string Out, string Err) RunAndSignal(string[] args, string signal, string errContains)
    {
        var start = CliRunner.StartInfo(args);
        // A test run started in the background of a non-interactive shell inherits SIGINT as ignored (POSIX), and an
        // ignored signal never reaches .NET's handler: give the child the default action back (coreutils env).
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, $"--default-signal={signal}");
        start.FileName = "env";
        using var child = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var err = new System.Text.StringBuilder();
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (err) err.AppendLine(e.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        string Text(System.Text.StringBuilder b) { lock (b) return b.ToString(); }
        var clock = Stopwatch.StartNew();
        while (!Text(err).Contains(errContains) && !child.HasExited)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), $"no \"{errContains}\" on stderr in 180 s");
            Thread.Sleep(5);
        }
        Assert.False(child.HasExited, $"the process ended before it could be signalled: {Text(output)}{Text(err)}");
        using (var kill = Process.Start("kill", [$"-{signal}", child.Id.ToString()])) kill.WaitForExit();
        if (!child.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"SIG{signal} did not stop the process within 120 s");
        }
        child.WaitForExit();   // drains the redirected streams
        return (child.ExitCode, Text(output), Text(err));
    }

    private static IEnumerable<long> Steps(string run) =>
        Directory.GetDirectories(Path.Combine(run, "checkpoints"), "step-*").Select(d => long.Parse(Path.GetFileName(d)["step-".Length..]));
}

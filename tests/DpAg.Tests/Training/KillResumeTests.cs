using System.Diagnostics;
using DpAg.Training;

namespace DpAg.Tests.Training;

/// <summary>
/// Kills a real training process (SIGKILL, no chance to clean up) and resumes it here: the result must equal an
/// uninterrupted run bitwise. The child is this test assembly run by <c>dotnet test</c> with a filter selecting
/// <see cref="Child_training_process"/>, which runs only when the parent sets <see cref="ChildDirVar"/>.
/// Starting the child costs 2-8 s (dotnet test + test host + torch), over the few seconds a unit test may take,
/// so the test runs only with <c>DPAG_PROCESS_TESTS=1</c> and is reported as skipped otherwise.
/// </summary>
public class KillResumeTests
{
    internal const string ChildDirVar = "DPAG_TEST_TRAIN_CHILD_DIR";
    private const string ChildInitVar = "DPAG_TEST_TRAIN_CHILD_INIT";

    /// <summary>A fact that runs only when an environment variable is set (xunit 2 has no dynamic skip).</summary>
    private sealed class FactWhenEnvAttribute : FactAttribute
    {
        public FactWhenEnvAttribute(string variable, string reason)
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))) Skip = reason;
        }
    }

    private static TrainConfig Config(string dir) => ToyData.Config(dir) with { Steps = 100_000, CheckpointEvery = 5, KeepLastCheckpoints = 2 };

    /// <summary>The child's entry point: trains slowly (a pause per step) until killed.</summary>
    [FactWhenEnv(ChildDirVar, "entry point of the child process of A_killed_training_process_resumes_to_the_same_numbers")]
    public void Child_training_process()
    {
        var dir = Environment.GetEnvironmentVariable(ChildDirVar);
        var init = Environment.GetEnvironmentVariable(ChildInitVar);
        Assert.NotNull(dir);
        Assert.NotNull(init);
        Torch.Init();
        var slow = new Collect<TrainProgress>(_ => Thread.Sleep(15));
        using var t = new Trainer(Config(dir), TrainerTests.FixedInit(file: init), ToyData.Make(), TrainerTests.Isolated with { Progress = slow });
        t.Run();
    }

    [FactWhenEnv("DPAG_PROCESS_TESTS", "spawns a dotnet process (2-8 s); set DPAG_PROCESS_TESTS=1 to run")]
    public void A_killed_training_process_resumes_to_the_same_numbers()
    {
        Torch.Init();
        var init = TrainerTests.InitFile();
        var dir = ToyData.TempDir("killed");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            ArgumentList = { "test", typeof(KillResumeTests).Assembly.Location, "--filter", $"FullyQualifiedName={typeof(KillResumeTests).FullName}.{nameof(Child_training_process)}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment[ChildDirVar] = dir;
        psi.Environment[ChildInitVar] = init;
        var store = new CheckpointStore(Path.Combine(dir, "checkpoints"));
        using (var child = Process.Start(psi)!)
        {
            try
            {
                child.OutputDataReceived += (_, _) => { };
                child.ErrorDataReceived += (_, _) => { };
                child.BeginOutputReadLine();
                child.BeginErrorReadLine();
                var deadline = Stopwatch.StartNew();
                while ((store.Latest()?.Step ?? 0) < 5)
                {
                    Assert.False(child.HasExited, $"the child exited early with code {(child.HasExited ? child.ExitCode : 0)}");
                    Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(120), "the child wrote no checkpoint in 120 s");
                    Thread.Sleep(20);
                }
                Thread.Sleep(37); // land somewhere between checkpoints (or inside a save)
            }
            finally
            {
                child.Kill(entireProcessTree: true);
                child.WaitForExit();
            }
        }

        using var resumed = new Trainer(Config(dir), TrainerTests.FixedInit(file: init), ToyData.Make(), TrainerTests.Isolated);
        long k = resumed.CompletedSteps;
        Assert.True(k >= 5, $"resumed from step {k}");
        var end = resumed.Run(stopAfterSteps: k + 7).LastCheckpoint!;

        var reference = ToyData.TempDir("killed-ref");
        using var full = new Trainer(Config(reference), TrainerTests.FixedInit(file: init), ToyData.Make(), TrainerTests.Isolated);
        TrainerTests.AssertSameFiles(full.Run(stopAfterSteps: k + 7).LastCheckpoint!, end);
        TrainerTests.AssertSameLogs(reference, dir);
    }
}

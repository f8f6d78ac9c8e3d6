using DpAg.Policies;
using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Training;

/// <summary>Synchronous <see cref="IProgress{T}"/> (the BCL's Progress posts to another thread).</summary>
internal sealed class Collect<T>(Action<T>? onReport = null) : IProgress<T>
{
    public List<T> Items { get; } = [];
    public void Report(T value) { Items.Add(value); onReport?.Invoke(value); }
}

public class TrainerTests
{
    /// <summary>A factory whose policies all start from the same saved weights, independent of torch's global generator.</summary>
    internal static Func<PolicyBase> FixedInit(Action<ToyPolicy>? configure = null, double obsNoise = 0.05, string? file = null)
    {
        file ??= InitFile();
        return () =>
        {
            var p = new ToyPolicy(obsNoise: obsNoise);
            p.load(file);
            configure?.Invoke(p);
            return p;
        };
    }

    /// <summary>Saves the weights of a fresh toy policy and returns the file.</summary>
    internal static string InitFile()
    {
        var file = Path.Combine(ToyData.TempDir("init"), "init.bin");
        using (var first = new ToyPolicy()) first.save(file);
        return file;
    }

    /// <summary>Trainer options for tests that run in parallel with others: no global generator.</summary>
    internal static TrainerOptions Isolated => ToyData.Quiet with { SeedGlobalGenerator = false };

    internal static void AssertSameFiles(CheckpointInfo a, CheckpointInfo b)
    {
        Assert.Equal(a.Step, b.Step);
        foreach (var f in new[] { Trainer.ModelFile, Trainer.EmaFile, Trainer.OptimizerFile })
            Assert.True(File.ReadAllBytes(Path.Combine(a.Path, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b.Path, f))), $"{f} differs");
    }

    internal static void AssertSameParameters(nn.Module a, nn.Module b)
    {
        var pb = b.state_dict();
        foreach (var (name, t) in a.state_dict()) Assert.True(TensorAssert.Identical(t, pb[name]), $"{name} differs");
    }

    internal static void AssertSameLogs(string dirA, string dirB)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(dirA, MetricsLog.CsvName)), File.ReadAllText(Path.Combine(dirB, MetricsLog.CsvName)));
        Assert.Equal(File.ReadAllText(Path.Combine(dirA, MetricsLog.JsonlName)), File.ReadAllText(Path.Combine(dirB, MetricsLog.JsonlName)));
    }

    [Fact]
    public void Resume_after_a_stop_or_a_crash_equals_the_uninterrupted_run_bitwise()
    {
        Torch.Init();
        var data = ToyData.Make();
        var factory = FixedInit();
        // 64 samples / B 16 = 4 batches per epoch; 3 epochs = 12 steps; checkpoints every 4 steps.
        var config = ToyData.Config("") with { Steps = null, Epochs = 3 };

        var dirA = ToyData.TempDir("resume-a");
        using var a = new Trainer(config with { RunDir = dirA }, factory, data, Isolated);
        var resultA = a.Run();
        Assert.True(resultA.Finished);
        Assert.Equal(12, resultA.CompletedSteps);

        // B: stop after 6 steps (mid-epoch, between checkpoints), then a new trainer resumes.
        var dirB = ToyData.TempDir("resume-b");
        using (var b1 = new Trainer(config with { RunDir = dirB }, factory, data, Isolated))
            Assert.Equal(6, b1.Run(stopAfterSteps: 6).CompletedSteps);
        using var b2 = new Trainer(config with { RunDir = dirB }, factory, data, Isolated);
        Assert.Equal(6, b2.CompletedSteps);
        var resultB = b2.Run();

        // C: crash during step 9 (after the checkpoint at 8, with rows 8 and 9 already logged), then resume.
        var dirC = ToyData.TempDir("resume-c");
        var crash = new Collect<TrainProgress>(p => { if (p.Step == 9) throw new OperationCanceledException("simulated kill"); });
        using (var c1 = new Trainer(config with { RunDir = dirC }, factory, data, Isolated with { Progress = crash }))
            Assert.Throws<OperationCanceledException>(() => c1.Run());
        using var c2 = new Trainer(config with { RunDir = dirC }, factory, data, Isolated);
        Assert.Equal(8, c2.CompletedSteps);
        var resultC = c2.Run();

        AssertSameParameters(a.Policy, b2.Policy);
        AssertSameParameters(a.EmaPolicy!, b2.EmaPolicy!);
        AssertSameParameters(a.Policy, c2.Policy);
        AssertSameParameters(a.EmaPolicy!, c2.EmaPolicy!);
        AssertSameFiles(resultA.LastCheckpoint!, resultB.LastCheckpoint!);
        AssertSameFiles(resultA.LastCheckpoint!, resultC.LastCheckpoint!);
        AssertSameLogs(dirA, dirB);
        AssertSameLogs(dirA, dirC);
        Assert.Equal(12, MetricsLog.ReadCsv(Path.Combine(dirC, MetricsLog.CsvName)).Count);
        Assert.Equal(resultA.LastLoss, resultC.LastLoss);
        Assert.Equal(a.Ema!.OptimizationStep, c2.Ema!.OptimizationStep);
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_parameters_and_outputs()
    {
        Torch.Init();
        var factory = FixedInit();
        var dir = ToyData.TempDir("roundtrip");
        using var t = new Trainer(ToyData.Config(dir) with { Steps = 5 }, factory, ToyData.Make(), Isolated);
        var result = t.Run();
        Assert.Equal(5, result.LastCheckpoint!.Step);
        var emaParams = t.EmaPolicy!.state_dict();
        Assert.Contains(t.Policy.named_parameters(), p => p.parameter.requires_grad && !TensorAssert.Identical(p.parameter, emaParams[p.name])); // EMA lags

        using var obs = torch.randn(3, 2, 3); // (B, To, Do)
        var input = new Dictionary<string, Tensor> { ["obs"] = obs };
        var live = factory();
        Assert.Equal(5, Trainer.LoadPolicy(live, dir, ema: false).Step);
        AssertSameParameters(t.Policy, live);
        Assert.True(TensorAssert.Identical(t.Policy.PredictActionChunk(input), live.PredictActionChunk(input)));

        var ema = factory();
        Trainer.LoadPolicy(ema, result.LastCheckpoint.Path); // a checkpoint folder works too; EMA by default
        AssertSameParameters(t.EmaPolicy!, ema);
        Assert.True(TensorAssert.Identical(t.EmaPolicy!.PredictActionChunk(input), ema.PredictActionChunk(input)));
        Assert.Throws<FileNotFoundException>(() => Trainer.LoadPolicy(factory(), ToyData.TempDir("empty")));
    }

    [Fact]
    public void A_crash_while_writing_a_checkpoint_keeps_the_previous_one_and_resume_continues()
    {
        Torch.Init();
        var factory = FixedInit();
        var dir = ToyData.TempDir("ckpt-crash-train");
        var options = Isolated with { OnCheckpointWriting = step => { if (step == 8) throw new IOException("simulated crash mid-write"); } };
        using (var t = new Trainer(ToyData.Config(dir), factory, ToyData.Make(), options))
            Assert.Throws<IOException>(() => t.Run());
        var store = new CheckpointStore(Path.Combine(dir, "checkpoints"));
        Assert.Equal(4, store.Latest()!.Step);
        Assert.DoesNotContain(Directory.GetDirectories(store.Directory), d => Path.GetFileName(d).StartsWith('.'));
        var reloaded = factory();
        Trainer.LoadPolicy(reloaded, dir);

        var reference = ToyData.TempDir("ckpt-crash-ref");
        using var full = new Trainer(ToyData.Config(reference), factory, ToyData.Make(), Isolated);
        var fullResult = full.Run();
        using var resumed = new Trainer(ToyData.Config(dir), factory, ToyData.Make(), Isolated);
        Assert.Equal(4, resumed.CompletedSteps);
        AssertSameFiles(fullResult.LastCheckpoint!, resumed.Run().LastCheckpoint!);
        AssertSameLogs(reference, dir);
    }

    [Fact]
    public void A_NaN_term_stops_the_run_naming_step_and_term_and_keeps_the_last_good_checkpoint()
    {
        Torch.Init();
        var data = ToyData.Make();
        var dir = ToyData.TempDir("nan");
        var init = InitFile();
        using var t = new Trainer(ToyData.Config(dir), FixedInit(p => p.PoisonCall = 6, file: init), data, Isolated);
        var ex = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Equal(6, ex.Step);
        Assert.Equal("l1", ex.Term);
        Assert.True(double.IsNaN(ex.Value));
        Assert.Equal(4, ex.LastGoodCheckpoint!.Step);
        Assert.Contains("step 6", ex.Message);
        Assert.Contains("'l1'", ex.Message);
        Assert.Contains(ex.LastGoodCheckpoint.Path, ex.Message);
        Assert.Equal(6, t.CompletedSteps);

        // The kept checkpoint is exactly the state of a clean run after 4 steps.
        var clean = ToyData.TempDir("nan-ref");
        using (var r = new Trainer(ToyData.Config(clean), FixedInit(file: init), data, Isolated))
            AssertSameFiles(r.Run(stopAfterSteps: 4).LastCheckpoint!, new CheckpointStore(Path.Combine(dir, "checkpoints")).Latest()!);
        // Rows 0..5 were logged (flushed), the bad step was not.
        Assert.Equal([0L, 1, 2, 3, 4, 5], MetricsLog.ReadCsv(t.MetricsCsvPath).Select(r => (long)r["step"]));
    }

    [Fact]
    public void An_exploding_loss_over_the_limit_stops_the_run()
    {
        Torch.Init();
        var dir = ToyData.TempDir("explode");
        using var t = new Trainer(ToyData.Config(dir) with { LossLimit = 1e3 }, FixedInit(p => p.ExplodeCall = (2, 1e7)), ToyData.Make(), Isolated);
        var ex = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Equal(2, ex.Step);
        Assert.Equal("l1", ex.Term);
        Assert.Contains("LossLimit", ex.Message);
        Assert.Null(ex.LastGoodCheckpoint);
        Assert.Null(new CheckpointStore(Path.Combine(dir, "checkpoints")).Latest());
    }

    [Fact]
    public void The_toy_policy_overfits_a_tiny_dataset()
    {
        Torch.Init();
        var config = ToyData.Config(ToyData.TempDir("overfit")) with
        {
            Steps = 300, LearningRate = 1e-2, WarmupSteps = 10, CheckpointEvery = 1000, BatchSize = 16,
        };
        var progress = new Collect<TrainProgress>();
        using var t = new Trainer(config, FixedInit(obsNoise: 0), ToyData.Make(n: 32), Isolated with { Progress = progress });
        t.Run();
        Assert.Equal(300, progress.Items.Count);
        double first = progress.Items.Take(5).Average(p => p.Terms["mse"]);
        double last = progress.Items.TakeLast(5).Average(p => p.Terms["mse"]);
        Assert.True(last < first / 10, $"mse {first:G4} -> {last:G4}");
        // The logged lr is the schedule's and the first step runs at lr 0 (warm-up).
        Assert.Equal(0.0, progress.Items[0].LearningRate);
        Assert.Equal(t.Schedule.LearningRate(1e-2, 150), progress.Items[150].LearningRate);
    }

    [Fact]
    public void Resuming_with_a_different_config_is_refused_naming_the_field()
    {
        Torch.Init();
        var dir = ToyData.TempDir("mismatch");
        var factory = FixedInit();
        using (var t = new Trainer(ToyData.Config(dir) with { Steps = 4 }, factory, ToyData.Make(), Isolated)) t.Run();
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(ToyData.Config(dir) with { Steps = 4, LearningRate = 1 }, factory, ToyData.Make(), Isolated));
        Assert.Contains("LearningRate", ex.Message);
        // Operational fields may change; Resume = false starts over.
        using (var ok = new Trainer(ToyData.Config(dir) with { Steps = 4, CheckpointEvery = 2 }, factory, ToyData.Make(), Isolated))
            Assert.Equal(4, ok.CompletedSteps);
        using var fresh = new Trainer(ToyData.Config(dir) with { Steps = 4, LearningRate = 1 }, factory, ToyData.Make(), Isolated with { Resume = false });
        Assert.Equal(0, fresh.CompletedSteps);
        Assert.False(File.Exists(fresh.MetricsCsvPath));
    }

    [Fact]
    public void Plain_progress_lines_when_not_a_terminal()
    {
        Torch.Init();
        var writer = new StringWriter();
        var config = ToyData.Config(ToyData.TempDir("progress")) with { Steps = 10, ProgressEvery = 5 };
        using var t = new Trainer(config, FixedInit(), ToyData.Make(), Isolated with { ConsoleWriter = writer });
        t.Run();
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length); // steps 1, 5, 10
        Assert.StartsWith("step  1/10", lines[0]);
        Assert.StartsWith("step 10/10", lines[2]);
        Assert.Contains("loss ", lines[1]);
        Assert.Contains("mse ", lines[1]);
        Assert.Contains("it/s", lines[1]);
        Assert.DoesNotContain('\r', writer.ToString());
    }

    [Fact]
    public void Interactive_progress_redraws_one_line()
    {
        var writer = new StringWriter();
        var console = new ConsoleProgress(writer, interactive: true, plainEvery: 1);
        var terms = new Dictionary<string, double> { ["mse"] = 0.5 };
        console.Report(new TrainProgress(0, 2, 0, 1.0, terms, 1e-4, 1, 10, TimeSpan.FromSeconds(3)));
        console.Report(new TrainProgress(1, 2, 0, 0.5, terms, 1e-4, 1, 10, TimeSpan.Zero));
        var text = writer.ToString();
        Assert.StartsWith("\rstep 1/2 [##########----------]", text);
        Assert.Contains("\rstep 2/2 [####################] 100%", text);
        Assert.EndsWith(Environment.NewLine, text);
    }
}

/// <summary>Tests that seed torch's global generator: they run alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(GlobalGeneratorCollection), DisableParallelization = true)]
public class GlobalGeneratorCollection;

[Collection(nameof(GlobalGeneratorCollection))]
public class TrainerGlobalGeneratorTests
{
    [Fact]
    public void Resume_is_exact_for_a_policy_that_draws_from_the_global_generator()
    {
        Torch.Init();
        var data = ToyData.Make();
        Func<PolicyBase> factory = () => new ToyPolicy { NoiseFromGlobalGenerator = true }; // weights from the seeded global generator
        var config = ToyData.Config("");
        var dirA = ToyData.TempDir("global-a");
        using var a = new Trainer(config with { RunDir = dirA }, factory, data, ToyData.Quiet);
        var resultA = a.Run();
        var dirB = ToyData.TempDir("global-b");
        using (var b1 = new Trainer(config with { RunDir = dirB }, factory, data, ToyData.Quiet)) b1.Run(stopAfterSteps: 5);
        using var b2 = new Trainer(config with { RunDir = dirB }, factory, data, ToyData.Quiet);
        TrainerTests.AssertSameFiles(resultA.LastCheckpoint!, b2.Run().LastCheckpoint!);
        TrainerTests.AssertSameLogs(dirA, dirB);
        Assert.True(File.ReadAllBytes(Path.Combine(resultA.LastCheckpoint!.Path, Trainer.RngFile))
            .AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b2.LastCheckpoint!.Path, Trainer.RngFile))));
    }
}

public class TrainerGuardTests
{
    [Fact]
    public void Cancellation_saves_a_checkpoint_and_returns()
    {
        Torch.Init();
        using var cts = new CancellationTokenSource();
        var progress = new Collect<TrainProgress>(p => { if (p.Step == 2) cts.Cancel(); });
        var dir = ToyData.TempDir("cancel");
        using var t = new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), ToyData.Make(), TrainerTests.Isolated with { Progress = progress });
        var result = t.Run(cancellationToken: cts.Token);
        Assert.False(result.Finished);
        Assert.Equal(3, result.CompletedSteps);
        Assert.Equal(3, result.LastCheckpoint!.Step);
        Assert.Equal(3, new CheckpointStore(Path.Combine(dir, "checkpoints")).Latest()!.Step);
    }

    [Fact]
    public void A_run_stopped_off_schedule_keeps_the_checkpoints_of_a_run_trained_in_one_go()
    {
        Torch.Init();
        var data = ToyData.Make();
        var config = ToyData.Config(ToyData.TempDir("resume-schedule"));   // 12 steps, a checkpoint every 4, keep 2
        var store = new CheckpointStore(Path.Combine(config.RunDir, "checkpoints"));
        using (var t = new Trainer(config, TrainerTests.FixedInit(), data, ToyData.Quiet)) t.Run(stopAfterSteps: 11);
        Assert.Equal([4L, 8L, 11L], store.List().Select(c => c.Step));   // the resume point comes on top of the 2 kept
        using (var t = new Trainer(config, TrainerTests.FixedInit(), data, ToyData.Quiet)) Assert.True(t.Run().Finished);
        Assert.Equal([8L, 12L], store.List().Select(c => c.Step));
    }

    [Fact]
    public void Grad_norm_is_logged_before_clipping_and_clipping_bounds_it()
    {
        Torch.Init();
        var init = TrainerTests.InitFile();
        var data = ToyData.Make();
        var config = ToyData.Config(ToyData.TempDir("clip")) with { Steps = 1 };

        // The norm of the first step's gradient, computed by hand on the same batch (no observation noise).
        var manual = TrainerTests.FixedInit(obsNoise: 0, file: init)();
        var loss = manual.ComputeLoss(data.GetBatch(0, config.BatchSize, config.Seed)).Loss;
        loss.backward();
        double expected = Math.Sqrt(manual.parameters().Where(p => p.requires_grad).Sum(p => p.grad!.pow(2).sum().ToDouble()));

        var progress = new Collect<TrainProgress>();
        using (var t = new Trainer(config, TrainerTests.FixedInit(obsNoise: 0, file: init), data, TrainerTests.Isolated with { Progress = progress }))
            t.Run();
        Assert.Equal(expected, progress.Items[0].GradNorm, 5);

        var clipped = new Collect<TrainProgress>();
        using var c = new Trainer(config with { RunDir = ToyData.TempDir("clip2"), MaxGradNorm = 1e-3 }, TrainerTests.FixedInit(obsNoise: 0, file: init), data,
            TrainerTests.Isolated with { Progress = clipped });
        c.Run();
        Assert.Equal(expected, clipped.Items[0].GradNorm, 5); // logged before clipping
        double after = Math.Sqrt(c.Policy.parameters().Where(p => p.requires_grad).Sum(p => p.grad!.pow(2).sum().ToDouble()));
        Assert.Equal(1e-3, after, 6); // the gradients the optimiser used
    }

    [Fact]
    public void Non_finite_parameters_are_never_checkpointed()
    {
        Torch.Init();
        var dir = ToyData.TempDir("inf-params");
        var config = ToyData.Config(dir) with { CheckpointEvery = 1 };
        using var t = new Trainer(config, TrainerTests.FixedInit(p => p.CorruptCall = 2), ToyData.Make(), TrainerTests.Isolated);
        var ex = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Equal("param:spare", ex.Term);
        Assert.Equal(2, ex.Step);
        Assert.Equal(2, ex.LastGoodCheckpoint!.Step);
        Assert.Equal(2, new CheckpointStore(Path.Combine(dir, "checkpoints")).Latest()!.Step);
    }
}

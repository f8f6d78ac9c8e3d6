using DpAg.Tests.Policies;
using DpAg.Training;

namespace DpAg.Tests.Training;

/// <summary>Evaluation during training: when it runs, what it logs, which weights <c>best/</c> keeps, and resuming.</summary>
public class ValidationTests
{
    /// <summary>A validation whose score is a fixed function of how many times it was called (so the best is known).</summary>
    private static ValidationOptions Scripted(long every, double[] scores, List<bool> sawEvalMode)
    {
        int call = 0;
        return new ValidationOptions(every, policy =>
        {
            sawEvalMode.Add(!policy.training);
            var score = scores[Math.Min(call++, scores.Length - 1)];
            return new ValidationResult(score, score > 0.5 ? 1 : 0, 3);
        }, "scripted");
    }

    [Fact]
    public void Validation_runs_every_N_steps_and_at_the_end_logs_minutes_and_keeps_the_best_weights()
    {
        Torch.Init();
        var data = ToyData.Make();
        var dir = ToyData.TempDir("validation");
        var modes = new List<bool>();
        // 12 steps, validated at 5, 10 and 12 (the end); the middle one is best.
        var options = TrainerTests.Isolated with { Validation = Scripted(5, [0.2, 0.9, 0.4], modes) };
        var init = TrainerTests.FixedInit();
        using var trainer = new Trainer(ToyData.Config(dir), init, data, options);
        trainer.Run();

        var rows = ValidationLog.Read(dir);
        Assert.Equal([5L, 10L, 12L], rows.Select(r => r.Step));
        Assert.Equal([0.2, 0.9, 0.4], rows.Select(r => r.Score));
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.TrainMinutes <= p.Second.TrainMinutes), "training minutes must not decrease");
        Assert.True(rows[^1].TrainMinutes > 0);
        Assert.All(modes, Assert.True);                 // validated in eval mode
        Assert.True(trainer.Policy.training);           // and the trained policy went back to training

        var best = ValidationLog.ReadBest(dir)!;
        Assert.Equal(10, best.Step);
        Assert.Equal(0.9, best.Score);
        // best/ holds exactly the EMA weights of the step-10 checkpoint (a checkpoint is forced at validation steps).
        var bestFile = Path.Combine(dir, ValidationLog.BestFolder, best.WeightsFile);
        Assert.Single(Directory.GetFiles(Path.Combine(dir, ValidationLog.BestFolder), "ema-*.bin"));
        Assert.Equal("scripted", best.Validation);
        // The step-10 EMA weights: reproduce them by training an identical run to step 10 without validation.
        var reference = ToyData.TempDir("validation-ref");
        using (var again = new Trainer(ToyData.Config(reference), init, data, TrainerTests.Isolated))
            again.Run(stopAfterSteps: 10);
        var referenceEma = Path.Combine(reference, "checkpoints", CheckpointStore.FolderName(10), Trainer.EmaFile);
        Assert.True(File.ReadAllBytes(referenceEma).AsSpan().SequenceEqual(File.ReadAllBytes(bestFile)), "best/ must hold the step-10 EMA weights");
    }

    [Fact]
    public void A_run_killed_between_a_checkpoint_and_its_validation_validates_it_on_resume_and_drops_later_rows()
    {
        Torch.Init();
        var data = ToyData.Make();
        var dir = ToyData.TempDir("validation-resume");
        var modes = new List<bool>();
        using (var first = new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), data, TrainerTests.Isolated with { Validation = Scripted(4, [0.1, 0.3, 0.2], modes) }))
            first.Run(stopAfterSteps: 8);
        Assert.Equal([4L, 8L], ValidationLog.Read(dir).Select(r => r.Step));

        // Simulate a kill after the step-8 checkpoint but before its validation row was written.
        var log = new ValidationLog(dir, completedSteps: 4);
        Assert.Equal([4L], log.Rows.Select(r => r.Step));
        Assert.Equal([4L], ValidationLog.Read(dir).Select(r => r.Step));   // rows after the restored step are dropped on disk too

        using var second = new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), data, TrainerTests.Isolated with { Validation = Scripted(4, [0.7, 0.5], modes) });
        Assert.Equal(8, second.CompletedSteps);
        second.Run();
        var rows = ValidationLog.Read(dir);
        Assert.Equal([4L, 8L, 12L], rows.Select(r => r.Step));   // 8 validated first thing on resume
        Assert.Equal(0.7, rows[1].Score);
        Assert.Equal(8, ValidationLog.ReadBest(dir)!.Step);
        Assert.True(rows[2].TrainMinutes >= rows[1].TrainMinutes, "training minutes carry over a resume");
    }

    [Fact]
    public void A_fresh_start_clears_the_old_runs_validation_and_best_checkpoint()
    {
        Torch.Init();
        var data = ToyData.Make();
        var dir = ToyData.TempDir("validation-fresh");
        var modes = new List<bool>();
        using (var first = new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), data, TrainerTests.Isolated with { Validation = Scripted(6, [0.5], modes) }))
            first.Run();
        Assert.NotNull(ValidationLog.ReadBest(dir));
        using (var fresh = new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), data, TrainerTests.Isolated with { Resume = false }))
            fresh.Run(stopAfterSteps: 2);
        Assert.Null(ValidationLog.ReadBest(dir));
        Assert.Empty(ValidationLog.Read(dir));
    }

    [Fact]
    public void Validation_options_are_checked()
    {
        Torch.Init();
        var dir = ToyData.TempDir("validation-bad");
        var bad = TrainerTests.Isolated with { Validation = new ValidationOptions(0, _ => new ValidationResult(0, 0, 0), "x") };
        var e = Assert.Throws<ArgumentException>(() => new Trainer(ToyData.Config(dir), TrainerTests.FixedInit(), ToyData.Make(), bad));
        Assert.Contains("at least 1", e.Message);
        var overlap = DpAg.Evaluation.PushTEvalConfig.For(PolicyFixtures.TinyConfig) with { FirstSeed = 100040, Episodes = 20 };
        var e2 = Assert.Throws<ArgumentException>(() => DpAg.Evaluation.PushTValidation.Create(10, overlap, DpAg.Policies.InferenceOptions.Ddim(8)));
        Assert.Contains("overlap the test seeds", e2.Message);
    }
}

using System.Diagnostics;
using DpAg.Envs;
using DpAg.Evaluation;
using DpAg.Numpy;
using Xunit.Abstractions;

namespace DpAg.Tests.Evaluation;

public class PushTRunnerTests(ITestOutputHelper output)
{
    private sealed class RecordingPolicy : IEnvPolicy
    {
        public readonly List<int> HistoryCounts = new();
        public bool FirstPadded;
        public int Calls;

        public void Reset() { Calls = 0; }

        public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active)
        {
            var history = Assert.Single(active).History;
            if (Calls++ == 0) FirstPadded = ReferenceEquals(history[0], history[1]);
            HistoryCounts.Add(history.Count);
            var (x, y) = history[^1].AgentPosition;
            return [Enumerable.Range(0, 16).Select(_ => new[] { x + 1, y }).ToArray()];
        }
    }

    /// <summary>Holds position, returning Index + 1 actions to episode Index, so the episodes finish after different numbers of decisions.</summary>
    private sealed class UnevenPolicy : IEnvPolicy
    {
        public readonly List<int[]> Calls = new();

        public void Reset() => Calls.Clear();

        public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active)
        {
            Calls.Add(active.Select(e => e.Index).ToArray());
            return active.Select(e => (IReadOnlyList<double[]>)Enumerable.Range(0, e.Index + 1)
                .Select(_ => new[] { e.History[^1].AgentPosition.X, e.History[^1].AgentPosition.Y }).ToArray()).ToList();
        }
    }

    /// <summary>Answers only for the first active episode.</summary>
    private sealed class ForgetfulPolicy : IEnvPolicy
    {
        public void Reset() { }

        public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active) => [[new[] { 256.0, 256.0 }]];
    }

    [Fact]
    public void ProtocolCountsStepsCallsAndPadsHistory()
    {
        var policy = new RecordingPolicy();
        var cfg = new PushTEvalConfig { Episodes = 1, MaxSteps = 20, MaxDegreeOfParallelism = 1 };
        var result = PushTRunner.Evaluate(policy, cfg);
        var ep = Assert.Single(result.Episodes);
        Assert.Equal(100000, ep.Seed);
        Assert.Equal(20, ep.Steps);
        Assert.Equal(3, policy.Calls); // 8 + 8 + 4 executed actions
        Assert.All(policy.HistoryCounts, c => Assert.Equal(2, c));
        Assert.True(policy.FirstPadded);
    }

    [Fact]
    public void EpisodesKeepTheirIndexWhileOthersFinish()
    {
        // 10 steps at 1, 2 and 3 actions per decision: 10, 5 and 4 decisions; the active list shrinks in index order.
        var policy = new UnevenPolicy();
        var result = PushTRunner.Evaluate(policy, new PushTEvalConfig { Episodes = 3, MaxSteps = 10 });
        Assert.All(result.Episodes, e => Assert.Equal(10, e.Steps));
        Assert.Equal([10, 5, 4], Enumerable.Range(0, 3).Select(i => policy.Calls.Count(c => c.Contains(i))));
        Assert.All(policy.Calls, c => Assert.Equal(c.Order(), c));
        Assert.Equal([0], policy.Calls[^1]);
    }

    [Fact]
    public void AnEpisodeScoresTheSameInLockstepAsAlone()
    {
        // Per-episode state (the walk's generator) follows the episode's index, whatever else runs beside it.
        var cfg = new PushTEvalConfig { Episodes = 3, MaxSteps = 30 };
        var together = PushTRunner.Evaluate(new RandomWalkPolicy(5), cfg);
        for (int i = 0; i < 3; i++)
        {
            var alone = Assert.Single(PushTRunner.Evaluate(new RandomWalkPolicy(5 + i), cfg with { Episodes = 1, FirstSeed = cfg.FirstSeed + i }).Episodes);
            Assert.Equal(alone with { Gif = null }, together.Episodes[i] with { Gif = null });
        }
        Assert.NotEqual(together.Episodes[0].ActionJerk, together.Episodes[1].ActionJerk);
    }

    [Fact]
    public void HoldPolicyScoresItsInitialCoverageInParallelAndSequentially()
    {
        var cfg = new PushTEvalConfig { Episodes = 6, MaxSteps = 40 };
        var par = PushTRunner.Evaluate(new HoldPositionPolicy(), cfg);
        var seq = PushTRunner.Evaluate(new HoldPositionPolicy(), cfg with { MaxDegreeOfParallelism = 1 });
        Assert.Equal(par.Episodes.Select(e => e.MaxReward), seq.Episodes.Select(e => e.MaxReward));
        for (int i = 0; i < 6; i++)
        {
            using var env = new PushTEnv();
            env.Reset(100000 + i);
            Assert.Equal(PushTGeometry.Reward(env.Coverage), par.Episodes[i].MaxReward, 6);
            Assert.Equal(100000 + i, par.Episodes[i].Seed);
            Assert.Equal(40, par.Episodes[i].Steps);
            Assert.Equal(0, par.Episodes[i].AgentJerk, 9);
        }
        Assert.Equal(0, par.SuccessRate);
    }

    [Fact]
    public void StopsAtDone()
    {
        var cfg = new PushTEvalConfig { Episodes = 1 };
        var ep = Assert.Single(PushTRunner.Evaluate(new HoldPositionPolicy(), cfg, null, CancellationToken.None,
            env => env.ResetToState([100, 100, 256, 256, Math.PI / 4], legacy: false)).Episodes);
        Assert.Equal(1, ep.Steps);
        Assert.True(ep.Success);
        Assert.Equal(1.0, ep.MaxReward);
        Assert.Equal(1.0, ep.MaxCoverage, 9);
    }

    [Fact]
    public void RecordsGifForTheFirstEpisodes()
    {
        var cfg = new PushTEvalConfig { Episodes = 2, MaxSteps = 10, GifEpisodes = 1, GifSize = 64 };
        var result = PushTRunner.Evaluate(new RandomWalkPolicy(0), cfg);
        Assert.NotNull(result.Episodes[0].Gif);
        Assert.Null(result.Episodes[1].Gif);
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(result.Episodes[0].Gif!, 0, 6));
        Assert.True(result.Episodes[0].ActionJerk > 0);
    }

    [Fact]
    public void APolicyThatAnswersForTooFewEpisodesIsNamed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => PushTRunner.Evaluate(new ForgetfulPolicy(), new PushTEvalConfig { Episodes = 2, MaxSteps = 5 }));
        Assert.Contains("ForgetfulPolicy returned 1 action chunks for 2 episodes", e.Message);
    }

    [Fact]
    public void MeanJerkMatchesClosedForm()
    {
        // x(t) = t^3 sampled at dt: third difference = 6 dt^3, jerk = 6 exactly; y = quadratic adds nothing.
        const double dt = 0.1;
        var path = Enumerable.Range(0, 12).Select(k => (Math.Pow(k * dt, 3), 5 * Math.Pow(k * dt, 2) + 2)).ToList();
        Assert.Equal(6, PushTRunner.MeanJerk(path, dt), 6);
        Assert.Equal(0, PushTRunner.MeanJerk(path.Take(3).ToList(), dt));
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PushTEvalConfig { ActionSteps = 0 }.Validate());
        Assert.Equal("ActionSteps", ex.ParamName);
    }

    [Fact]
    public void ThroughputReport()
    {
        // Reports speed (no wall-clock assert): wall-clock and CPU-time rates (the CI machine is shared, so CPU time is the
        // steadier per-core number), then a 50-episode hold-policy evaluation.
        using var env = new PushTEnv();
        var proc = Process.GetCurrentProcess();
        double Cpu() { proc.Refresh(); return proc.TotalProcessorTime.TotalSeconds; }
        var rng = new NumpyRandomState(1);
        void RandomTargets(int steps) { for (int i = 0; i < steps; i++) env.Step(200 + 100 * rng.Rand(), 200 + 100 * rng.Rand()); }
        int Pushing(int episodes)
        {
            // The reference script (the agent pushes the T from step 9 on), 30 steps per episode, resets included.
            int steps = 0;
            for (int e = 0; e < episodes; e++)
            {
                env.Reset(100000);
                for (int t = 1; t <= 30; t++, steps++) env.Step(235 + (387 - 235) * Math.Min(t, 24) / 24.0, 124 + (205.6 - 124) * Math.Min(t, 24) / 24.0);
            }
            return steps;
        }
        env.Reset(100000);
        RandomTargets(300);
        Pushing(5); // JIT warm-up

        env.Reset(100000);
        double c0 = Cpu();
        var sw = Stopwatch.StartNew();
        RandomTargets(3000);
        double freeWall = 3000 / sw.Elapsed.TotalSeconds, freeCpu = 3000 / (Cpu() - c0);
        c0 = Cpu();
        sw.Restart();
        int pushSteps = Pushing(100);
        double pushWall = pushSteps / sw.Elapsed.TotalSeconds, pushCpu = pushSteps / (Cpu() - c0);
        var frame = env.Snapshot();
        PushTRenderer.ImageObservation(frame);
        c0 = Cpu();
        for (int i = 0; i < 100; i++) PushTRenderer.ImageObservation(frame);
        double renderMs = (Cpu() - c0) / 100 * 1000;

        c0 = Cpu();
        var result = PushTRunner.Evaluate(new HoldPositionPolicy());
        double evalCpu = Cpu() - c0;
        output.WriteLine($"free motion: {freeWall:F0} env steps/s wall, {freeCpu:F0} per CPU-second");
        output.WriteLine($"pushing the T (incl. resets): {pushWall:F0} env steps/s wall, {pushCpu:F0} per CPU-second");
        output.WriteLine($"96x96 image observation: {renderMs:F2} CPU-ms each");
        output.WriteLine($"50 episodes x 300 steps, hold policy, {Environment.ProcessorCount} cores: {result}; {evalCpu:F2} CPU-s");
        Assert.Equal(50, result.Episodes.Count);
        // What the report measured is a real evaluation: seeds in order, episodes that do not succeed run their 300 steps,
        // and a second run gives the same episodes (the runner is deterministic whatever the thread timing).
        Assert.True(freeWall > 0 && pushCpu > 0 && renderMs > 0 && double.IsFinite(freeCpu + pushWall + evalCpu));
        Assert.Equal(Enumerable.Range(100000, 50).Select(i => (long)i), result.Episodes.Select(e => e.Seed));
        Assert.All(result.Episodes, e => Assert.True(e.Success || e.Steps == 300, $"seed {e.Seed}: {e.Steps} steps without success"));
        var again = PushTRunner.Evaluate(new HoldPositionPolicy());
        Assert.Equal(result.Episodes.Select(e => (e.Steps, e.MaxCoverage)), again.Episodes.Select(e => (e.Steps, e.MaxCoverage)));
    }
}

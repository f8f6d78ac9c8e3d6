using System.Diagnostics;
using DpAg.Envs;
using DpAg.Evaluation;
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

        public IReadOnlyList<double[]> Act(IReadOnlyList<PushTObservation> history)
        {
            if (Calls++ == 0) FirstPadded = ReferenceEquals(history[0], history[1]);
            HistoryCounts.Add(history.Count);
            var (x, y) = history[^1].AgentPosition;
            return Enumerable.Range(0, 16).Select(_ => new[] { x + 1, y }).ToArray();
        }
    }

    [Fact]
    public void ProtocolCountsStepsCallsAndPadsHistory()
    {
        var policy = new RecordingPolicy();
        var cfg = new PushTEvalConfig { Episodes = 1, MaxSteps = 20, MaxDegreeOfParallelism = 1 };
        var result = PushTRunner.Evaluate(_ => policy, cfg);
        var ep = Assert.Single(result.Episodes);
        Assert.Equal(100000, ep.Seed);
        Assert.Equal(20, ep.Steps);
        Assert.Equal(3, policy.Calls); // 8 + 8 + 4 executed actions
        Assert.All(policy.HistoryCounts, c => Assert.Equal(2, c));
        Assert.True(policy.FirstPadded);
    }

    [Fact]
    public void HoldPolicyScoresItsInitialCoverageInParallelAndSequentially()
    {
        var cfg = new PushTEvalConfig { Episodes = 6, MaxSteps = 40 };
        var par = PushTRunner.Evaluate(_ => new HoldPositionPolicy(), cfg);
        var seq = PushTRunner.Evaluate(_ => new HoldPositionPolicy(), cfg with { MaxDegreeOfParallelism = 1 });
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
        var ep = PushTRunner.RunEpisode(new HoldPositionPolicy(), 0, cfg, recordGif: false, CancellationToken.None,
            env => env.ResetToState([100, 100, 256, 256, Math.PI / 4], legacy: false));
        Assert.Equal(1, ep.Steps);
        Assert.True(ep.Success);
        Assert.Equal(1.0, ep.MaxReward);
        Assert.Equal(1.0, ep.MaxCoverage, 9);
    }

    [Fact]
    public void RecordsGifForTheFirstEpisodes()
    {
        var cfg = new PushTEvalConfig { Episodes = 2, MaxSteps = 10, GifEpisodes = 1, GifSize = 64 };
        var result = PushTRunner.Evaluate(i => new RandomWalkPolicy(i), cfg);
        Assert.NotNull(result.Episodes[0].Gif);
        Assert.Null(result.Episodes[1].Gif);
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(result.Episodes[0].Gif!, 0, 6));
        Assert.True(result.Episodes[0].ActionJerk > 0);
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
        // Reports speed (no wall-clock assert): single-core env steps per second and a 50-episode hold-policy evaluation.
        using var env = new PushTEnv();
        env.Reset(100000);
        var rng = new NumpyRandomState(1);
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        const int n = 3000;
        for (int i = 0; i < n; i++) env.Step(200 + 100 * rng.Rand(), 200 + 100 * rng.Rand());
        double sps = n / sw.Elapsed.TotalSeconds;
        // Contact-heavy: the reference script (the agent pushes the T from step 9 on), 100 episodes of 30 steps incl. resets.
        sw.Restart();
        int contactSteps = 0;
        for (int e = 0; e < 100; e++)
        {
            env.Reset(100000);
            for (int t = 1; t <= 30; t++, contactSteps++) env.Step(235 + (387 - 235) * Math.Min(t, 24) / 24.0, 124 + (205.6 - 124) * Math.Min(t, 24) / 24.0);
        }
        double cps = contactSteps / sw.Elapsed.TotalSeconds;
        proc.Refresh();
        double cpuSeconds = (proc.TotalProcessorTime - cpu0).TotalSeconds;
        var cpu1 = proc.TotalProcessorTime;
        var result = PushTRunner.Evaluate(_ => new HoldPositionPolicy());
        output.WriteLine($"single core: {sps:F0} env steps/s ({sps * PushTEnv.Substeps:F0} physics substeps/s) random targets; {cps:F0} env steps/s pushing the T (incl. resets)");
        proc.Refresh();
        output.WriteLine($"CPU time: {(n + contactSteps) / cpuSeconds:F0} env steps per CPU-second (both loops); evaluation used {(proc.TotalProcessorTime - cpu1).TotalSeconds:F2} CPU-s");
        output.WriteLine($"50 episodes x 300 steps, hold policy, {Environment.ProcessorCount} cores: {result}");
        Assert.Equal(50, result.Episodes.Count);
    }
}

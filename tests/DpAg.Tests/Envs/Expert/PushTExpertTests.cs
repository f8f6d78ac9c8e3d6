using DpAg.Envs;
using DpAg.Envs.Expert;

namespace DpAg.Tests.Envs.Expert;

public class PushTExpertTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Runs the expert for at most 300 steps; returns (success, max coverage, actions, agent positions before each action).</summary>
    private static (bool Success, double MaxCoverage, List<(double X, double Y)> Actions, List<(double X, double Y)> Agents) Run(long seed, bool legacy)
    {
        using var env = new PushTEnv(new PushTConfig { LegacyReset = legacy });
        using var expert = new PushTExpert();
        env.Reset(seed);
        var actions = new List<(double X, double Y)>();
        var agents = new List<(double X, double Y)>();
        double maxCoverage = env.Coverage;
        for (int t = 0; t < 300 && maxCoverage <= PushTGeometry.SuccessThreshold; t++)
        {
            agents.Add(env.AgentPosition);
            var a = expert.NextAction(env);
            actions.Add(a);
            maxCoverage = Math.Max(maxCoverage, env.Step(a.X, a.Y).Info.Coverage);
        }
        return (maxCoverage >= PushTGeometry.SuccessThreshold, maxCoverage, actions, agents);
    }

    [Fact]
    public void SolvesHeldOutDataCollectionSeeds()
    {
        // 30 seeds never used for the shipped data or tuning; about 0.05 s each on one core.
        var results = Enumerable.Range(5000, 30).AsParallel().AsOrdered().WithDegreeOfParallelism(2)
            .Select(s => (Seed: s, R: Run(s, legacy: false))).ToList();
        double rate = results.Average(r => r.R.Success ? 1.0 : 0.0);
        output.WriteLine($"success {rate:P1}, mean max coverage {results.Average(r => r.R.MaxCoverage):F4}; failed: {string.Join(", ", results.Where(r => !r.R.Success).Select(r => r.Seed))}");
        Assert.True(rate > 0.9, $"expert success rate {rate:P1} on seeds 5000..5029 is not above 90%.");
    }

    [Fact]
    public void SolvesEvaluationProtocolSeeds()
    {
        // The protocol's first 20 seeds (legacy placement, 300 steps).
        var options = new PushTDemoOptions { Episodes = 20, FirstSeed = 100000, LegacyReset = true, Workers = 2 };
        var summary = PushTDemoRecorder.Evaluate(options);
        output.WriteLine(summary.ToString());
        Assert.True(summary.SuccessRate > 0.9, $"expert success rate {summary.SuccessRate:P1} on evaluation seeds 100000..100019 is not above 90%.");
        Assert.True(summary.MeanMaxCoverage > 0.9);
    }

    [Fact]
    public void SameSeedGivesIdenticalActions()
    {
        var a = Run(3, legacy: false);
        var b = Run(3, legacy: false);
        Assert.Equal(a.Actions, b.Actions);
        Assert.True(a.Actions.Count > 10);
    }

    [Fact]
    public void ActionsStayInBoundsNearTheAgentAndMoveInBoundedSteps()
    {
        var cfg = new PushTExpertConfig();
        foreach (long seed in new long[] { 0, 7, 100001 })
        {
            var r = Run(seed, legacy: seed >= 100000);
            double maxLead = 0, maxJump = 0;
            for (int t = 0; t < r.Actions.Count; t++)
            {
                var (x, y) = r.Actions[t];
                Assert.InRange(x, cfg.ArenaMargin, PushTGeometry.WorldSize - cfg.ArenaMargin);
                Assert.InRange(y, cfg.ArenaMargin, PushTGeometry.WorldSize - cfg.ArenaMargin);
                var p = r.Agents[t];
                maxLead = Math.Max(maxLead, Math.Sqrt((x - p.X) * (x - p.X) + (y - p.Y) * (y - p.Y)));
                if (t > 0)
                {
                    var q = r.Actions[t - 1];
                    maxJump = Math.Max(maxJump, Math.Sqrt((x - q.X) * (x - q.X) + (y - q.Y) * (y - q.Y)));
                }
            }
            output.WriteLine($"seed {seed}: steps {r.Actions.Count}, max target-agent distance {maxLead:F1} px, max target step {maxJump:F1} px");
            // Targets stay within MaxLead of the agent (approach and stop are capped at 40 px; pushes lead by the PD lag).
            Assert.True(maxLead <= cfg.MaxLead + 5, $"seed {seed}: a target lies {maxLead:F1} px from the agent.");
            Assert.True(maxJump <= 2 * cfg.MaxLead + 10, $"seed {seed}: consecutive targets jump {maxJump:F1} px.");
        }
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new PushTExpertConfig { MaxLead = 0 }.Validate());
        Assert.Equal("MaxLead", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new PushTExpertConfig { MinPushSpeed = 20 }.Validate());
        Assert.Equal("MinPushSpeed", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new PushTDemoOptions { Workers = 0 }.Validate());
        Assert.Equal("Workers", e.ParamName);
    }

    [Fact]
    public void DistanceToTMatchesTheBoxes()
    {
        Assert.Equal(0, ApproachPlanner.DistanceToT(0, 10, 0, 0, 0));          // inside the bar
        Assert.Equal(10, ApproachPlanner.DistanceToT(0, -10, 0, 0, 0), 12);    // above the bar
        Assert.Equal(5, ApproachPlanner.DistanceToT(20, 60, 0, 0, 0), 12);     // beside the stem
        Assert.Equal(5, ApproachPlanner.DistanceToT(0, 125, 0, 0, 0), 12);     // below the stem
        // Rotated by pi/2 about the origin: body (0, -10) -> world (10, 0).
        Assert.Equal(10, ApproachPlanner.DistanceToT(10, 0, 0, 0, Math.PI / 2), 9);
    }

    [Fact]
    public void StopTargetCancelsTheVelocityInOneSubstep()
    {
        // v' = v + (100 (p - 0.8 v - p) - 20 v) dt = v (1 - 0.8 - 0.2) = 0 with dt = 0.01.
        var (x, y) = PushTExpert.StopTarget((100, 200), (30, -20));
        Assert.Equal(100 - 24, x, 12);
        Assert.Equal(200 + 16, y, 12);
        var far = PushTExpert.StopTarget((100, 200), (300, 400));
        Assert.Equal(40, Math.Sqrt((far.X - 100) * (far.X - 100) + (far.Y - 200) * (far.Y - 200)), 9);
    }
}

public class PushTExpertPolicyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void TrackedVelocityMatchesTheSimulator()
    {
        using var env = new PushTEnv();
        using var policy = new PushTExpertPolicy();
        policy.Reset();
        var obs = env.Reset(100003);
        double maxError = 0;
        for (int t = 0; t < 60; t++)
        {
            var a = policy.Act([obs])[0];
            var v = env.AgentVelocity;
            maxError = Math.Max(maxError, Math.Abs(policy.TrackedVelocity.X - v.X) + Math.Abs(policy.TrackedVelocity.Y - v.Y));
            obs = env.Step(a[0], a[1]).Observation;
        }
        output.WriteLine($"max |tracked - true| velocity error over 60 steps: {maxError:E2} px/s");
        Assert.True(maxError < 1e-6, $"tracked agent velocity is off by {maxError} px/s.");
    }

    [Fact]
    public void RunnerEvaluatesTheExpertOnProtocolSeeds()
    {
        var config = new DpAg.Evaluation.PushTEvalConfig { Episodes = 10, ActionSteps = 1, MaxDegreeOfParallelism = 2 };
        using var expert = new DpAg.Evaluation.ExpertActor(maxDegreeOfParallelism: 2);
        var result = DpAg.Evaluation.PushTRunner.Evaluate(expert, config);
        output.WriteLine(result.ToString());
        Assert.True(result.SuccessRate >= 0.9, $"expert through PushTRunner: success {result.SuccessRate:P0} on seeds 100000..100009.");
    }
}

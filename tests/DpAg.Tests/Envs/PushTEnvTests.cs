using System.Globalization;
using System.Text.RegularExpressions;
using DpAg.Envs;

namespace DpAg.Tests.Envs;

public partial class PushTEnvTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void LegacyResetPlacesBlockOriginLikeReference()
    {
        using var env = new PushTEnv();
        var obs = env.Reset(100000);
        var (x, y, a) = env.BlockPose;
        Assert.Equal(299.613, x, 3);
        Assert.Equal(145.202, y, 3);
        Assert.Equal(-0.9049274284249247, a, 12);
        Assert.Equal((235.0, 124.0), env.AgentPosition);
        Assert.Equal(PushTEnv.PythonMod(a, 2 * Math.PI), obs.State[4], 12);
        Assert.InRange(obs.State[4], 0, 2 * Math.PI);
    }

    [Fact]
    public void NonLegacyResetPutsOriginAtState()
    {
        using var env = new PushTEnv(new PushTConfig { LegacyReset = false });
        env.Reset(100000);
        var (x, y, _) = env.BlockPose;
        Assert.Equal(335, x, 9);
        Assert.Equal(128, y, 9);
    }

    [Fact]
    public void KeypointObservationIsWorldKeypointsPlusAgent()
    {
        using var env = new PushTEnv();
        var obs = env.Reset(42);
        var (x, y, a) = env.BlockPose;
        Assert.Equal(20, obs.Keypoints.Length);
        Assert.Equal(PushTGeometry.Keypoints(x, y, a), obs.Keypoints[..18]);
        Assert.Equal(obs.State[0], obs.Keypoints[18]);
        Assert.Equal(obs.State[1], obs.Keypoints[19]);
    }

    [GeneratedRegex(@"t=\s*(\d+)\s+action=\s*(-|\(([-\d.]+),([-\d.]+)\))\s+agent=\(([-\d.]+),([-\d.]+)\)\s+block=\(([-\d.]+),([-\d.]+),([-\d.]+)\)\s+n_contacts=(\d+)\s+coverage=([-\d.]+)\s+reward=([-\d.]+)")]
    private static partial Regex LineRegex();

    private sealed record RefStep(int T, (double X, double Y)? Action, double Ax, double Ay, double Bx, double By, double Ba, int NContacts, double Coverage);

    private static List<RefStep> ReadReference()
    {
        var path = TestData.File("pusht_reference_traj_seed100000.txt");
        var steps = new List<RefStep>();
        foreach (var line in File.ReadAllLines(path))
        {
            var m = LineRegex().Match(line);
            if (!m.Success) continue; // header / comments
            double D(int g) => double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            (double, double)? act = m.Groups[2].Value == "-" ? null : (D(3), D(4));
            steps.Add(new RefStep(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), act, D(5), D(6), D(7), D(8), D(9), int.Parse(m.Groups[10].Value, CultureInfo.InvariantCulture), D(11)));
        }
        Assert.True(steps.Count > 10, $"reference trajectory {path} parsed to only {steps.Count} steps");
        return steps;
    }

    [Fact]
    public void ReproducesReferenceTrajectory()
    {
        var reference = ReadReference();
        using var env = new PushTEnv();
        env.Reset(100000);
        var start = env.AgentPosition;
        double maxErr = 0;
        for (int k = 0; k < reference.Count; k++)
        {
            var r = reference[k];
            if (r.T > 0)
            {
                // The scripted actions (printed to 3 decimals) are a linear ramp from the start to (387, 205.6) over 24 steps, then held.
                var (ax, ay) = r.Action!.Value;
                double s = Math.Min(r.T, 24) / 24.0;
                double exactX = start.X + (387 - start.X) * s, exactY = start.Y + (205.6 - start.Y) * s;
                Assert.Equal(ax, exactX, 3);
                Assert.Equal(ay, exactY, 3);
                var res = env.Step(exactX, exactY);
                Assert.Equal(r.NContacts, res.Info.NContacts);
                Assert.Equal(r.Coverage, res.Info.Coverage, 5);
            }
            var agent = env.AgentPosition;
            var (bx, by, ba) = env.BlockPose;
            double err = new[] { agent.X - r.Ax, agent.Y - r.Ay, bx - r.Bx, by - r.By, ba - r.Ba }.Max(Math.Abs);
            maxErr = Math.Max(maxErr, err);
            Assert.True(err < 1e-3, $"t={r.T}: agent ({agent.X:F4},{agent.Y:F4}) block ({bx:F4},{by:F4},{ba:F6}) vs reference ({r.Ax},{r.Ay}) ({r.Bx},{r.By},{r.Ba}); max abs err {err:E2}");
        }
        output.WriteLine($"reference trajectory: {reference.Count} rows, max abs error over agent/block poses {maxErr:E2}");
        // Printed precision is 5e-5 (positions) / 5e-7 (angle): agreement at that level means the same engine and step order.
        Assert.True(maxErr < 1e-4, $"max abs error {maxErr:E2}");
    }

    [Fact]
    public void StepIsDeterministicAndDoneAtGoal()
    {
        using var a = new PushTEnv();
        using var b = new PushTEnv();
        a.Reset(3);
        b.Reset(3);
        for (int i = 0; i < 20; i++)
        {
            var ra = a.Step(200 + i, 300 - i);
            var rb = b.Step(200 + i, 300 - i);
            Assert.Equal(ra.Observation.State, rb.Observation.State);
        }
        a.ResetToState([100, 100, 256, 256, Math.PI / 4], legacy: false);
        var res = a.Step(100, 100);
        Assert.True(res.Done);
        Assert.Equal(1.0, res.Reward);
        Assert.Equal(1.0, res.Info.Coverage, 9);
    }

    [Fact]
    public void SetStateRollsOutIdenticallyAcrossClones()
    {
        using var env = new PushTEnv();
        env.Reset(100000);
        for (int i = 0; i < 12; i++) env.Step(235 + 6 * i, 124 + 3.4 * i); // into contact with the T
        var s = env.GetState();
        using var c1 = new PushTEnv();
        using var c2 = new PushTEnv();
        c1.SetState(s);
        c2.SetState(s);
        Assert.Equal(s with { }, c1.GetState() with { });
        for (int i = 0; i < 10; i++)
        {
            var r1 = c1.Step(330, 180);
            var r2 = c2.Step(330, 180);
            var r0 = env.Step(330, 180);
            Assert.Equal(r1.Observation.State, r2.Observation.State);
            for (int d = 0; d < 5; d++) Assert.Equal(r0.Observation.State[d], r1.Observation.State[d], 1);
        }
    }

    [Fact]
    public void CloneIsBitExactWhilePushing()
    {
        foreach (var config in new[] { PushTConfig.Classic, PushTConfig.Dynamic })
        {
            using var env = new PushTEnv(config);
            env.Reset(100000);
            for (int i = 0; i < 10; i++) env.Step(235 + 6 * i, 124 + 3.4 * i); // pushing the T from step 9
            using var clone = env.Clone();
            using var copy = new PushTEnv(config);
            copy.CopyFrom(env);
            Assert.Equal(env.Seed, clone.Seed);
            for (int i = 0; i < 15; i++)
            {
                var a = env.Step(330 + i, 180 + 2 * i);
                Assert.Equal(a.Observation.State, clone.Step(330 + i, 180 + 2 * i).Observation.State);
                Assert.Equal(a.Observation.State, copy.Step(330 + i, 180 + 2 * i).Observation.State);
            }
        }
    }

    [Fact]
    public void RejectsNonFiniteInputsAndNamesThePackage()
    {
        using var env = new PushTEnv();
        env.Reset(0);
        Assert.Throws<ArgumentException>(() => env.Step(double.NaN, 3));
        Assert.Throws<ArgumentException>(() => env.ResetToState([1, 2, 3, 4, double.PositiveInfinity]));
        Assert.Equal("apt-get install libchipmunk7", Chipmunk.InstallHint);
        Assert.Equal("libchipmunk.so.7", Chipmunk.LibraryName);
    }

    [Fact]
    public void PythonModMatchesPython()
    {
        Assert.Equal(2 * Math.PI - 0.5, PushTEnv.PythonMod(-0.5, 2 * Math.PI), 12);
        Assert.Equal(0.5, PushTEnv.PythonMod(0.5 + 2 * Math.PI, 2 * Math.PI), 12);
    }
}

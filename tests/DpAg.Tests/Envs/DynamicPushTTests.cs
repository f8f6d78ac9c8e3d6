using DpAg.Envs;

namespace DpAg.Tests.Envs;

public class DynamicPushTTests
{
    private static PushTState Quiet(double ballX, double ballY, double vx, double vy) =>
        new(100, 450, 0, 0, 400, 100, 0, 0, 0, 0, (ballX, ballY, vx, vy));

    [Fact]
    public void BallReflectsOffWall()
    {
        using var env = new PushTEnv(PushTConfig.Dynamic);
        double r = env.Config.Ball!.Radius;
        env.SetState(Quiet(60, 250, -100, 30)); // 10 px per step to the left, a little down
        double minX = double.MaxValue;
        for (int i = 0; i < 10; i++)
        {
            env.Step(100, 450);
            minX = Math.Min(minX, env.Ball!.Value.X);
        }
        var b = env.Ball!.Value;
        Assert.True(b.Vx > 0, "ball should move right after hitting the left wall");
        Assert.Equal(30, b.Vy, 9);                    // specular: tangential component kept
        Assert.Equal(Math.Sqrt(100 * 100 + 30 * 30), Math.Sqrt(b.Vx * b.Vx + b.Vy * b.Vy), 9); // constant speed
        Assert.InRange(minX, 7 + r - 1.01, 7 + r + 1); // turned at the wall's inner face (within one substep)
    }

    [Fact]
    public void BallReflectsOffAgent()
    {
        using var env = new PushTEnv(PushTConfig.Dynamic);
        env.SetState(Quiet(200, 450, -100, 0)); // heading straight at the agent at (100, 450)
        for (int i = 0; i < 10; i++) env.Step(100, 450);
        Assert.True(env.Ball!.Value.Vx > 0);
        Assert.True(env.Ball!.Value.X > 100 + 15 + env.Config.Ball!.Radius - 1.01);
    }

    [Fact]
    public void BallKnocksTheT()
    {
        using var env = new PushTEnv(PushTConfig.Dynamic);
        env.SetState(Quiet(400, 300, 0, -100)); // below the stem of the T at (400, 100), moving up
        var before = env.BlockPose;
        for (int i = 0; i < 12; i++) env.Step(100, 450);
        var after = env.BlockPose;
        Assert.True(after.Y < before.Y - 0.1, $"T should be knocked upwards: {before} -> {after}");
        Assert.True(env.Ball!.Value.Vy > 0, "ball bounces back down off the T");
    }

    [Fact]
    public void DeterministicFromSeedAndVisible()
    {
        using var a = new PushTEnv(PushTConfig.Dynamic with { ImageObservations = false });
        using var b = new PushTEnv(PushTConfig.Dynamic);
        var oa = a.Reset(100003);
        var ob = b.Reset(100003);
        Assert.Equal(9, oa.State.Length);
        Assert.Equal(22, oa.Keypoints.Length);
        Assert.Equal(oa.State, ob.State);
        for (int i = 0; i < 30; i++) Assert.Equal(a.Step(300, 300).Observation.State, b.Step(300, 300).Observation.State);
        b.Reset(100004);
        Assert.NotEqual(a.Reset(100003).State[5..], b.Observe().State[5..]);
        var ball = a.Ball!.Value;
        Assert.Equal(10, Math.Sqrt(a.Observe().State[7] * a.Observe().State[7] + a.Observe().State[8] * a.Observe().State[8]), 9);
        var rgb = a.Render(512, drawAction: false);
        int idx = 3 * ((int)Math.Round(ball.Y) * 512 + (int)Math.Round(ball.X));
        Assert.Equal(PushTRenderer.BallCoreColor, (rgb[idx], rgb[idx + 1], rgb[idx + 2]));
    }
}

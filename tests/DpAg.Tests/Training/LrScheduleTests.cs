using DpAg.Training;

namespace DpAg.Tests.Training;

public class LrScheduleTests
{
    [Fact]
    public void Warmup_is_linear_from_zero()
    {
        var s = new LrSchedule(LrScheduleKind.Cosine, warmupSteps: 500, totalSteps: 10_000);
        Assert.Equal(0.0, s.Factor(0));
        Assert.Equal(1.0 / 500, s.Factor(1));
        Assert.Equal(0.5, s.Factor(250), 15);
        Assert.Equal(499.0 / 500, s.Factor(499), 15);
        Assert.Equal(1.0, s.Factor(500), 15);
        Assert.Equal(0.0, s.LearningRate(1e-4, 0));
        Assert.Equal(0.5e-4, s.LearningRate(1e-4, 250));
    }

    [Fact]
    public void Cosine_matches_the_diffusers_formula()
    {
        const int w = 500;
        const long n = 10_000;
        var s = new LrSchedule(LrScheduleKind.Cosine, w, n);
        foreach (long step in new long[] { 500, 501, 1234, 5250, 7777, 9999, 10_000, 12_000 })
        {
            double p = (double)(step - w) / (n - w);
            double expected = Math.Max(0, 0.5 * (1 + Math.Cos(Math.PI * 0.5 * 2 * p)));
            Assert.Equal(expected, s.Factor(step), 15);
        }
        Assert.Equal(0.5, s.Factor(w + (n - w) / 2), 12);   // half way through the decay
        Assert.Equal(0.0, s.Factor(n), 12);
        // Monotone non-increasing after warm-up.
        double prev = 1.0;
        for (long step = w; step <= n; step += 37) { Assert.True(s.Factor(step) <= prev + 1e-15); prev = s.Factor(step); }
    }

    [Fact]
    public void Constant_and_no_warmup()
    {
        var c = new LrSchedule(LrScheduleKind.Constant, 10, 100);
        Assert.Equal(0.5, c.Factor(5), 15);
        Assert.Equal(1.0, c.Factor(10));
        Assert.Equal(1.0, c.Factor(99));
        var noWarm = new LrSchedule(LrScheduleKind.Cosine, 0, 100);
        Assert.Equal(1.0, noWarm.Factor(0), 15);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.3)), noWarm.Factor(30), 15);
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        Assert.Throws<ArgumentException>(() => new LrSchedule(LrScheduleKind.Cosine, -1, 100));
        Assert.Throws<ArgumentException>(() => new LrSchedule(LrScheduleKind.Cosine, 1, 0));
    }
}

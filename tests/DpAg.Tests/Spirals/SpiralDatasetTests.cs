using DpAg.Spirals;

namespace DpAg.Tests.Spirals;

public class SpiralDatasetTests
{
    private static readonly SpiralDataConfig Config = new() { TrainCount = 600, TestCount = 100 };

    [Fact]
    public void SameSeedGivesTheSameSetsAndAnotherSeedDiffers()
    {
        var (a, at) = SpiralDataset.Generate(Config, 7);
        var (b, bt) = SpiralDataset.Generate(Config, 7);
        var (c, _) = SpiralDataset.Generate(Config, 8);
        Assert.Equal(a.Noisy, b.Noisy);
        Assert.Equal(a.Times, b.Times);
        Assert.Equal(at.Noisy, bt.Noisy);
        Assert.NotEqual(a.Noisy, c.Noisy);
        Assert.NotEqual(a.Phase.Take(100), at.Phase);                 // the test split is not a copy of the training split
        Assert.Equal(600, a.Count);
        Assert.Equal(100, at.Count);
    }

    [Fact]
    public void StampsAreSortedIrregularAndSplitIntoObservedInterpolationAndExtrapolationWindows()
    {
        var (set, _) = SpiralDataset.Generate(Config, 1);
        int N = set.Points;
        Assert.Equal(Config.Observed + Config.Interpolation + Config.Extrapolation, N);
        var gaps = new List<double>();
        for (int i = 0; i < set.Count; i++)
        {
            var kinds = Enumerable.Range(0, N).Select(j => set.Kinds[i * N + j]).ToArray();
            Assert.Equal(Config.Observed, kinds.Count(k => k == PointKind.Observed));
            Assert.Equal(Config.Interpolation, kinds.Count(k => k == PointKind.Interpolation));
            Assert.Equal(Config.Extrapolation, kinds.Count(k => k == PointKind.Extrapolation));
            for (int j = 0; j < N; j++)
            {
                double t = set.Times[i * N + j];
                Assert.InRange(t, 0.0, 1.0);
                if (j > 0) { Assert.True(t >= set.Times[i * N + j - 1]); gaps.Add(t - set.Times[i * N + j - 1]); }
                if (kinds[j] == PointKind.Extrapolation) Assert.True(t > Config.PrefixEnd);
                else Assert.True(t <= Config.PrefixEnd);
            }
        }
        // Irregular: the gaps vary (a regular grid would have a coefficient of variation near 0).
        double mean = gaps.Average(), sd = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Count);
        Assert.True(sd / mean > 0.5, $"gap coefficient of variation {sd / mean}");
        // Uniform within windows: mean observed time near PrefixEnd / 2.
        var observedTimes = Enumerable.Range(0, set.Count * N).Where(p => set.Kinds[p] == PointKind.Observed).Select(p => set.Times[p]).ToArray();
        Assert.InRange(observedTimes.Average(), 0.24, 0.26);
    }

    [Fact]
    public void NoiseDirectionRadiusAndPhaseHaveTheConfiguredStatistics()
    {
        var (set, _) = SpiralDataset.Generate(Config, 2);
        // Noise: residuals have mean 0 and std NoiseStd (n = 600 * 32 * 2 draws; std error of the std about 0.4 %).
        var residuals = set.Noisy.Zip(set.Clean, (n, c) => n - c).ToArray();
        double mean = residuals.Average();
        double std = Math.Sqrt(residuals.Sum(r => (r - mean) * (r - mean)) / residuals.Length);
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(std, Config.NoiseStd * 0.97, Config.NoiseStd * 1.03);
        // Direction: about half clockwise (binomial std 0.02 at n = 600).
        Assert.InRange(set.Clockwise.Count(c => c) / (double)set.Count, 0.42, 0.58);
        // Radius uniform in [RadiusMin, RadiusMax]; phase uniform in [0, 2 pi).
        Assert.All(set.Radius, r => Assert.InRange(r, Config.RadiusMin, Config.RadiusMax));
        Assert.InRange(set.Radius.Average(), 0.78, 0.82);
        Assert.All(set.Phase, p => Assert.InRange(p, 0, 2 * Math.PI));
        Assert.InRange(set.Phase.Average(), Math.PI - 0.25, Math.PI + 0.25);
    }

    [Fact]
    public void CleanPointsLieOnTheSpiralAndTurnTheWayTheFlagSays()
    {
        var (set, _) = SpiralDataset.Generate(Config with { TrainCount = 50 }, 3);
        int N = set.Points;
        for (int i = 0; i < set.Count; i++)
        {
            for (int j = 0; j < N; j++)
            {
                int p = i * N + j;
                double r = Math.Sqrt(set.Clean[2 * p] * set.Clean[2 * p] + set.Clean[2 * p + 1] * set.Clean[2 * p + 1]);
                Assert.Equal(set.Radius[i] * (1 - Config.Shrink * set.Times[p]), r, 1e-9);
            }
            // The angular velocity's sign: cross product of the start and a point slightly later.
            var (x0, y0) = SpiralDataset.Position(Config, set.Clockwise[i], set.Phase[i], set.Radius[i], 0.0);
            var (x1, y1) = SpiralDataset.Position(Config, set.Clockwise[i], set.Phase[i], set.Radius[i], 0.01);
            Assert.Equal(set.Clockwise[i], x0 * y1 - y0 * x1 < 0);
        }
    }

    [Fact]
    public void ValidateNamesTheBadField()
    {
        var e = Assert.Throws<ArgumentException>(() => (Config with { PrefixEnd = 1.5 }).Validate());
        Assert.Contains("PrefixEnd", e.Message);
        Assert.Contains("1.5", e.Message);
        Assert.Throws<ArgumentException>(() => SpiralDataset.Generate(Config with { Observed = 1 }, 0));
    }
}

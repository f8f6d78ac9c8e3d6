using DpAg.Studies;

namespace DpAg.Tests.Studies;

/// <summary>
/// The study's statistics: mean +- sd, the paired two-level bootstrap (closed forms, large-sample normal theory,
/// reproducibility) and the verdict rule on synthetic cases (clear effect, clear null, opposite effect, too few seeds).
/// </summary>
public class PairedStatisticsTests
{
    /// <summary>Deterministic standard normals (Box-Muller on a seeded Random).</summary>
    private static Func<double> Normal(int seed)
    {
        var rng = new Random(seed);
        return () => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }

    private static IReadOnlyList<IReadOnlyList<double>> Grid(int seeds, int episodes, Func<int, int, double> value) =>
        Enumerable.Range(0, seeds).Select(s => (IReadOnlyList<double>)Enumerable.Range(0, episodes).Select(e => value(s, e)).ToArray()).ToList();

    [Fact]
    public void MeanAndSampleStandardDeviation()
    {
        var m = MeanSd.Of([1, 2, 3, 4]);
        Assert.Equal(2.5, m.Mean, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), m.Sd, 12);   // sum of squares 5, n - 1 = 3
        Assert.Equal(4, m.Count);
        Assert.Equal(0.0, MeanSd.Of([7]).Sd);
        Assert.Equal("7 +- n/a", MeanSd.Of([7]).ToString());       // one value has no spread to show
        Assert.Equal("2.5 +- 1.3", m.ToString());
        Assert.True(double.IsNaN(MeanSd.Of([]).Mean));
    }

    [Fact]
    public void QuantileInterpolatesLikeNumPy()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(1.75, PairedBootstrap.Quantile(sorted, 0.25), 12);   // numpy.quantile([1,2,3,4], 0.25) = 1.75
        Assert.Equal(4.0, PairedBootstrap.Quantile(sorted, 1.0), 12);
        Assert.Equal(2.5, PairedBootstrap.Quantile(sorted, 0.5), 12);
    }

    [Fact]
    public void SignedNumbersNeverShowANegativeZero()
    {
        Assert.Equal("0.000", PairedEffect.Signed(-1e-7));
        Assert.Equal("0.000", PairedEffect.Signed(0));
        Assert.Equal("+0.042", PairedEffect.Signed(0.0416));
        Assert.Equal("-0.050", PairedEffect.Signed(-0.05));
        Assert.Equal("+0.1235", PairedEffect.Signed(0.12345678, 4));
    }

    [Fact]
    public void ConstantShiftAndRatioAreExact()
    {
        var z = Normal(3);
        var baseline = Grid(3, 20, (_, _) => 1 + Math.Abs(z()));
        var shifted = baseline.Select(r => (IReadOnlyList<double>)r.Select(x => x + 0.07).ToArray()).ToList();
        var e = PairedBootstrap.Compute(shifted, baseline, resamples: 500);
        Assert.Equal(0.07, e.Estimate, 12);
        Assert.Equal(0.07, e.Lower, 12);
        Assert.Equal(0.07, e.Upper, 12);
        var halved = baseline.Select(r => (IReadOnlyList<double>)r.Select(x => x * 0.5).ToArray()).ToList();
        var r = PairedBootstrap.Compute(halved, baseline, EffectScale.Relative, resamples: 500);
        Assert.Equal(-0.5, r.Estimate, 12);
        Assert.Equal(-0.5, r.Lower, 12);
        Assert.Equal(-0.5, r.Upper, 12);
    }

    [Fact]
    public void SeededAndReproducible()
    {
        var z = Normal(5);
        var v = Grid(3, 30, (_, _) => z());
        var b = Grid(3, 30, (_, _) => z());
        var one = PairedBootstrap.Compute(v, b, resamples: 1000, seed: 9);
        var two = PairedBootstrap.Compute(v, b, resamples: 1000, seed: 9);
        var other = PairedBootstrap.Compute(v, b, resamples: 1000, seed: 10);
        Assert.Equal(one, two);
        Assert.Equal(one.Estimate, other.Estimate);
        Assert.NotEqual(one.Lower, other.Lower);
    }

    [Fact]
    public void OneLevelIntervalMatchesNormalTheory()
    {
        // 400 runs with one value each: the percentile interval of a mean is mean +- 1.96 sd / sqrt(n) for large n.
        var z = Normal(11);
        var d = Enumerable.Range(0, 400).Select(_ => 0.3 + z()).ToArray();
        var v = d.Select(x => (IReadOnlyList<double>)new[] { x }).ToList();
        var b = d.Select(_ => (IReadOnlyList<double>)new[] { 0.0 }).ToList();
        var e = PairedBootstrap.Compute(v, b, resamples: 4000, seed: 2);
        var m = MeanSd.Of(d);
        double half = 1.959964 * m.Sd / Math.Sqrt(d.Length);
        Assert.Equal(m.Mean, e.Estimate, 12);
        Assert.InRange(e.Lower, m.Mean - half * 1.12, m.Mean - half * 0.88);
        Assert.InRange(e.Upper, m.Mean + half * 0.88, m.Mean + half * 1.12);
    }

    [Fact]
    public void PairingCancelsWhatTheVariantsShare()
    {
        // Episodes differ a lot (initial states), the variant adds 0.05 to each with little noise of its own: the paired
        // interval is narrow and excludes zero although the episodes' spread is 20 times the effect.
        var z = Normal(21);
        var baseline = Grid(4, 50, (_, _) => z());
        var w = Normal(22);
        var variant = baseline.Select(r => (IReadOnlyList<double>)r.Select(x => x + 0.05 + 0.01 * w()).ToArray()).ToList();
        var e = PairedBootstrap.Compute(variant, baseline, resamples: 2000);
        Assert.True(e.Lower > 0.04 && e.Upper < 0.06, $"paired interval {e}");
    }

    [Fact]
    public void SeedToSeedSpreadWidensTheInterval()
    {
        // Three training seeds whose effects are +0.1, 0 and -0.1, no episode noise: the two-level bootstrap must carry
        // the seed spread (the interval contains 0 and reaches towards both seeds' extremes).
        double[] seedEffect = [0.1, 0.0, -0.1];
        var baseline = Grid(3, 50, (_, e) => 0.5 + 0.001 * e);
        var variant = Grid(3, 50, (s, e) => 0.5 + 0.001 * e + seedEffect[s]);
        var effect = PairedBootstrap.Compute(variant, baseline, resamples: 2000);
        Assert.Equal(0.0, effect.Estimate, 12);
        Assert.True(effect.Lower <= -0.05 && effect.Upper >= 0.05, $"interval {effect}");
    }

    [Fact]
    public void RefusesUnpairedData()
    {
        var a = Grid(2, 3, (_, _) => 1);
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Compute(a, Grid(3, 3, (_, _) => 1)));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Compute(a, Grid(2, 4, (_, _) => 1)));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Compute(Grid(0, 0, (_, _) => 1), Grid(0, 0, (_, _) => 1)));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Compute(Grid(2, 3, (_, _) => double.NaN), a));
    }

    private static PairedEffect Synthetic(int seeds, double effect, double noise, int dataSeed)
    {
        var z = Normal(dataSeed);
        var baseline = Grid(seeds, 50, (_, _) => 0.6 + 0.2 * z());
        var w = Normal(dataSeed + 1);
        // Each training seed has its own offset (seed-to-seed spread) plus per-episode noise around the effect; both are
        // centred, so the effect on the data is exactly `effect` and the cases do not depend on a lucky draw.
        var offsets = Enumerable.Range(0, seeds).Select(_ => noise * w()).ToArray();
        double mean = offsets.Average();
        var variant = baseline.Select((r, s) =>
        {
            var n = r.Select(_ => noise * w()).ToArray();
            double m = n.Average();
            return (IReadOnlyList<double>)r.Select((x, i) => x + effect + offsets[s] - mean + n[i] - m).ToArray();
        }).ToList();
        return PairedBootstrap.Compute(variant, baseline, resamples: 2000);
    }

    [Fact]
    public void VerdictClearEffectIsReproduced()
    {
        var v = VerdictRule.Decide(Synthetic(5, 0.10, 0.02, 100), higherIsBetter: true, margin: 0.02);
        Assert.Equal(VerdictKind.Reproduced, v.Kind);
        Assert.Equal("reproduced", v.Label);
    }

    [Fact]
    public void VerdictClearNullIsNotReproduced()
    {
        var effect = Synthetic(5, 0.0, 0.005, 200);
        var v = VerdictRule.Decide(effect, higherIsBetter: true, margin: 0.02);
        Assert.Equal(VerdictKind.NotReproduced, v.Kind);
        Assert.Contains("rules out an effect of 0.02", v.Reason);
        Assert.True(effect.Lower < 0 && effect.Upper > 0, $"a null's interval contains zero: {effect}");
    }

    [Fact]
    public void VerdictOppositeEffectIsNotReproduced()
    {
        var v = VerdictRule.Decide(Synthetic(5, -0.10, 0.02, 300), higherIsBetter: true, margin: 0.02);
        Assert.Equal(VerdictKind.NotReproduced, v.Kind);
        Assert.Contains("opposite", v.Reason);
    }

    [Fact]
    public void VerdictTooFewSeedsIsInconclusive()
    {
        var effect = Synthetic(2, 0.10, 0.02, 400);
        Assert.True(effect.Lower > 0, "the data alone would say reproduced");
        var v = VerdictRule.Decide(effect, higherIsBetter: true, margin: 0.02);
        Assert.Equal(VerdictKind.Inconclusive, v.Kind);
        Assert.Contains("too few training seeds (2 < 3)", v.Reason);
        Assert.Equal("inconclusive at this scale", v.Label);
    }

    [Fact]
    public void VerdictWideIntervalIsInconclusive()
    {
        var v = VerdictRule.Decide(Synthetic(4, 0.02, 0.3, 500), higherIsBetter: true, margin: 0.02);
        Assert.Equal(VerdictKind.Inconclusive, v.Kind);
    }

    [Fact]
    public void VerdictLowerIsBetterUsesTheClaimedDirection()
    {
        // A jerk 60 % lower (relative change -0.6) reproduces a "smoother" claim; 60 % higher is the opposite effect.
        var z = Normal(600);
        var baseline = Grid(4, 30, (_, _) => 100 + 10 * Math.Abs(z()));
        var lower = baseline.Select(r => (IReadOnlyList<double>)r.Select(x => 0.4 * x).ToArray()).ToList();
        var higher = baseline.Select(r => (IReadOnlyList<double>)r.Select(x => 1.6 * x).ToArray()).ToList();
        Assert.Equal(VerdictKind.Reproduced, VerdictRule.Decide(PairedBootstrap.Compute(lower, baseline, EffectScale.Relative, 500), false, 0.3).Kind);
        var opposite = VerdictRule.Decide(PairedBootstrap.Compute(higher, baseline, EffectScale.Relative, 500), false, 0.3);
        Assert.Equal(VerdictKind.NotReproduced, opposite.Kind);
        Assert.Contains("opposite", opposite.Reason);
    }
}

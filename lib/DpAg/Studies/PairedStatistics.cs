using System.Globalization;

namespace DpAg.Studies;

/// <summary>A mean and the sample standard deviation (n - 1 in the denominator; 0 for one value, shown as n/a) over <see cref="Count"/> values.</summary>
/// <param name="Mean">The mean (NaN when there are no values).</param>
/// <param name="Sd">The sample standard deviation.</param>
/// <param name="Count">How many values.</param>
public readonly record struct MeanSd(double Mean, double Sd, int Count)
{
    /// <summary>Mean and sample standard deviation of <paramref name="values"/>.</summary>
    public static MeanSd Of(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) return new MeanSd(double.NaN, double.NaN, 0);
        double mean = v.Average();
        double ss = v.Sum(x => (x - mean) * (x - mean));
        return new MeanSd(mean, v.Length > 1 ? Math.Sqrt(ss / (v.Length - 1)) : 0.0, v.Length);
    }

    /// <inheritdoc/>
    public override string ToString() => Format("G4", "G2");

    /// <summary>"mean +- sd" in the given formats; one value has no spread to show, so its sd reads n/a (no values: "-").</summary>
    public string Format(string meanFormat, string? sdFormat = null) => Count switch
    {
        0 => "-",
        1 => Mean.ToString(meanFormat, CultureInfo.InvariantCulture) + " +- n/a",
        _ => Mean.ToString(meanFormat, CultureInfo.InvariantCulture) + " +- " + Sd.ToString(sdFormat ?? meanFormat, CultureInfo.InvariantCulture),
    };
}

/// <summary>How an effect is measured: a difference of means, or the ratio of means minus one.</summary>
public enum EffectScale
{
    /// <summary>mean(variant) - mean(baseline), in the metric's unit.</summary>
    Absolute,
    /// <summary>mean(variant) / mean(baseline) - 1 (e.g. -0.5 = half the baseline's value).</summary>
    Relative,
}

/// <summary>
/// A paired effect with its percentile bootstrap interval: the estimate on the data and the 2.5 % and 97.5 %
/// quantiles over resamples, all as variant minus baseline (or variant / baseline - 1).
/// </summary>
/// <param name="Estimate">The effect on the data.</param>
/// <param name="Lower">The interval's lower end.</param>
/// <param name="Upper">The interval's upper end.</param>
/// <param name="Seeds">Training seeds paired.</param>
/// <param name="Episodes">Test episodes per training seed (1 for a per-run metric).</param>
/// <param name="Resamples">Bootstrap resamples.</param>
public sealed record PairedEffect(double Estimate, double Lower, double Upper, int Seeds, int Episodes, int Resamples)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Signed(Estimate, 4)} [{Signed(Lower, 4)}, {Signed(Upper, 4)}]";

    /// <summary>A number with its sign and <paramref name="digits"/> decimals; 0 when it rounds to zero ("+0.000" or "-0.000" never mislead).</summary>
    public static string Signed(double x, int digits = 3)
    {
        if (double.IsNaN(x)) return "NaN";
        double r = Math.Round(x, digits);
        string body = Math.Abs(r).ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return r > 0 ? "+" + body : r < 0 ? "-" + body : body;
    }
}

/// <summary>
/// The study's statistics (docs/study-statistics.md): a two-level paired percentile bootstrap over training seeds and
/// test seeds. A resample draws training seeds with replacement and, inside each drawn seed, test episodes with
/// replacement; the variant and the baseline always get the same draws (the same training seed index and the same
/// episode seeds), so what they share (the episode's initial state, the data order) cancels. Seeded and reproducible:
/// the same data, resample count and seed give the same interval on every machine.
/// </summary>
public static class PairedBootstrap
{
    /// <summary>The default number of resamples (10,000).</summary>
    public const int DefaultResamples = 10_000;

    /// <summary>
    /// The paired effect of <paramref name="variant"/> against <paramref name="baseline"/>: both are [training seed][test
    /// episode] arrays with the same shape (the same seeds and episodes in the same order); a per-run metric passes one
    /// value per seed.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, no seeds, an empty row, or a non-finite value.</exception>
    public static PairedEffect Compute(IReadOnlyList<IReadOnlyList<double>> variant, IReadOnlyList<IReadOnlyList<double>> baseline,
        EffectScale scale = EffectScale.Absolute, int resamples = DefaultResamples, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(baseline);
        if (variant.Count == 0) throw new ArgumentException("No training seeds to compare.", nameof(variant));
        if (variant.Count != baseline.Count)
            throw new ArgumentException($"Paired data need the same training seeds: {variant.Count} vs {baseline.Count}.", nameof(baseline));
        if (resamples < 100) throw new ArgumentException($"resamples = {resamples}: use at least 100 (default {DefaultResamples}).", nameof(resamples));
        for (int s = 0; s < variant.Count; s++)
        {
            if (variant[s].Count == 0 || variant[s].Count != baseline[s].Count)
                throw new ArgumentException($"Training seed #{s}: {variant[s].Count} vs {baseline[s].Count} episodes; paired data need the same non-empty episodes.", nameof(baseline));
            if (variant[s].Concat(baseline[s]).Any(x => !double.IsFinite(x)))
                throw new ArgumentException($"Training seed #{s} holds a non-finite value.", nameof(variant));
        }
        int seeds = variant.Count;
        double estimate = Effect(variant, baseline, scale, Enumerable.Range(0, seeds).Select(s => Enumerable.Range(0, variant[s].Count).ToArray()).ToArray(),
            Enumerable.Range(0, seeds).ToArray());
        var rng = new Random(seed);
        var draws = new double[resamples];
        var seedDraw = new int[seeds];
        var episodeDraw = new int[seeds][];
        for (int b = 0; b < resamples; b++)
        {
            for (int i = 0; i < seeds; i++)
            {
                int s = rng.Next(seeds);
                seedDraw[i] = s;
                int n = variant[s].Count;
                var e = episodeDraw[i] = new int[n];
                if (n == 1) e[0] = 0;
                else for (int j = 0; j < n; j++) e[j] = rng.Next(n);
            }
            draws[b] = Effect(variant, baseline, scale, episodeDraw, seedDraw);
        }
        Array.Sort(draws);
        return new PairedEffect(estimate, Quantile(draws, 0.025), Quantile(draws, 0.975), seeds, variant.Max(r => r.Count), resamples);
    }

    /// <summary>The effect of one resample: draw i takes training seed seedDraw[i] and its episodes episodeDraw[i].</summary>
    private static double Effect(IReadOnlyList<IReadOnlyList<double>> v, IReadOnlyList<IReadOnlyList<double>> b, EffectScale scale, int[][] episodeDraw, int[] seedDraw)
    {
        // Each training seed weighs the same, whatever its episode count: the mean of per-seed means.
        double sumV = 0, sumB = 0;
        for (int i = 0; i < seedDraw.Length; i++)
        {
            int s = seedDraw[i];
            double mv = 0, mb = 0;
            foreach (int e in episodeDraw[i]) { mv += v[s][e]; mb += b[s][e]; }
            sumV += mv / episodeDraw[i].Length;
            sumB += mb / episodeDraw[i].Length;
        }
        double meanV = sumV / seedDraw.Length, meanB = sumB / seedDraw.Length;
        return scale == EffectScale.Absolute ? meanV - meanB : (meanB == 0 ? double.NaN : meanV / meanB - 1.0);
    }

    /// <summary>The q-quantile of sorted values (linear interpolation between order statistics, NumPy's default); NaNs sort last and are skipped.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        int n = sorted.Count(x => !double.IsNaN(x));
        if (n == 0) return double.NaN;
        double h = (n - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, n - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>The answer to a claim: reproduced, not reproduced, or inconclusive at this scale.</summary>
public enum VerdictKind
{
    /// <summary>The interval lies entirely on the claimed side of zero.</summary>
    Reproduced,
    /// <summary>The interval rules out an effect of the margin's size in the claimed direction (or lies on the opposite side of zero).</summary>
    NotReproduced,
    /// <summary>Too few seeds, or an interval that contains zero and the margin.</summary>
    Inconclusive,
}

/// <summary>A verdict with the numbers it was computed from and one line that says it.</summary>
/// <param name="Kind">The verdict.</param>
/// <param name="Reason">Why, in a few words.</param>
/// <param name="Effect">The paired effect (variant against baseline, in the metric's direction of the data).</param>
/// <param name="Margin">The smallest effect of interest in the claimed direction.</param>
public sealed record Verdict(VerdictKind Kind, string Reason, PairedEffect Effect, double Margin)
{
    /// <summary>"reproduced", "not reproduced" or "inconclusive at this scale".</summary>
    public string Label => Kind switch
    {
        VerdictKind.Reproduced => "reproduced",
        VerdictKind.NotReproduced => "not reproduced",
        _ => "inconclusive at this scale",
    };
}

/// <summary>
/// The verdict rule of docs/study-statistics.md. With the effect signed so that positive is the claimed direction
/// (higher coverage, lower jerk, fewer steps) and its 95 % interval [lo, hi]:
/// 1. fewer paired training seeds than the minimum: inconclusive;
/// 2. lo &gt; 0: reproduced;
/// 3. hi &lt; margin: not reproduced (the data rule out an effect of the margin's size; "opposite" when hi &lt; 0);
/// 4. otherwise inconclusive.
/// </summary>
public static class VerdictRule
{
    /// <summary>The fewest paired training seeds a verdict other than inconclusive needs (3).</summary>
    public const int DefaultMinSeeds = 3;

    /// <summary>Applies the rule. <paramref name="higherIsBetter"/>: the claimed direction of the metric; <paramref name="margin"/> &gt; 0.</summary>
    public static Verdict Decide(PairedEffect effect, bool higherIsBetter, double margin, int minSeeds = DefaultMinSeeds)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (!(margin > 0) || !double.IsFinite(margin)) throw new ArgumentException($"margin = {margin}: use a positive effect size in the claimed direction.", nameof(margin));
        if (minSeeds < 1) throw new ArgumentException($"minSeeds = {minSeeds}: use at least 1 (default {DefaultMinSeeds}).", nameof(minSeeds));
        double sign = higherIsBetter ? 1 : -1;
        double lo = Math.Min(sign * effect.Lower, sign * effect.Upper), hi = Math.Max(sign * effect.Lower, sign * effect.Upper);
        var ci = CultureInfo.InvariantCulture;
        if (effect.Seeds < minSeeds)
            return new Verdict(VerdictKind.Inconclusive, string.Create(ci, $"too few training seeds ({effect.Seeds} < {minSeeds})"), effect, margin);
        if (double.IsNaN(lo) || double.IsNaN(hi))
            return new Verdict(VerdictKind.Inconclusive, "the interval is undefined", effect, margin);
        if (lo > 0)
            return new Verdict(VerdictKind.Reproduced, "the interval lies on the claimed side of zero", effect, margin);
        if (hi < 0)
            return new Verdict(VerdictKind.NotReproduced, "opposite effect: the interval lies on the other side of zero", effect, margin);
        if (hi < margin)
            return new Verdict(VerdictKind.NotReproduced, string.Create(ci, $"the interval rules out an effect of {margin:G3} in the claimed direction"), effect, margin);
        return new Verdict(VerdictKind.Inconclusive, string.Create(ci, $"the interval contains both zero and {margin:G3}"), effect, margin);
    }
}

using System.Globalization;

namespace DpAg.Spirals;

/// <summary>The three verdicts of docs/spirals.md, "Effects and the verdict rule".</summary>
public enum Verdict
{
    /// <summary>The 95 % interval of the paired effect lies in the paper's direction and the estimate is meaningful.</summary>
    Reproduced,

    /// <summary>The 95 % interval excludes the paper's effect (or shows the opposite).</summary>
    NotReproduced,

    /// <summary>Neither: the interval still holds both the paper's effect and a negligible one.</summary>
    Inconclusive,
}

/// <summary>
/// The mean of paired differences (one per seed) with its 95 % Student-t interval: mean +- t(0.975, n - 1) s / sqrt(n).
/// </summary>
/// <param name="Pairs">n, paired seeds.</param>
/// <param name="Mean">Mean difference.</param>
/// <param name="Std">Sample standard deviation of the differences (NaN for n = 1).</param>
/// <param name="Low">Lower end of the 95 % interval (-infinity for n &lt; 2).</param>
/// <param name="High">Upper end (+infinity for n &lt; 2).</param>
public sealed record PairedEffect(int Pairs, double Mean, double Std, double Low, double High)
{
    /// <summary>The effect and interval of <paramref name="differences"/> (NaNs are an error: every pair must be scored).</summary>
    public static PairedEffect Of(IReadOnlyList<double> differences)
    {
        ArgumentNullException.ThrowIfNull(differences);
        if (differences.Count == 0) throw new ArgumentException("PairedEffect: no differences.", nameof(differences));
        if (differences.Any(d => !double.IsFinite(d))) throw new ArgumentException("PairedEffect: a difference is not finite.", nameof(differences));
        int n = differences.Count;
        double mean = differences.Average();
        if (n < 2) return new PairedEffect(n, mean, double.NaN, double.NegativeInfinity, double.PositiveInfinity);
        double std = Math.Sqrt(differences.Sum(d => (d - mean) * (d - mean)) / (n - 1));
        double half = StudentT975(n - 1) * std / Math.Sqrt(n);
        return new PairedEffect(n, mean, std, mean - half, mean + half);
    }

    /// <summary>The per-pair log ratios ln(guided / base) of two paired series.</summary>
    public static double[] LogRatios(IReadOnlyList<double> guided, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(guided);
        ArgumentNullException.ThrowIfNull(baseline);
        if (guided.Count != baseline.Count) throw new ArgumentException($"LogRatios: {guided.Count} guided values for {baseline.Count} base values.", nameof(guided));
        return guided.Zip(baseline, (g, b) => Math.Log(g / b)).ToArray();
    }

    /// <summary>As a ratio: exp of mean, low and high (for effects measured as log ratios).</summary>
    public (double Ratio, double Low, double High) AsRatio() => (Math.Exp(Mean), Math.Exp(Low), Math.Exp(High));

    /// <summary>"0.97 [0.91, 1.04]" for a log-ratio effect read as a ratio.</summary>
    public string RatioText()
    {
        var (r, lo, hi) = AsRatio();
        return string.Create(CultureInfo.InvariantCulture, $"{r:F3} [{lo:F3}, {hi:F3}]");
    }

    /// <summary>The 0.975 quantile of Student's t with <paramref name="df"/> degrees of freedom (table for 1..30, then
    /// the Cornish-Fisher expansion, error below 1e-4).</summary>
    public static double StudentT975(int df)
    {
        if (df < 1) throw new ArgumentOutOfRangeException(nameof(df), df, "degrees of freedom must be at least 1");
        ReadOnlySpan<double> table = [12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
            2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
            2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423];
        if (df <= table.Length) return table[df - 1];
        const double z = 1.959964;
        double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
        return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384.0 * df * df * df);
    }
}

/// <summary>
/// The verdict rule of docs/spirals.md, applied to the paired log ratio ln(MSE guided / MSE base) and its 95 % interval.
/// </summary>
public static class SpiralsVerdict
{
    /// <summary>The paper's ratio 0.0052 / 0.0095 = 0.547 (docs/method.md, "Reported results").</summary>
    public const double PaperRatio = 0.0052 / 0.0095;

    /// <summary>The smallest ratio reduction called meaningful by default: 10 % (ratio 0.90).</summary>
    public const double DefaultMeaningfulRatio = 0.90;

    /// <summary>
    /// Reproduced: the whole interval is below 0 (guided better) and the estimate is a reduction of at least
    /// 1 - <paramref name="meaningfulRatio"/>. Otherwise not reproduced: the interval's lower end is above ln(paper
    /// ratio), so the paper's effect (or anything larger) is excluded, the opposite direction included. Otherwise
    /// inconclusive.
    /// </summary>
    public static Verdict Decide(PairedEffect logRatio, double meaningfulRatio = DefaultMeaningfulRatio, double paperRatio = PaperRatio)
    {
        ArgumentNullException.ThrowIfNull(logRatio);
        if (!(meaningfulRatio > 0 && meaningfulRatio < 1)) throw new ArgumentOutOfRangeException(nameof(meaningfulRatio), meaningfulRatio, "use a ratio in (0, 1) such as 0.9");
        if (logRatio.High < 0 && logRatio.Mean <= Math.Log(meaningfulRatio)) return Verdict.Reproduced;
        if (logRatio.Low > Math.Log(paperRatio)) return Verdict.NotReproduced;
        return Verdict.Inconclusive;
    }

    /// <summary>The verdict as the word the reports print: reproduced, not reproduced, inconclusive.</summary>
    public static string Word(Verdict verdict) => verdict switch
    {
        Verdict.Reproduced => "reproduced",
        Verdict.NotReproduced => "not reproduced",
        _ => "inconclusive",
    };
}

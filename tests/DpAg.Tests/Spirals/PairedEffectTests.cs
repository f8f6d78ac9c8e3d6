using DpAg.Spirals;

namespace DpAg.Tests.Spirals;

public class PairedEffectTests
{
    [Fact]
    public void StudentQuantilesMatchTheTables()
    {
        Assert.Equal(2.7764, PairedEffect.StudentT975(4), 4);
        Assert.Equal(2.0423, PairedEffect.StudentT975(30), 4);
        Assert.Equal(2.0211, PairedEffect.StudentT975(40), 3);
        Assert.Equal(1.9840, PairedEffect.StudentT975(100), 3);
    }

    [Fact]
    public void IntervalIsTheMeanPlusMinusTTimesTheStandardError()
    {
        var e = PairedEffect.Of([1.0, 2.0, 3.0, 4.0, 5.0]);
        Assert.Equal(3.0, e.Mean, 12);
        Assert.Equal(Math.Sqrt(2.5), e.Std, 12);
        Assert.Equal(3.0 - 2.7764 * Math.Sqrt(2.5) / Math.Sqrt(5), e.Low, 4);
        Assert.Equal(3.0 + 2.7764 * Math.Sqrt(2.5) / Math.Sqrt(5), e.High, 4);
        var one = PairedEffect.Of([0.3]);
        Assert.True(double.IsNegativeInfinity(one.Low) && double.IsPositiveInfinity(one.High));
        Assert.Equal([Math.Log(0.5), Math.Log(2.0)], PairedEffect.LogRatios([1.0, 4.0], [2.0, 2.0]));
    }

    [Theory]
    [InlineData(-0.60, -0.70, -0.50, Verdict.Reproduced)]        // the paper's size, interval below 0
    [InlineData(-0.20, -0.30, -0.10, Verdict.Reproduced)]        // smaller than the paper's but real and >= 10 %
    [InlineData(-0.05, -0.08, -0.02, Verdict.NotReproduced)]     // real but negligible; excludes the paper's 0.547
    [InlineData(0.00, -0.10, 0.10, Verdict.NotReproduced)]       // no effect, paper excluded
    [InlineData(0.30, 0.10, 0.50, Verdict.NotReproduced)]        // the opposite direction
    [InlineData(-0.30, -0.90, 0.20, Verdict.Inconclusive)]       // holds both the paper's effect and none
    [InlineData(-0.08, -0.70, -0.01, Verdict.Inconclusive)]      // below 0 but a small estimate, paper not excluded
    public void VerdictRuleFollowsTheDocs(double mean, double low, double high, Verdict expected)
    {
        Assert.Equal(expected, SpiralsVerdict.Decide(new PairedEffect(5, mean, 0.1, low, high)));
        Assert.Equal(Math.Log(0.0052 / 0.0095), Math.Log(SpiralsVerdict.PaperRatio), 12);
    }
}

using DpAg.Plots;
using DpAg.Studies;

namespace DpAg.Tests.Studies;

/// <summary>The study's table as CSV (what notebooks and docs/results read) and its interactive forest plot.</summary>
public class StudyTableTests
{
    private static readonly StudyTable Table = new([], [], [],
    [
        new StudyComparisonRow("dpag", "dp", "pusht.score", "last", "absolute", 3, 50, 0.05, -0.01, 0.11, "no clear difference"),
        new StudyComparisonRow("dpag", "dp", "dynamic.score", "last", "absolute", 3, 50, -0.1, -0.2, -0.02, "worse"),
        new StudyComparisonRow("dpag", "dp", "pusht.action_jerk", "last", "relative", 3, 50, -0.3, -0.5, -0.1, "better"),
        new StudyComparisonRow("abl", "dpag", "pusht.score", "last", "absolute", 2, 50, -0.02, -0.06, 0.01, "no clear difference"),
    ],
    [
        new StudyClaimRow("c, with a comma", "dpag", "dp", "pusht.score", "last", "absolute", "0.95 -> 0.99", 0.04, 0.02, 3, 50, 0.05, -0.01, 0.11,
            "inconclusive at this scale", "the interval contains both zero and 0.02", "line \"quoted\""),
    ]);

    [Fact]
    public void CsvHasSnakeCaseHeadersInvariantNumbersAndQuotedText()
    {
        var csv = StudyTable.Csv(Table.Comparisons).Split('\n');
        Assert.Equal("variant,against,metric,summary,scale,seeds,episodes,estimate,lower,upper,reading", csv[0]);
        Assert.Equal("dpag,dp,pusht.score,last,absolute,3,50,0.05,-0.01,0.11,no clear difference", csv[1]);
        var claims = StudyTable.Csv(Table.Claims).Split('\n');
        Assert.StartsWith("claim,variant,against,metric,summary,scale,paper,paper_effect,margin,seeds,episodes,estimate,lower,upper,verdict,reason,line", claims[0]);
        Assert.StartsWith("\"c, with a comma\",dpag,", claims[1]);
        Assert.EndsWith(",\"line \"\"quoted\"\"\"", claims[1]);
    }

    [Fact]
    public void EffectsChartHasOneIntervalPerComparisonAndThePoints()
    {
        var chart = StudyCharts.Effects(Table, "dp");
        string json = Plotly.NET.GenericChart.toFigureJson(chart);
        Assert.Contains("dpag (pusht.score)", json);
        Assert.Contains("dpag (dynamic.score)", json);
        Assert.DoesNotContain("action_jerk", json);
        Assert.Contains("paired effect", json);
        Assert.Throws<ArgumentException>(() => StudyCharts.Effects(Table, "nobody"));
    }

    [Fact]
    public void AblationsChartShowsEachAblationAgainstItsReferenceOnly()
    {
        string json = Plotly.NET.GenericChart.toFigureJson(StudyCharts.Ablations(Table, "dp"));
        Assert.Contains("abl vs dpag (pusht.score)", json);
        Assert.DoesNotContain("vs dp (", json);
        Assert.Contains("-0.020 [-0.060, +0.010], 2 seeds x 50 episodes: no clear difference", json);
        var withoutAblations = new StudyTable([], [], [], Table.Comparisons.Where(c => c.Against == "dp").ToList(), []);
        Assert.Contains("No ablation has a finished training seed", Assert.Throws<ArgumentException>(() => StudyCharts.Ablations(withoutAblations, "dp")).Message);
    }

    [Fact]
    public void WhichPartRanksTheAblationsByTheirCoverageEffectAndSaysWhichMoveIt()
    {
        var study = StudyDefinition.Parse("""
            { "name": "t", "budget": "ci", "seeds": [0, 1], "baseline": "dp",
              "evaluation": { "environments": ["pusht", "dynamic"] },
              "variants": [ { "name": "dp", "policy": "dp" }, { "name": "dpag", "policy": "dp-ag" },
                            { "name": "small", "policy": "dp-ag", "overrides": { "gamma": 0.5 }, "ablation_of": "dpag", "description": "half | the step" },
                            { "name": "big", "policy": "dp-ag", "overrides": { "contrastive_weight": 0 }, "ablation_of": "dpag" } ] }
            """, "t.json");
        var rows = new List<StudyComparisonRow>(Table.Comparisons.Where(c => c.Variant != "abl"))
        {
            new("big", "dpag", "pusht.score", "last", "absolute", 2, 50, 0.3, 0.2, 0.4, "better (indicative: 2 < 3 seeds)"),
            new("big", "dpag", "dynamic.score", "last", "absolute", 2, 50, 0.25, 0.1, 0.4, "better (indicative: 2 < 3 seeds)"),
            new("big", "dpag", "pusht.action_jerk", "last", "relative", 2, 50, 0.116, 0.092, 0.137, "worse (indicative: 2 < 3 seeds)"),
            new("small", "dpag", "pusht.score", "max", "absolute", 2, 50, 0.9, 0.8, 1.0, "better"),   // not the last checkpoints: ignored
        };
        rows.Add(Table.Comparisons[3] with { Variant = "small" });   // -0.02 [-0.06, +0.01] on pusht
        var lines = StudyReport.WhichPart(study, Table with { Comparisons = rows });
        int big = lines.ToList().FindIndex(l => l.StartsWith("1. big against dpag, 2 seeds: ", StringComparison.Ordinal));
        Assert.True(big > 0, string.Join("\n", lines));
        Assert.Contains("pusht coverage +0.300 [+0.200, +0.400], better (indicative: 2 < 3 seeds); dynamic coverage +0.250 [+0.100, +0.400], better", lines[big]);
        Assert.Contains("pusht action jerk +11.6 % [+9.2 %, +13.7 %], worse", lines[big]);
        Assert.Equal("2. small (half | the step) against dpag, 2 seeds: pusht coverage -0.020 [-0.060, +0.010], no clear difference.", lines[big + 1]);
        Assert.Equal("Coverage moves clearly (an interval excludes zero in at least one environment) with: big. No clear change in coverage with: small.", lines[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("dpag against dp,", StringComparison.Ordinal));   // comparisons with the baseline are the claims' business

        var none = StudyReport.WhichPart(study, Table with { Comparisons = [.. Table.Comparisons.Where(c => c.Against == "dp")] });
        Assert.Equal(["No ablation has a finished and evaluated training seed yet."], none);
    }
}

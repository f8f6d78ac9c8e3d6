using DpAg.Plots;
using DpAg.Spirals;

namespace DpAg.Tests.Spirals;

public class SpiralsExperimentTests
{
    /// <summary>A few seconds: 96 training spirals, 80 steps per model, one seed (shared by the tests below).</summary>
    private static readonly Lazy<SpiralsReport> Tiny = new(() =>
    {
        Torch.Init();
        var config = SpiralsConfig.Ci with
        {
            Data = SpiralsConfig.Ci.Data with { TrainCount = 96, TestCount = 32 },
            Steps = 100,
            Seeds = [0],
            GridPoints = 40,
            FigureTrajectories = 3,
            ContrastiveWeight = 0.1,
        };
        return SpiralsExperiment.Run(config);
    });

    [Fact]
    public void BothModelsTrainOnASmallSetAndBeatTheTrivialBaseline()
    {
        var report = Tiny.Value;
        double trivial = report.Of(SpiralModels.Trivial).HeldOutMse.Mean;
        foreach (var model in new[] { SpiralModels.Base, SpiralModels.Guided })
        {
            var s = report.Of(model);
            Assert.True(s.HeldOutMse.Mean < 0.8 * trivial, $"{model}: held-out MSE {s.HeldOutMse.Mean} vs trivial {trivial}");
            Assert.True(s.ExtrapMse.Mean < report.Of(SpiralModels.Trivial).ExtrapMse.Mean);
            var curve = report.Figures.Models.Single(m => m.Model == model).LossCurve;
            Assert.True(curve.TakeLast(10).Average() < 0.8 * curve.Take(10).Average(), $"{model}: loss {curve.Take(10).Average()} -> {curve.TakeLast(10).Average()}");
            Assert.True(double.IsFinite(s.LatentStep.Mean) && s.LatentStep.Mean > 0);
            Assert.True(double.IsFinite(s.LatentCurvatureRatio.Mean));
        }
    }

    [Fact]
    public void ReportHoldsRowsPerModelAndSeedAndTracesForTheFigures()
    {
        var report = Tiny.Value;
        Assert.Equal(3, report.Rows.Count);
        Assert.Equal(3, report.Summary.Count);
        var f = report.Figures;
        Assert.Equal(2, f.Models.Count);
        Assert.Equal(SpiralModels.Base, f.Models[0].Model);
        Assert.Equal(40, f.Grid.Length);
        Assert.All(f.Models, m =>
        {
            Assert.Equal(3, m.Outputs.Length);
            Assert.Equal(40, m.Outputs[0].Length);
            Assert.Equal(report.Config.LatentDim, m.Latents[0][0].Length);
            Assert.Equal(2, m.LatentPca[0][0].Length);
        });
        var md = SpiralsTable.ToMarkdown(report);
        Assert.Contains("0.0095", md);
        Assert.Contains("0.0052", md);
        Assert.Contains("Verdict at this configuration: inconclusive", md);   // one seed: no interval
    }

    [Fact]
    public void FiguresBuildAndWriteHtmlAndPng()
    {
        var report = Tiny.Value;
        Assert.NotNull(SpiralsFigures.TrajectoriesChart(report));
        Assert.NotNull(SpiralsFigures.LatentsChart(report));
        var dir = Path.Combine(Path.GetTempPath(), $"dpag-spirals-{Guid.NewGuid():N}");
        try
        {
            SpiralsFigures.WriteAll(report, dir);
            foreach (var name in new[] { "trajectories.png", "latents.png" })
            {
                var bytes = File.ReadAllBytes(Path.Combine(dir, name));
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
            }
            Assert.Contains("plotly", File.ReadAllText(Path.Combine(dir, "trajectories.html")), StringComparison.OrdinalIgnoreCase);
            Assert.True(File.Exists(Path.Combine(dir, "latents.html")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ConfigPresetsValidateAndBadValuesNameTheField()
    {
        SpiralsConfig.Ci.Validate();
        SpiralsConfig.Real.Validate();
        Assert.True(SpiralsConfig.Real.Seeds.Length >= 3);
        Assert.Same(SpiralsConfig.Ci, SpiralsConfig.FromBudget("CI"));
        Assert.Contains("budget", Assert.Throws<ArgumentException>(() => SpiralsConfig.FromBudget("huge")).Message);
        Assert.Contains("Seeds", Assert.Throws<ArgumentException>(() => (SpiralsConfig.Ci with { Seeds = [1, 1] }).Validate()).Message);
        Assert.Contains("Gamma", Assert.Throws<ArgumentException>(() => (FlowGuidanceConfig.Paper with { Gamma = -1 }).Validate()).Message);
        Assert.Contains("Sign", Assert.Throws<ArgumentException>(() => (FlowGuidanceConfig.Paper with { Sign = 0.5 }).Validate()).Message);
    }
}

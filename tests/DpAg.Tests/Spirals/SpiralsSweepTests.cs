using DpAg.Plots;
using DpAg.Spirals;

namespace DpAg.Tests.Spirals;

public class SpiralsSweepTests
{
    /// <summary>The CI sweep: 8 cells x 2 paired seeds of a few steps each, on two workers (seconds).</summary>
    private static readonly Lazy<SpiralsSweepReport> Tiny = new(() =>
    {
        Torch.Init();
        return SpiralsSweep.Run(SpiralsSweepConfig.Ci);
    });

    [Fact]
    public void TinySweepRunsEveryCellWithPairedSeedsAndComputesTheVerdictFromTheInterval()
    {
        var report = Tiny.Value;
        var config = SpiralsSweepConfig.Ci;
        Assert.Equal(8, report.Cells.Count);
        Assert.All(report.Cells, c =>
        {
            Assert.Equal(config.Seeds.Length * 3, c.Rows.Count);
            Assert.Equal(config.Seeds.Length, c.Mse.Pairs);
            Assert.True(c.Mse.Low <= c.Mse.Mean && c.Mse.Mean <= c.Mse.High);
            Assert.Equal(SpiralsVerdict.Decide(c.Mse), c.Verdict);
            Assert.All(c.Rows.Where(r => r.Model != SpiralModels.Trivial), r => Assert.True(double.IsFinite(r.HeldOutMse) && double.IsFinite(r.SolverError)));
        });
        // The overall effect is the interval over seeds of the per-seed mean over cells.
        var perSeed = config.Seeds.Select(s => report.Cells.Average(c =>
            Math.Log(c.Rows.Single(r => r.Seed == s && r.Model == SpiralModels.Guided).HeldOutMse / c.Rows.Single(r => r.Seed == s && r.Model == SpiralModels.Base).HeldOutMse))).ToArray();
        Assert.Equal(perSeed.Average(), report.Mse.Mean, 12);
        Assert.Equal(SpiralsVerdict.Decide(report.Mse), report.Verdict);
        Assert.True(report.SolverFloor < 1e-6, $"floor {report.SolverFloor}");
        Assert.True(report.EulerPerGapFloor > 100 * report.SolverFloor);
        var md = SpiralsSweepTable.ToMarkdown(report);
        Assert.Contains("Verdict: " + report.VerdictWord + ".", md);
        Assert.Contains("width 16, n 32, 8 steps", md);
    }

    [Fact]
    public void PairedSeedsShareDataAndInitialisationAcrossModels()
    {
        // Same seed: the same test set whatever the training-set size, and a smaller training set is a prefix.
        var small = new SpiralDataConfig { TrainCount = 8, TestCount = 5 };
        var (a, at) = SpiralDataset.Generate(small, 4);
        var (b, bt) = SpiralDataset.Generate(small with { TrainCount = 20 }, 4);
        Assert.Equal(at.Noisy, bt.Noisy);
        Assert.Equal(a.Noisy, b.Noisy.Take(a.Noisy.Length));
        var report = Tiny.Value;
        // Same initialisation and batches: with 4 steps the two models' first losses agree where guidance is weak,
        // and both rows of a seed exist in every cell.
        Assert.All(report.Cells, c => Assert.Equal(c.Rows.Count(r => r.Model == SpiralModels.Base), c.Rows.Count(r => r.Model == SpiralModels.Guided)));
    }

    [Fact]
    public void ShardsMergeIntoTheSameReportAsOneProcess()
    {
        var tiny = Tiny.Value;
        var config = SpiralsSweepConfig.Ci;
        var shards = Enumerable.Range(0, 3).Select(k => SpiralsSweep.Shard(config, k, 3)).ToList();
        Assert.Equal(SpiralsSweep.Jobs(config).Count, shards.Sum(s => s.Count));
        Assert.Empty(shards[0].Intersect(shards[1]));
        // Shards run in reverse order (as separate processes would finish), merged in any order.
        var merged = SpiralsSweep.Assemble(config, shards.AsEnumerable().Reverse().SelectMany(s => SpiralsSweep.RunJobs(config, s)).Reverse(), 0);
        Assert.Equal(tiny.Mse, merged.Mse);
        foreach (var cell in merged.Cells)
        {
            var same = tiny.Cells.Single(c => c.Cell == cell.Cell);
            foreach (var row in cell.Rows)
                Assert.Equal(row.HeldOutMse, same.Rows.Single(r => r.Seed == row.Seed && r.Model == row.Model).HeldOutMse);
        }
        Assert.Throws<ArgumentException>(() => SpiralsSweep.Assemble(config, SpiralsSweep.RunJobs(config, shards[0].Take(1)), 0));
    }

    [Fact]
    public void SweepFiguresAndConfigValidation()
    {
        var report = Tiny.Value;
        var dir = Path.Combine(Path.GetTempPath(), $"dpag-spirals-sweep-{Guid.NewGuid():N}");
        try
        {
            SpiralsFigures.WriteAll(report, dir);
            foreach (var name in new[] { "trajectories.png", "latents.png", "effects.png" })
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(dir, name)).Take(4).ToArray());
            Assert.Contains("plotly", File.ReadAllText(Path.Combine(dir, "effects.html")), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        SpiralsSweepConfig.Real.Validate();
        Assert.True(SpiralsSweepConfig.Real.Seeds.Length >= 5);
        Assert.True(SpiralsSweepConfig.Real.Widths.Length >= 2 && SpiralsSweepConfig.Real.TrainSizes.Length >= 2 && SpiralsSweepConfig.Real.Budgets.Length >= 2);
        Assert.Contains("Seeds", Assert.Throws<ArgumentException>(() => (SpiralsSweepConfig.Ci with { Seeds = [0] }).Validate()).Message);
        Assert.Contains("Widths", Assert.Throws<ArgumentException>(() => (SpiralsSweepConfig.Ci with { Widths = [8, 8] }).Validate()).Message);
    }
}

using System.Text.Json;
using DpAg.Tests.Cli;

namespace DpAg.Tests.Spirals;

public class SpiralsCliTests
{
    [Fact]
    public void SpiralsVerbWritesTableJsonAndFigures()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dpag-spirals-cli-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = CliRunner.Run("spirals", "--budget", "ci", "--seeds", "2", "--widths", "8", "--train-sizes", "16", "--budgets", "3,5",
                "--norm", "released", "--contrastive", "0.1", "--threads", "1", "--output", dir);
            Assert.True(code == 0, $"exit {code}: {err}");
            Assert.Contains("VJP-Guided Flow", output);
            Assert.Contains("paper 0.547", output);
            Assert.Matches("Verdict: (reproduced|not reproduced|inconclusive)\\.", output);
            foreach (var name in new[] { "report.md", "report.json", "trajectories.html", "latents.html", "trajectories.png", "latents.png", "effects.html", "effects.png" })
                Assert.True(File.Exists(Path.Combine(dir, name)), name);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
            var cells = json.RootElement.GetProperty("Cells");
            Assert.Equal(2, cells.GetArrayLength());
            Assert.Equal(6, cells[0].GetProperty("Rows").GetArrayLength());                 // 2 seeds x (trivial, base, guided)
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BadOptionsGiveOneLineErrors()
    {
        var (code, _, err) = CliRunner.Run("spirals", "--budget", "huge", "--output", Path.GetTempPath());
        Assert.Equal(2, code);
        Assert.Contains("budget", err);
        (code, _, err) = CliRunner.Run("spirals", "--budget", "ci", "--norm", "other", "--output", Path.GetTempPath());
        Assert.Equal(2, code);
        Assert.Contains("--norm", err);
        (code, _, err) = CliRunner.Run("spirals", "--budget", "ci", "--seeds", "1", "--output", Path.GetTempPath());
        Assert.Equal(2, code);
        Assert.Contains("--seeds", err);
        (code, _, err) = CliRunner.Run("spirals", "--budget", "ci", "--widths", "8,x", "--output", Path.GetTempPath());
        Assert.Equal(2, code);
        Assert.Contains("--widths", err);
    }
}

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
            var (code, output, err) = CliRunner.Run("spirals", "--budget", "ci", "--seeds", "1", "--steps", "5", "--norm", "released",
                "--contrastive", "0.1", "--threads", "1", "--output", dir);
            Assert.True(code == 0, $"exit {code}: {err}");
            Assert.Contains("VJP-Guided Flow", output);
            Assert.Contains("0.0052", output);
            foreach (var name in new[] { "report.md", "report.json", "trajectories.html", "latents.html", "trajectories.png", "latents.png" })
                Assert.True(File.Exists(Path.Combine(dir, name)), name);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
            Assert.Equal(3, json.RootElement.GetProperty("Rows").GetArrayLength());
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
    }
}

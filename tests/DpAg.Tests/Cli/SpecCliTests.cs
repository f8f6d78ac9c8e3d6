using System.Text.Json.Nodes;
using DpAg.Policies;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// "Change a term, flip a sign" without C#: <c>dpag spec</c> prints a full spec, <c>dpag train --spec</c> trains the
/// edited file (refusing unknown keys with the known ones), <c>--preset</c> is refused for DP, and
/// <c>dpag store migrate</c> reports what it re-keys.
/// </summary>
public class SpecCliTests
{
    [Fact]
    public void APrintedSpecEditedTrainsWhatItSaysAndATypoIsRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-spec-cli-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            var (code, output, err) = CliRunner.Run("spec", "--policy", "dp-ag", "--preset", "paper", "--size", "tiny");
            Assert.True(code == 0, $"spec failed ({code}): {err}");
            Assert.Equal(PolicySpec.FromNames("dp-ag", "paper", "tiny").ToJson(), output.Trim());

            var node = JsonNode.Parse(output)!.AsObject();
            node["Config"]!["Guidance"]!["Sign"] = -1;
            node["Config"]!["Policy"]!["Unet"]!["DownDims"] = new JsonArray(8, 16);   // a width some CPUs' oneDNN gets wrong (ConvolutionGuard): it must still train
            string specPath = Path.Combine(dir, "my.json");
            File.WriteAllText(specPath, node.ToJsonString());
            string store = Path.Combine(dir, "demo.zarr"), run = Path.Combine(dir, "run");
            PushTFixture.Make([40, 40, 40]).Save(store);
            (code, output, err) = CliRunner.Run("train", "--spec", specPath, "--dataset", store, "--run-dir", run, "--steps", "2", "--batch-size", "8", "--warmup", "1", "--threads", "1");
            Assert.True(code == 0, $"train --spec failed ({code}): {err}");
            Assert.Contains($"dp-ag (spec {specPath})", err);
            var trained = (DpAgSpec)PolicySpec.Load(Path.Combine(run, PolicySpec.FileName));
            Assert.Equal(-1.0, trained.Config.Guidance.Sign);
            Assert.Equal([8, 16], trained.Policy.Unet.DownDims);

            (code, _, err) = CliRunner.Run("train", "--spec", specPath, "--preset", "released", "--dataset", store, "--run-dir", run);
            Assert.Equal(2, code);
            Assert.Contains("drop --preset", err);

            node["Config"]!["Loss"]!["KlWieght"] = 0;
            File.WriteAllText(specPath, node.ToJsonString());
            (code, _, err) = CliRunner.Run("train", "--spec", specPath, "--dataset", store, "--run-dir", Path.Combine(dir, "never"));
            Assert.Equal(2, code);
            Assert.Contains($"{specPath}: unknown key \"Config.Loss.KlWieght\"", err);
            Assert.Contains("KlWeight", err);
            Assert.False(Directory.Exists(Path.Combine(dir, "never")));

            (code, _, err) = CliRunner.Run("train", "--policy", "dp", "--preset", "paper", "--size", "tiny", "--dataset", store, "--run-dir", Path.Combine(dir, "never"));
            Assert.Equal(2, code);
            Assert.Contains("does not apply to policy dp", err);

            (code, output, err) = CliRunner.Run("store", "migrate", "--store", Path.Combine(dir, "empty-store"));
            Assert.Equal(2, code);
            Assert.Contains("No run store at", err);
            Directory.CreateDirectory(Path.Combine(dir, "store", "dp-ag-000000000000"));
            (code, output, err) = CliRunner.Run("store", "migrate", "--store", Path.Combine(dir, "store"));
            Assert.True(code == 0, $"store migrate failed ({code}): {err}");
            Assert.Contains("0 run folders migrated, 0 skipped (every folder is in the current layout)", output);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.Tests.Data;

namespace DpAg.Tests.Cli;

/// <summary>
/// <c>dpag export-torch</c> and <c>dpag import-torch</c> as a person runs them: the shipped DP policy out to a PyTorch
/// state dict and back in, and <c>dpag eval</c> scores the imported folder exactly as it scores the shipped one.
/// </summary>
public class TorchCliTests
{
    [Fact]
    public void ExportImportAndEvalScoresTheImportedPolicyLikeTheShippedOne()
    {
        using var dir = new TempDir();
        string shipped = Path.Combine(CliRunner.RepoRoot, "data", "policies", "dp"), file = dir.Sub("dp.pt"), imported = dir.Sub("imported");
        var (code, output, err) = CliRunner.Run("export-torch", "--run-dir", shipped, "--output", file, "--threads", "1");
        Assert.True(code == 0, $"export-torch failed ({code}): {err}");
        Assert.Contains("dp @ step 18000, 162 entries", output);
        Assert.Contains("policy.model.down_dims=[64,128,256] policy.model.diffusion_step_embed_dim=64", output);

        (code, output, err) = CliRunner.Run("import-torch", "--state-dict", file, "--output", imported, "--threads", "1");
        Assert.True(code == 0, $"import-torch failed ({code}): {err}");
        Assert.Contains("dp, U-Net down dims [64, 128, 256], step embedding 64, kernel 5, Do 20, To 2, Da 2, T 16, Ta 8", output);
        // The same policy (the shipped file is in the older format, which reads as the same spec).
        Assert.Equal(DpAg.Policies.PolicySpec.Load(Path.Combine(shipped, "policy.json")).ToJson(),
            DpAg.Policies.PolicySpec.Load(Path.Combine(imported, "policy.json")).ToJson());

        string[] protocol = ["--checkpoint", "best", "--episodes", "1", "--max-steps", "40", "--sampler", "ddim", "--inference-steps", "4", "--gifs", "0", "--threads", "1"];
        var evals = new List<JsonElement>();
        foreach (var (run, outDir) in new[] { (shipped, dir.Sub("eval-shipped")), (imported, dir.Sub("eval-imported")) })
        {
            (code, _, err) = CliRunner.Run([.. new[] { "eval", "--run-dir", run, "--output", outDir }, .. protocol]);
            Assert.True(code == 0, $"eval of {run} failed ({code}): {err}");
            evals.Add(JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "eval.json"))).RootElement);
        }
        Assert.True(evals[0].GetProperty("mean_max_coverage").GetDouble() > 0, "the shipped policy covered nothing: the comparison would be empty");
        foreach (var key in new[] { "mean_score", "mean_max_coverage", "mean_action_jerk" })
            Assert.Equal(evals[0].GetProperty(key).GetDouble(), evals[1].GetProperty(key).GetDouble());
    }

    [Fact]
    public void ASpecThatDoesNotFitTheWeightsFailsNamingTheEntry()
    {
        using var dir = new TempDir();
        string shipped = Path.Combine(CliRunner.RepoRoot, "data", "policies", "dp"), file = dir.Sub("dp.pt");
        var (code, _, err) = CliRunner.Run("export-torch", "--run-dir", shipped, "--output", file, "--threads", "1");
        Assert.True(code == 0, $"export-torch failed ({code}): {err}");
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(shipped, "policy.json")))!;
        spec["Config"]!["Policy"]!["StepEmbedDim"] = 32;
        File.WriteAllText(dir.Sub("policy.json"), spec.ToJsonString());
        (code, _, err) = CliRunner.Run("import-torch", "--state-dict", file, "--output", dir.Sub("out"), "--spec", dir.Sub("policy.json"), "--threads", "1");
        Assert.Equal(2, code);
        Assert.Contains("dp.pt: 'model.diffusion_step_encoder.1.weight' has shape [256, 64]; a DP policy with", err);
        Assert.Contains("needs [128, 32]", err);
        Assert.False(Directory.Exists(dir.Sub("out")));
    }
}

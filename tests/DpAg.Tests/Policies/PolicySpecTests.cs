using System.Text.Json.Nodes;
using DpAg.Latent;
using DpAg.Losses;
using DpAg.Policies;
using DpAg.Tests.Cli;

namespace DpAg.Tests.Policies;

/// <summary>
/// One spec type per policy kind: the policy.json layout round-trips, the older layout (committed copies of the
/// shipped policies' files) reads as the same spec, and an edited spec is validated with errors that name the file
/// and the known keys.
/// </summary>
public sealed class PolicySpecTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpag-spec-").FullName;

    // Some tests build a policy: the runtime must be initialised (natives, one thread) before torch is first touched,
    // or this class races the first initialisation when it runs beside others.
    public PolicySpecTests() => Torch.Init();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string Format1Fixture(string kind) => Path.Combine(CliRunner.RepoRoot, "tests", "DpAg.Tests", "Policies", "Fixtures", $"policy-format1-{kind}.json");

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Theory]
    [InlineData("dp", null, "tiny")]
    [InlineData("dp", null, "pusht-image")]
    [InlineData("dp-ag", "released", "small")]
    [InlineData("dp-ag", "paper", "pusht-lowdim")]
    public void ASpecRoundTripsThroughItsFileAndKeepsOnlyItsKindsSettings(string kind, string? preset, string size)
    {
        var spec = PolicySpec.FromNames(kind, preset, size);
        string path = Write("policy.json", spec.ToJson());
        var back = PolicySpec.Load(path);
        Assert.Equal(spec.ToJson(), back.ToJson());
        Assert.Equal(spec.GetType(), back.GetType());
        Assert.Equal(kind, back.Name);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal(["Format", "Kind", "Config"], root.Select(p => p.Key).ToArray());
        Assert.Equal(kind, (string?)root["Kind"]);
        var config = root["Config"]!.AsObject();
        // DP carries no DP-AG settings; the U-Net's shape is one nested object, not flattened copies.
        Assert.Equal(kind == "dp-ag", config.ContainsKey("Guidance"));
        var policy = kind == "dp" ? config : config["Policy"]!.AsObject();
        Assert.True(policy["Unet"] is JsonObject);
        Assert.False(policy.ContainsKey("DownDims") || policy.ContainsKey("FeatureDimPerStep") || policy["Unet"]!.AsObject().ContainsKey("HorizonMultiple"));
    }

    [Fact]
    public void TheOlderLayoutOfTheShippedPoliciesReadsAsTheSameSpec()
    {
        // Committed copies of data/policies/{dp,dp-ag}/policy.json as the kit wrote them before the per-kind layout.
        var dp = PolicySpec.Load(Format1Fixture("dp"));
        var dpag = PolicySpec.Load(Format1Fixture("dp-ag"));
        Assert.IsType<DpSpec>(dp);
        Assert.IsType<DpAgSpec>(dpag);
        Assert.Equal(PolicySpec.FromNames("dp", null, "small").ToJson(), dp.ToJson());
        Assert.Equal(PolicySpec.FromNames("dp-ag", "released", "small").ToJson(), dpag.ToJson());
        Assert.Equal(64, dp.Policy.Unet.DiffusionStepEmbedDim);
        Assert.Equal([64, 128, 256], dp.Policy.Unet.DownDims);
        Assert.Equal(40, dp.Policy.GlobalCondDim);
    }

    [Fact]
    public void AnOlderPaperSpecKeepsItsSettingsAndDropsTheNoiseItsSingleStepNeverRead()
    {
        // The older paper preset: form PaperReparameterisation with Noise = true, which the single step ignored.
        var old = JsonNode.Parse(File.ReadAllText(Format1Fixture("dp-ag")))!.AsObject();
        var config = old["Config"]!.AsObject();
        config["Guidance"] = new JsonObject
        {
            ["Form"] = "PaperReparameterisation", ["Gamma"] = 1, ["Sign"] = 1, ["Normalise"] = false, ["NormEpsilon"] = 1e-8,
            ["NormalisePerObsStep"] = true, ["Detach"] = false, ["Noise"] = true, ["Dt"] = 1,
        };
        config["Loss"] = System.Text.Json.JsonSerializer.SerializeToNode(DpAgLossConfig.Paper, PolicySpec.JsonOptions);
        config["LearnedMean"] = true;
        config["EvolveLatentAtInference"] = true;
        var spec = PolicySpec.Load(Write("old-paper.json", old.ToJsonString()));
        Assert.Equal(PolicySpec.FromNames("dp-ag", "paper", "small").ToJson(), spec.ToJson());

        config["Guidance"]!["Form"] = "PaperSde";
        var sde = (DpAgSpec)PolicySpec.Load(Write("old-sde.json", old.ToJsonString()));
        Assert.Equal(GuidanceForm.Sde, sde.Config.Guidance.Form);
        Assert.True(sde.Config.Guidance.Noise);
    }

    [Fact]
    public void AnEditedSpecChangesTheSettingItNamesAndNothingElse()
    {
        var released = PolicySpec.FromNames("dp-ag", "released", "tiny");
        var node = released.ToJsonNode();
        node["Config"]!["Guidance"]!["Sign"] = -1;
        node["Config"]!["Loss"]!["ContrastiveWeight"] = 0;
        var edited = (DpAgSpec)PolicySpec.Load(Write("edited.json", node.ToJsonString()));
        Assert.Equal(-1.0, edited.Config.Guidance.Sign);
        Assert.Equal(0.0, edited.Config.Loss.ContrastiveWeight);
        var expected = ((DpAgSpec)released).Config;
        expected = expected with { Guidance = expected.Guidance with { Sign = -1 }, Loss = expected.Loss with { ContrastiveWeight = 0 } };
        Assert.Equal(new DpAgSpec(expected).ToJson(), edited.ToJson());
    }

    [Fact]
    public void UnknownKeysAndInvalidValuesAreRefusedNamingTheFileAndTheFix()
    {
        var node = PolicySpec.FromNames("dp-ag", "released", "tiny").ToJsonNode();
        node["Config"]!["Guidance"]!["Gama"] = 2;
        string path = Write("typo.json", node.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("\"Config.Guidance.Gama\"", e.Message);
        Assert.Contains("Gamma, Sign, Normalise", e.Message);

        var top = PolicySpec.FromNames("dp", null, "tiny").ToJsonNode();
        top["Preset"] = "paper";
        e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(Write("top.json", top.ToJsonString())));
        Assert.Contains("Known keys: Format, Kind, Config", e.Message);

        var dp = PolicySpec.FromNames("dp", null, "tiny").ToJsonNode();
        dp["Config"]!["Guidance"] = new JsonObject { ["Gamma"] = 1 };   // DP has no guidance
        e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(Write("dp-guidance.json", dp.ToJsonString())));
        Assert.Contains("\"Config.Guidance\"", e.Message);

        var noisy = PolicySpec.FromNames("dp-ag", "paper", "tiny").ToJsonNode();
        noisy["Config"]!["Guidance"]!["Noise"] = true;                  // the single step has no noise term
        e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(Write("noise.json", noisy.ToJsonString())));
        Assert.Contains("Noise", e.Message);
        Assert.Contains("Sde", e.Message);

        var badHorizon = PolicySpec.FromNames("dp", null, "tiny").ToJsonNode();
        badHorizon["Config"]!["Horizon"] = 10;
        e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(Write("horizon.json", badHorizon.ToJsonString())));
        Assert.Contains("divisible by 2^(levels - 1) = 4", e.Message);

        var kind = PolicySpec.FromNames("dp", null, "tiny").ToJsonNode();
        kind["Kind"] = "dp_ag";
        e = Assert.Throws<InvalidDataException>(() => PolicySpec.Load(Write("kind.json", kind.ToJsonString())));
        Assert.Contains("known: dp, dp-ag", e.Message);
    }

    [Fact]
    public void APresetIsRefusedForDpAndThePolicyHasOneSpelling()
    {
        var e = Assert.Throws<ArgumentException>(() => PolicySpec.FromNames("dp", "paper", "tiny"));
        Assert.Contains("does not apply to policy dp", e.Message);
        Assert.Throws<ArgumentException>(() => PolicySpec.FromNames("dpag", null, "tiny"));
        Assert.Throws<ArgumentException>(() => PolicySpec.FromNames("dp_ag", null, "tiny"));
        Assert.Equal("dp-ag", PolicySpec.FromNames("DP-AG", null, "tiny").Name);
        using var policy = new DpAgSpec(ActionGuidedConfig.ReleasedCode with { Policy = PolicyFixtures.TinyConfig }).Create(PolicyFixtures.Normalizer());
        Assert.Equal("dp-ag", policy.Name);
    }
}

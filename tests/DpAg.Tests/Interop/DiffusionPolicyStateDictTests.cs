using DpAg.Data;
using DpAg.Interop;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Tests.Data;
using DpAg.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Interop;

/// <summary>
/// The name mapping and its checks without PyTorch: Diffusion Policy's names (as in real-stanford/diffusion_policy's
/// DiffusionUnetLowdimPolicy), and an import that refuses a renamed entry, a misshaped one, or a spec that does not
/// fit the weights, naming the entry.
/// </summary>
public class DiffusionPolicyStateDictTests
{
    private static readonly DiffusionPolicyConfig Config = DiffusionPolicyConfig.Tiny with { LowDimObsDim = 5 };

    private static LinearNormalizer Normalizer() => new()
    {
        ["obs"] = NormalizerField.FitLimits([0f, 1f, 2f, 3f, 4f, 10f, 20f, 30f, 40f, 50f], 5),
        ["action"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2),
    };

    private static DiffusionPolicyBase Policy(PolicyKind kind)
    {
        torch.manual_seed(1);
        PolicySpec spec = kind == PolicyKind.Dp ? new DpSpec(Config) : new DpAgSpec(ActionGuidedConfig.ReleasedCode with { Policy = Config });
        return spec.Create(Normalizer());
    }

    [Fact]
    public void ExportedNamesAreDiffusionPolicysLowdimPolicyNames()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dp = Policy(PolicyKind.Dp);
        var names = DiffusionPolicyStateDict.FromPolicy(dp, Normalizer()).Select(kv => kv.Key).ToList();
        // Names read off diffusion_policy's ConditionalUnet1D, LinearNormalizer and ModuleAttrMixin.
        foreach (var name in new[]
                 {
                     "_dummy_variable", "mask_generator._dummy_variable",
                     "model.diffusion_step_encoder.1.weight", "model.diffusion_step_encoder.3.bias",
                     "model.down_modules.0.0.blocks.0.block.0.weight", "model.down_modules.0.0.blocks.0.block.1.weight",
                     "model.down_modules.0.0.cond_encoder.1.weight", "model.down_modules.0.0.residual_conv.weight",
                     "model.down_modules.0.2.conv.weight", "model.mid_modules.1.blocks.1.block.1.bias", "model.up_modules.1.2.conv.weight",
                     "model.final_conv.0.block.0.weight", "model.final_conv.1.bias",
                     "normalizer.params_dict.obs.scale", "normalizer.params_dict.action.offset", "normalizer.params_dict.obs.input_stats.std",
                 })
            Assert.Contains(name, names);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(2 + dp.state_dict().Keys.Count(k => k.StartsWith("model.", StringComparison.Ordinal)) + 2 * 6, names.Count);
        Assert.DoesNotContain(names, n => n.StartsWith("posterior.", StringComparison.Ordinal));

        using var ag = Policy(PolicyKind.DpAg);
        var agNames = DiffusionPolicyStateDict.FromPolicy(ag, Normalizer()).Select(kv => kv.Key).ToList();
        Assert.Equal(names.Concat(["posterior.logvar_head.weight", "posterior.logvar_head.bias"]).Order(), agNames.Order());
    }

    [Fact]
    public void ARenamedEntryIsNamedAndNothingIsWritten()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        using var dp = Policy(PolicyKind.Dp);
        var entries = DiffusionPolicyStateDict.FromPolicy(dp, Normalizer());
        Save(dir.Sub("renamed.pt"), entries, rename: ("model.up_modules.0.1.cond_encoder.1.bias", "model.up_modules.0.1.cond_encoder.2.bias"));
        var e = Assert.Throws<InvalidDataException>(() => Import(dir.Sub("renamed.pt"), dir.Sub("out")));
        Assert.Contains("renamed.pt: the names do not match a DP policy", e.Message);
        Assert.Contains("missing ['model.up_modules.0.1.cond_encoder.1.bias']", e.Message);
        Assert.Contains("unexpected ['model.up_modules.0.1.cond_encoder.2.bias']", e.Message);
        Assert.False(Directory.Exists(dir.Sub("out")));

        // A name the shape is read from gives its own message.
        Save(dir.Sub("no-final.pt"), entries, rename: ("model.final_conv.1.weight", "model.final_conv.2.weight"));
        e = Assert.Throws<InvalidDataException>(() => Import(dir.Sub("no-final.pt"), dir.Sub("out")));
        Assert.Contains("no-final.pt: no 'model.final_conv.1.weight'", e.Message);
    }

    [Fact]
    public void AMisshapedEntryOrASpecThatDoesNotFitTheWeightsIsNamedWithBothShapes()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        using var dp = Policy(PolicyKind.Dp);
        var entries = DiffusionPolicyStateDict.FromPolicy(dp, Normalizer());
        var swapped = entries.Select(kv => kv.Key == "model.mid_modules.0.blocks.0.block.0.weight"
            ? new KeyValuePair<string, Tensor>(kv.Key, torch.zeros(64, 64, 3)) : kv).ToList();
        TorchSaveFile.Save(dir.Sub("shape.pt"), swapped);
        var e = Assert.Throws<InvalidDataException>(() => Import(dir.Sub("shape.pt"), dir.Sub("out")));
        Assert.Contains("shape.pt: 'model.mid_modules.0.blocks.0.block.0.weight' has shape [64, 64, 3];", e.Message);
        Assert.Contains("needs [64, 64, 5]", e.Message);

        TorchSaveFile.Save(dir.Sub("good.pt"), entries);
        var small = new DpSpec(Config with { Unet = Config.Unet with { DownDims = [32, 64, 128] } });   // widths every CPU computes correctly (ConvolutionGuard)
        small.Save(dir.Sub("small.json"));
        e = Assert.Throws<InvalidDataException>(() => TorchInterop.Import(dir.Sub("good.pt"), dir.Sub("out"), new TorchImportOptions(SpecFile: dir.Sub("small.json"))));
        Assert.Matches(@"good\.pt: 'model\.[a-z_.0-9]+' has shape \[\d+(, \d+)*\]; .* needs \[", e.Message);
        Assert.Contains("U-Net down dims [32, 64, 128]", e.Message);
    }

    [Fact]
    public void ABareUnetStateDictImportsWithTheNormaliserGivenAndOnlyThen()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        using var dp = Policy(PolicyKind.Dp);
        var unet = dp.state_dict().Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal))
            .Select(kv => new KeyValuePair<string, Tensor>(kv.Key["model.".Length..], kv.Value)).ToList();
        TorchSaveFile.Save(dir.Sub("unet.pt"), unet);
        var e = Assert.Throws<InvalidDataException>(() => Import(dir.Sub("unet.pt"), dir.Sub("out")));
        Assert.Contains("unet.pt holds no normaliser", e.Message);
        Assert.Contains("--normalizer", e.Message);

        Normalizer().Save(dir.Sub("normalizer.json"));
        var result = TorchInterop.Import(dir.Sub("unet.pt"), dir.Sub("out"),
            new TorchImportOptions(new DiffusionPolicyStateDict.ShapeHints(NGroups: Config.Unet.NGroups), NormalizerFile: dir.Sub("normalizer.json")));
        Assert.Equal(Config.Unet.DownDims, result.Spec.Policy.Unet.DownDims);
        var (imported, _, _) = PolicyRuns.LoadTrained(dir.Sub("out"), null, "best");
        using var _ = imported;
        var mine = dp.state_dict();
        foreach (var (key, value) in imported.state_dict())
            Assert.True(value.equal(mine[key]).all().item<bool>(), $"{key} differs after the import");
    }

    [Fact]
    public void ImagePoliciesAndLocalConditioningAreRefusedWithTheReason()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        var imageSpec = new DpSpec(Config with { Observation = ObservationKind.Image });
        var imageNormalizer = Normalizer();
        imageNormalizer["agent_pos"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2);
        imageNormalizer["image"] = NormalizerField.ImageRange();
        using var image = imageSpec.Create(imageNormalizer);
        var e = Assert.Throws<ArgumentException>(() => DiffusionPolicyStateDict.FromPolicy(image, imageNormalizer));
        Assert.Contains("low-dim policies", e.Message);

        using var dp = Policy(PolicyKind.Dp);
        var entries = DiffusionPolicyStateDict.FromPolicy(dp, Normalizer());
        entries.Add(new("model.local_cond_encoder.0.residual_conv.weight", torch.zeros(16, 5, 1)));
        TorchSaveFile.Save(dir.Sub("local.pt"), entries);
        var d = Assert.Throws<InvalidDataException>(() => Import(dir.Sub("local.pt"), dir.Sub("out")));
        Assert.Contains("local_cond_encoder", d.Message);
    }

    private static TorchImportResult Import(string file, string output) =>
        TorchInterop.Import(file, output, new TorchImportOptions(new DiffusionPolicyStateDict.ShapeHints(NGroups: Config.Unet.NGroups)));

    private static void Save(string path, List<KeyValuePair<string, Tensor>> entries, (string From, string To) rename) =>
        TorchSaveFile.Save(path, entries.Select(kv => kv.Key == rename.From ? new KeyValuePair<string, Tensor>(rename.To, kv.Value) : kv));
}

using System.Globalization;
using System.Text.Json.Nodes;
using DpAg.Benchmarks;
using DpAg.Data;
using DpAg.Interop;
using DpAg.IO;
using DpAg.Nets;
using DpAg.Policies;
using DpAg.Tests.Cli;
using DpAg.Tests.Data;
using DpAg.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DpAg.Tests.Interop;

/// <summary>
/// The kit's policies in PyTorch and back, checked by Debian's python3-torch running bench/reference/interop.py:
/// a shipped policy exported by the kit loads with plain <c>torch.load</c> and a strict <c>load_state_dict</c> into
/// Diffusion Policy's parameter layout and predicts the same noise (and DP-AG's posterior the same log-variance); a
/// state dict saved by PyTorch imports into a kit policy that predicts what PyTorch predicts; and the weights cross
/// both ways bit for bit. A missing interpreter or torch FAILS with the install command, as the cross-check does.
/// </summary>
public class TorchInteropTests(ITestOutputHelper output)
{
    // Float32 networks evaluated by two libraries: an absolute floor for outputs near zero plus a relative term.
    private const double Absolute = 1e-5, Relative = 1e-5;

    [Theory]
    [InlineData("dp")]
    [InlineData("dp-ag")]
    public void AShippedPolicyGivesThePyTorchOutputsAndComesBackBitForBit(string kind)
    {
        Torch.Init(0);
        string scripts = RequireTorch();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        string shipped = Path.Combine(CliRunner.RepoRoot, "data", "policies", kind);
        var exported = TorchInterop.Export(shipped, "best", dir.Sub("policy.pt"));
        var (policy, spec, _) = PolicyRuns.LoadTrained(shipped, null, "best");
        using var _ = policy;
        var normalizer = LinearNormalizer.Load(Path.Combine(shipped, "normalizer.json"));
        var inputs = Inputs(spec.Policy, normalizer);
        File.WriteAllText(dir.Sub("config.json"), PyTorchReference.ConfigJson(spec.Policy));
        TensorExchange.Save(dir.Sub("inputs.safetensors"), inputs);
        var run = Python(scripts, "from-kit", dir.Path);
        Assert.Equal(exported.Entries, JsonNode.Parse(run)!["entries"]!.GetValue<int>());
        var py = TensorExchange.Load(dir.Sub("outputs.safetensors"));

        CompareOutputs(policy, normalizer, inputs, py);

        // PyTorch's own file of the weights it loaded (torch.save of its state_dict) comes back into the kit unchanged:
        // exporting the imported policy gives the kit's first file again, byte for byte.
        TorchInterop.Import(dir.Sub("resaved.pt"), dir.Sub("imported"), new TorchImportOptions(SpecFile: Path.Combine(shipped, PolicySpec.FileName)));
        TorchInterop.Export(dir.Sub("imported"), "best", dir.Sub("again.pt"));
        Assert.Equal(File.ReadAllBytes(dir.Sub("policy.pt")), File.ReadAllBytes(dir.Sub("again.pt")));
        Assert.Equal(File.ReadAllText(Path.Combine(shipped, "normalizer.json")), File.ReadAllText(Path.Combine(dir.Sub("imported"), "normalizer.json")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AStateDictSavedByPyTorchImportsIntoAPolicyWithThePyTorchOutputs(bool dpag)
    {
        Torch.Init(0);
        string scripts = RequireTorch();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        // Shapes away from the defaults, so that each one has to be read from the weights: To 3, kernel 3, no FiLM scale.
        var config = DiffusionPolicyConfig.Tiny with { LowDimObsDim = 5, ObsSteps = 3, Unet = DiffusionPolicyConfig.Tiny.Unet with { KernelSize = 3, CondPredictScale = dpag } };
        var json = JsonNode.Parse(PyTorchReference.ConfigJson(config))!.AsObject();
        json["dpag"] = dpag;
        File.WriteAllText(dir.Sub("config.json"), json.ToJsonString());
        var wide = new LinearNormalizer
        {
            ["obs"] = NormalizerField.FitLimits(Enumerable.Repeat(0f, 5).Concat(Enumerable.Repeat(500f, 5)).ToArray(), 5),
            ["action"] = NormalizerField.FitLimits([0f, 0f, 500f, 500f], 2),
        };
        var inputs = Inputs(config, wide);
        TensorExchange.Save(dir.Sub("inputs.safetensors"), inputs);
        Python(scripts, "to-kit", dir.Path);
        var py = TensorExchange.Load(dir.Sub("outputs.safetensors"));

        var result = TorchInterop.Import(dir.Sub("ema.pt"), dir.Sub("imported"), new TorchImportOptions(new DiffusionPolicyStateDict.ShapeHints(NGroups: config.Unet.NGroups)));
        Assert.Equal(dpag ? PolicyKind.DpAg : PolicyKind.Dp, result.Spec.Kind);
        var read = result.Spec.Policy;
        Assert.Equal((config.ObsSteps, config.Unet.KernelSize, config.Unet.CondPredictScale, config.Unet.DiffusionStepEmbedDim, config.ActionDim), (read.ObsSteps, read.Unet.KernelSize, read.Unet.CondPredictScale, read.Unet.DiffusionStepEmbedDim, read.ActionDim));
        Assert.Equal(config.Unet.DownDims, read.Unet.DownDims);
        Assert.Equal(DiffusionPolicyStateDict.DummyKeys.Order(), result.Ignored.Order());

        var (policy, _, _) = PolicyRuns.LoadTrained(dir.Sub("imported"), null, "best");
        using var __ = policy;
        var normalizer = LinearNormalizer.Load(Path.Combine(dir.Sub("imported"), "normalizer.json"));
        Assert.NotEqual(wide[ObsKeys.Obs].Scale, normalizer[ObsKeys.Obs].Scale);  // PyTorch's normaliser, not the one the inputs were drawn with
        CompareOutputs(policy, normalizer, inputs, py);

        // The weights cross bit for bit: PyTorch compares its file with the kit's export of the imported policy.
        var exported = TorchInterop.Export(dir.Sub("imported"), "best", dir.Sub("b.pt"));
        File.Copy(dir.Sub("ema.pt"), dir.Sub("a.pt"));
        var same = JsonNode.Parse(Python(scripts, "compare", dir.Path))!;
        foreach (var list in new[] { "only_a", "only_b", "different" })
            Assert.True(same[list]!.AsArray().Count == 0, $"PyTorch's file and the kit's export differ: {list} = {same[list]!.ToJsonString()}");
        Assert.Equal(exported.Entries, same["entries"]!.GetValue<int>());

        // A checkpoint-shaped dict (state_dicts['ema_model']) gives the same policy.
        TorchInterop.Import(dir.Sub("ckpt.pt"), dir.Sub("from-ckpt"), new TorchImportOptions(new DiffusionPolicyStateDict.ShapeHints(NGroups: config.Unet.NGroups)));
        TorchInterop.Export(dir.Sub("from-ckpt"), "best", dir.Sub("c.pt"));
        Assert.Equal(File.ReadAllBytes(dir.Sub("b.pt")), File.ReadAllBytes(dir.Sub("c.pt")));
    }

    /// <summary>Noisy actions (B, T, Da), steps (B) over the whole schedule, raw observations (B, To, Do) inside the normaliser's range.</summary>
    private static Dictionary<string, Tensor> Inputs(DiffusionPolicyConfig config, LinearNormalizer normalizer)
    {
        torch.manual_seed(3);
        var obs = torch.rand([4, config.ObsSteps, config.LowDimObsDim]) * 2 - 1;                // (B, To, Do) in [-1, 1]
        return new Dictionary<string, Tensor>
        {
            ["sample"] = torch.randn([4, config.Horizon, config.ActionDim]),
            ["k"] = torch.tensor(new long[] { 0, 17, 50, config.NumTrainTimesteps - 1 }),
            ["obs"] = normalizer.Unnormalize(ObsKeys.Obs, obs),
        };
    }

    private void CompareOutputs(DiffusionPolicyBase policy, LinearNormalizer normalizer, Dictionary<string, Tensor> inputs, Dictionary<string, Tensor> py)
    {
        using var noGrad = torch.no_grad();
        var nobs = normalizer.Normalize(ObsKeys.Obs, inputs["obs"]);                             // (B, To, Do)
        Close("eps", policy.PredictNoise(inputs["sample"], inputs["k"], nobs), py);
        if (policy is ActionGuidedDiffusionPolicy ag) Close("logvar", ag.Posterior.forward(nobs).LogVar, py);
        else Assert.False(py.ContainsKey("logvar"), "PyTorch found a posterior in a DP file.");
    }

    private void Close(string name, Tensor kit, Dictionary<string, Tensor> py)
    {
        Assert.True(py.TryGetValue(name, out var reference), $"PyTorch produced no '{name}'.");
        Assert.Equal(reference!.shape, kit.shape);
        var k = kit.detach().to(float64);
        var r = reference.to(float64);
        var excess = ((k - r).abs() - (r.abs() * Relative + Absolute)).max().item<double>();
        double diff = (k - r).abs().max().item<double>(), scale = r.abs().max().item<double>();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |kit - PyTorch| = {diff:E2}, max |PyTorch| = {scale:G4}"));
        Assert.True(scale > 1e-3, $"{name}: PyTorch's output is ~0 (max {scale:E2}); the comparison would be empty.");
        Assert.True(excess <= 0, string.Create(CultureInfo.InvariantCulture,
            $"{name}: max |kit - PyTorch| = {diff:E2} exceeds {Absolute:E0} + {Relative:E0} |PyTorch| (max |PyTorch| = {scale:G4})."));
    }

    private static string RequireTorch()
    {
        var (version, detail) = PyTorchReference.Probe();
        Assert.True(version is not null, $"The interop tests need {PyTorchReference.DefaultPython} with torch: {detail}.");
        var scripts = PyTorchReference.FindScripts();
        Assert.True(scripts is not null && File.Exists(Path.Combine(scripts, "interop.py")), "bench/reference/interop.py not found above the working or test folder.");
        return scripts!;
    }

    private string Python(string scripts, string mode, string dir)
    {
        var run = PyTorchReference.Run(PyTorchReference.DefaultPython, [Path.Combine(scripts, "interop.py"), mode, dir], TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, $"interop.py {mode} failed (exit {run.ExitCode}):\n{run.Stderr}");
        output.WriteLine($"interop.py {mode}: {run.Stdout.Trim()}");
        return run.Stdout.Trim().Split('\n').Last();
    }
}

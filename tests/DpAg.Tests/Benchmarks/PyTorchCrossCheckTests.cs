using System.Globalization;
using DpAg.Benchmarks;
using DpAg.Data;
using DpAg.Diffusion;
using DpAg.IO;
using DpAg.Nets;
using DpAg.Policies;
using DpAg.Tests.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DpAg.Tests.Benchmarks;

/// <summary>
/// The kit against the PyTorch reference (bench/reference/): identical weights and inputs give identical outputs,
/// losses and gradients within float32 rounding (1e-5 of each tensor's largest magnitude, plus 1e-7), for DP and for DP-AG with the released-code preset. The kit exports
/// its state dicts and the inputs (the training noise and steps are drawn here from the same generator the policy
/// will use, so nothing depends on the two libraries' random streams), /usr/bin/python3 computes, the kit compares.
/// The guided latent and prediction are compared too (<see cref="ActionGuidedDiffusionPolicy.ContrastivePair"/>).
/// A missing interpreter or torch FAILS with the install command.
/// </summary>
public class PyTorchCrossCheckTests(ITestOutputHelper output)
{
    // Float32 rounding grows with a tensor's magnitude, so the bound is relative to its scale; an absolute-only 1e-5 would
    // pass any gradient whose entries are all below 1e-5, and fail a large loss rounded correctly. Measured: at most 3.5e-6
    // of the scale on these tensors.
    private const double RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-7;
    private const int B = 8;
    private const ulong NoiseSeed = 7;

    private static DiffusionPolicyConfig Config => DiffusionPolicyConfig.Tiny with { LowDimObsDim = 5 };

    [Fact]
    public void SameWeightsAndInputsGiveThePyTorchOutputsLossesAndGradients()
    {
        Torch.Init(0);
        var (version, detail) = PyTorchReference.Probe();
        Assert.True(version is not null, $"The PyTorch reference needs {PyTorchReference.DefaultPython} with torch: {detail}.");
        var scripts = PyTorchReference.FindScripts();
        Assert.True(scripts is not null, "bench/reference/crosscheck.py not found above the working or test folder.");
        using var scope = torch.NewDisposeScope();
        var config = Config;
        var normalizer = new LinearNormalizer
        {
            ["obs"] = NormalizerField.FitLimits([0f, 0f, 0f, 0f, 0f, 1f, 1f, 1f, 1f, 1f], 5),
            ["action"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2),
        };
        torch.manual_seed(0);
        using var dp = new DiffusionPolicy(config, normalizer);
        torch.manual_seed(1);
        using var dpag = new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = config }, normalizer);
        torch.manual_seed(2);
        var obs = torch.rand([B, config.ObsSteps, config.LowDimObsDim]) * 2 - 1;             // (B, To, Do)
        var action = torch.rand([B, config.Horizon, config.ActionDim]) * 2 - 1;              // (B, T, Da)
        // The same draws, in the same order, as DiffusionPolicyBase.AddTrainingNoise makes from batch.Generator.
        var g = new torch.Generator(NoiseSeed);
        var noise = torch.randn(action.shape, dtype: action.dtype, generator: g);           // (B, T, Da)
        var k = torch.randint(0, config.NumTrainTimesteps, [B], dtype: int64, generator: g); // (B)

        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), PyTorchReference.ConfigJson(config));
        TensorExchange.Save(Path.Combine(dir.Path, "dp.safetensors"), dp.state_dict());
        TensorExchange.Save(Path.Combine(dir.Path, "dpag.safetensors"), dpag.state_dict());
        TensorExchange.Save(Path.Combine(dir.Path, "inputs.safetensors"),
            new Dictionary<string, Tensor> { ["obs"] = obs, ["action"] = action, ["noise"] = noise, ["k"] = k });
        var run = PyTorchReference.Run(PyTorchReference.DefaultPython, [Path.Combine(scripts!, "crosscheck.py"), dir.Path], TimeSpan.FromSeconds(120));
        Assert.True(run.ExitCode == 0, $"crosscheck.py failed (exit {run.ExitCode}):\n{run.Stderr}");
        var py = TensorExchange.Load(Path.Combine(dir.Path, "outputs.safetensors"));

        var batch = new PolicyBatch(new Dictionary<string, Tensor> { ["obs"] = obs }, action);
        var noisy = new DdpmScheduler(new DdpmSchedulerConfig(config.NumTrainTimesteps, config.BetaSchedule)).AddNoise(action, noise, k);

        // DP: the noise prediction, the loss, every weight gradient.
        Close("dp.eps", Unet(dp).forward(noisy, k, obs.flatten(1)), py);
        var dpLoss = dp.ComputeLoss(batch with { Generator = new torch.Generator(NoiseSeed) });
        Close("dp.loss", dpLoss.Loss.reshape(1), py);
        dpLoss.Loss.backward();
        CloseGradients("dp", dp, py);

        // DP-AG (released code): the prediction, every loss term, every weight gradient (the log-variance head included).
        Close("dpag.eps", Unet(dpag).forward(noisy, k, obs.flatten(1)), py);
        var agLoss = dpag.ComputeLoss(batch with { Generator = new torch.Generator(NoiseSeed) });
        Close("dpag.loss", agLoss.Loss.reshape(1), py);
        foreach (var term in new[] { "denoise", "contrastive", "kl" }) Close($"dpag.{term}", agLoss.Terms[term].reshape(1), py);
        agLoss.Loss.backward();
        CloseGradients("dpag", dpag, py);
        // The guided latent z~ = mu + sigma * unit VJP and the guided prediction eps_theta(a^k, z~) themselves.
        var pair = dpag.ContrastivePair(batch with { Generator = new torch.Generator(NoiseSeed) });
        Close("dpag.z_guided", pair.GuidedLatent, py);
        Close("dpag.eps_guided", pair.Guided, py);
        Close("dpag.eps", pair.Static, py);
        // The released code's way (create_graph, then detach) is the same loss on both sides.
        Close("dpag_released.loss", agLoss.Loss.reshape(1), py);
        using var emulated = new ActionGuidedDiffusionPolicy(ActionGuidedConfig.ReleasedCode with { Policy = config, EmulateReleasedVjpCost = true }, normalizer);
        emulated.load_state_dict(dpag.state_dict());
        Close("dpag_released.loss", emulated.ComputeLoss(batch with { Generator = new torch.Generator(NoiseSeed) }).Loss.reshape(1), py);
    }

    private static ConditionalUnet1D Unet(DiffusionPolicyBase policy) => policy.NoisePredictor;

    private void CloseGradients(string prefix, DiffusionPolicyBase policy, Dictionary<string, Tensor> py)
    {
        int n = 0;
        foreach (var (name, p) in policy.named_parameters())
        {
            Assert.True(p.grad is not null, $"{prefix}: {name} has no gradient in the kit.");
            Close($"{prefix}.grad.{name}", p.grad!, py);
            n++;
        }
        Assert.Equal(py.Keys.Count(key => key.StartsWith($"{prefix}.grad.", StringComparison.Ordinal)), n);
    }

    private void Close(string name, Tensor kit, Dictionary<string, Tensor> py)
    {
        Assert.True(py.TryGetValue(name, out var reference), $"PyTorch produced no '{name}'.");
        Assert.Equal(reference!.shape, kit.shape);
        double diff = (kit.detach().to(float64) - reference.to(float64)).abs().max().item<double>();
        double scale = reference.to(float64).abs().max().item<double>();
        double tolerance = AbsoluteTolerance + RelativeTolerance * scale;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |kit - PyTorch| = {diff:E2}, max |PyTorch| = {scale:G4}"));
        Assert.True(diff <= tolerance,
            string.Create(CultureInfo.InvariantCulture, $"{name}: max |kit - PyTorch| = {diff:E2} > {tolerance:E2} = {AbsoluteTolerance:E0} + {RelativeTolerance:E0} x max |PyTorch| ({scale:G4})."));
    }
}

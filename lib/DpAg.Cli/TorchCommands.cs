using System.CommandLine;
using DpAg.Interop;
using DpAg.Policies;

namespace DpAg.Cli;

/// <summary>
/// <c>dpag export-torch</c> and <c>dpag import-torch</c>: trained low-dim policies to and from PyTorch state dicts with
/// Diffusion Policy's parameter names (<see cref="DiffusionPolicyStateDict"/> has the mapping).
/// </summary>
internal static class TorchCommands
{
    public static Command Export()
    {
        var runDir = new Option<string>("--run-dir") { Description = "A run folder made by `dpag train`, or a shipped policy (data/policies/dp, data/policies/dp-ag).", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "Which EMA weights: best (by validation score; what shipped policies hold), latest, or a kept step.", DefaultValueFactory = _ => "best" };
        var output = new Option<string>("--output") { Description = "The state-dict file to write, e.g. dp.pt (torch.load reads it).", Required = true };
        var verb = new Command("export-torch", "Write a trained low-dim policy's EMA weights and normaliser as a PyTorch state dict with Diffusion Policy's names (DiffusionUnetLowdimPolicy.load_state_dict takes it).")
        {
            runDir, checkpoint, output,
        }.WithRuntimeOptions();
        verb.SetAction(parse => Commands.Guarded(() =>
        {
            Commands.InitRuntime(parse);
            string file = parse.GetValue(output)!;
            var result = TorchInterop.Export(parse.GetValue(runDir)!, parse.GetValue(checkpoint)!, file);
            Console.WriteLine($"wrote {file}: {result.Spec.Name} @ step {result.Step}, {result.Entries} entries, {result.Parameters:N0} parameters");
            Console.WriteLine($"PyTorch: policy.load_state_dict(torch.load('{Path.GetFileName(file)}')) on Diffusion Policy's DiffusionUnetLowdimPolicy built with");
            Console.WriteLine($"  {TorchInterop.DiffusionPolicyOverrides(result.Spec)}");
            if (result.Spec.Kind == PolicyKind.DpAg)
                Console.WriteLine("  (DP-AG: the posterior.* entries have no place in Diffusion Policy; pass strict=False there)");
            return 0;
        }));
        return verb;
    }

    public static Command Import()
    {
        var stateDict = new Option<string>("--state-dict") { Description = "A file saved with torch.save(state_dict, path): Diffusion Policy's low-dim policy (e.g. a checkpoint's state_dicts['ema_model']) or its ConditionalUnet1D.", Required = true };
        var output = new Option<string>("--output") { Description = "The policy folder to write (replaced); score it with dpag eval --run-dir FOLDER --checkpoint best.", Required = true };
        var kind = new Option<string?>("--policy") { Description = "dp or dp-ag (default: dp-ag when the state dict has posterior.* entries, else dp)." };
        var spec = new Option<string?>("--spec") { Description = "A kit policy.json to build instead of reading the network from the weights (its shapes must match them)." };
        var normalizer = new Option<string?>("--normalizer") { Description = "A kit normalizer.json to use instead of the state dict's normalizer.params_dict (needed when it has none)." };
        var horizon = new Option<int>("--horizon") { Description = "T, the action chunk length (not in the weights).", DefaultValueFactory = _ => 16 };
        var actionSteps = new Option<int>("--action-steps") { Description = "Ta, actions executed per chunk (not in the weights).", DefaultValueFactory = _ => 8 };
        var groups = new Option<int>("--n-groups") { Description = "GroupNorm groups of the U-Net (not in the weights).", DefaultValueFactory = _ => 8 };
        var verb = new Command("import-torch", "Build a kit policy folder from a PyTorch state dict with Diffusion Policy's names (e.g. the EMA model of a Diffusion Policy Push-T low-dim checkpoint).")
        {
            stateDict, output, kind, spec, normalizer, horizon, actionSteps, groups,
        }.WithRuntimeOptions();
        verb.SetAction(parse => Commands.Guarded(() =>
        {
            PolicyKind? policyKind = parse.GetValue(kind) is { } name ? PolicySpec.FromNames(name).Kind : null;
            if (parse.GetValue(spec) is not null && policyKind is not null)
                throw new ArgumentException("--policy and --spec both say which policy to build; give one (the spec's Kind decides with --spec).");
            Commands.InitRuntime(parse);
            string dir = parse.GetValue(output)!;
            var result = TorchInterop.Import(parse.GetValue(stateDict)!, dir, new TorchImportOptions(
                new DiffusionPolicyStateDict.ShapeHints(parse.GetValue(horizon), parse.GetValue(actionSteps), parse.GetValue(groups), policyKind),
                parse.GetValue(spec), parse.GetValue(normalizer)));
            var c = result.Spec.Policy;
            Console.WriteLine($"wrote {dir}: {result.Spec.Name}, U-Net down dims [{string.Join(", ", c.Unet.DownDims)}], step embedding {c.Unet.DiffusionStepEmbedDim}, kernel {c.Unet.KernelSize}, " +
                              $"Do {c.LowDimObsDim}, To {c.ObsSteps}, Da {c.ActionDim}, T {c.Horizon}, Ta {c.ActionSteps}; normaliser from the {result.NormalizerSource}");
            if (result.Ignored.Count > 0) Console.WriteLine($"ignored: {string.Join(", ", result.Ignored)}");
            Console.WriteLine($"score it: dpag eval --run-dir {dir} --checkpoint best");
            return 0;
        }));
        return verb;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.IO;
using DpAg.Policies;
using DpAg.Training;
using TorchSharp;

namespace DpAg.Interop;

/// <summary>What <see cref="TorchInterop.Export"/> wrote.</summary>
/// <param name="Spec">The exported policy.</param>
/// <param name="Step">The checkpoint's step.</param>
/// <param name="Entries">State-dict entries written.</param>
/// <param name="Parameters">Numbers in the U-Net (and DP-AG's posterior).</param>
public sealed record TorchExportResult(PolicySpec Spec, long Step, int Entries, long Parameters);

/// <summary>What <see cref="TorchInterop.Import"/> made.</summary>
/// <param name="Spec">The policy built (read from the weights, or the given spec).</param>
/// <param name="Ignored">State-dict entries not used (Diffusion Policy's empty dummies; the file's normaliser when replaced).</param>
/// <param name="NormalizerSource">Where the normaliser came from: the state dict, or the file given.</param>
public sealed record TorchImportResult(PolicySpec Spec, IReadOnlyList<string> Ignored, string NormalizerSource);

/// <summary>Options of <see cref="TorchInterop.Import"/>.</summary>
/// <param name="Hints">What the weights do not tell (horizon, action steps, groups, kind); unused with <paramref name="SpecFile"/>.</param>
/// <param name="SpecFile">A kit <c>policy.json</c> to build instead of the policy read from the weights (its shapes must match them).</param>
/// <param name="NormalizerFile">A kit <c>normalizer.json</c> replacing the state dict's normaliser (needed when it has none).</param>
public sealed record TorchImportOptions(DiffusionPolicyStateDict.ShapeHints? Hints = null, string? SpecFile = null, string? NormalizerFile = null);

/// <summary>
/// PyTorch interop of trained low-dim policies (<c>dpag export-torch</c>, <c>dpag import-torch</c>): a run's EMA weights
/// to a <c>torch.save</c> state dict with Diffusion Policy's names (<see cref="DiffusionPolicyStateDict"/>), and such a
/// state dict (for example a Diffusion Policy Push-T checkpoint's EMA model) to a policy folder that
/// <c>dpag eval --checkpoint best</c> scores, laid out like the shipped policies.
/// </summary>
public static class TorchInterop
{
    /// <summary>The weight file an imported folder keeps in <c>best/</c> (step 0: the kit did not train it).</summary>
    public static string WeightsFile => $"ema-{CheckpointStore.FolderName(0)}.bin";

    /// <summary>The provenance file of an imported folder (the shipped policies' record file).</summary>
    public const string RecordFile = "record.json";

    /// <summary>
    /// Writes the EMA weights of <paramref name="checkpoint"/> (latest, best or a kept step) of
    /// <paramref name="runDir"/> (a run folder or a shipped policy) and its normaliser to <paramref name="output"/>.
    /// </summary>
    public static TorchExportResult Export(string runDir, string checkpoint, string output)
    {
        var (policy, spec, info) = PolicyRuns.LoadTrained(runDir, null, checkpoint);
        using var _ = policy;
        using var scope = torch.NewDisposeScope();
        var normalizer = LinearNormalizer.Load(Path.Combine(runDir, "normalizer.json"));
        var entries = DiffusionPolicyStateDict.FromPolicy(policy, normalizer);
        TorchSaveFile.Save(output, entries);
        return new TorchExportResult(spec, info.Step, entries.Count, policy.parameters().Sum(p => p.numel()));
    }

    /// <summary>
    /// Diffusion Policy's Hydra overrides (train_diffusion_unet_lowdim_workspace) that build the network
    /// <paramref name="spec"/> describes, so the exported file loads into <c>DiffusionUnetLowdimPolicy</c>.
    /// </summary>
    public static string DiffusionPolicyOverrides(PolicySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var c = spec.Policy;
        return string.Create(CultureInfo.InvariantCulture,
            $"horizon={c.Horizon} n_obs_steps={c.ObsSteps} n_action_steps={c.ActionSteps} task.obs_dim={c.LowDimObsDim} task.action_dim={c.ActionDim} " +
            $"policy.model.down_dims=[{string.Join(",", c.Unet.DownDims)}] policy.model.diffusion_step_embed_dim={c.Unet.DiffusionStepEmbedDim} " +
            $"policy.model.kernel_size={c.Unet.KernelSize} policy.model.n_groups={c.Unet.NGroups} policy.model.cond_predict_scale={(c.Unet.CondPredictScale ? "True" : "False")}");
    }

    /// <summary>
    /// Builds a kit policy from the state dict in <paramref name="stateDictFile"/> and writes it to
    /// <paramref name="output"/> (replaced atomically): <c>policy.json</c>, <c>normalizer.json</c>,
    /// <c>best/best.json</c> with the weights, and <c>record.json</c> (source file, its SHA-256, what was ignored).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not such a state dict, or a name or shape does not match; the message names it.</exception>
    public static TorchImportResult Import(string stateDictFile, string output, TorchImportOptions? options = null)
    {
        options ??= new TorchImportOptions();
        var loaded = TorchSaveFile.Load(stateDictFile);
        try
        {
            var state = DiffusionPolicyStateDict.WithModelPrefix(loaded);
            var normalizer = options.NormalizerFile is { } file ? LinearNormalizer.Load(file)
                : DiffusionPolicyStateDict.ReadNormalizer(state, stateDictFile)
                  ?? throw new InvalidDataException($"{stateDictFile} holds no normaliser (normalizer.params_dict.*): pass the one the policy was trained with " +
                                                    "as --normalizer (a kit normalizer.json; the kit's Push-T one is data/policies/dp/normalizer.json).");
            var spec = options.SpecFile is { } specFile ? PolicySpec.Load(specFile)
                : DiffusionPolicyStateDict.InferSpec(state, normalizer, options.Hints ?? new DiffusionPolicyStateDict.ShapeHints(), stateDictFile);
            using var policy = spec.Create(normalizer);
            var ignored = DiffusionPolicyStateDict.LoadInto(policy, state, stateDictFile, loadNormalizer: options.NormalizerFile is null);
            string normalizerSource = options.NormalizerFile is null ? "state dict (normalizer.params_dict)" : Path.GetFullPath(options.NormalizerFile);
            var record = new JsonObject
            {
                ["source"] = "PyTorch state dict in Diffusion Policy names (dpag import-torch)",
                ["file"] = Path.GetFileName(stateDictFile),
                ["sha256"] = Sha256(stateDictFile),
                ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                ["spec"] = options.SpecFile is null ? "read from the weight shapes" : Path.GetFullPath(options.SpecFile),
                ["normalizer"] = normalizerSource,
                ["ignored_entries"] = new JsonArray(ignored.Select(k => (JsonNode)JsonValue.Create(k)).ToArray()),
                ["parameters"] = policy.parameters().Sum(p => p.numel()),
            };
            AtomicFile.WriteDirectory(output, dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, ValidationLog.BestFolder));
                spec.Save(Path.Combine(dir, PolicySpec.FileName));
                normalizer.Save(Path.Combine(dir, "normalizer.json"));
                policy.save(Path.Combine(dir, ValidationLog.BestFolder, WeightsFile));
                var best = new BestRecord(0, 0, 0, 0, 0, WeightsFile, $"none: imported from {Path.GetFileName(stateDictFile)}, not validated in the kit");
                AtomicFile.WriteAllText(Path.Combine(dir, ValidationLog.BestFolder, ValidationLog.BestRecord), JsonSerializer.Serialize(best, TrainConfig.Json));
                AtomicFile.WriteAllText(Path.Combine(dir, RecordFile), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            });
            return new TorchImportResult(spec, ignored, normalizerSource);
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

using System.Globalization;
using DpAg.Data;
using DpAg.Nets;
using DpAg.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Interop;

/// <summary>
/// The kit's low-dim policies under Diffusion Policy's state-dict names: the names of
/// <c>DiffusionUnetLowdimPolicy.state_dict()</c> in real-stanford/diffusion_policy (what its checkpoints keep under
/// <c>state_dicts['ema_model']</c>), so that an exported kit policy loads there with <c>load_state_dict</c> and a
/// PyTorch-trained one loads here.
/// </summary>
/// <remarks>
/// <para>The mapping (kit name -> PyTorch name):</para>
/// <list type="bullet">
/// <item><c>model.*</c> (the ConditionalUnet1D) -> <c>model.*</c>, unchanged: the kit's modules carry Diffusion
/// Policy's names (<c>model.down_modules.0.0.blocks.0.block.0.weight</c>, ...).</item>
/// <item>buffers <c>normalizer_{field}_scale</c>, <c>normalizer_{field}_offset</c> and the fitted statistics of
/// <c>normalizer.json</c> -> <c>normalizer.params_dict.{field}.scale</c>, <c>.offset</c>,
/// <c>.input_stats.min|max|mean|std</c> (fields <c>obs</c> and <c>action</c>).</item>
/// <item>nothing -> <c>_dummy_variable</c> and <c>mask_generator._dummy_variable</c>: the empty parameters
/// Diffusion Policy's <c>ModuleAttrMixin</c> adds, written so that its strict <c>load_state_dict</c> accepts the file;
/// ignored on import.</item>
/// <item>DP-AG only: <c>posterior.logvar_head.weight|bias</c> (and <c>posterior.mu_head.*</c> with a learned mean)
/// -> the same names. Diffusion Policy has no such module: load a DP-AG file there with <c>strict=False</c>, or drop
/// the <c>posterior.</c> keys; bench/reference/dpag_reference.py's <c>Policy(cfg, dpag=True)</c> takes them.</item>
/// </list>
/// </remarks>
public static class DiffusionPolicyStateDict
{
    /// <summary>Prefix of the normaliser's entries.</summary>
    public const string NormalizerPrefix = "normalizer.params_dict.";

    /// <summary>The empty parameters of Diffusion Policy's <c>ModuleAttrMixin</c> (the policy's and its mask generator's).</summary>
    public static readonly IReadOnlyList<string> DummyKeys = ["_dummy_variable", "mask_generator._dummy_variable"];

    private static readonly string[] Stats = ["min", "max", "mean", "std"];

    /// <summary>
    /// <paramref name="policy"/>'s weights and <paramref name="normalizer"/>'s statistics under Diffusion Policy's
    /// names, in its order (dummies, U-Net, normaliser) with DP-AG's posterior last; tensors are the policy's own
    /// (not copies), statistics are new CPU tensors.
    /// </summary>
    /// <exception cref="ArgumentException">An image policy (Diffusion Policy's image encoder has other names), or a
    /// normaliser without the policy's fields.</exception>
    public static List<KeyValuePair<string, Tensor>> FromPolicy(DiffusionPolicyBase policy, LinearNormalizer normalizer)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(normalizer);
        if (policy.Config.Observation != ObservationKind.LowDim)
            throw new ArgumentException($"The policy has {policy.Config.Observation} observations; the PyTorch interop covers low-dim policies " +
                                        "(Diffusion Policy's image encoder has other parameter names).");
        var state = policy.state_dict();
        var result = new List<KeyValuePair<string, Tensor>>();
        foreach (var key in DummyKeys) result.Add(new(key, torch.empty(0, dtype: float32)));
        result.AddRange(state.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)));
        foreach (var field in new[] { ObsKeys.Obs, "action" })
        {
            if (!normalizer.ContainsKey(field))
                throw new ArgumentException($"The normaliser has no field '{field}' (it has [{string.Join(", ", normalizer.Keys)}]).");
            var f = normalizer[field];
            result.Add(new($"{NormalizerPrefix}{field}.scale", state[$"normalizer_{field}_scale"]));
            result.Add(new($"{NormalizerPrefix}{field}.offset", state[$"normalizer_{field}_offset"]));
            float[][] stats = [f.InputMin, f.InputMax, f.InputMean, f.InputStd];
            for (int i = 0; i < Stats.Length; i++) result.Add(new($"{NormalizerPrefix}{field}.input_stats.{Stats[i]}", torch.tensor(stats[i])));
        }
        result.AddRange(state.Where(kv => kv.Key.StartsWith("posterior.", StringComparison.Ordinal)));
        var written = result.Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var left = state.Keys.Where(k => !written.Contains(k) && !k.StartsWith("normalizer_", StringComparison.Ordinal)).ToList();
        if (left.Count > 0)
            throw new InvalidOperationException($"The policy has entries with no Diffusion Policy name: {string.Join(", ", left)}; extend DiffusionPolicyStateDict's mapping.");
        return result;
    }

    /// <summary>
    /// A state dict as the kit reads it: a bare U-Net's (keys <c>diffusion_step_encoder.*</c>, ...) gets the
    /// <c>model.</c> prefix, anything else is returned as it is.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> WithModelPrefix(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        bool bare = state.ContainsKey("diffusion_step_encoder.1.weight") && !state.Keys.Any(k => k.StartsWith("model.", StringComparison.Ordinal));
        return bare ? state.ToDictionary(kv => "model." + kv.Key, kv => kv.Value, StringComparer.Ordinal) : state;
    }

    /// <summary>The normaliser stored in <paramref name="state"/> (<c>normalizer.params_dict.*</c>), or null when it holds none.</summary>
    /// <exception cref="InvalidDataException">A field lacks an entry or has inconsistent lengths; the message names it.</exception>
    public static LinearNormalizer? ReadNormalizer(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        ArgumentNullException.ThrowIfNull(state);
        var fields = state.Keys.Where(k => k.StartsWith(NormalizerPrefix, StringComparison.Ordinal))
            .Select(k => k[NormalizerPrefix.Length..].Split('.')[0]).Distinct().Order(StringComparer.Ordinal).ToList();
        if (fields.Count == 0) return null;
        var normalizer = new LinearNormalizer();
        foreach (var field in fields)
        {
            float[] Get(string name)
            {
                string key = $"{NormalizerPrefix}{field}.{name}";
                return state.TryGetValue(key, out var t)
                    ? t.detach().cpu().to(float32).flatten().data<float>().ToArray()
                    : throw new InvalidDataException($"{source}: normaliser field '{field}' has no '{key}'; pass a complete normaliser with --normalizer (a kit normalizer.json).");
            }
            try
            {
                normalizer[field] = new NormalizerField(Get("scale"), Get("offset"), Get("input_stats.min"), Get("input_stats.max"),
                    Get("input_stats.mean"), Get("input_stats.std"));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{source}: {e.Message}", e);
            }
        }
        return normalizer;
    }

    /// <summary>What the weights do not tell about the policy; defaults are Diffusion Policy's Push-T low-dim recipe.</summary>
    /// <param name="Horizon">T (reference 16).</param>
    /// <param name="ActionSteps">Ta (reference 8).</param>
    /// <param name="NGroups">GroupNorm groups (reference 8; group norms have per-channel weights only).</param>
    /// <param name="Kind">DP or DP-AG; null: DP-AG when the state dict has <c>posterior.*</c> entries.</param>
    public sealed record ShapeHints(int Horizon = 16, int ActionSteps = 8, int NGroups = 8, PolicyKind? Kind = null);

    /// <summary>
    /// The policy a state dict describes: the U-Net's widths, step-embedding size, kernel, action dimension and FiLM
    /// mode read from its weight shapes; the observation dimension from <paramref name="normalizer"/>'s <c>obs</c>
    /// field, so To = global condition / Do; the rest from <paramref name="hints"/>; sampling as Diffusion Policy's
    /// Push-T config (DDPM, 100 steps, squaredcos_cap_v2, clipped); DP-AG with the released code's settings.
    /// </summary>
    /// <exception cref="InvalidDataException">The state dict is not a low-dim ConditionalUnet1D's; the message names the missing or odd entry.</exception>
    public static PolicySpec InferSpec(IReadOnlyDictionary<string, Tensor> state, LinearNormalizer normalizer, ShapeHints hints, string source)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(normalizer);
        ArgumentNullException.ThrowIfNull(hints);
        if (state.Keys.Any(k => k.StartsWith("model.local_cond_encoder.", StringComparison.Ordinal)))
            throw new InvalidDataException($"{source}: the U-Net has a local_cond_encoder (obs_as_local_cond = True); the kit conditions on the observations globally (obs_as_global_cond = True).");
        long[] Shape(string key, int rank) => state.TryGetValue(key, out var t) && t.shape.Length == rank ? t.shape
            : throw new InvalidDataException($"{source}: " + (state.ContainsKey(key)
                ? $"'{key}' has shape [{string.Join(", ", state[key].shape)}]; a ConditionalUnet1D's has {rank} dimensions."
                : $"no '{key}': not the state dict of Diffusion Policy's low-dim policy or its ConditionalUnet1D (its keys begin [{string.Join(", ", state.Keys.Order(StringComparer.Ordinal).Take(4))}, ...])."));
        int stepEmbed = (int)Shape("model.diffusion_step_encoder.1.weight", 2)[1];
        var downDims = new List<int>();
        for (int i = 0; state.ContainsKey($"model.down_modules.{i}.0.blocks.0.block.0.weight"); i++)
            downDims.Add((int)Shape($"model.down_modules.{i}.0.blocks.0.block.0.weight", 3)[0]);
        var firstConv = Shape("model.down_modules.0.0.blocks.0.block.0.weight", 3);
        var film = Shape("model.down_modules.0.0.cond_encoder.1.weight", 2);
        int actionDim = (int)Shape("model.final_conv.1.weight", 3)[0];
        long globalCond = film[1] - stepEmbed;
        if (!normalizer.ContainsKey(ObsKeys.Obs))
            throw new InvalidDataException($"{source}: the normaliser has no '{ObsKeys.Obs}' field (it has [{string.Join(", ", normalizer.Keys)}]), so the observation size is unknown.");
        int obsDim = normalizer[ObsKeys.Obs].Dimension;
        if (globalCond <= 0 || globalCond % obsDim != 0)
            throw new InvalidDataException($"{source}: the U-Net's global condition has {globalCond} features (cond_encoder input {film[1]} - step embedding {stepEmbed}), " +
                                           $"not a multiple of the {obsDim} observation features of the normaliser's '{ObsKeys.Obs}' field; check the normaliser.");
        bool learnedMean = state.ContainsKey("posterior.mu_head.weight");
        var kind = hints.Kind ?? (state.Keys.Any(k => k.StartsWith("posterior.", StringComparison.Ordinal)) ? PolicyKind.DpAg : PolicyKind.Dp);
        var policy = DiffusionPolicyConfig.PushTLowDim with
        {
            LowDimObsDim = obsDim, ActionDim = actionDim, ObsSteps = (int)(globalCond / obsDim), Horizon = hints.Horizon, ActionSteps = hints.ActionSteps,
            Unet = new UnetConfig
            {
                DownDims = downDims, DiffusionStepEmbedDim = stepEmbed, KernelSize = (int)firstConv[2], NGroups = hints.NGroups,
                CondPredictScale = film[0] == 2 * downDims[0],
            },
        };
        try
        {
            return kind == PolicyKind.Dp
                ? new DpSpec(policy).Validate()
                : new DpAgSpec(ActionGuidedConfig.ReleasedCode with { Policy = policy, LearnedMean = learnedMean }).Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source}: the policy read from the weights is not valid: {e.Message}", e);
        }
    }

    /// <summary>
    /// Copies <paramref name="state"/>'s weights into <paramref name="policy"/> by Diffusion Policy's names, every one
    /// checked first: a name the policy lacks, a weight the file lacks, or another shape fails naming the entry. With
    /// <paramref name="loadNormalizer"/> false the file's normaliser entries are skipped (the policy keeps the one it
    /// was built with). Floating-point weights of another precision are converted to the policy's.
    /// </summary>
    /// <returns>The names that were ignored (Diffusion Policy's empty dummies, and the normaliser's when skipped).</returns>
    /// <exception cref="InvalidDataException">The names or shapes do not match; nothing was copied.</exception>
    public static IReadOnlyList<string> LoadInto(DiffusionPolicyBase policy, IReadOnlyDictionary<string, Tensor> state, string source, bool loadNormalizer = true)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(state);
        using var scope = torch.NewDisposeScope();
        var own = policy.state_dict();
        // Every kit entry under its PyTorch name; the statistics are not weights, only the scale and offset are.
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in own)
        {
            if (!key.StartsWith("normalizer_", StringComparison.Ordinal)) { targets[key] = tensor; continue; }
            if (!loadNormalizer) continue;
            string rest = key["normalizer_".Length..];
            int cut = rest.LastIndexOf('_');
            targets[$"{NormalizerPrefix}{rest[..cut]}.{rest[(cut + 1)..]}"] = tensor;
        }
        var ignored = new List<string>();
        var unexpected = new List<string>();
        foreach (var key in state.Keys.Order(StringComparer.Ordinal))
        {
            if (targets.ContainsKey(key)) continue;
            bool normalizerEntry = key.StartsWith(NormalizerPrefix, StringComparison.Ordinal);
            if (DummyKeys.Contains(key) && state[key].numel() == 0) ignored.Add(key);
            else if (normalizerEntry && !loadNormalizer) ignored.Add(key);
            else if (!(normalizerEntry && key.Contains(".input_stats.", StringComparison.Ordinal))) unexpected.Add(key); // statistics feed normalizer.json, not a weight
        }
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        string what = $"a {(policy is ActionGuidedDiffusionPolicy ? "DP-AG" : "DP")} policy with U-Net down dims [{string.Join(", ", policy.Config.Unet.DownDims)}], " +
                      $"step embedding {policy.Config.Unet.DiffusionStepEmbedDim}, kernel {policy.Config.Unet.KernelSize}, Do {policy.Config.LowDimObsDim}, To {policy.Config.ObsSteps}, Da {policy.Config.ActionDim}";
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new InvalidDataException($"{source}: the names do not match {what}: " +
                                           (missing.Count > 0 ? $"missing {List(missing)}" : "") + (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                                           (unexpected.Count > 0 ? $"unexpected {List(unexpected)}" : "") + ".");
        foreach (var (key, target) in targets)
        {
            var given = state[key];
            if (!given.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: '{key}' has shape [{string.Join(", ", given.shape)}]; {what} needs [{string.Join(", ", target.shape)}].");
            if (!given.is_floating_point())
                throw new InvalidDataException($"{source}: '{key}' has dtype {given.dtype}; weights must be floating point.");
        }
        using (torch.no_grad())
            foreach (var (key, target) in targets)
                target.copy_(state[key]);
        return ignored;

        static string List(List<string> keys) => string.Create(CultureInfo.InvariantCulture,
            $"[{string.Join(", ", keys.Take(6).Select(k => $"'{k}'"))}{(keys.Count > 6 ? $", ... ({keys.Count} in all)" : "")}]");
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using DpAg.Data;
using DpAg.IO;

namespace DpAg.Policies;

/// <summary>Which policy family.</summary>
public enum PolicyKind
{
    /// <summary>Diffusion Policy, the baseline.</summary>
    Dp,
    /// <summary>DP-AG, the action-guided diffusion policy.</summary>
    DpAg,
}

/// <summary>
/// Everything needed to rebuild a policy: its kind and full configuration. Saved as <c>policy.json</c> in a run folder
/// (beside <c>normalizer.json</c> and the checkpoints) so that evaluation rebuilds exactly what was trained; a
/// notebook swaps DP for DP-AG by changing <see cref="Kind"/>.
/// </summary>
public sealed record PolicySpec
{
    /// <summary>The policy family.</summary>
    public PolicyKind Kind { get; init; } = PolicyKind.DpAg;
    /// <summary>The DP-AG configuration; its <see cref="ActionGuidedConfig.Policy"/> is also the DP configuration.</summary>
    public ActionGuidedConfig Config { get; init; } = ActionGuidedConfig.ReleasedCode;

    /// <summary>File name inside a run folder.</summary>
    public const string FileName = "policy.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    /// <summary>How specs (and other configs beside them) are written: indented, enums as names.</summary>
    public static JsonSerializerOptions JsonOptions => Json;

    /// <summary>Builds the spec from command-line style names: kind (dp, dp-ag), DP-AG preset (released, paper), size (tiny, small, pusht-lowdim, pusht-image).</summary>
    public static PolicySpec FromNames(string kind, string preset = "released", string size = "small")
    {
        var policyKind = kind.ToLowerInvariant().Replace("_", "-") switch
        {
            "dp" => PolicyKind.Dp,
            "dp-ag" or "dpag" => PolicyKind.DpAg,
            _ => throw new ArgumentException($"Unknown policy '{kind}'. Known: dp, dp-ag."),
        };
        var config = ActionGuidedConfig.FromPreset(preset) with { Policy = DiffusionPolicyConfig.FromPreset(size) };
        return new PolicySpec { Kind = policyKind, Config = config.Validate() };
    }

    /// <summary>A short name for reports: "dp" or "dp_ag".</summary>
    public string Name => Kind == PolicyKind.Dp ? "dp" : "dp_ag";

    /// <summary>Builds the policy with the dataset's normaliser.</summary>
    public DiffusionPolicyBase Create(LinearNormalizer normalizer) => Kind == PolicyKind.Dp
        ? new DiffusionPolicy(Config.Policy, normalizer)
        : new ActionGuidedDiffusionPolicy(Config, normalizer);

    /// <summary>Writes <c>policy.json</c> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a <c>policy.json</c>; errors name the file.</summary>
    public static PolicySpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No policy description at {path}; is this a run folder made by `dpag train`?", path);
        try
        {
            var spec = JsonSerializer.Deserialize<PolicySpec>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} holds null.");
            spec.Config.Validate();
            return spec;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid policy description: {e.Message}", e);
        }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using DpAg.Data;
using DpAg.IO;

namespace DpAg.Policies;

/// <summary>Which policy family.</summary>
public enum PolicyKind
{
    /// <summary>Diffusion Policy, the baseline (<see cref="DpSpec"/>).</summary>
    Dp,
    /// <summary>DP-AG, the action-guided diffusion policy (<see cref="DpAgSpec"/>).</summary>
    DpAg,
}

/// <summary>
/// Everything needed to rebuild a policy: one spec type per policy kind (<see cref="DpSpec"/>, <see cref="DpAgSpec"/>),
/// each holding only its own configuration. Saved as <c>policy.json</c> in a run folder (beside
/// <c>normalizer.json</c> and the checkpoints) so that evaluation rebuilds exactly what was trained:
/// <code>{ "Format": 2, "Kind": "dp" | "dp-ag", "Config": { ...the kind's configuration... } }</code>
/// <c>dpag spec</c> prints one to edit; <c>dpag train --spec FILE</c> trains what it says. Files written before format 2
/// (one <c>ActionGuidedConfig</c> for both kinds) are read too (<see cref="LegacyPolicySpec"/>).
/// </summary>
public abstract record PolicySpec
{
    private protected PolicySpec() { }

    /// <summary>The policy family.</summary>
    public abstract PolicyKind Kind { get; }

    /// <summary>The policy's name, the one spelling used on the command line, in run folders and in reports: "dp" or "dp-ag".</summary>
    public string Name => KindName(Kind);

    /// <summary>The Diffusion Policy part (observations, horizons, U-Net, scheduler) every kind has.</summary>
    public abstract DiffusionPolicyConfig Policy { get; }

    /// <summary>Builds the policy with the dataset's normaliser.</summary>
    public abstract DiffusionPolicyBase Create(LinearNormalizer normalizer);

    /// <summary>Checks every field; throws <see cref="ArgumentException"/> naming the field, the value and the fix.</summary>
    public abstract PolicySpec Validate();

    /// <summary>The configuration as written under "Config".</summary>
    private protected abstract JsonNode ConfigNode();

    /// <summary>File name inside a run folder.</summary>
    public const string FileName = "policy.json";

    /// <summary>The version of the <c>policy.json</c> layout this kit writes.</summary>
    public const int CurrentFormat = 2;

    /// <summary>The names of the kinds, in the one spelling.</summary>
    public static IReadOnlyList<string> KindNames { get; } = ["dp", "dp-ag"];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, Converters = { new JsonStringEnumConverter() }, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>How specs (and other configs beside them) are written: indented, enums as names; unknown keys are refused on reading.</summary>
    public static JsonSerializerOptions JsonOptions => Json;

    /// <summary>"dp" or "dp-ag".</summary>
    public static string KindName(PolicyKind kind) => kind switch
    {
        PolicyKind.Dp => "dp",
        PolicyKind.DpAg => "dp-ag",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Known: dp, dp-ag."),
    };

    /// <summary>Parses a policy name; only "dp" and "dp-ag" (any case) are accepted.</summary>
    public static PolicyKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "dp" => PolicyKind.Dp,
        "dp-ag" => PolicyKind.DpAg,
        _ => throw new ArgumentException($"Unknown policy '{name}'. Known: dp, dp-ag."),
    };

    /// <summary>
    /// Builds a spec from command-line style names: kind (dp, dp-ag), DP-AG preset (released, paper; null = released;
    /// refused for dp, which has no DP-AG settings), size (tiny, small, pusht-lowdim, pusht-image).
    /// </summary>
    public static PolicySpec FromNames(string kind, string? preset = null, string size = "small")
    {
        var policy = DiffusionPolicyConfig.FromPreset(size);
        return ParseKind(kind) switch
        {
            PolicyKind.Dp when preset is not null =>
                throw new ArgumentException($"The DP-AG preset '{preset}' does not apply to policy dp (Diffusion Policy has no DP-AG settings); drop the preset or use policy dp-ag."),
            PolicyKind.Dp => new DpSpec(policy).Validate(),
            _ => new DpAgSpec(ActionGuidedConfig.FromPreset(preset ?? "released") with { Policy = policy }).Validate(),
        };
    }

    /// <summary>The spec as <c>policy.json</c> holds it: format, kind, configuration.</summary>
    public JsonObject ToJsonNode() => new()
    {
        ["Format"] = CurrentFormat,
        ["Kind"] = Name,
        ["Config"] = ConfigNode(),
    };

    /// <summary>The spec as <c>policy.json</c> text (indented).</summary>
    public string ToJson() => ToJsonNode().ToJsonString(Json);

    /// <summary>Writes <c>policy.json</c> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a <c>policy.json</c> or an edited spec file (current or format-1 layout); errors name the file.</summary>
    public static PolicySpec Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No policy description at {path}; is this a run folder made by `dpag train`?", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Reads spec text; <paramref name="source"/> names it in errors. Unknown keys are refused with the known ones at
    /// that place; a missing key takes the default of its type (the released code's values). Format-1 text is converted.
    /// </summary>
    /// <exception cref="InvalidDataException">The text is not a valid spec; the message names the source, the key and the fix.</exception>
    public static PolicySpec Parse(string json, string source)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{source}: a policy spec is a JSON object; print one with `dpag spec`."); }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not valid JSON: {e.Message}", e); }
        if (LegacyPolicySpec.IsLegacy(root)) root = LegacyPolicySpec.ToCurrent(root, source);
        try
        {
            SpecKeys.Check(root, ["Format", "Kind", "Config"], source, "");
            int format = root["Format"] is JsonValue f && f.TryGetValue<int>(out int v) ? v
                : throw new InvalidDataException($"{source}: \"Format\" must be {CurrentFormat}.");
            if (format != CurrentFormat) throw new InvalidDataException($"{source}: \"Format\" is {format}; this kit reads format {CurrentFormat} (and the older layout without \"Format\").");
            string kindName = root["Kind"] is JsonValue k && k.TryGetValue<string>(out var s) ? s
                : throw new InvalidDataException($"{source}: \"Kind\" must be one of {string.Join(", ", KindNames)}.");
            var kind = KindNames.Contains(kindName) ? ParseKind(kindName)
                : throw new InvalidDataException($"{source}: \"Kind\" is '{kindName}'; known: {string.Join(", ", KindNames)}.");
            var config = root["Config"] as JsonObject ?? throw new InvalidDataException($"{source}: \"Config\" must be an object; print a full spec with `dpag spec`.");
            PolicySpec spec = kind switch
            {
                PolicyKind.Dp => new DpSpec(Read<DiffusionPolicyConfig>(config, source)),
                _ => new DpAgSpec(Read<ActionGuidedConfig>(config, source)),
            };
            return spec.Validate();
        }
        catch (JsonException e) { throw new InvalidDataException($"{source} is not a valid policy spec: {e.Message}", e); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
    }

    private static T Read<T>(JsonObject config, string source)
    {
        SpecKeys.Check(config, typeof(T), Json, source, "Config");
        return config.Deserialize<T>(Json) ?? throw new InvalidDataException($"{source}: \"Config\" is null.");
    }
}

/// <summary>Diffusion Policy, the baseline: its configuration and nothing of DP-AG.</summary>
/// <param name="Config">The policy (observations, horizons, U-Net, scheduler).</param>
public sealed record DpSpec(DiffusionPolicyConfig Config) : PolicySpec
{
    /// <summary>The released-size baseline (the defaults of <see cref="DiffusionPolicyConfig"/>).</summary>
    public DpSpec() : this(new DiffusionPolicyConfig()) { }

    /// <inheritdoc />
    public override PolicyKind Kind => PolicyKind.Dp;

    /// <inheritdoc />
    public override DiffusionPolicyConfig Policy => Config;

    /// <inheritdoc />
    public override DiffusionPolicy Create(LinearNormalizer normalizer) => new(Config, normalizer);

    /// <inheritdoc />
    public override DpSpec Validate()
    {
        Config.Validate();
        return this;
    }

    private protected override JsonNode ConfigNode() => JsonSerializer.SerializeToNode(Config, JsonOptions)!;
}

/// <summary>DP-AG: the Diffusion Policy it extends plus its guidance, loss and latent settings.</summary>
/// <param name="Config">The DP-AG configuration; <see cref="ActionGuidedConfig.Policy"/> is the underlying Diffusion Policy.</param>
public sealed record DpAgSpec(ActionGuidedConfig Config) : PolicySpec
{
    /// <summary>The released code's preset at the default size.</summary>
    public DpAgSpec() : this(ActionGuidedConfig.ReleasedCode) { }

    /// <inheritdoc />
    public override PolicyKind Kind => PolicyKind.DpAg;

    /// <inheritdoc />
    public override DiffusionPolicyConfig Policy => Config.Policy;

    /// <inheritdoc />
    public override ActionGuidedDiffusionPolicy Create(LinearNormalizer normalizer) => new(Config, normalizer);

    /// <inheritdoc />
    public override DpAgSpec Validate()
    {
        Config.Validate();
        return this;
    }

    private protected override JsonNode ConfigNode() => JsonSerializer.SerializeToNode(Config, JsonOptions)!;
}

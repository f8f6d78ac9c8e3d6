using System.Text.Json.Nodes;

namespace DpAg.Policies;

/// <summary>
/// Reads the <c>policy.json</c> layout written before format 2, so that every existing run folder still loads:
/// <code>{ "Kind": "Dp" | "DpAg", "Config": { "Policy": {...}, "Guidance": {...}, "Loss": {...}, ... }, "Name": "dp" | "dp_ag" }</code>
/// There one <c>ActionGuidedConfig</c> held both kinds (a DP run carried DP-AG settings it never used), the U-Net's
/// fields were flattened into the policy (<c>StepEmbedDim</c>, <c>DownDims</c>, ...) beside computed copies
/// (<c>FeatureDimPerStep</c>, <c>Unet</c>), and the guidance form had two names for the single step. The conversion
/// keeps every value that reaches the numbers, so a converted spec builds the same network and trains and samples
/// the same: DP drops the unused DP-AG part; the single-step forms become <see cref="Latent.GuidanceForm.SingleStep"/>
/// with <c>Noise</c> off (the single step never read it); <c>PaperSde</c> becomes <see cref="Latent.GuidanceForm.Sde"/>.
/// </summary>
internal static class LegacyPolicySpec
{
    /// <summary>Whether <paramref name="root"/> is a format-1 spec (no "Format", kind "Dp" or "DpAg").</summary>
    public static bool IsLegacy(JsonObject root) =>
        !root.ContainsKey("Format") && root["Kind"] is JsonValue k && k.TryGetValue<string>(out var s) && s is "Dp" or "DpAg";

    /// <summary>The format-2 spec of a format-1 one (a new object; <paramref name="old"/> is not changed).</summary>
    /// <exception cref="InvalidDataException">A part is missing; the message names <paramref name="source"/>.</exception>
    public static JsonObject ToCurrent(JsonObject old, string source)
    {
        string kind = old["Kind"]!.GetValue<string>();
        var config = old["Config"] as JsonObject ?? throw new InvalidDataException($"{source}: a format-1 policy spec without \"Config\".");
        var policy = Policy(config["Policy"] as JsonObject ?? throw new InvalidDataException($"{source}: a format-1 policy spec without \"Config.Policy\"."));
        JsonObject current;
        if (kind == "Dp") current = policy;
        else
        {
            current = new JsonObject();
            foreach (var (key, value) in config)
                current[key] = key switch
                {
                    "Policy" => policy,
                    "Guidance" when value is JsonObject g => Guidance(g),
                    _ => value?.DeepClone(),
                };
        }
        return new JsonObject
        {
            ["Format"] = PolicySpec.CurrentFormat,
            ["Kind"] = kind == "Dp" ? "dp" : "dp-ag",
            ["Config"] = current,
        };
    }

    private static readonly Dictionary<string, string> UnetFields = new(StringComparer.Ordinal)
    {
        ["StepEmbedDim"] = "DiffusionStepEmbedDim", ["DownDims"] = "DownDims", ["KernelSize"] = "KernelSize",
        ["NGroups"] = "NGroups", ["CondPredictScale"] = "CondPredictScale",
    };

    private static JsonObject Policy(JsonObject old)
    {
        var policy = new JsonObject();
        var unet = new JsonObject();
        foreach (var (key, value) in old)
        {
            if (key is "FeatureDimPerStep" or "Unet") continue;   // computed from the fields beside them
            if (UnetFields.TryGetValue(key, out var unetKey)) unet[unetKey] = value?.DeepClone();
            else policy[key] = value?.DeepClone();
        }
        policy["Unet"] = unet;
        return policy;
    }

    private static JsonObject Guidance(JsonObject old)
    {
        var guidance = (JsonObject)old.DeepClone();
        string? form = old["Form"] is JsonValue f && f.TryGetValue<string>(out var s) ? s : null;
        bool sde = form == "PaperSde";
        if (form is not null) guidance["Form"] = sde ? "Sde" : "SingleStep";
        if (!sde && guidance.ContainsKey("Noise")) guidance["Noise"] = false;
        return guidance;
    }
}

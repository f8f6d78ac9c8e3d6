using System.Globalization;
using System.Text.Json;
using DpAg.Latent;
using DpAg.Losses;
using DpAg.Policies;

namespace DpAg.Studies;

/// <summary>
/// The option overrides a study variant may name (<c>"overrides": {"contrastive_weight": 0}</c>): each is one field of
/// <see cref="ActionGuidedConfig"/> or its parts, so a variant is a preset plus a few changed constants. Unknown keys are
/// refused with the list of known ones.
/// </summary>
public static class VariantOverrides
{
    private sealed record Entry(string Description, Func<ActionGuidedConfig, JsonElement, ActionGuidedConfig> Apply);

    private static readonly Dictionary<string, Entry> Known = new(StringComparer.Ordinal)
    {
        ["contrastive_weight"] = new("lambda_cont (Loss.ContrastiveWeight; 0 removes the InfoNCE term)",
            (c, v) => c with { Loss = c.Loss with { ContrastiveWeight = Number(v) } }),
        ["kl_weight"] = new("lambda_KL (Loss.KlWeight; 0 removes the KL term)",
            (c, v) => c with { Loss = c.Loss with { KlWeight = Number(v) } }),
        ["kl_prior"] = new("Loss.KlPrior: StandardNormal (released) or StaticLatent (paper)",
            (c, v) => c with { Loss = c.Loss with { KlPrior = Enum<KlPrior>(v) } }),
        ["denoising_target_scale"] = new("Loss.DenoisingTargetScale: 2.5 = noise / 0.4 (released), 1 = plain epsilon (paper)",
            (c, v) => c with { Loss = c.Loss with { DenoisingTargetScale = Number(v) } }),
        ["temperature"] = new("InfoNCE temperature (Loss.Contrastive.Temperature)",
            (c, v) => c with { Loss = c.Loss with { Contrastive = c.Loss.Contrastive with { Temperature = Number(v) } } }),
        ["positive_in_denominator"] = new("InfoNCE positive in the denominator (released true, paper false)",
            (c, v) => c with { Loss = c.Loss with { Contrastive = c.Loss.Contrastive with { PositiveInDenominator = Bool(v) } } }),
        ["infonce_direction"] = new("InfoNCE directions: OneWay (released) or Cycle (paper)",
            (c, v) => c with { Loss = c.Loss with { Contrastive = c.Loss.Contrastive with { Direction = Enum<InfoNceDirection>(v) } } }),
        ["detach_candidates"] = new("detach the perturbed-latent prediction in the InfoNCE (released true)",
            (c, v) => c with { Loss = c.Loss with { Contrastive = c.Loss.Contrastive with { DetachCandidates = Bool(v) } } }),
        ["guidance_form"] = new("Guidance.Form: SingleStep (released and the paper's Eq. 4) or Sde (Eq. 3); the older names ReleasedSingleStep, PaperReparameterisation and PaperSde are read too",
            (c, v) => c with { Guidance = c.Guidance with { Form = Form(v) } }),
        ["gamma"] = new("Guidance.Gamma, the VJP step size", (c, v) => c with { Guidance = c.Guidance with { Gamma = Number(v) } }),
        ["vjp_sign"] = new("Guidance.Sign: +1 ascends 1/2||eps||^2 (released and paper), -1 descends",
            (c, v) => c with { Guidance = c.Guidance with { Sign = Number(v) } }),
        ["normalise_vjp"] = new("Guidance.Normalise (released true)", (c, v) => c with { Guidance = c.Guidance with { Normalise = Bool(v) } }),
        ["detach_vjp"] = new("Guidance.Detach (released true)", (c, v) => c with { Guidance = c.Guidance with { Detach = Bool(v) } }),
        ["learned_mean"] = new("a learned mean head mu(z_t) (paper) instead of the identity (released)", (c, v) => c with { LearnedMean = Bool(v) }),
        ["log_var_min"] = new("lower clamp of log sigma^2 (released -10)", (c, v) => c with { LogVarMin = Number(v) }),
        ["log_var_max"] = new("upper clamp of log sigma^2 (released 2); log_var_min -0.001 with log_var_max 0 pins sigma to 1",
            (c, v) => c with { LogVarMax = Number(v) }),
        ["evolve_latent_at_inference"] = new("evolve the latent by the VJP during sampling (paper) instead of the static mu (released)",
            (c, v) => c with { EvolveLatentAtInference = Bool(v) }),
    };

    /// <summary>The known keys with what each sets, sorted.</summary>
    public static IReadOnlyList<(string Key, string Description)> Keys { get; } = Known.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => (k.Key, k.Value.Description)).ToList();

    /// <summary>Applies <paramref name="overrides"/> (key to JSON value) in key order and validates the result.</summary>
    /// <exception cref="ArgumentException">An unknown key (the message lists the known ones), a value of the wrong type, or an invalid config.</exception>
    public static ActionGuidedConfig Apply(ActionGuidedConfig config, IReadOnlyDictionary<string, JsonElement> overrides, string where)
    {
        foreach (var (key, value) in overrides.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            if (!Known.TryGetValue(key, out var entry))
                throw new ArgumentException($"{where}: unknown override '{key}'. Known: {string.Join(", ", Keys.Select(k => k.Key))}.");
            try { config = entry.Apply(config, value); }
            catch (FormatException e) { throw new ArgumentException($"{where}: override '{key}' {e.Message}"); }
        }
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new ArgumentException($"{where}: {e.Message}"); }
    }

    private static double Number(JsonElement v) => v.ValueKind == JsonValueKind.Number ? v.GetDouble()
        : throw new FormatException($"needs a number, got {v.GetRawText()}.");

    private static bool Bool(JsonElement v) => v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : throw new FormatException($"needs true or false, got {v.GetRawText()}.");

    private static GuidanceForm Form(JsonElement v) => v.ValueKind == JsonValueKind.String && v.GetString() is { } s
        && s.ToLowerInvariant() switch { "releasedsinglestep" or "paperreparameterisation" => "SingleStep", "papersde" => "Sde", _ => null } is { } renamed
        ? System.Enum.Parse<GuidanceForm>(renamed) : Enum<GuidanceForm>(v);

    private static T Enum<T>(JsonElement v) where T : struct, Enum =>
        v.ValueKind == JsonValueKind.String && System.Enum.TryParse<T>(v.GetString(), ignoreCase: true, out var x) && System.Enum.IsDefined(x) ? x
        : throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"needs one of {string.Join(", ", System.Enum.GetNames<T>())}, got {v.GetRawText()}."));
}

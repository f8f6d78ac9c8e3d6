using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DpAg.Evaluation;
using DpAg.Policies;

namespace DpAg.Studies;

/// <summary>Reads a study file field by field so that every error names the file, the field and the fix.</summary>
internal static partial class StudyJson
{
    private static readonly string[] TopKeys = ["name", "description", "budget", "dataset", "seeds", "baseline", "variants", "evaluation", "claims", "plan"];
    private static readonly string[] VariantKeys = ["name", "description", "policy", "preset", "overrides", "noise_scale", "sampler", "inference_steps", "seeds", "steps", "ablation_of"];
    private static readonly string[] EvalKeys = ["episodes", "first_seed", "max_steps", "sampler", "inference_steps", "last_checkpoints", "environments",
        "convergence_threshold", "bootstrap_resamples", "bootstrap_seed", "min_seeds"];
    private static readonly string[] ClaimKeys = ["name", "variant", "metric", "summary", "scale", "paper_effect", "margin", "paper"];
    private static readonly string[] PlanKeys = ["dp_train_minutes", "dp_ag_train_minutes", "eval_minutes_per_checkpoint", "note"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    public static StudyDefinition Read(JsonElement root, string source)
    {
        Object(root, source);
        Keys(root, TopKeys, source);
        string budgetName = String(root, "budget", source) ?? throw Missing(source, "budget", $"one of {string.Join(", ", TrainBudget.All.Select(b => b.Name))}");
        var budget = TrainBudget.All.FirstOrDefault(b => string.Equals(b.Name, budgetName, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"{source}: unknown budget '{budgetName}'. Known: {string.Join(", ", TrainBudget.All.Select(b => b.Name))}.");
        var seeds = Seeds(root, "seeds", source) ?? throw Missing(source, "seeds", "a list of training seeds such as [0, 1, 2]");
        if (!root.TryGetProperty("variants", out var variantsJson) || variantsJson.ValueKind != JsonValueKind.Array || variantsJson.GetArrayLength() == 0)
            throw Missing(source, "variants", "a non-empty list of variants");
        var variants = variantsJson.EnumerateArray().Select((v, i) => Variant(v, $"{source}: variants[{i}]", seeds)).ToList();
        foreach (var dup in variants.GroupBy(v => v.Name).Where(g => g.Count() > 1))
            throw new ArgumentException($"{source}: variant name '{dup.Key}' is used {dup.Count()} times; names must be unique.");
        string baseline = String(root, "baseline", source) ?? throw Missing(source, "baseline", "the name of the variant the others are compared with (DP)");
        if (variants.All(v => v.Name != baseline))
            throw new ArgumentException($"{source}: baseline '{baseline}' is not a variant. Variants: {string.Join(", ", variants.Select(v => v.Name))}.");
        var study = new StudyDefinition
        {
            Name = String(root, "name", source) ?? throw Missing(source, "name", "a short name"),
            Description = String(root, "description", source) ?? "",
            Budget = budget, Dataset = String(root, "dataset", source), Baseline = baseline, Variants = variants,
            Evaluation = root.TryGetProperty("evaluation", out var e) ? Evaluation(e, $"{source}: evaluation") : new StudyEvaluation(),
            Claims = root.TryGetProperty("claims", out var c) ? Array(c, $"{source}: claims").Select((x, i) => Claim(x, $"{source}: claims[{i}]")).ToList() : [],
            Plan = root.TryGetProperty("plan", out var p) ? Plan(p, $"{source}: plan") : new StudyPlan(),
        };
        foreach (var v in variants)
        {
            var spec = v.Spec(budget);   // overrides are checked here, with the variant's name
            if (v.AblationOf is { } of)
            {
                var reference = variants.FirstOrDefault(x => x.Name == of)
                    ?? throw new ArgumentException($"{source}: variant '{v.Name}': ablation_of '{of}' is not a variant. Variants: {string.Join(", ", variants.Select(x => x.Name))}.");
                if (study.StepsOf(v) != study.StepsOf(reference))
                    throw new ArgumentException($"{source}: variant '{v.Name}' trains {study.StepsOf(v)} steps but its reference '{of}' {study.StepsOf(reference)}; an ablation needs its reference's budget.");
            }
            if (v.Policy == PolicyKind.Dp && v.Overrides.Count > 0)
                throw new ArgumentException($"{source}: variant '{v.Name}' is DP, whose network the DP-AG overrides do not change; remove its overrides.");
            _ = spec;
        }
        foreach (var claim in study.Claims)
        {
            if (variants.All(v => v.Name != claim.Variant))
                throw new ArgumentException($"{source}: claim '{claim.Name}': variant '{claim.Variant}' is not a variant. Variants: {string.Join(", ", variants.Select(x => x.Name))}.");
            if (claim.Variant == baseline) throw new ArgumentException($"{source}: claim '{claim.Name}' compares the baseline '{baseline}' with itself.");
            if (study.StepsOf(study.Variant(claim.Variant)) != study.StepsOf(study.Variant(baseline)))
                throw new ArgumentException($"{source}: claim '{claim.Name}': variant '{claim.Variant}' trains {study.StepsOf(study.Variant(claim.Variant))} steps and the baseline '{baseline}' {study.StepsOf(study.Variant(baseline))}; a claim compares the same budget. Remove the variant's \"steps\" or claim on a full-budget variant.");
            var metric = StudyMetrics.Get(claim.Metric, $"{source}: claim '{claim.Name}'");
            if (metric.Environment is { } env && !study.Evaluation.Environments.Contains(env))
                throw new ArgumentException($"{source}: claim '{claim.Name}' needs environment '{env}', which evaluation.environments leaves out.");
        }
        return study;
    }

    private static StudyVariant Variant(JsonElement v, string where, IReadOnlyList<long> defaultSeeds)
    {
        Object(v, where);
        Keys(v, VariantKeys, where);
        string name = String(v, "name", where) ?? throw Missing(where, "name", "a name such as dpag-released");
        if (!NamePattern().IsMatch(name)) throw new ArgumentException($"{where}: name '{name}' may hold only letters, digits, '.', '-' and '_' (it names files).");
        where = $"{where} ('{name}')";
        string policyName = String(v, "policy", where) ?? throw Missing(where, "policy", "dp or dp-ag");
        var policy = PolicySpec.KindNames.Contains(policyName.ToLowerInvariant()) ? PolicySpec.ParseKind(policyName)
            : throw new ArgumentException($"{where}: policy '{policyName}' is unknown. Known: {string.Join(", ", PolicySpec.KindNames)}.");
        string? presetName = String(v, "preset", where);
        if (policy == PolicyKind.Dp && presetName is not null)
            throw new ArgumentException($"{where}: preset '{presetName}' is a DP-AG preset and does not apply to policy dp; remove it.");
        string preset = presetName ?? "released";
        _ = ActionGuidedConfig.FromPreset(preset);
        var overrides = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (v.TryGetProperty("overrides", out var o))
        {
            Object(o, $"{where}: overrides");
            foreach (var p in o.EnumerateObject()) overrides[p.Name] = p.Value.Clone();
        }
        double? noise = null;
        if (v.TryGetProperty("noise_scale", out var n))
        {
            if (n.ValueKind == JsonValueKind.String && n.GetString() == "consistent") noise = null;
            else if (n.ValueKind == JsonValueKind.Number && n.GetDouble() is var x && x > 0 && double.IsFinite(x)) noise = x;
            else throw new ArgumentException($"{where}: noise_scale {n.GetRawText()} is invalid: use a positive number (1 samples as the released code does, 0.4 undoes its 1/0.4 target) or \"consistent\".");
        }
        var seeds = Seeds(v, "seeds", where) ?? defaultSeeds;
        long? steps = Long(v, "steps", where);
        if (steps is < 1) throw new ArgumentException($"{where}: steps {steps} must be at least 1.");
        int? inference = Int(v, "inference_steps", where);
        var sampler = String(v, "sampler", where) is { } s ? Sampler(s, $"{where}: sampler") : (SamplerKind?)null;
        if (inference is not null && sampler is null) throw new ArgumentException($"{where}: inference_steps needs a sampler (ddpm or ddim).");
        if (inference is < 1) throw new ArgumentException($"{where}: inference_steps {inference} must be at least 1.");
        return new StudyVariant
        {
            Name = name, Description = String(v, "description", where) ?? "", Policy = policy, Preset = preset, Overrides = overrides,
            NoiseScale = noise, Sampler = sampler, InferenceSteps = sampler is null ? null : inference ?? 100, Seeds = seeds, Steps = steps,
            AblationOf = String(v, "ablation_of", where),
        };
    }

    private static StudyEvaluation Evaluation(JsonElement e, string where)
    {
        Object(e, where);
        Keys(e, EvalKeys, where);
        var d = new StudyEvaluation();
        var r = new StudyEvaluation
        {
            Episodes = Int(e, "episodes", where) ?? d.Episodes,
            FirstSeed = Long(e, "first_seed", where) ?? d.FirstSeed,
            MaxSteps = Int(e, "max_steps", where) ?? d.MaxSteps,
            Sampler = String(e, "sampler", where) is { } s ? Sampler(s, $"{where}: sampler") : d.Sampler,
            InferenceSteps = Int(e, "inference_steps", where) ?? d.InferenceSteps,
            LastCheckpoints = Int(e, "last_checkpoints", where) ?? d.LastCheckpoints,
            Environments = e.TryGetProperty("environments", out var envs) ? Array(envs, $"{where}: environments").Select(x => x.GetString() ?? "").ToList() : d.Environments,
            ConvergenceThreshold = Double(e, "convergence_threshold", where) ?? d.ConvergenceThreshold,
            BootstrapResamples = Int(e, "bootstrap_resamples", where) ?? d.BootstrapResamples,
            BootstrapSeed = Int(e, "bootstrap_seed", where) ?? d.BootstrapSeed,
            MinSeeds = Int(e, "min_seeds", where) ?? d.MinSeeds,
        };
        if (r.Episodes < 1) throw new ArgumentException($"{where}: episodes {r.Episodes} must be at least 1 (protocol: 50).");
        if (r.MaxSteps < 1) throw new ArgumentException($"{where}: max_steps {r.MaxSteps} must be at least 1 (protocol: 300).");
        if (r.InferenceSteps < 1) throw new ArgumentException($"{where}: inference_steps {r.InferenceSteps} must be at least 1 (DDPM: 100).");
        if (r.LastCheckpoints < 1) throw new ArgumentException($"{where}: last_checkpoints {r.LastCheckpoints} must be at least 1.");
        if (r.Environments.Count == 0 || r.Environments.Any(x => !StudyMetrics.Environments.Contains(x)) || r.Environments.Distinct().Count() != r.Environments.Count)
            throw new ArgumentException($"{where}: environments [{string.Join(", ", r.Environments)}] must be distinct names from: {string.Join(", ", StudyMetrics.Environments)}.");
        if (!(r.ConvergenceThreshold is > 0 and <= 1)) throw new ArgumentException($"{where}: convergence_threshold {r.ConvergenceThreshold} must be in (0, 1].");
        if (r.BootstrapResamples < 100) throw new ArgumentException($"{where}: bootstrap_resamples {r.BootstrapResamples} must be at least 100 (default 10000).");
        if (r.MinSeeds < 1) throw new ArgumentException($"{where}: min_seeds {r.MinSeeds} must be at least 1 (default 3).");
        var test = new PushTEvalConfig { Episodes = r.Episodes, FirstSeed = r.FirstSeed, MaxSteps = r.MaxSteps };
        try { test.Validate(); } catch (ArgumentException x) { throw new ArgumentException($"{where}: {x.Message}"); }
        return r;
    }

    private static StudyClaim Claim(JsonElement c, string where)
    {
        Object(c, where);
        Keys(c, ClaimKeys, where);
        string name = String(c, "name", where) ?? throw Missing(where, "name", "what the paper claims");
        where = $"{where} ('{name}')";
        var claim = new StudyClaim
        {
            Name = name,
            Variant = String(c, "variant", where) ?? throw Missing(where, "variant", "the variant standing for DP-AG"),
            Metric = String(c, "metric", where) ?? throw Missing(where, "metric", $"one of {string.Join(", ", StudyMetrics.Keys)}"),
            Summary = String(c, "summary", where) ?? "last",
            Scale = (String(c, "scale", where) ?? "absolute") switch
            {
                "absolute" => EffectScale.Absolute,
                "relative" => EffectScale.Relative,
                var other => throw new ArgumentException($"{where}: scale '{other}' is unknown; use absolute or relative."),
            },
            PaperEffect = Double(c, "paper_effect", where) ?? throw Missing(where, "paper_effect", "the paper's effect size in the claimed direction, e.g. 0.04"),
            Margin = Double(c, "margin", where),
            Paper = String(c, "paper", where) ?? "",
        };
        if (!StudyMetrics.Summaries.Contains(claim.Summary)) throw new ArgumentException($"{where}: summary '{claim.Summary}' is unknown; use {string.Join(", ", StudyMetrics.Summaries)}.");
        if (!(claim.PaperEffect > 0)) throw new ArgumentException($"{where}: paper_effect {claim.PaperEffect} must be positive (its size in the claimed direction).");
        if (claim.Margin is { } m && !(m > 0)) throw new ArgumentException($"{where}: margin {m} must be positive.");
        return claim;
    }

    private static StudyPlan Plan(JsonElement p, string where)
    {
        Object(p, where);
        Keys(p, PlanKeys, where);
        return new StudyPlan
        {
            DpTrainMinutes = Double(p, "dp_train_minutes", where) ?? 0, DpAgTrainMinutes = Double(p, "dp_ag_train_minutes", where) ?? 0,
            EvalMinutesPerCheckpoint = Double(p, "eval_minutes_per_checkpoint", where) ?? 0, Note = String(p, "note", where) ?? "",
        };
    }

    private static SamplerKind Sampler(string s, string where) => s.ToLowerInvariant() switch
    {
        "ddpm" => SamplerKind.Ddpm,
        "ddim" => SamplerKind.Ddim,
        _ => throw new ArgumentException($"{where} '{s}' is unknown; use ddpm or ddim."),
    };

    private static void Object(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{where} must be a JSON object, got {e.ValueKind}.");
    }

    private static IEnumerable<JsonElement> Array(JsonElement e, string where) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToList()
        : throw new ArgumentException($"{where} must be a JSON array, got {e.ValueKind}.");

    private static void Keys(JsonElement e, string[] known, string where)
    {
        foreach (var p in e.EnumerateObject())
            if (!known.Contains(p.Name)) throw new ArgumentException($"{where}: unknown field '{p.Name}'. Known: {string.Join(", ", known)}.");
    }

    private static ArgumentException Missing(string where, string field, string what) => new($"{where}: '{field}' is missing; give {what}.");

    private static string? String(JsonElement e, string key, string where) => !e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw new ArgumentException($"{where}: '{key}' must be a string, got {v.GetRawText()}.");

    private static double? Double(JsonElement e, string key, string where) => !e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && double.IsFinite(v.GetDouble()) ? v.GetDouble() : throw new ArgumentException($"{where}: '{key}' must be a number, got {v.GetRawText()}.");

    private static long? Long(JsonElement e, string key, string where) => !e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) ? x : throw new ArgumentException($"{where}: '{key}' must be an integer, got {v.GetRawText()}.");

    private static int? Int(JsonElement e, string key, string where) => Long(e, key, where) is { } x
        ? (x is >= int.MinValue and <= int.MaxValue ? (int)x : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{where}: '{key}' = {x} is out of range.")))
        : null;

    private static IReadOnlyList<long>? Seeds(JsonElement e, string key, string where)
    {
        if (!e.TryGetProperty(key, out var v)) return null;
        var seeds = Array(v, $"{where}: {key}").Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long s) && s >= 0 ? s
            : throw new ArgumentException($"{where}: {key} must hold non-negative integers, got {x.GetRawText()}.")).ToList();
        if (seeds.Count == 0) throw new ArgumentException($"{where}: {key} is empty; give at least one training seed.");
        if (seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"{where}: {key} [{string.Join(", ", seeds)}] repeats a seed.");
        return seeds.Order().ToList();
    }
}

using System.Globalization;
using DpAg.Policies;
using DpAg.Training;

namespace DpAg.Evaluation;

/// <summary>
/// Push-T evaluation during training (<see cref="ValidationOptions"/>): the protocol's episodes on VALIDATION seeds,
/// which must not overlap the 50 test seeds (100000..100049), so that picking the best checkpoint never looks at the
/// test set. The sampling options are passed to each prediction; the policy itself is not changed.
/// </summary>
public static class PushTValidation
{
    /// <summary>The first validation seed by default (legacy reset, like the test seeds, but a disjoint range).</summary>
    public const long DefaultFirstSeed = 200000;

    /// <summary>Validation every <paramref name="every"/> steps on <paramref name="config"/>'s episodes, sampled as <paramref name="inference"/> says.</summary>
    /// <exception cref="ArgumentException">The seeds overlap the test seeds, or a setting is out of range.</exception>
    public static ValidationOptions Create(long every, PushTEvalConfig config, InferenceOptions inference, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(inference);
        var test = new PushTEvalConfig();
        long lo = config.FirstSeed, hi = config.FirstSeed + config.Episodes - 1;
        if (hi >= test.FirstSeed && lo <= test.FirstSeed + test.Episodes - 1)
            throw new ArgumentException($"Validation seeds {lo}..{hi} overlap the test seeds {test.FirstSeed}..{test.FirstSeed + test.Episodes - 1}; " +
                                        $"choose another first seed (default {DefaultFirstSeed}).", nameof(config));
        if (config.Episodes < 1) throw new ArgumentException($"Validation episodes must be at least 1, got {config.Episodes}.", nameof(config));
        if (inference.Steps < 1) throw new ArgumentException($"Validation inference steps must be at least 1, got {inference.Steps}.", nameof(inference));
        string scale = inference.NoiseScale != 1.0 ? string.Create(CultureInfo.InvariantCulture, $", noise scale {inference.NoiseScale}") : "";
        string description = string.Create(CultureInfo.InvariantCulture,
            $"every {every} steps: {config.Episodes} Push-T episodes from seed {config.FirstSeed} ({config.MaxSteps} steps), {inference.Sampler.ToString().ToUpperInvariant()} {inference.Steps}{scale}, sampling seed {seed}");
        return new ValidationOptions(every, policy => Evaluate((DiffusionPolicyBase)policy, config, inference, seed), description);
    }

    private static ValidationResult Evaluate(DiffusionPolicyBase policy, PushTEvalConfig config, InferenceOptions inference, long seed)
    {
        var device = policy.parameters().First().device;
        var result = PushTRunner.Evaluate(new PolicyActor(policy, device, seed, inference), config);
        return new ValidationResult(result.MeanScore, result.SuccessRate, result.Episodes.Count);
    }
}

using System.Globalization;
using static TorchSharp.torch;

namespace DpAg.Policies;

/// <summary>
/// How a diffusion policy samples one action chunk: the sampler and its number of reverse steps (always together, so
/// a DDIM sampler can never silently run the config's 100 DDPM steps), the factor on the network's output, whether
/// DP-AG evolves its latent along the reverse process, and an optional observer. Immutable; vary with
/// <c>with { ... }</c>. A policy's own defaults are <see cref="DiffusionPolicyBase.DefaultInference"/>.
/// </summary>
/// <param name="Sampler">DDPM or DDIM (the scheduler's other settings, clipping and DDIM's eta, come from the policy's config).</param>
/// <param name="Steps">Reverse steps, 1..<c>NumTrainTimesteps</c> (Diffusion Policy: DDPM 100; DDIM 4-16).</param>
/// <remarks>
/// The generator is not an option: it is state that advances with every draw, and an evaluation passes one generator
/// through all its calls so that the whole stream of noise repeats from its seed. It is an argument of
/// <see cref="DiffusionPolicyBase.PredictActionChunk(IReadOnlyDictionary{string, Tensor}, Generator?, InferenceOptions)"/>.
/// </remarks>
public sealed record InferenceOptions(SamplerKind Sampler, int Steps)
{
    /// <summary>DDPM with <paramref name="steps"/> reverse steps (Diffusion Policy's default: 100).</summary>
    public static InferenceOptions Ddpm(int steps = 100) => new(SamplerKind.Ddpm, steps);

    /// <summary>DDIM with <paramref name="steps"/> reverse steps (deterministic with eta = 0).</summary>
    public static InferenceOptions Ddim(int steps) => new(SamplerKind.Ddim, steps);

    /// <summary>
    /// Multiplies the network's output before each reverse step (default 1, as both released codes sample). The released
    /// DP-AG trains on noise / 0.4, so its output is 2.5 times the noise; 0.4 gives the sampler the noise it expects.
    /// DDPM with x0 clipping tolerates the mismatch; DDIM with few steps does not (<c>dpag bench --coverage-run</c>).
    /// </summary>
    public double NoiseScale { get; init; } = 1.0;

    /// <summary>
    /// Evolve DP-AG's latent by the VJP before every reverse step (the paper's inference) instead of conditioning on the
    /// static posterior mean; null (default) keeps the policy's own choice
    /// (<see cref="ActionGuidedConfig.EvolveLatentAtInference"/>; never for DP, which has no latent to evolve).
    /// </summary>
    public bool? EvolveLatent { get; init; }

    /// <summary>
    /// Observer of the reverse process: (step index 1.., k, a^{k-1} normalised (B, T, Da), latent (B, To, F)) after each
    /// step; the tensors are copies that the observer owns (and may keep). Notebooks use it to study latent continuity.
    /// </summary>
    public Action<int, int, Tensor, Tensor>? OnStep { get; init; }

    /// <summary>Checks the steps against <paramref name="numTrainTimesteps"/> and the scale; throws <see cref="ArgumentException"/> naming the value and the fix.</summary>
    public InferenceOptions Validate(int numTrainTimesteps)
    {
        if (Steps < 1 || Steps > numTrainTimesteps)
            throw new ArgumentException($"InferenceOptions.Steps = {Steps}; must be in 1..{numTrainTimesteps} (the policy's NumTrainTimesteps).", nameof(Steps));
        if (!double.IsFinite(NoiseScale) || NoiseScale <= 0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"InferenceOptions.NoiseScale = {NoiseScale}; use a positive finite factor (1 = as trained, 0.4 = undo the released 1/0.4 target)."), nameof(NoiseScale));
        return this;
    }
}

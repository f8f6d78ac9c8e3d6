using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>Pieces shared by the DDPM and DDIM schedulers: timestep spacing, argument checks and the forward process.</summary>
internal static class SchedulerMath
{
    /// <summary>
    /// diffusers' "leading" spacing: step ratio r = N / n (integer division), timesteps = (n-1) r, ..., r, 0, plus the offset.
    /// </summary>
    public static int[] LeadingTimesteps(int numTrainTimesteps, int numInferenceSteps, int stepsOffset, string scheduler)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > numTrainTimesteps)
            throw new ArgumentException(
                $"{scheduler}: numInferenceSteps must be in 1..{numTrainTimesteps} (NumTrainTimesteps), got {numInferenceSteps}.",
                nameof(numInferenceSteps));
        int ratio = numTrainTimesteps / numInferenceSteps;
        var timesteps = new int[numInferenceSteps];
        for (int i = 0; i < numInferenceSteps; i++) timesteps[i] = (numInferenceSteps - 1 - i) * ratio + stepsOffset;
        return timesteps;
    }

    /// <summary>Checks a step's arguments so that a mistake fails with the values received.</summary>
    public static void CheckStep(Tensor modelOutput, int t, Tensor sample, int numTrainTimesteps, string scheduler)
    {
        if (t < 0 || t >= numTrainTimesteps)
            throw new ArgumentException($"{scheduler}: timestep t must be in 0..{numTrainTimesteps - 1}, got {t}.", nameof(t));
        if (!modelOutput.shape.SequenceEqual(sample.shape))
            throw new ArgumentException(
                $"{scheduler}: modelOutput shape ({string.Join(", ", modelOutput.shape)}) must equal sample shape ({string.Join(", ", sample.shape)}).",
                nameof(modelOutput));
    }

    /// <summary>sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise with per-sample t (Ho et al. 2020, eq. 4).</summary>
    public static Tensor AddNoise(NoiseSchedule schedule, Tensor original, Tensor noise, Tensor timesteps)
    {
        if (!original.shape.SequenceEqual(noise.shape))
            throw new ArgumentException(
                $"AddNoise: noise shape ({string.Join(", ", noise.shape)}) must equal original shape ({string.Join(", ", original.shape)}).",
                nameof(noise));
        if (timesteps.dim() != 1 || original.dim() < 1 || timesteps.shape[0] != original.shape[0])
            throw new ArgumentException(
                $"AddNoise: timesteps must have shape (B,) = ({(original.dim() > 0 ? original.shape[0] : 0)},), got ({string.Join(", ", timesteps.shape)}).",
                nameof(timesteps));
        using var scope = torch.NewDisposeScope();
        long tMin = timesteps.min().item<long>(), tMax = timesteps.max().item<long>();
        if (tMin < 0 || tMax >= schedule.NumTrainTimesteps)
            throw new ArgumentException(
                $"AddNoise: timesteps must lie in 0..{schedule.NumTrainTimesteps - 1}, got values in {tMin}..{tMax}.", nameof(timesteps));
        var abar = schedule.AlphasCumprodTensor(original.device)[timesteps.to(ScalarType.Int64)];      // (B,)
        var shape = new long[original.dim()];
        Array.Fill(shape, 1L);
        shape[0] = original.shape[0];                                                                 // (B, 1, ..., 1)
        var sqrtAbar = abar.sqrt().to(original.dtype).reshape(shape);
        var sqrtOneMinusAbar = abar.SubtractedFrom(1).sqrt().to(original.dtype).reshape(shape);
        return (sqrtAbar * original).Plus(sqrtOneMinusAbar * noise).MoveToOuterDisposeScope();
    }

    /// <summary>Standard normal noise shaped like <paramref name="like"/>, from <paramref name="generator"/> when given.</summary>
    public static Tensor Noise(Tensor like, Generator? generator) =>
        torch.randn(like.shape, dtype: like.dtype, device: like.device, generator: generator);
}

using static TorchSharp.torch;

namespace DpAg.Nets;

/// <summary>
/// Turns a window of To observation steps into the U-Net's global conditioning vector: per step a feature of
/// <see cref="FeatureDimPerStep"/> numbers, concatenated over steps (diffusion_policy's <c>obs_as_global_cond</c>).
/// </summary>
public interface IObsEncoder
{
    /// <summary>Features per observation step (low-dim Push-T: 20; image Push-T: 64 + 2 = 66).</summary>
    int FeatureDimPerStep { get; }

    /// <summary>Encodes a batch of observation windows.</summary>
    /// <param name="obs">Named tensors, each (B, To, ...); see <see cref="ObsKeys"/>.</param>
    /// <returns>(B, To x <see cref="FeatureDimPerStep"/>), step-major: step 0's features first.</returns>
    Tensor Encode(IReadOnlyDictionary<string, Tensor> obs);
}

/// <summary>Keys of the observation dictionaries (diffusion_policy's Push-T datasets).</summary>
public static class ObsKeys
{
    /// <summary>Low-dim observation (B, To, Do), e.g. 9 keypoints x 2 + agent position 2 = 20 for Push-T.</summary>
    public const string Obs = "obs";

    /// <summary>RGB image (B, To, 3, H, W) with values in [-1, 1] (Push-T: 96 x 96).</summary>
    public const string Image = "image";

    /// <summary>Agent position (B, To, 2), normalised.</summary>
    public const string AgentPos = "agent_pos";
}

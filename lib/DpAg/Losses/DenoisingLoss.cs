using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>
/// The diffusion (denoising) loss L_DP = E || targetScale * eps - eps_theta ||^2 (docs/method.md M1).
/// </summary>
/// <remarks>
/// The released code trains on target = noise / 0.4 (targetScale = 2.5) while its sampler treats the network output
/// as the noise itself; docs/method.md notes this acts as a mode-sharpening (low-temperature) sampler. The paper's form is
/// targetScale = 1. A sampler that wants the consistent noise must divide the output by targetScale.
/// </remarks>
public static class DenoisingLoss
{
    /// <summary>The released code's target scale, 1 / 0.4.</summary>
    public const double ReleasedTargetScale = 1.0 / 0.4;

    /// <summary>Mean squared error between the prediction and targetScale * noise.</summary>
    /// <param name="prediction">eps_theta(a^k, z, k), (B, Ta, Da).</param>
    /// <param name="noise">The noise eps added in the forward process, shaped like the prediction.</param>
    /// <param name="targetScale">Scale of the target (paper 1, released code 1 / 0.4).</param>
    /// <param name="reduction">Reduction of the squared errors (PyTorch's mse_loss: mean).</param>
    public static Tensor Mse(Tensor prediction, Tensor noise, double targetScale = 1.0, Reduction reduction = Reduction.Mean)
    {
        KlDivergence.RequireSameShape(prediction, noise, nameof(noise));
        if (!double.IsFinite(targetScale) || targetScale <= 0) throw new ArgumentException($"targetScale = {targetScale} is invalid: use 1 (paper) or 1/0.4 (released code).", nameof(targetScale));
        using var scope = torch.NewDisposeScope();
        var terms = (prediction - noise.Times(targetScale)).Power(2);
        return Reductions.Reduce(terms, reduction).MoveToOuterDisposeScope();
    }
}

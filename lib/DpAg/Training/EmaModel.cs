using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Training;

/// <summary>
/// Exponential moving average of a model's weights with Diffusion Policy's warm-up rule
/// (real-stanford <c>diffusion_policy/model/diffusion/ema_model.py</c>, <c>EMAModel</c>). Before update k
/// (k = 0, 1, 2, ... counts earlier updates) the decay is, with s = max(0, k - update_after_step - 1):
/// <c>decay = 0</c> when s = 0, else <c>clamp(1 - (1 + s / inv_gamma)^-power, min_value, max_value)</c>; then
/// <c>ema = decay * ema + (1 - decay) * param</c> for trainable parameters, a plain copy for frozen ones.
/// docs/pusht.md's "decay = 1 - (1+s)^-0.75 at step s" is this rule with s = k - 1: the first two updates copy
/// the weights (decay 0), the third uses 1 - 2^-0.75.
/// Buffers are copied from the live model at every update (DP's EMAModel leaves them at their initial values,
/// which only matters for BatchNorm running statistics; the kit's networks use GroupNorm).
/// </summary>
public sealed class EmaModel
{
    /// <summary>Wraps <paramref name="averaged"/>, a module with the same structure as the trained one, which becomes
    /// the average: it is put in eval mode with gradients off. Its current weights are overwritten by the first update.</summary>
    /// <param name="averaged">The module that holds the average.</param>
    /// <param name="power">Warm-up power (DP Push-T: 0.75; EMAModel default 2/3).</param>
    /// <param name="invGamma">Inverse gamma (DP: 1).</param>
    /// <param name="minValue">Lowest decay (DP: 0).</param>
    /// <param name="maxValue">Highest decay (DP: 0.9999).</param>
    /// <param name="updateAfterStep">Updates that only copy before averaging starts (DP: 0).</param>
    public EmaModel(nn.Module averaged, double power = 0.75, double invGamma = 1.0, double minValue = 0.0, double maxValue = 0.9999, int updateAfterStep = 0)
    {
        Averaged = averaged;
        Power = power;
        InvGamma = invGamma;
        MinValue = minValue;
        MaxValue = maxValue;
        UpdateAfterStep = updateAfterStep;
        Averaged.eval();
        foreach (var p in Averaged.parameters()) p.requires_grad = false;
    }

    /// <summary>The module holding the averaged weights (evaluate this one).</summary>
    public nn.Module Averaged { get; }

    /// <summary>Warm-up power.</summary>
    public double Power { get; }

    /// <summary>Inverse gamma.</summary>
    public double InvGamma { get; }

    /// <summary>Lowest decay.</summary>
    public double MinValue { get; }

    /// <summary>Highest decay.</summary>
    public double MaxValue { get; }

    /// <summary>Updates that only copy before averaging starts.</summary>
    public int UpdateAfterStep { get; }

    /// <summary>k: how many updates have been applied (DP's <c>optimization_step</c>). Restored on resume.</summary>
    public long OptimizationStep { get; set; }

    /// <summary>The decay used by the latest update (0 before any).</summary>
    public double Decay { get; private set; }

    /// <summary>The decay the update with index <paramref name="optimizationStep"/> uses (see the class summary).</summary>
    public double GetDecay(long optimizationStep) => DecayAt(optimizationStep, Power, InvGamma, MinValue, MaxValue, UpdateAfterStep);

    /// <summary>DP's <c>EMAModel.get_decay</c> as a pure function.</summary>
    public static double DecayAt(long optimizationStep, double power = 0.75, double invGamma = 1.0, double minValue = 0.0, double maxValue = 0.9999, int updateAfterStep = 0)
    {
        long s = Math.Max(0, optimizationStep - updateAfterStep - 1);
        if (s <= 0) return 0.0;
        double value = 1.0 - Math.Pow(1.0 + s / invGamma, -power);
        return Math.Max(minValue, Math.Min(value, maxValue));
    }

    /// <summary>Folds the current weights of <paramref name="live"/> into the average and advances <see cref="OptimizationStep"/>.</summary>
    public void Step(nn.Module live)
    {
        Decay = GetDecay(OptimizationStep);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Made once per update and disposed after it: an implicit scalar per parameter could be freed by a collection
        // while libtorch reads it (docs/CONTRIBUTING.md, "Scalars").
        using var decay = Decay.ToScalar();
        using var oneMinusDecay = (1.0 - Decay).ToScalar();
        var emaParams = Averaged.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, param) in live.named_parameters())
        {
            if (!emaParams.TryGetValue(name, out var ema))
                throw new InvalidOperationException($"EMA: the averaged model has no parameter '{name}'; it must have the trained model's structure.");
            if (!param.requires_grad) ema.copy_(param);
            else ema.mul_(decay).add_(param, oneMinusDecay);
        }
        var emaBuffers = Averaged.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in live.named_buffers())
        {
            if (!emaBuffers.TryGetValue(name, out var ema))
                throw new InvalidOperationException($"EMA: the averaged model has no buffer '{name}'; it must have the trained model's structure.");
            ema.copy_(buffer);
        }
        OptimizationStep++;
    }
}

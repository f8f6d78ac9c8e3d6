using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// Transformer-style sinusoidal embedding of diffusion timesteps (Vaswani et al. 2017), laid out like diffusion_policy's
/// <c>SinusoidalPosEmb</c>: [sin(t w_0..w_{h-1}), cos(t w_0..w_{h-1})] with h = dim/2 and w_i = exp(-i ln(10000)/(h-1)),
/// the sine half first. No weights.
/// </summary>
public sealed class SinusoidalPosEmb : Module<Tensor, Tensor>
{
    private readonly long _dim;

    /// <summary>Builds the embedding; <paramref name="dim"/> must be even and at least 4.</summary>
    public SinusoidalPosEmb(long dim) : base(nameof(SinusoidalPosEmb))
    {
        if (dim < 4 || dim % 2 != 0)
            throw new ArgumentException($"SinusoidalPosEmb: dim must be even and >= 4, got {dim}.", nameof(dim));
        _dim = dim;
        RegisterComponents();
    }

    /// <summary>(B,) timesteps (any numeric dtype) -> (B, dim) float32 (or the input's dtype if floating point).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        long half = _dim / 2;
        var dtype = x.is_floating_point() ? x.dtype : ScalarType.Float32;
        double step = Math.Log(10000) / (half - 1);
        var freqs = torch.exp(ScalarMath.Arange(half, dtype, x.device).Times(-step));        // (h,)
        var angles = x.to(dtype).unsqueeze(1) * freqs.unsqueeze(0);                          // (B, h)
        return torch.cat(new[] { angles.sin(), angles.cos() }, 1).MoveToOuterDisposeScope(); // (B, 2h)
    }
}

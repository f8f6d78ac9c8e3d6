using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>Doubles the length: ConvTranspose1d(dim, dim, kernel 4, stride 2, padding 1). State-dict keys <c>conv.weight</c>, <c>conv.bias</c>.</summary>
public sealed class Upsample1d : Module<Tensor, Tensor>
{
    private readonly ConvTranspose1d conv;

    /// <summary>Builds the layer for <paramref name="dim"/> channels, with weights on <paramref name="device"/> (null: the default device).</summary>
    public Upsample1d(long dim, Device? device = null) : base(nameof(Upsample1d))
    {
        conv = ConvTranspose1d(dim, dim, 4, stride: 2, padding: 1, device: device);
        RegisterComponents();
    }

    /// <summary>(B, C, T) -> (B, C, 2T).</summary>
    public override Tensor forward(Tensor x) => conv.forward(x);
}

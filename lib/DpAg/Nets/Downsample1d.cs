using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>Halves the length: Conv1d(dim, dim, kernel 3, stride 2, padding 1). State-dict keys <c>conv.weight</c>, <c>conv.bias</c>.</summary>
public sealed class Downsample1d : Module<Tensor, Tensor>
{
    private readonly Conv1d conv;

    /// <summary>Builds the layer for <paramref name="dim"/> channels, with weights on <paramref name="device"/> (null: the default device).</summary>
    public Downsample1d(long dim, Device? device = null) : base(nameof(Downsample1d))
    {
        conv = Conv1d(dim, dim, 3, stride: 2, padding: 1, device: device);
        RegisterComponents();
    }

    /// <summary>(B, C, T) -> (B, C, ceil(T/2)).</summary>
    public override Tensor forward(Tensor x) => conv.forward(x);
}

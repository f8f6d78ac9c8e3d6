using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// Conv1d (kernel k, padding k/2, length-preserving) -> GroupNorm -> Mish, as in diffusion_policy's
/// <c>Conv1dBlock</c>. State-dict keys: <c>block.0.weight</c>, <c>block.0.bias</c>, <c>block.1.weight</c>, <c>block.1.bias</c>.
/// </summary>
public sealed class Conv1dBlock : Module<Tensor, Tensor>
{
    private readonly Sequential block;

    /// <summary>Builds the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels; must be divisible by <paramref name="nGroups"/>.</param>
    /// <param name="kernelSize">Odd kernel size (Push-T recipe: 5).</param>
    /// <param name="nGroups">GroupNorm groups (diffusion_policy default 8).</param>
    /// <param name="device">Where to create the weights (null: the default device; "meta" builds without memory).</param>
    public Conv1dBlock(long inChannels, long outChannels, long kernelSize, long nGroups = 8, Device? device = null) : base(nameof(Conv1dBlock))
    {
        if (outChannels % nGroups != 0)
            throw new ArgumentException($"Conv1dBlock: outChannels = {outChannels} must be divisible by nGroups = {nGroups}.", nameof(outChannels));
        block = Sequential(
            Conv1d(inChannels, outChannels, kernelSize, padding: kernelSize / 2, device: device),
            Norms.GroupNorm(nGroups, outChannels, device),
            new Mish());
        RegisterComponents();
    }

    /// <summary>(B, C_in, T) -> (B, C_out, T).</summary>
    public override Tensor forward(Tensor x) => block.forward(x);
}

using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// ResNet basic block (He et al. 2016) with GroupNorm in place of BatchNorm: conv3x3 -> norm -> ReLU -> conv3x3 -> norm,
/// plus the input (through conv1x1 + norm when the stride or width changes), then ReLU. State-dict keys follow
/// torchvision's <c>BasicBlock</c>: <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>downsample.0</c>, <c>downsample.1</c>
/// (the norms keep the "bn" names, as diffusion_policy's replace_bn_with_gn leaves them).
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly GroupNorm bn1;
    private readonly Conv2d conv2;
    private readonly GroupNorm bn2;
    private readonly Sequential? downsample;

    /// <summary>Builds the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="stride">Stride of the first conv (2 halves the resolution).</param>
    /// <param name="groupNormDivisor">Each GroupNorm has channels / this many groups (16).</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public BasicBlock(long inChannels, long outChannels, long stride, long groupNormDivisor = 16, Device? device = null) : base(nameof(BasicBlock))
    {
        conv1 = ResNet18Conv.KaimingConv2d(inChannels, outChannels, 3, stride, 1, device);
        bn1 = Norms.GroupNorm(outChannels / groupNormDivisor, outChannels, device);
        conv2 = ResNet18Conv.KaimingConv2d(outChannels, outChannels, 3, 1, 1, device);
        bn2 = Norms.GroupNorm(outChannels / groupNormDivisor, outChannels, device);
        if (stride != 1 || inChannels != outChannels)
            downsample = Sequential(
                ResNet18Conv.KaimingConv2d(inChannels, outChannels, 1, stride, 0, device),
                Norms.GroupNorm(outChannels / groupNormDivisor, outChannels, device));
        RegisterComponents();
    }

    /// <summary>(N, C_in, H, W) -> (N, C_out, H/stride, W/stride).</summary>
    public override Tensor forward(Tensor x)
    {
        var h = functional.relu(bn1.forward(conv1.forward(x)));
        h = bn2.forward(conv2.forward(h));
        var identity = downsample is null ? x : downsample.forward(x);
        return functional.relu(h.Plus(identity));
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// The convolutional trunk of ResNet-18 (He et al. 2016; torchvision's <c>resnet18</c> without avgpool and fc), with
/// every BatchNorm replaced by GroupNorm(C/16) as diffusion_policy does, randomly initialised (no pretrained weights).
/// State-dict keys follow torchvision: <c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>layer4.1.bn2</c>.
/// 11,176,512 parameters.
/// </summary>
public sealed class ResNet18Conv : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly GroupNorm bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <summary>Channels of the output feature map (512).</summary>
    public const int OutChannels = 512;

    /// <summary>Builds the trunk.</summary>
    /// <param name="inChannels">Image channels (3).</param>
    /// <param name="groupNormDivisor">GroupNorm groups = channels / this (16).</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public ResNet18Conv(long inChannels = 3, long groupNormDivisor = 16, Device? device = null) : base(nameof(ResNet18Conv))
    {
        conv1 = KaimingConv2d(inChannels, 64, 7, 2, 3, device);
        bn1 = Norms.GroupNorm(64 / groupNormDivisor, 64, device);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        layer1 = Sequential(new BasicBlock(64, 64, 1, groupNormDivisor, device), new BasicBlock(64, 64, 1, groupNormDivisor, device));
        layer2 = Sequential(new BasicBlock(64, 128, 2, groupNormDivisor, device), new BasicBlock(128, 128, 1, groupNormDivisor, device));
        layer3 = Sequential(new BasicBlock(128, 256, 2, groupNormDivisor, device), new BasicBlock(256, 256, 1, groupNormDivisor, device));
        layer4 = Sequential(new BasicBlock(256, 512, 2, groupNormDivisor, device), new BasicBlock(512, 512, 1, groupNormDivisor, device));
        RegisterComponents();
    }

    /// <summary>
    /// A bias-free Conv2d with torchvision's ResNet initialisation, Kaiming-normal with fan_out and ReLU gain
    /// (the norms start at weight 1, bias 0, see <see cref="Norms.GroupNorm"/>).
    /// </summary>
    internal static Conv2d KaimingConv2d(long inChannels, long outChannels, long kernelSize, long stride, long padding, Device? device)
    {
        var conv = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: false, device: device);
        using (torch.no_grad())
            init.kaiming_normal_(conv.weight!, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
        return conv;
    }

    /// <summary>(N, 3, H, W) -> (N, 512, ~H/32, ~W/32); 84 x 84 gives 3 x 3.</summary>
    public override Tensor forward(Tensor x)
    {
        var h = maxpool.forward(functional.relu(bn1.forward(conv1.forward(x))));          // (N, 64, H/4, W/4)
        h = layer1.forward(h);
        h = layer2.forward(h);                                                           // (N, 128, H/8, W/8)
        h = layer3.forward(h);                                                           // (N, 256, H/16, W/16)
        return layer4.forward(h);                                                        // (N, 512, H/32, W/32)
    }
}

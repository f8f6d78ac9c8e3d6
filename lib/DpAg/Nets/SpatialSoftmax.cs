using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// Spatial soft-argmax (Levine et al. 2016; robomimic's <c>SpatialSoftmax</c>): a 1x1 conv maps the feature map to K
/// attention maps; each is softmaxed over its H x W pixels and gives the expected (x, y) position, with x and y
/// running from -1 to 1 across the columns and rows. Output (N, 2K) laid out [x_0, y_0, x_1, y_1, ...].
/// State-dict keys: <c>nets.weight</c>, <c>nets.bias</c> (the coordinate grids are computed, not stored).
/// </summary>
public sealed class SpatialSoftmax : Module<Tensor, Tensor>
{
    private readonly Conv2d nets;
    private readonly long _numKeypoints;

    /// <summary>Builds the layer.</summary>
    /// <param name="inChannels">Channels of the feature map (ResNet-18: 512).</param>
    /// <param name="numKeypoints">K (robomimic default 32).</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public SpatialSoftmax(long inChannels, long numKeypoints = 32, Device? device = null) : base(nameof(SpatialSoftmax))
    {
        _numKeypoints = numKeypoints;
        nets = Conv2d(inChannels, numKeypoints, 1, device: device);
        RegisterComponents();
    }

    /// <summary>(N, C, H, W) -> (N, 2K).</summary>
    public override Tensor forward(Tensor features)
    {
        var logits = nets.forward(features);                                             // (N, K, H, W)
        return ExpectedKeypoints(logits).reshape(features.shape[0], 2 * _numKeypoints);   // (N, 2K)
    }

    /// <summary>
    /// Softmax over each map's pixels and the expected coordinates: (N, K, H, W) -> (N, K, 2) with (x, y) in [-1, 1],
    /// x = -1 at the first column and 1 at the last, y likewise over rows (a 1-pixel map gives -1).
    /// </summary>
    public static Tensor ExpectedKeypoints(Tensor logits)
    {
        if (logits.dim() != 4) throw new ArgumentException($"SpatialSoftmax: expected (N, K, H, W), got ({string.Join(", ", logits.shape)}).", nameof(logits));
        using var scope = torch.NewDisposeScope();
        long n = logits.shape[0], k = logits.shape[1], h = logits.shape[2], w = logits.shape[3];
        var attention = torch.softmax(logits.reshape(n, k, h * w), 2);                  // (N, K, H*W)
        var xs = torch.linspace(-1, 1, w, dtype: logits.dtype, device: logits.device);   // (W,)
        var ys = torch.linspace(-1, 1, h, dtype: logits.dtype, device: logits.device);   // (H,)
        var posX = xs.unsqueeze(0).expand(h, w).reshape(h * w);                           // (H*W,) column coordinate
        var posY = ys.unsqueeze(1).expand(h, w).reshape(h * w);                           // (H*W,) row coordinate
        var x = (attention * posX).sum(2);                                               // (N, K)
        var y = (attention * posY).sum(2);                                               // (N, K)
        return torch.stack(new[] { x, y }, 2).MoveToOuterDisposeScope();                // (N, K, 2)
    }
}

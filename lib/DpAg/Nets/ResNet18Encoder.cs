using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// diffusion_policy's Push-T image encoder: crop (random 84 x 84 while training, centred in evaluation) -> ResNet-18
/// trunk with GroupNorm -> spatial softmax (32 keypoints, 64 numbers) -> Linear(64, 64) -> ReLU, then the agent
/// position appended: 66 features per observation step.
/// </summary>
/// <remarks>
/// The crop depends on <c>training</c> (<see cref="Module.train(bool)"/> / <see cref="Module.eval"/>); random crop
/// offsets come from torch's global generator, one per image. State-dict keys: <c>backbone.*</c> (torchvision
/// ResNet-18 names), <c>pool.nets.*</c>, <c>linear.*</c>; robomimic's deeper nesting is not reproduced.
/// </remarks>
public sealed class ResNet18Encoder : Module<Tensor, Tensor>, IObsEncoder
{
    private readonly ResNet18Conv backbone;
    private readonly SpatialSoftmax pool;
    private readonly Linear linear;

    /// <summary>Builds the encoder; the config is validated.</summary>
    /// <param name="config">Settings (null: the Push-T defaults).</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public ResNet18Encoder(ImageEncoderConfig? config = null, Device? device = null) : base(nameof(ResNet18Encoder))
    {
        Config = (config ?? new ImageEncoderConfig()).Validate();
        backbone = new ResNet18Conv(3, Config.GroupNormDivisor, device);
        pool = new SpatialSoftmax(ResNet18Conv.OutChannels, Config.NumKeypoints, device);
        linear = Linear(2 * Config.NumKeypoints, Config.FeatureDim, device: device);
        RegisterComponents();
    }

    /// <summary>The validated settings.</summary>
    public ImageEncoderConfig Config { get; }

    /// <inheritdoc/>
    public int FeatureDimPerStep => Config.FeatureDim + Config.AgentPosDim;

    /// <summary>
    /// (N, C, H, W) -> (N, C, crop, crop): a random window per image while training (if
    /// <see cref="ImageEncoderConfig.RandomCropInTraining"/>), else the centre window.
    /// </summary>
    public Tensor Crop(Tensor images)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3], c = Config.CropSize;
        if (!(training && Config.RandomCropInTraining))
            return images.narrow(2, (h - c) / 2, c).narrow(3, (w - c) / 2, c);
        using var scope = torch.NewDisposeScope();
        var top = torch.randint(0, h - c + 1, new[] { n }, dtype: ScalarType.Int64).data<long>().ToArray();
        var left = torch.randint(0, w - c + 1, new[] { n }, dtype: ScalarType.Int64).data<long>().ToArray();
        var crops = new Tensor[n];
        for (long i = 0; i < n; i++) crops[i] = images[i].narrow(1, top[i], c).narrow(2, left[i], c);   // (C, crop, crop)
        return torch.stack(crops, 0).MoveToOuterDisposeScope();                                        // (N, C, crop, crop)
    }

    /// <summary>Image features without the agent position: (N, 3, H, W) in [-1, 1] -> (N, FeatureDim).</summary>
    public override Tensor forward(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3 || images.shape[2] != Config.ImageSize || images.shape[3] != Config.ImageSize)
            throw new ArgumentException(
                $"ResNet18Encoder: images must be (N, 3, {Config.ImageSize}, {Config.ImageSize}), got ({string.Join(", ", images.shape)}).", nameof(images));
        var x = Crop(images);                                                            // (N, 3, crop, crop)
        x = backbone.forward(x);                                                         // (N, 512, h, w)
        x = pool.forward(x);                                                             // (N, 2K)
        return functional.relu(linear.forward(x));                                       // (N, FeatureDim)
    }

    /// <inheritdoc/>
    /// <remarks>Needs <see cref="ObsKeys.Image"/> (B, To, 3, H, W) and <see cref="ObsKeys.AgentPos"/> (B, To, AgentPosDim).</remarks>
    public Tensor Encode(IReadOnlyDictionary<string, Tensor> obs)
    {
        if (!obs.TryGetValue(ObsKeys.Image, out var image) || (Config.AgentPosDim > 0 && !obs.ContainsKey(ObsKeys.AgentPos)))
            throw new ArgumentException(
                $"ResNet18Encoder: the observation needs the keys \"{ObsKeys.Image}\" and \"{ObsKeys.AgentPos}\", got [{string.Join(", ", obs.Keys)}].", nameof(obs));
        if (image.dim() != 5)
            throw new ArgumentException($"ResNet18Encoder: \"{ObsKeys.Image}\" must be (B, To, 3, H, W), got ({string.Join(", ", image.shape)}).", nameof(obs));
        using var scope = torch.NewDisposeScope();
        long b = image.shape[0], to = image.shape[1];
        var features = forward(image.reshape(b * to, image.shape[2], image.shape[3], image.shape[4]));   // (B*To, F)
        if (Config.AgentPosDim > 0)
        {
            var agent = obs[ObsKeys.AgentPos];
            if (agent.dim() != 3 || agent.shape[0] != b || agent.shape[1] != to || agent.shape[2] != Config.AgentPosDim)
                throw new ArgumentException(
                    $"ResNet18Encoder: \"{ObsKeys.AgentPos}\" must be (B, To, {Config.AgentPosDim}) = ({b}, {to}, {Config.AgentPosDim}), " +
                    $"got ({string.Join(", ", agent.shape)}).", nameof(obs));
            features = torch.cat(new[] { features, agent.reshape(b * to, Config.AgentPosDim).to(features.dtype) }, 1); // (B*To, F + 2)
        }
        return features.reshape(b, to * FeatureDimPerStep).MoveToOuterDisposeScope();                    // (B, To * (F + 2))
    }
}

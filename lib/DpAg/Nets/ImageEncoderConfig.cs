namespace DpAg.Nets;

/// <summary>
/// Settings of <see cref="ResNet18Encoder"/>. Defaults are diffusion_policy's Push-T image recipe (docs/pusht.md):
/// 96 x 96 images, 84 x 84 crops (random in training, centred in evaluation), GroupNorm with C/16 groups instead of
/// BatchNorm, spatial softmax with 32 keypoints, a 64-wide feature, agent position (2) appended: 66 per step.
/// </summary>
/// <param name="ImageSize">Height and width of the input images (Push-T: 96).</param>
/// <param name="CropSize">Height and width of the crop fed to the ResNet (diffusion_policy: 84, i.e. crop_shape [84, 84]).</param>
/// <param name="NumKeypoints">Spatial-softmax keypoints (robomimic default 32); each gives (x, y).</param>
/// <param name="FeatureDim">Width of the Linear after the spatial softmax (robomimic feature_dimension 64).</param>
/// <param name="AgentPosDim">Numbers of agent position appended per step (Push-T: 2).</param>
/// <param name="GroupNormDivisor">GroupNorm uses C / this many groups (diffusion_policy's replace_bn_with_gn: 16).</param>
/// <param name="RandomCropInTraining">Random crops while training (true) or always the centre crop.</param>
public sealed record ImageEncoderConfig(
    int ImageSize = 96,
    int CropSize = 84,
    int NumKeypoints = 32,
    int FeatureDim = 64,
    int AgentPosDim = 2,
    int GroupNormDivisor = 16,
    bool RandomCropInTraining = true)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public ImageEncoderConfig Validate()
    {
        if (ImageSize < 1) throw new ArgumentException($"ImageEncoderConfig.ImageSize must be positive, got {ImageSize}.");
        if (CropSize < 32 || CropSize > ImageSize)
            throw new ArgumentException($"ImageEncoderConfig.CropSize must be in 32..ImageSize = 32..{ImageSize} (the ResNet downsamples 32x), got {CropSize}.");
        if (NumKeypoints < 1) throw new ArgumentException($"ImageEncoderConfig.NumKeypoints must be positive, got {NumKeypoints}.");
        if (FeatureDim < 1) throw new ArgumentException($"ImageEncoderConfig.FeatureDim must be positive, got {FeatureDim}.");
        if (AgentPosDim < 0) throw new ArgumentException($"ImageEncoderConfig.AgentPosDim must be >= 0, got {AgentPosDim}.");
        if (GroupNormDivisor < 1 || 64 % GroupNormDivisor != 0)
            throw new ArgumentException($"ImageEncoderConfig.GroupNormDivisor must divide 64 (the narrowest ResNet-18 width), got {GroupNormDivisor}.");
        return this;
    }
}

namespace DpAg.Nets;

/// <summary>
/// Shape of <see cref="ConditionalUnet1D"/>'s body. Defaults are diffusion_policy's Push-T low-dim U-Net
/// (docs/pusht.md: down dims 256/512/1024, step embedding 256, kernel 5, 8 groups, FiLM scale and bias; with action
/// dim 2 and global cond 2 x 20 = 40, 65,783,298 parameters); <see cref="ImagePushT"/> is the image one. The widths
/// of its input (the action dimension) and of its condition (the observation features) belong to the policy, which
/// passes them to the constructor, so they are never declared twice (<see cref="Policies.DiffusionPolicyConfig.Unet"/>).
/// </summary>
public sealed record UnetConfig
{
    /// <summary>Width of the diffusion-step embedding (diffusion_policy: 256 low-dim, 128 image). Even, at least 4.</summary>
    public int DiffusionStepEmbedDim { get; init; } = 256;

    /// <summary>Channels per U-Net level (diffusion_policy: 256/512/1024 low-dim, 512/1024/2048 image).</summary>
    public IReadOnlyList<int> DownDims { get; init; } = new[] { 256, 512, 1024 };

    /// <summary>Conv kernel size, odd (diffusion_policy Push-T configs: 5; the Python class default is 3).</summary>
    public int KernelSize { get; init; } = 5;

    /// <summary>GroupNorm groups (diffusion_policy: 8); every entry of <see cref="DownDims"/> must be divisible by it.</summary>
    public int NGroups { get; init; } = 8;

    /// <summary>
    /// FiLM predicts scale and bias, h = scale h + bias (true: diffusion_policy's Push-T configs, <c>cond_predict_scale: True</c>,
    /// which the parameter-count check values assume), or only a bias, h = h + bias (false: the Python class default).
    /// </summary>
    public bool CondPredictScale { get; init; } = true;

    /// <summary>The low-dim Push-T U-Net (the defaults).</summary>
    public static UnetConfig LowDimPushT => new();

    /// <summary>The image Push-T U-Net: down dims 512/1024/2048, step embedding 128 (with global cond 132: 251,511,938 parameters).</summary>
    public static UnetConfig ImagePushT => new() { DiffusionStepEmbedDim = 128, DownDims = new[] { 512, 1024, 2048 } };

    /// <summary>The horizon T must be a multiple of this, 2^(levels - 1): each level but the last halves the length.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int HorizonMultiple => 1 << (DownDims.Count - 1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field, the value received and the fix.</summary>
    public UnetConfig Validate()
    {
        if (DiffusionStepEmbedDim < 4 || DiffusionStepEmbedDim % 2 != 0)
            throw new ArgumentException($"UnetConfig.DiffusionStepEmbedDim must be even and >= 4 (sine and cosine halves), got {DiffusionStepEmbedDim}.");
        if (DownDims is null || DownDims.Count == 0)
            throw new ArgumentException("UnetConfig.DownDims must list at least one level, got none; e.g. [256, 512, 1024].");
        if (DownDims.Count > 16)
            throw new ArgumentException($"UnetConfig.DownDims has {DownDims.Count} levels; at most 16 are supported.");
        if (NGroups < 1) throw new ArgumentException($"UnetConfig.NGroups must be at least 1, got {NGroups}.");
        foreach (int d in DownDims)
            if (d < 1 || d % NGroups != 0)
                throw new ArgumentException(
                    $"UnetConfig.DownDims entries must be positive multiples of NGroups = {NGroups}, got {d} in [{string.Join(", ", DownDims)}].");
        if (KernelSize < 1 || KernelSize % 2 == 0)
            throw new ArgumentException($"UnetConfig.KernelSize must be odd and positive (padding k/2 keeps the length), got {KernelSize}.");
        return this;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the horizon T is a positive multiple of <see cref="HorizonMultiple"/>
    /// (Push-T: 16 with three levels, a multiple of 4).
    /// </summary>
    public void CheckHorizon(long horizon)
    {
        int m = HorizonMultiple;
        if (horizon < 1 || horizon % m != 0)
        {
            long lower = Math.Max(m, horizon / m * m), upper = (horizon / m + 1) * m;
            throw new ArgumentException(
                $"The horizon T must be divisible by 2^(levels - 1) = {m} ({DownDims.Count} levels in UnetConfig.DownDims), got {horizon}; " +
                $"use {lower} or {upper}.");
        }
    }
}

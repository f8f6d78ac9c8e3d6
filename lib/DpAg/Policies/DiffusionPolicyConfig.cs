using DpAg.Diffusion;
using DpAg.Nets;

namespace DpAg.Policies;

/// <summary>Which observations a policy conditions on.</summary>
public enum ObservationKind
{
    /// <summary>Push-T keypoints (9 x 2) and the agent position: Do = 20 per step, "obs" (B, To, 20).</summary>
    LowDim,
    /// <summary>96 x 96 RGB images and the agent position: "image" (B, To, 3, 96, 96), "agent_pos" (B, To, 2).</summary>
    Image,
}

/// <summary>The reverse-process sampler used at inference.</summary>
public enum SamplerKind
{
    /// <summary>DDPM (Ho et al. 2020): stochastic, Diffusion Policy's default with 100 steps.</summary>
    Ddpm,
    /// <summary>DDIM (Song et al. 2021): deterministic with eta = 0, a few steps.</summary>
    Ddim,
}

/// <summary>
/// Configuration of the Diffusion Policy baseline, shared by DP-AG (<see cref="ActionGuidedConfig.Policy"/>).
/// Defaults are Diffusion Policy's Push-T low-dim recipe (docs/pusht.md, "Training recipe").
/// </summary>
/// <remarks>
/// Horizon layout (B batch, T horizon, To obs steps, Ta executed actions, Da action dim):
/// <code>
///   index:   0 .. To-2 | To-1 .. To-2+Ta | .. T-1
///   obs:     o  ..  o  |  o (latest)      |
///   action:  a  ..  a  |  A  ..  A (run)  | a .. a        with Ta &lt;= T - To + 1
/// </code>
/// </remarks>
public sealed record DiffusionPolicyConfig
{
    /// <summary>Observation kind (low-dim keypoints or images).</summary>
    public ObservationKind Observation { get; init; } = ObservationKind.LowDim;
    /// <summary>Do for <see cref="ObservationKind.LowDim"/>: 9 keypoints x 2 + agent position = 20.</summary>
    public int LowDimObsDim { get; init; } = 20;
    /// <summary>Da: Push-T actions are 2-D agent targets.</summary>
    public int ActionDim { get; init; } = 2;
    /// <summary>To (reference 2).</summary>
    public int ObsSteps { get; init; } = 2;
    /// <summary>T (reference 16); must be a multiple of 2^(levels - 1) of the U-Net.</summary>
    public int Horizon { get; init; } = 16;
    /// <summary>Ta (reference 8).</summary>
    public int ActionSteps { get; init; } = 8;
    /// <summary>
    /// The noise predictor's shape (channel widths per level, step embedding, kernel, groups, FiLM): low-dim reference
    /// 256/512/1024 with step embedding 256 (<see cref="UnetConfig.LowDimPushT"/>), image 512/1024/2048 with 128
    /// (<see cref="UnetConfig.ImagePushT"/>). Its input width is <see cref="ActionDim"/> and its condition
    /// <see cref="ObsSteps"/> x <see cref="FeatureDimPerStep"/>.
    /// </summary>
    public UnetConfig Unet { get; init; } = UnetConfig.LowDimPushT;
    /// <summary>The image encoder (used with <see cref="ObservationKind.Image"/>).</summary>
    public ImageEncoderConfig ImageEncoder { get; init; } = new();
    /// <summary>K, training diffusion steps (reference 100).</summary>
    public int NumTrainTimesteps { get; init; } = 100;
    /// <summary>Beta schedule (reference squaredcos_cap_v2).</summary>
    public BetaScheduleKind BetaSchedule { get; init; } = BetaScheduleKind.SquaredCosCapV2;
    /// <summary>Clip the predicted x0 to [-1, 1] while sampling (reference true).</summary>
    public bool ClipSample { get; init; } = true;
    /// <summary>Sampler at inference (reference DDPM).</summary>
    public SamplerKind Sampler { get; init; } = SamplerKind.Ddpm;
    /// <summary>Inference steps (reference 100 for DDPM; DDIM uses 4-16).</summary>
    public int NumInferenceSteps { get; init; } = 100;
    /// <summary>DDIM's eta (0 = deterministic).</summary>
    public double DdimEta { get; init; } = 0.0;

    /// <summary>Push-T low-dim at the paper's size (65.8M-parameter U-Net): a GPU job.</summary>
    public static DiffusionPolicyConfig PushTLowDim => new();

    /// <summary>Push-T image at the paper's size (251.5M-parameter U-Net + ResNet-18): a GPU job.</summary>
    public static DiffusionPolicyConfig PushTImage => new() { Observation = ObservationKind.Image, Unet = UnetConfig.ImagePushT };

    /// <summary>A 5.4M-parameter U-Net (64/128/256) for laptop CPUs: minutes per thousand steps.</summary>
    public static DiffusionPolicyConfig Small => new() { Unet = UnetConfig.LowDimPushT with { DownDims = [64, 128, 256], DiffusionStepEmbedDim = 64 } };

    /// <summary>A tiny U-Net (16/32/64) for tests and the CI budget of notebooks.</summary>
    public static DiffusionPolicyConfig Tiny => new() { Unet = UnetConfig.LowDimPushT with { DownDims = [16, 32, 64], DiffusionStepEmbedDim = 32, NGroups = 4 } };

    /// <summary>The named presets, for configs and the command line.</summary>
    public static DiffusionPolicyConfig FromPreset(string name) => name.ToLowerInvariant() switch
    {
        "pusht-lowdim" or "lowdim" or "paper" => PushTLowDim,
        "pusht-image" or "image" => PushTImage,
        "small" => Small,
        "tiny" => Tiny,
        _ => throw new ArgumentException($"Unknown policy size preset '{name}'. Known: pusht-lowdim, pusht-image, small, tiny."),
    };

    /// <summary>Features per observation step that condition the U-Net.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int FeatureDimPerStep => Observation == ObservationKind.LowDim ? LowDimObsDim : ImageEncoder.FeatureDim + ImageEncoder.AgentPosDim;

    /// <summary>Width of the U-Net's global condition: To x features per step.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int GlobalCondDim => ObsSteps * FeatureDimPerStep;

    /// <summary>Builds the noise predictor this config describes.</summary>
    public ConditionalUnet1D CreateUnet(TorchSharp.torch.Device? device = null) => new(Unet, ActionDim, GlobalCondDim, device);

    /// <summary>Checks every field; throws <see cref="ArgumentException"/> naming the field, the value and the fix.</summary>
    public DiffusionPolicyConfig Validate()
    {
        if (ObsSteps < 1) throw new ArgumentException($"ObsSteps (To) = {ObsSteps}; must be >= 1 (reference 2).");
        if (ActionSteps < 1) throw new ArgumentException($"ActionSteps (Ta) = {ActionSteps}; must be >= 1 (reference 8).");
        if (Horizon < 1) throw new ArgumentException($"Horizon (T) = {Horizon}; must be >= 1 (reference 16).");
        if (ActionSteps > Horizon - ObsSteps + 1)
            throw new ArgumentException($"ActionSteps (Ta) = {ActionSteps} with Horizon (T) = {Horizon} and ObsSteps (To) = {ObsSteps}: need Ta <= T - To + 1 = {Horizon - ObsSteps + 1}. Lower ActionSteps or raise Horizon.");
        if (ActionDim < 1) throw new ArgumentException($"ActionDim (Da) = {ActionDim}; must be >= 1.");
        if (LowDimObsDim < 1) throw new ArgumentException($"LowDimObsDim (Do) = {LowDimObsDim}; must be >= 1.");
        if (NumTrainTimesteps < 2) throw new ArgumentException($"NumTrainTimesteps = {NumTrainTimesteps}; must be >= 2 (reference 100).");
        if (NumInferenceSteps < 1 || NumInferenceSteps > NumTrainTimesteps)
            throw new ArgumentException($"NumInferenceSteps = {NumInferenceSteps}; must be in 1..NumTrainTimesteps ({NumTrainTimesteps}).");
        if (DdimEta < 0) throw new ArgumentException($"DdimEta = {DdimEta}; must be >= 0.");
        if (Unet is null) throw new ArgumentException("Unet is missing; e.g. the low-dim reference { \"DownDims\": [256, 512, 1024], \"DiffusionStepEmbedDim\": 256, ... }.");
        Unet.Validate().CheckHorizon(Horizon);
        if (Observation == ObservationKind.Image) ImageEncoder.Validate();
        return this;
    }

    /// <summary>
    /// A fresh inference scheduler of <paramref name="sampler"/> with <paramref name="steps"/> timesteps and this config's
    /// schedule, clipping and DDIM eta; one per sampling call, since a scheduler holds its timesteps.
    /// </summary>
    internal INoiseScheduler CreateScheduler(SamplerKind sampler, int steps) => sampler switch
    {
        SamplerKind.Ddpm => new DdpmScheduler(new DdpmSchedulerConfig(NumTrainTimesteps, BetaSchedule, ClipSample: ClipSample, NumInferenceSteps: steps)),
        _ => new DdimScheduler(new DdimSchedulerConfig(NumTrainTimesteps, BetaSchedule, ClipSample: ClipSample, Eta: DdimEta, NumInferenceSteps: steps)),
    };
}

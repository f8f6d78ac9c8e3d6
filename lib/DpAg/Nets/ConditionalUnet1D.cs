using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// The 1-D temporal U-Net denoiser of Diffusion Policy (Chi et al. 2023), laid out like real-stanford diffusion_policy's
/// <c>ConditionalUnet1D</c> so that state-dict keys match: <c>diffusion_step_encoder</c>, <c>down_modules</c>,
/// <c>mid_modules</c>, <c>up_modules</c>, <c>final_conv</c>.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Step embedding: sinusoidal -> Linear(d, 4d) -> Mish -> Linear(4d, d); cond = [step embedding, global cond].</item>
/// <item>Down levels (one per <see cref="UnetConfig.DownDims"/> entry): 2 residual blocks, then a stride-2 conv except on
/// the last level. Each level's output is kept as a skip.</item>
/// <item>Mid: 2 residual blocks at the deepest width.</item>
/// <item>Up levels (levels - 1 of them): concatenate the skip, 2 residual blocks, transposed conv x2.</item>
/// <item>Final: Conv1dBlock then a 1x1 conv back to Da channels.</item>
/// </list>
/// Local conditioning (diffusion_policy's <c>local_cond</c>) is not implemented; Push-T does not use it.
/// </remarks>
public sealed class ConditionalUnet1D : Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly Sequential diffusion_step_encoder;
    private readonly ModuleList<ModuleList<Module>> down_modules;
    private readonly ModuleList<ConditionalResidualBlock1D> mid_modules;
    private readonly ModuleList<ModuleList<Module>> up_modules;
    private readonly Sequential final_conv;

    /// <summary>Builds the U-Net; the config is validated.</summary>
    /// <param name="config">The shape.</param>
    /// <param name="inputDim">Da, the action dimension: channels of the denoised sequence (Push-T: 2).</param>
    /// <param name="globalCondDim">Width of the global conditioning vector, To x obs features (low-dim Push-T: 2 x 20 = 40; image: 2 x 66 = 132). 0 = none.</param>
    /// <param name="device">Where to create the weights (null: the default device; <c>torch.META</c> builds the
    /// structure without memory, e.g. to count parameters).</param>
    public ConditionalUnet1D(UnetConfig config, int inputDim, int globalCondDim, Device? device = null) : base(nameof(ConditionalUnet1D))
    {
        Config = config.Validate();
        if (inputDim < 1) throw new ArgumentException($"ConditionalUnet1D: inputDim (the action dimension) must be at least 1, got {inputDim}.", nameof(inputDim));
        if (globalCondDim < 0) throw new ArgumentException($"ConditionalUnet1D: globalCondDim must be >= 0 (0 = no global conditioning), got {globalCondDim}.", nameof(globalCondDim));
        InputDim = inputDim;
        GlobalCondDim = globalCondDim;
        long dsed = config.DiffusionStepEmbedDim, k = config.KernelSize, g = config.NGroups;
        bool cps = config.CondPredictScale;
        diffusion_step_encoder = Sequential(
            new SinusoidalPosEmb(dsed),
            Linear(dsed, dsed * 4, device: device),
            new Mish(),
            Linear(dsed * 4, dsed, device: device));
        long condDim = dsed + globalCondDim;

        var allDims = new long[config.DownDims.Count + 1];
        allDims[0] = inputDim;
        for (int i = 0; i < config.DownDims.Count; i++) allDims[i + 1] = config.DownDims[i];
        var inOut = Enumerable.Range(0, allDims.Length - 1).Select(i => (In: allDims[i], Out: allDims[i + 1])).ToArray();

        down_modules = new ModuleList<ModuleList<Module>>();
        for (int i = 0; i < inOut.Length; i++)
        {
            var (dimIn, dimOut) = inOut[i];
            bool isLast = i == inOut.Length - 1;
            down_modules.Add(new ModuleList<Module>(
                new ConditionalResidualBlock1D(dimIn, dimOut, condDim, k, g, cps, device),
                new ConditionalResidualBlock1D(dimOut, dimOut, condDim, k, g, cps, device),
                isLast ? Identity() : new Downsample1d(dimOut, device)));
        }

        long midDim = allDims[^1];
        mid_modules = new ModuleList<ConditionalResidualBlock1D>(
            new ConditionalResidualBlock1D(midDim, midDim, condDim, k, g, cps, device),
            new ConditionalResidualBlock1D(midDim, midDim, condDim, k, g, cps, device));

        // Python: for (dim_in, dim_out) in reversed(in_out[1:]); every up level upsamples (its is_last is never true).
        up_modules = new ModuleList<ModuleList<Module>>();
        foreach (var (dimIn, dimOut) in inOut.Skip(1).Reverse())
        {
            up_modules.Add(new ModuleList<Module>(
                new ConditionalResidualBlock1D(dimOut * 2, dimIn, condDim, k, g, cps, device),
                new ConditionalResidualBlock1D(dimIn, dimIn, condDim, k, g, cps, device),
                new Upsample1d(dimIn, device)));
        }

        long startDim = config.DownDims[0];
        final_conv = Sequential(
            new Conv1dBlock(startDim, startDim, k, g, device),
            Conv1d(startDim, inputDim, 1, device: device));
        RegisterComponents();
    }

    /// <summary>The validated shape.</summary>
    public UnetConfig Config { get; }

    /// <summary>Da, the channels of the denoised sequence.</summary>
    public int InputDim { get; }

    /// <summary>Width of the global conditioning vector (0 = none).</summary>
    public int GlobalCondDim { get; }

    /// <summary>Predicts noise (or x_0) for a noisy action sequence.</summary>
    /// <param name="sample">Noisy actions (B, T, Da); T must be a multiple of <see cref="UnetConfig.HorizonMultiple"/>.</param>
    /// <param name="timestep">Diffusion timesteps, (B,) or a scalar shared by the batch; integer or floating point.</param>
    /// <param name="globalCond">(B, GlobalCondDim) observation features, or null when GlobalCondDim = 0.</param>
    /// <returns>(B, T, Da).</returns>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor? globalCond)
    {
        CheckInputs(sample, timestep, globalCond);
        using var scope = torch.NewDisposeScope();
        long b = sample.shape[0];
        var x = sample.transpose(1, 2);                                                  // (B, Da, T)

        var timesteps = (timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep)
            .to(sample.dtype).to(sample.device).expand(b);                               // (B,) in the weights' dtype
        var cond = diffusion_step_encoder.forward(timesteps);                            // (B, dsed)
        if (globalCond is not null) cond = torch.cat(new[] { cond, globalCond }, 1);    // (B, dsed + Dg)

        var skips = new List<Tensor>();
        foreach (var level in down_modules)
        {
            x = Residual(level[0]).forward(x, cond);
            x = Residual(level[1]).forward(x, cond);
            skips.Add(x);                                                                // (B, C_level, T_level)
            x = Plain(level[2]).forward(x);                                              // halves T except on the last level
        }
        foreach (var mid in mid_modules) x = mid.forward(x, cond);
        foreach (var level in up_modules)
        {
            x = torch.cat(new[] { x, skips[^1] }, 1);                                    // (B, 2 C_out, T_level)
            skips.RemoveAt(skips.Count - 1);
            x = Residual(level[0]).forward(x, cond);
            x = Residual(level[1]).forward(x, cond);
            x = Plain(level[2]).forward(x);                                              // doubles T
        }
        x = final_conv.forward(x);                                                       // (B, Da, T)
        return x.transpose(1, 2).MoveToOuterDisposeScope();                              // (B, T, Da)
    }

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor? globalCond)
    {
        if (sample.dim() != 3 || sample.shape[2] != InputDim)
            throw new ArgumentException(
                $"ConditionalUnet1D: sample must be (B, T, Da = {InputDim}), got ({string.Join(", ", sample.shape)}).", nameof(sample));
        Config.CheckHorizon(sample.shape[1]);
        if (timestep.dim() > 1 || (timestep.dim() == 1 && timestep.shape[0] != sample.shape[0] && timestep.shape[0] != 1))
            throw new ArgumentException(
                $"ConditionalUnet1D: timestep must be a scalar or (B,) = ({sample.shape[0]},), got ({string.Join(", ", timestep.shape)}).", nameof(timestep));
        if (GlobalCondDim > 0)
        {
            if (globalCond is null || globalCond.dim() != 2 || globalCond.shape[0] != sample.shape[0] || globalCond.shape[1] != GlobalCondDim)
                throw new ArgumentException(
                    $"ConditionalUnet1D: globalCond must be (B, Dg) = ({sample.shape[0]}, {GlobalCondDim}), got " +
                    $"{(globalCond is null ? "null" : "(" + string.Join(", ", globalCond.shape) + ")")}.", nameof(globalCond));
        }
        else if (globalCond is not null)
        {
            throw new ArgumentException("ConditionalUnet1D: the U-Net was built with globalCondDim = 0, so globalCond must be null.", nameof(globalCond));
        }
    }

    private static ConditionalResidualBlock1D Residual(Module m) => (ConditionalResidualBlock1D)m;

    private static Module<Tensor, Tensor> Plain(Module m) => (Module<Tensor, Tensor>)m;
}

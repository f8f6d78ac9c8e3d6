using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// diffusion_policy's <c>ConditionalResidualBlock1D</c>: two <see cref="Conv1dBlock"/>s with FiLM conditioning in between
/// and a residual connection (a 1x1 conv when the channel count changes).
/// </summary>
/// <remarks>
/// FiLM (Perez et al. 2018): Mish(cond) -> Linear gives per-channel (scale, bias) and h = scale * h + bias, with no
/// "+1" on the scale (<c>cond_predict_scale = True</c>); with <c>condPredictScale = false</c> only a bias is predicted
/// and h = h + bias. State-dict keys: <c>blocks.{0,1}.block.*</c>, <c>cond_encoder.1.*</c>, <c>residual_conv.*</c>.
/// </remarks>
public sealed class ConditionalResidualBlock1D : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Conv1dBlock> blocks;
    private readonly Sequential cond_encoder;
    private readonly Module<Tensor, Tensor> residual_conv;
    private readonly long _outChannels;
    private readonly bool _condPredictScale;

    /// <summary>Builds the block.</summary>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="condDim">Width of the conditioning vector (step embedding + global cond).</param>
    /// <param name="kernelSize">Conv kernel size (Push-T recipe: 5).</param>
    /// <param name="nGroups">GroupNorm groups (8).</param>
    /// <param name="condPredictScale">Predict FiLM scale and bias (true, the Push-T configs) or bias only.</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public ConditionalResidualBlock1D(long inChannels, long outChannels, long condDim, long kernelSize = 3, long nGroups = 8,
        bool condPredictScale = true, Device? device = null) : base(nameof(ConditionalResidualBlock1D))
    {
        _outChannels = outChannels;
        _condPredictScale = condPredictScale;
        blocks = new ModuleList<Conv1dBlock>(
            new Conv1dBlock(inChannels, outChannels, kernelSize, nGroups, device),
            new Conv1dBlock(outChannels, outChannels, kernelSize, nGroups, device));
        // PyTorch: Sequential(Mish, Linear, Rearrange('batch t -> batch t 1')); the Rearrange has no weights and is
        // done in forward, so the Linear keeps the key cond_encoder.1.
        cond_encoder = Sequential(new Mish(), Linear(condDim, condPredictScale ? 2 * outChannels : outChannels, device: device));
        residual_conv = inChannels != outChannels ? Conv1d(inChannels, outChannels, 1, device: device) : Identity();
        RegisterComponents();
    }

    /// <summary>Applies the block.</summary>
    /// <param name="x">(B, C_in, T).</param>
    /// <param name="cond">(B, condDim).</param>
    /// <returns>(B, C_out, T).</returns>
    public override Tensor forward(Tensor x, Tensor cond)
    {
        var h = blocks[0].forward(x);                                                   // (B, C_out, T)
        var embed = cond_encoder.forward(cond);                                         // (B, C_out) or (B, 2 C_out)
        if (_condPredictScale)
        {
            embed = embed.reshape(embed.shape[0], 2, _outChannels, 1);                  // (B, 2, C_out, 1)
            var scale = embed[.., 0];                                                   // (B, C_out, 1)
            var bias = embed[.., 1];                                                    // (B, C_out, 1)
            h = scale.mul(h).Plus(bias);
        }
        else
        {
            h = h.Plus(embed.unsqueeze(-1));                                            // (B, C_out, 1) broadcast over T
        }
        h = blocks[1].forward(h);
        return h.Plus(residual_conv.forward(x));
    }
}

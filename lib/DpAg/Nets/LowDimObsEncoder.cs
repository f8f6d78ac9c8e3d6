using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Nets;

/// <summary>
/// The low-dim "encoder": no weights, it flattens the (already normalised) observation window,
/// (B, To, Do) -> (B, To x Do), as diffusion_policy's low-dim U-Net policy does with <c>obs_as_global_cond</c>.
/// </summary>
public sealed class LowDimObsEncoder : Module<Tensor, Tensor>, IObsEncoder
{
    private readonly int _obsDim;

    /// <summary>Builds the encoder for observations of <paramref name="obsDim"/> numbers per step (Push-T keypoints: 20).</summary>
    public LowDimObsEncoder(int obsDim) : base(nameof(LowDimObsEncoder))
    {
        if (obsDim < 1) throw new ArgumentException($"LowDimObsEncoder: obsDim must be at least 1, got {obsDim}.", nameof(obsDim));
        _obsDim = obsDim;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int FeatureDimPerStep => _obsDim;

    /// <summary>(B, To, Do) -> (B, To x Do).</summary>
    public override Tensor forward(Tensor obs)
    {
        if (obs.dim() != 3 || obs.shape[2] != _obsDim)
            throw new ArgumentException(
                $"LowDimObsEncoder: obs must be (B, To, Do = {_obsDim}), got ({string.Join(", ", obs.shape)}).", nameof(obs));
        return obs.reshape(obs.shape[0], obs.shape[1] * _obsDim);                        // (B, To * Do)
    }

    /// <inheritdoc/>
    public Tensor Encode(IReadOnlyDictionary<string, Tensor> obs)
    {
        if (!obs.TryGetValue(ObsKeys.Obs, out var x))
            throw new ArgumentException(
                $"LowDimObsEncoder: the observation needs the key \"{ObsKeys.Obs}\", got keys [{string.Join(", ", obs.Keys)}].", nameof(obs));
        return forward(x);
    }
}

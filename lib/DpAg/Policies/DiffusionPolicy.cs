using DpAg.Data;
using DpAg.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Policies;

/// <summary>
/// The Diffusion Policy baseline (Chi et al. 2023): eps_theta(a^k, k, z_t) conditioned on the static observation
/// feature z_t, trained with L_DP = E || eps - eps_theta(a^k, z_t, k) ||^2 (docs/method.md M1).
/// </summary>
public sealed class DiffusionPolicy : DiffusionPolicyBase
{
    /// <summary>Builds the policy; <paramref name="normalizer"/> is the dataset's (its fields become buffers).</summary>
    public DiffusionPolicy(DiffusionPolicyConfig config, LinearNormalizer normalizer) : base("dp", config, normalizer)
    {
        ValidateHorizons();
        RegisterComponents();
    }

    /// <summary>The loss of one normalised batch: Obs (B, To, ...), Action (B, T, Da).</summary>
    public override LossOutput ComputeLoss(PolicyBatch batch)
    {
        ValidateBatch(batch);
        var (noisy, noise, k) = AddTrainingNoise(batch.Action, batch.Generator);
        var feature = Encode(batch.Obs);                                                   // (B, To, F)
        var prediction = NoisePredictor.forward(noisy, k, feature.flatten(1));             // (B, T, Da)
        var loss = DenoisingLoss.Mse(prediction, noise);
        return new LossOutput(loss, new Dictionary<string, Tensor> { ["denoise"] = loss.detach() });
    }

    /// <summary>The static observation feature z_t; DP has no latent to evolve.</summary>
    protected override (Tensor Condition, LatentStep? Evolve) InferenceLatent(IReadOnlyDictionary<string, Tensor> normalizedObs, bool evolveLatent) =>
        evolveLatent
            ? throw new ArgumentException("InferenceOptions.EvolveLatent = true: Diffusion Policy conditions on a static feature and has no latent to evolve; leave EvolveLatent null or false, or use DP-AG.")
            : (Encode(normalizedObs), null);
}

using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Losses;

/// <summary>DP-AG's loss and its terms (scalars), for the policy's (loss, info) breakdown.</summary>
/// <param name="Total">L = L_DP + lambda_cont L_cont + lambda_KL L_KL.</param>
/// <param name="Denoising">L_DP, the denoising MSE.</param>
/// <param name="Contrastive">L_cont, InfoNCE between static and evolved predictions.</param>
/// <param name="Kl">L_KL, the KL of the posterior to the chosen prior.</param>
public sealed record DpAgLossTerms(Tensor Total, Tensor Denoising, Tensor Contrastive, Tensor Kl);

/// <summary>Combines DP-AG's three loss terms (docs/method.md M7). A pure function of tensors.</summary>
public static class DpAgLoss
{
    /// <summary>Computes every term and the weighted total.</summary>
    /// <param name="prediction">eps_pred = eps_theta(a^k, z, k) from the static latent, (B, Ta, Da).</param>
    /// <param name="noise">The noise added in the forward process, (B, Ta, Da).</param>
    /// <param name="guidedPrediction">eps_guided = eps_theta(a^k, z~, k) from the evolved latent, (B, Ta, Da).</param>
    /// <param name="mu">Posterior mean, (B, To, F).</param>
    /// <param name="logVar">Posterior log-variance, (B, To, F).</param>
    /// <param name="staticLatent">z_t, the prior mean for <see cref="KlPrior.StaticLatent"/>, (B, To, F).</param>
    /// <param name="config">Weights and choices.</param>
    public static DpAgLossTerms Compute(Tensor prediction, Tensor noise, Tensor guidedPrediction, Tensor mu, Tensor logVar, Tensor staticLatent, DpAgLossConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        using var scope = torch.NewDisposeScope();
        var denoising = DenoisingLoss.Mse(prediction, noise, config.DenoisingTargetScale);
        var contrastive = InfoNce.Loss(prediction, guidedPrediction, config.Contrastive);
        var kl = KlDivergence.ToPrior(config.KlPrior, mu, logVar, staticLatent, config.KlReduction);
        var total = denoising.Plus(contrastive.Times(config.ContrastiveWeight)).Plus(kl.Times(config.KlWeight));
        return new DpAgLossTerms(total.MoveToOuterDisposeScope(), denoising.MoveToOuterDisposeScope(), contrastive.MoveToOuterDisposeScope(), kl.MoveToOuterDisposeScope());
    }
}

using DpAg.Data;
using DpAg.Latent;
using DpAg.Losses;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Policies;

/// <summary>
/// DP-AG, the Action-Guided Diffusion Policy (Wang et al., NeurIPS 2025): the observation feature becomes a
/// Gaussian posterior q(z~ | z_t) = N(mu, sigma^2) that the VJP of the noise prediction pushes along,
/// z~ = mu + gamma sigma VJP with VJP = (d eps_theta / d z)^T eps_theta; a contrastive loss ties eps_theta(a^k, mu)
/// and eps_theta(a^k, z~) together and a KL keeps the posterior near its prior (docs/method.md M2-M7).
/// </summary>
/// <remarks>
/// Cost: one training step is a forward with a graph, one backward to the latent only (the VJP; no weight
/// gradients, no second-order graph unless the config asks for gradients through the VJP), one forward without a
/// graph for the guided prediction (when it is detached, as in the released code), and the usual backward. The
/// released code builds the VJP with <c>create_graph = true</c> and then detaches it; this class does not pay for that.
/// In training the latent is evolved by one reparameterised step at the sampled k (both presets); the SDE over all
/// denoising steps runs at inference when <see cref="ActionGuidedConfig.EvolveLatentAtInference"/> is set.
/// </remarks>
public sealed class ActionGuidedDiffusionPolicy : DiffusionPolicyBase
{
    private readonly GaussianPosterior posterior;

    /// <summary>Builds the policy; <paramref name="normalizer"/> is the dataset's (its fields become buffers).</summary>
    public ActionGuidedDiffusionPolicy(ActionGuidedConfig config, LinearNormalizer normalizer) : base(PolicySpec.KindName(PolicyKind.DpAg), config.Validate().Policy, normalizer)
    {
        GuidedConfig = config;
        posterior = new GaussianPosterior(FeatureDim, config.LearnedMean, config.LogVarMin, config.LogVarMax);
        ValidateHorizons();
        RegisterComponents();
    }

    /// <summary>The DP-AG configuration.</summary>
    public ActionGuidedConfig GuidedConfig { get; }

    /// <summary>The Gaussian posterior q(z~ | z_t) = N(mu, sigma^2): feature (B, To, F) -> (mu, log sigma^2, sigma).</summary>
    public GaussianPosterior Posterior => posterior;

    /// <summary>The loss of one normalised batch with its terms: denoise, contrastive, kl.</summary>
    public override LossOutput ComputeLoss(PolicyBatch batch)
    {
        var f = Forward(batch);
        // The prior N(z_t, I) is a fixed reference for the posterior: its mean carries no gradient.
        var terms = DpAgLoss.Compute(f.Prediction, f.Noise, f.GuidedPrediction, f.Mu, f.LogVar, f.Feature.detach(), GuidedConfig.Loss);
        return new LossOutput(terms.Total, new Dictionary<string, Tensor>
        {
            ["denoise"] = terms.Denoising.detach(),
            ["contrastive"] = terms.Contrastive.detach(),
            ["kl"] = terms.Kl.detach(),
        });
    }

    /// <summary>
    /// The two predictions the contrastive loss compares, for one normalised batch (noise and k drawn from the batch's
    /// generator): eps_theta(a^k, mu) and eps_theta(a^k, z~), each (B, T, Da), with the static and evolved latents
    /// (B, To, F). Detached; for alignment and continuity studies (notebooks 04 and 07).
    /// </summary>
    public (Tensor Static, Tensor Guided, Tensor StaticLatent, Tensor GuidedLatent) ContrastivePair(PolicyBatch batch)
    {
        using var scope = torch.NewDisposeScope();
        var f = Forward(batch);
        return (f.Prediction.detach().MoveToOuterDisposeScope(), f.GuidedPrediction.detach().MoveToOuterDisposeScope(),
                f.Mu.detach().MoveToOuterDisposeScope(), f.GuidedLatent.detach().MoveToOuterDisposeScope());
    }

    private sealed record ForwardPass(Tensor Prediction, Tensor Noise, Tensor GuidedPrediction, Tensor Mu, Tensor LogVar, Tensor Feature, Tensor GuidedLatent);

    private ForwardPass Forward(PolicyBatch batch)
    {
        ValidateBatch(batch);
        var (noisy, noise, k) = AddTrainingNoise(batch.Action, batch.Generator);
        var feature = Encode(batch.Obs);                                                    // z_t (B, To, F)
        var (mu, logVar, sigma) = posterior.forward(feature);                               // each (B, To, F)
        // The VJP is taken with respect to the conditioning latent; a low-dim identity encoder gives a latent with
        // no graph, so a leaf copy stands in for it (gradients to the weights still flow through eps).
        var z = mu.requires_grad ? mu : mu.detach().requires_grad_(true);
        var prediction = NoisePredictor.forward(noisy, k, z.flatten(1));                    // eps_theta(a^k, mu) (B, T, Da)
        GuidedLatent guided;
        if (!GuidedConfig.EmulateReleasedVjpCost)
            guided = ActionGuidedSde.Reparameterise(prediction, z, mu, sigma, GuidedConfig.Guidance, keepPredictorGraph: true);
        else
        {
            // The released code's way, for benchmarks: create_graph = true, then detach. Same latent, more work.
            var costly = ActionGuidedSde.Reparameterise(prediction, z, mu, sigma, GuidedConfig.Guidance with { Detach = false }, keepPredictorGraph: true);
            guided = costly with { Latent = mu.Plus(sigma.Times(GuidedConfig.Guidance.Gamma) * costly.Direction.detach()) };
        }
        Tensor guidedPrediction;                                                            // eps_theta(a^k, z~) (B, T, Da)
        if (GuidedConfig.Loss.Contrastive.DetachCandidates)
        {
            using var noGrad = torch.no_grad();
            guidedPrediction = NoisePredictor.forward(noisy, k, guided.Latent.flatten(1));
        }
        else guidedPrediction = NoisePredictor.forward(noisy, k, guided.Latent.flatten(1));
        return new ForwardPass(prediction, noise, guidedPrediction, mu, logVar, feature, guided.Latent);
    }

    /// <inheritdoc/>
    protected override bool EvolvesLatentByDefault => GuidedConfig.EvolveLatentAtInference;

    /// <summary>
    /// The posterior mean mu as the latent and, when evolving: before each reverse step, move the latent by the VJP at
    /// the current noisy actions (from mu, or along the SDE for <see cref="GuidanceForm.Sde"/>), so that the step's
    /// noise is predicted from the evolved latent. Otherwise the static mu, exactly like DP.
    /// </summary>
    protected override (Tensor Condition, LatentStep? Evolve) InferenceLatent(IReadOnlyDictionary<string, Tensor> normalizedObs, bool evolveLatent)
    {
        var (mu, _, sigma) = posterior.forward(Encode(normalizedObs));                     // each (B, To, F)
        if (!evolveLatent) return (mu, null);
        var guidance = GuidedConfig.Guidance with { Detach = true };
        return (mu, (sample, timestep, latent) =>
        {
            using var k = timestep.ToScalar();
            var steps = torch.full(sample.shape[0], k, dtype: int64, device: sample.device);
            Tensor Predict(Tensor z) => NoisePredictor.forward(sample, steps, z.flatten(1));
            using var grad = torch.enable_grad();
            if (guidance.Form == GuidanceForm.Sde)
            {
                // z^{k-1} = z^k + gamma VJP(a^k, z^k) dt + sigma sqrt(dt) dW, accumulated over the reverse steps.
                return ActionGuidedSde.EulerMaruyamaStep(Predict, latent, sigma, guidance).Latent.detach();
            }
            // z~^k = mu + gamma sigma VJP(a^k, mu): the reparameterised step, taken afresh from mu at each k.
            var z = mu.detach().requires_grad_(true);
            return ActionGuidedSde.Reparameterise(Predict(z), z, mu, sigma, guidance, keepPredictorGraph: false).Latent.detach();
        });
    }
}

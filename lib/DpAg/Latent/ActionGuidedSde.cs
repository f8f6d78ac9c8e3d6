using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Latent;

/// <summary>One guided latent: the latent itself and the pieces it was built from (for losses and plots).</summary>
/// <param name="Latent">The guided latent z~, shaped like the input latent.</param>
/// <param name="Vjp">The raw VJP (d eps / d z)^T eps at the input latent (detached unless the config keeps it).</param>
/// <param name="Direction">s * VJP, or s * unit VJP when normalising: the direction actually applied.</param>
public sealed record GuidedLatent(Tensor Latent, Tensor Vjp, Tensor Direction);

/// <summary>
/// DP-AG's action-guided latent evolution (docs/method.md M2-M4 and the released single step), generic in the noise
/// predictor: a predictor is any <c>Func&lt;Tensor, Tensor&gt;</c> from the latent to eps at the current noisy
/// actions a^k and step k, samples independent.
/// </summary>
/// <remarks>
/// <para>Symbols: VJP = (d eps_theta / d z)^T eps_theta (Eq. 2, <see cref="Latent.Vjp"/>), s = config Sign,
/// gamma = config Gamma, d = s * VJP or s * VJP / max(||VJP||, epsilon) (config Normalise, per obs step or per sample).</para>
/// <para>Forms:
/// (1) Released single step: z_guided = mu + sigma * unit_VJP, VJP detached (<see cref="LatentGuidanceConfig.ReleasedCode"/>
/// with <see cref="Reparameterise"/>; <see cref="ReleasedStep"/> is the same with the preset fixed).
/// (2) Paper reparameterisation, Eq. 4: z~ = mu + gamma * sigma * d (<see cref="Reparameterise"/>).
/// (3) Paper SDE, Eq. 3, by Euler-Maruyama over the denoising steps:
/// z^{k-1} = z^k + gamma * d(a^k, z^k) * dt + sigma * sqrt(dt) * dW, dW ~ N(0, I) (<see cref="EulerMaruyamaStep"/>,
/// <see cref="Integrate"/>).</para>
/// <para>Latent layout: (B, To, F) for per-obs-step normalisation (norm over the last dimension); any (B, ...) otherwise.</para>
/// <para>A training step of the released code with these pieces (the policy owns the U-Net and the scheduler):
/// <code>
/// var feature = encoder(obs);                                   // (B, To, F), requires grad through the encoder
/// var (mu, logvar, sigma) = posterior.forward(feature);          // mu = feature (identity head)
/// var epsPred = unet(noisyActions, k, mu.flatten(1));            // (B, T, Da), graph to mu
/// var guided = ActionGuidedSde.ReleasedStep(epsPred, mu, mu, sigma, keepPredictorGraph: true);
/// Tensor epsGuided; using (torch.no_grad()) epsGuided = unet(noisyActions, k, guided.Latent.flatten(1));
/// var terms = DpAgLoss.Compute(epsPred, noise, epsGuided, mu, logvar, feature, DpAgLossConfig.ReleasedCode);
/// </code>
/// The VJP is taken with respect to the tensor the prediction was conditioned on (here mu); it must require grad.</para>
/// <para>With <see cref="LatentGuidanceConfig.Form"/> = <see cref="GuidanceForm.Sde"/> the policy instead calls
/// <see cref="EulerMaruyamaStep"/> once per denoising step, with a predictor closing over that step's a^k and k.</para>
/// </remarks>
public static class ActionGuidedSde
{
    /// <summary>
    /// The guidance direction at a latent: the VJP of eps with respect to z, signed, optionally normalised and detached.
    /// </summary>
    /// <param name="eps">eps_theta(a^k, z, k), (B, T, Da) or any shape, computed from <paramref name="z"/> with grad on.</param>
    /// <param name="z">The latent the prediction was conditioned on, (B, To, F) or (B, ...); must require grad.</param>
    /// <param name="config">Guidance constants (validated here).</param>
    /// <param name="keepPredictorGraph">Keep eps's graph for a later backward (true in training, where the DP loss
    /// is taken on the same eps). Forced when the config keeps a graph through the VJP (Detach = false).</param>
    /// <returns>(raw VJP, direction), both shaped like <paramref name="z"/>.</returns>
    public static (Tensor Vjp, Tensor Direction) Direction(Tensor eps, Tensor z, LatentGuidanceConfig config, bool keepPredictorGraph)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        using var scope = torch.NewDisposeScope();
        bool createGraph = !config.Detach;
        var vjp = Latent.Vjp.Compute(eps, z, null, retainGraph: keepPredictorGraph || createGraph, createGraph: createGraph);
        var direction = config.Normalise ? Normalise(vjp, config.NormEpsilon, config.NormalisePerObsStep) : vjp;
        direction = direction.Times(config.Sign);
        return (vjp.MoveToOuterDisposeScope(), direction.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The discretised VJP reparameterisation z~ = mu + gamma * sigma * d (Eq. 4); with the released preset this is
    /// z_guided = mu + sigma * unit_VJP.
    /// </summary>
    /// <param name="eps">Prediction eps_theta(a^k, z, k) with a graph to <paramref name="z"/>.</param>
    /// <param name="z">The latent the prediction was conditioned on (released code: the feature, equal to mu).</param>
    /// <param name="mu">Posterior mean, shaped like z.</param>
    /// <param name="sigma">Posterior standard deviation, shaped like z (or broadcastable to it).</param>
    /// <param name="config">Guidance constants.</param>
    /// <param name="keepPredictorGraph">See <see cref="Direction"/>.</param>
    public static GuidedLatent Reparameterise(Tensor eps, Tensor z, Tensor mu, Tensor sigma, LatentGuidanceConfig config, bool keepPredictorGraph)
    {
        ArgumentNullException.ThrowIfNull(mu);
        ArgumentNullException.ThrowIfNull(sigma);
        RequireShape(mu, z, nameof(mu));
        using var scope = torch.NewDisposeScope();
        var (vjp, direction) = Direction(eps, z, config, keepPredictorGraph);
        var latent = mu.Plus(sigma.Times(config.Gamma) * direction);
        return new GuidedLatent(latent.MoveToOuterDisposeScope(), vjp.MoveToOuterDisposeScope(), direction.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The released code's single step exactly: VJP detached, unit norm per obs step, z_guided = mu + sigma * unit_VJP.
    /// </summary>
    /// <param name="eps">eps_pred = eps_theta(a^k, feature, k), (B, T, Da), with a graph to <paramref name="feature"/>.</param>
    /// <param name="feature">The encoder feature the model was conditioned on, (B, To, F); requires grad.</param>
    /// <param name="mu">Posterior mean (the feature itself in the released code), (B, To, F).</param>
    /// <param name="sigma">Posterior standard deviation, (B, To, F).</param>
    /// <param name="keepPredictorGraph">Keep eps_pred's graph for the diffusion loss (true in training).</param>
    public static GuidedLatent ReleasedStep(Tensor eps, Tensor feature, Tensor mu, Tensor sigma, bool keepPredictorGraph) =>
        Reparameterise(eps, feature, mu, sigma, LatentGuidanceConfig.ReleasedCode, keepPredictorGraph);

    /// <summary>
    /// One Euler-Maruyama step of the action-guided SDE (Eq. 3): z^{k-1} = z^k + gamma * d(a^k, z^k) * dt
    /// + sigma * sqrt(dt) * dW (noise only when config.Noise).
    /// </summary>
    /// <param name="predictor">z -> eps_theta(a^k, z, k) at the current noisy actions a^k and step k.</param>
    /// <param name="z">z^k, (B, To, F) or (B, ...). It need not require grad: a leaf copy is made when it does not.</param>
    /// <param name="sigma">sigma_phi, broadcastable to z.</param>
    /// <param name="config">Guidance constants (Gamma, Sign, Normalise, Detach, Noise, Dt).</param>
    /// <param name="generator">Random generator for dW; null uses torch's global one.</param>
    /// <returns>z^{k-1} and the pieces of this step (its Vjp and Direction were taken at z^k).</returns>
    public static GuidedLatent EulerMaruyamaStep(Func<Tensor, Tensor> predictor, Tensor z, Tensor sigma, LatentGuidanceConfig config, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(sigma);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        using var scope = torch.NewDisposeScope();
        // The VJP needs a graph from eps to z: reuse z's graph when it has one, otherwise take it at a fresh leaf.
        var zIn = z.requires_grad ? z : z.detach().requires_grad_(true);
        Tensor vjp, direction;
        using (torch.enable_grad())
        {
            var eps = predictor(zIn);
            (vjp, direction) = Direction(eps, zIn, config, keepPredictorGraph: false);
        }
        var next = z.Plus(direction.Times(config.Gamma * config.Dt));
        if (config.Noise)
        {
            var dW = torch.randn(z.shape, dtype: z.dtype, device: z.device, generator: generator);
            next = next.Plus(sigma.Times(Math.Sqrt(config.Dt)) * dW);
        }
        return new GuidedLatent(next.MoveToOuterDisposeScope(), vjp.MoveToOuterDisposeScope(), direction.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Integrates the SDE over <paramref name="steps"/> denoising steps, k = steps .. 1, calling
    /// <paramref name="predictorAtStep"/>(k, z^k) for eps at each step (the caller closes over its own a^k).
    /// </summary>
    /// <returns>The trajectory z^K, z^{K-1}, ..., z^0 (steps + 1 latents; the first is the input).</returns>
    public static IReadOnlyList<Tensor> Integrate(Func<int, Tensor, Tensor> predictorAtStep, Tensor z, Tensor sigma, int steps, LatentGuidanceConfig config, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(predictorAtStep);
        if (steps < 0) throw new ArgumentException($"steps = {steps} is invalid: use the number of denoising steps K >= 0.", nameof(steps));
        var trajectory = new List<Tensor>(steps + 1) { z };
        var current = z;
        for (int k = steps; k >= 1; k--)
        {
            int step = k;
            var result = EulerMaruyamaStep(latent => predictorAtStep(step, latent), current, sigma, config, generator);
            result.Vjp.Dispose();
            result.Direction.Dispose();
            current = result.Latent;
            trajectory.Add(current);
        }
        return trajectory;
    }

    /// <summary>
    /// v / max(||v||, epsilon): per obs step (norm over the last dimension of (B, To, F)) or per sample (norm over
    /// all non-batch dimensions).
    /// </summary>
    public static Tensor Normalise(Tensor v, double epsilon, bool perObsStep)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.shape.Length < 2) throw new ArgumentException($"v has shape [{string.Join(", ", v.shape)}]; expected (B, ...) with at least 2 dimensions.", nameof(v));
        if (!(epsilon > 0)) throw new ArgumentException($"epsilon = {epsilon} is invalid: use a small positive value.", nameof(epsilon));
        using var scope = torch.NewDisposeScope();
        // linalg.norm (its vector_norm overload makes a scalar inside) takes one or two dimensions: per sample, the
        // norm of the flattened (B, F) view, reshaped to broadcast as (B, 1, ..., 1).
        var norm = perObsStep
            ? torch.linalg.norm(v, new[] { (long)v.shape.Length - 1 }, keepdim: true).AtLeast(epsilon)
            : torch.linalg.norm(v.flatten(1), new long[] { 1 }, keepdim: true).AtLeast(epsilon)
                .reshape(new[] { v.shape[0] }.Concat(Enumerable.Repeat(1L, v.shape.Length - 1)).ToArray());
        return (v / norm).MoveToOuterDisposeScope();
    }

    private static void RequireShape(Tensor t, Tensor z, string name)
    {
        if (!t.shape.SequenceEqual(z.shape))
            throw new ArgumentException($"{name} has shape [{string.Join(", ", t.shape)}] but the latent has [{string.Join(", ", z.shape)}]; they must match.", name);
    }
}

using DpAg.Latent;
using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Spirals;

/// <summary>One rollout of a flow: outputs and latents at the requested stamps.</summary>
/// <param name="Outputs">(B, N, 2) decoded positions.</param>
/// <param name="Latents">(B, N, D) latents at the stamps (after any correction).</param>
public sealed record FlowRollout(Tensor Outputs, Tensor Latents) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() { Outputs.Dispose(); Latents.Dispose(); }
}

/// <summary>
/// The Base Flow and the VJP-Guided Flow of the irregular-spirals experiment: an encoder from the observed prefix to
/// the latent z(0), a learned latent vector field f integrated by explicit Euler with a fixed number of sub-steps
/// between consecutive (irregular) stamps, and a decoder z -> (x, y). With a <see cref="FlowGuidanceConfig"/> the latent
/// update adds s * gamma * d(z), d built from the VJP (d dec / d z)^T v (<see cref="GuidanceTarget"/>).
/// </summary>
/// <remarks>
/// Sub-step of the base flow on [t_{i-1}, t_i], h = (t_i - t_{i-1}) / S: z &lt;- z + h f(z).
/// Guided, OutputEnergy: z &lt;- z + h (f(z) + s gamma d(z)), d = VJP(dec(z), v = dec(z)) raw or unit-norm.
/// Guided, PrefixResidual: base sub-steps, then at an observed stamp z_i &lt;- z_i + s gamma d(z_i), v = dec(z_i) - x_i.
/// Both models have the same parameters; guidance adds none.
/// </remarks>
public sealed class SpiralFlow : Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly Sequential field;
    private readonly Sequential decoder;
    private readonly int _observed;
    private readonly int _substeps;

    /// <summary>Builds the flow.</summary>
    /// <param name="observed">K, observed stamps the encoder reads ((t, x, y) each).</param>
    /// <param name="latentDim">D, latent size.</param>
    /// <param name="hidden">Hidden width of the three MLPs.</param>
    /// <param name="substeps">S, Euler sub-steps between consecutive stamps.</param>
    /// <param name="guidance">Null for the Base Flow; the correction's constants for the VJP-Guided Flow.</param>
    public SpiralFlow(int observed, int latentDim, int hidden, int substeps, FlowGuidanceConfig? guidance) : base(nameof(SpiralFlow))
    {
        if (observed < 1) throw new ArgumentException($"SpiralFlow: observed must be at least 1, got {observed}.", nameof(observed));
        if (latentDim < 1) throw new ArgumentException($"SpiralFlow: latentDim must be at least 1, got {latentDim}.", nameof(latentDim));
        if (hidden < 1) throw new ArgumentException($"SpiralFlow: hidden must be at least 1, got {hidden}.", nameof(hidden));
        if (substeps < 1) throw new ArgumentException($"SpiralFlow: substeps must be at least 1, got {substeps}.", nameof(substeps));
        Guidance = guidance?.Validate();
        _observed = observed;
        _substeps = substeps;
        LatentDim = latentDim;
        encoder = Sequential(Linear(3 * observed, hidden), Tanh(), Linear(hidden, hidden), Tanh(), Linear(hidden, latentDim));
        field = Sequential(Linear(latentDim, hidden), Tanh(), Linear(hidden, hidden), Tanh(), Linear(hidden, latentDim));
        decoder = Sequential(Linear(latentDim, hidden), Tanh(), Linear(hidden, 2));
        RegisterComponents();
    }

    /// <summary>The correction's constants; null for the Base Flow.</summary>
    public FlowGuidanceConfig? Guidance { get; }

    /// <summary>D, the latent size.</summary>
    public int LatentDim { get; }

    /// <summary>The encoder: (B, K, 3) observed (t, x, y) -> z(0), (B, D).</summary>
    public override Tensor forward(Tensor prefix)
    {
        if (prefix.dim() != 3 || prefix.shape[1] != _observed || prefix.shape[2] != 3)
            throw new ArgumentException($"SpiralFlow: the prefix must be (B, K = {_observed}, 3), got ({string.Join(", ", prefix.shape)}).", nameof(prefix));
        return encoder.forward(prefix.reshape(prefix.shape[0], 3 * _observed));                   // (B, K, 3) -> (B, 3K) -> (B, D)
    }

    /// <summary>The decoder: (..., D) -> (..., 2).</summary>
    public Tensor Decode(Tensor z) => decoder.forward(z);

    /// <summary>
    /// Integrates from z(0) = encoder(prefix) at t = 0 to each stamp and decodes.
    /// </summary>
    /// <param name="prefix">(B, K, 3) observed (t, x, y).</param>
    /// <param name="times">(B, N) increasing stamps in [0, 1] (irregular, or a regular grid for figures).</param>
    /// <param name="observations">(B, N, 2) values at the stamps; read only by PrefixResidual at observed stamps.</param>
    /// <param name="observedMask">(B, N) 1 at observed stamps; read only by PrefixResidual.</param>
    /// <param name="guided">False runs this model without its correction (the unguided twin for the contrastive term).</param>
    public FlowRollout Rollout(Tensor prefix, Tensor times, Tensor? observations = null, Tensor? observedMask = null, bool guided = true)
    {
        if (times.dim() != 2 || times.shape[0] != prefix.shape[0])
            throw new ArgumentException($"SpiralFlow: times must be (B = {prefix.shape[0]}, N), got ({string.Join(", ", times.shape)}).", nameof(times));
        var g = guided ? Guidance : null;
        bool residual = g is { Target: GuidanceTarget.PrefixResidual };
        if (residual && (observations is null || observedMask is null))
            throw new ArgumentException("SpiralFlow: the PrefixResidual correction needs observations and observedMask.", nameof(observations));
        using var scope = torch.NewDisposeScope();
        long n = times.shape[1];
        var z = forward(prefix);                                                                // (B, D)
        var tPrev = torch.zeros_like(times.select(1, 0));                                       // (B)
        var latents = new List<Tensor>((int)n);
        for (long i = 0; i < n; i++)
        {
            var ti = times.select(1, i);                                                        // (B)
            var h = (ti - tPrev).DividedBy(_substeps).unsqueeze(1);                              // (B, 1)
            for (int s = 0; s < _substeps; s++)
            {
                var velocity = field.forward(z);                                                // (B, D)
                if (g is { Target: GuidanceTarget.OutputEnergy } && g.Gamma > 0)
                    velocity = velocity.Plus(Direction(z, null, g).Times(g.Sign * g.Gamma));
                z = z.Plus(h * velocity);
            }
            if (residual && g!.Gamma > 0)
            {
                var mask = observedMask!.select(1, i).to(z.dtype).unsqueeze(1);                 // (B, 1)
                var target = observations!.select(1, i);                                        // (B, 2)
                z = z.Plus(mask.Times(g.Sign * g.Gamma) * Direction(z, target, g));
            }
            latents.Add(z);
            tPrev = ti;
        }
        var zs = torch.stack(latents, 1);                                                       // (B, N, D)
        var outputs = decoder.forward(zs);                                                      // (B, N, 2)
        return new FlowRollout(outputs.MoveToOuterDisposeScope(), zs.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The correction direction at z: VJP = (d dec / d z)^T v with v = dec(z) (target null) or v = dec(z) - target,
    /// raw or unit-norm per sample. Differentiable (create_graph) unless detached or grad is off.
    /// </summary>
    /// <param name="z">(B, D) latent.</param>
    /// <param name="target">(B, 2) observed values, or null for the output-energy VJP.</param>
    /// <param name="g">Guidance constants.</param>
    /// <returns>(B, D) direction (without sign and gamma).</returns>
    public Tensor Direction(Tensor z, Tensor? target, FlowGuidanceConfig g)
    {
        ArgumentNullException.ThrowIfNull(g);
        using var scope = torch.NewDisposeScope();
        bool differentiable = !g.DetachVjp && torch.is_grad_enabled() && z.requires_grad;
        Tensor vjp;
        if (differentiable)
        {
            var output = decoder.forward(z);                                                    // (B, 2)
            var v = target is null ? output : output - target;
            vjp = Vjp.Compute(output, z, v, retainGraph: true, createGraph: true);              // (B, D)
        }
        else
        {
            using var _ = torch.enable_grad();
            var leaf = z.detach().requires_grad_(true);                                         // fresh leaf: no graph upstream
            var output = decoder.forward(leaf);                                                 // (B, 2)
            var v = (target is null ? output : output - target).detach();
            vjp = Vjp.Compute(output, leaf, v, retainGraph: false, createGraph: false);         // (B, D), detached
        }
        var direction = g.Normalisation == VjpNormalisation.Released ? ActionGuidedSde.Normalise(vjp, g.NormEpsilon, perObsStep: true) : vjp;
        return direction.MoveToOuterDisposeScope();
    }
}

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
/// The Base Flow and the VJP-Guided Flow of the irregular-spirals experiment (docs/spirals.md): an encoder from the
/// observed prefix to the latent z(0), a learned latent vector field f integrated by <see cref="OdeSolver"/> (RK4 on a
/// fine grid by default), and a decoder z -> (x, y). With a <see cref="FlowGuidanceConfig"/> the latent dynamics add
/// s * gamma * d(z), d built from the VJP (d dec / d z)^T v (<see cref="GuidanceTarget"/>).
/// </summary>
/// <remarks>
/// Base: dz/dt = f(z). Guided, OutputEnergy: dz/dt = f(z) + s gamma d(z), d = VJP(dec(z), v = dec(z)) raw or unit-norm,
/// over the whole time span (prefix and extrapolation). Guided, PrefixResidual: the base flow stepped stamp to stamp, and
/// at an observed stamp z_i &lt;- z_i + s gamma d(z_i), v = dec(z_i) - x_i. Both models have the same parameters;
/// guidance adds none. The decoder has one hidden tanh layer, so its VJP has a closed form
/// (<see cref="Direction"/>): W1^T [(1 - a^2) * (W2^T v)], a = tanh(W1 z + b1), with no call into autograd.
/// </remarks>
public sealed class SpiralFlow : Module<Tensor, Tensor>
{
    private readonly Sequential encoder;
    private readonly Sequential field;
    private readonly Linear decoder_hidden;
    private readonly Linear decoder_out;
    private readonly int _observed;

    /// <summary>Builds the flow.</summary>
    /// <param name="observed">K, observed stamps the encoder reads ((t, x, y) each).</param>
    /// <param name="latentDim">D, latent size.</param>
    /// <param name="hidden">Hidden width of the three MLPs.</param>
    /// <param name="solver">How the latent ODE is integrated.</param>
    /// <param name="guidance">Null for the Base Flow; the correction's constants for the VJP-Guided Flow.</param>
    public SpiralFlow(int observed, int latentDim, int hidden, OdeSolverConfig solver, FlowGuidanceConfig? guidance) : base(nameof(SpiralFlow))
    {
        if (observed < 1) throw new ArgumentException($"SpiralFlow: observed must be at least 1, got {observed}.", nameof(observed));
        if (latentDim < 1) throw new ArgumentException($"SpiralFlow: latentDim must be at least 1, got {latentDim}.", nameof(latentDim));
        if (hidden < 1) throw new ArgumentException($"SpiralFlow: hidden must be at least 1, got {hidden}.", nameof(hidden));
        ArgumentNullException.ThrowIfNull(solver);
        Solver = solver.Validate();
        Guidance = guidance?.Validate();
        if (Guidance is { Target: GuidanceTarget.PrefixResidual } && Solver.DenseGrid)
            Solver = Solver with { DenseGrid = false };                                          // the correction jumps at stamps
        _observed = observed;
        LatentDim = latentDim;
        encoder = Sequential(Linear(3 * observed, hidden), Tanh(), Linear(hidden, hidden), Tanh(), Linear(hidden, latentDim));
        field = Sequential(Linear(latentDim, hidden), Tanh(), Linear(hidden, hidden), Tanh(), Linear(hidden, latentDim));
        decoder_hidden = Linear(latentDim, hidden);
        decoder_out = Linear(hidden, 2);
        RegisterComponents();
    }

    /// <summary>
    /// Re-draws every weight and bias from a generator seeded with <paramref name="seed"/>, as PyTorch's Linear default
    /// does (uniform in +-1/sqrt(fan_in)), without touching torch's global generator: two models built with the same seed
    /// start identical even while other threads draw random numbers (the sweep's paired seeds run in parallel).
    /// </summary>
    public SpiralFlow Initialise(long seed)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var layer in modules().OfType<Linear>())
        {
            double bound = 1.0 / Math.Sqrt(layer.weight!.shape[1]);
            foreach (var p in new[] { layer.weight!, layer.bias! })
            {
                var draw = torch.rand(p.shape, dtype: p.dtype, generator: generator).Times(2 * bound).Minus(bound);
                p.copy_(draw.to(p.device));
            }
        }
        return this;
    }

    /// <summary>The correction's constants; null for the Base Flow.</summary>
    public FlowGuidanceConfig? Guidance { get; }

    /// <summary>The solver (stamp to stamp whenever the correction is <see cref="GuidanceTarget.PrefixResidual"/>).</summary>
    public OdeSolverConfig Solver { get; }

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
    public Tensor Decode(Tensor z) => decoder_out.forward(decoder_hidden.forward(z).tanh());

    /// <summary>The latent velocity the solver integrates: f(z), plus s gamma d(z) for the guided OutputEnergy flow.</summary>
    /// <param name="z">(B, D).</param>
    /// <param name="guided">False: f alone (the unguided twin).</param>
    public Tensor Velocity(Tensor z, bool guided = true)
    {
        var g = guided ? Guidance : null;
        var velocity = field.forward(z);                                                        // (B, D)
        if (g is { Target: GuidanceTarget.OutputEnergy } && g.Gamma > 0)
            velocity = velocity.Plus(Direction(z, null, g).Times(g.Sign * g.Gamma));
        return velocity;
    }

    /// <summary>
    /// Integrates from z(0) = encoder(prefix) at t = 0 to each stamp and decodes.
    /// </summary>
    /// <param name="prefix">(B, K, 3) observed (t, x, y).</param>
    /// <param name="times">(B, N) increasing stamps in [0, 1] (irregular, or a regular grid for figures).</param>
    /// <param name="observations">(B, N, 2) values at the stamps; read only by PrefixResidual at observed stamps.</param>
    /// <param name="observedMask">(B, N) 1 at observed stamps; read only by PrefixResidual.</param>
    /// <param name="guided">False runs this model without its correction (the unguided twin for the contrastive term).</param>
    /// <param name="solver">Another solver for this call (e.g. a finer step to measure the model's own solver error).</param>
    public FlowRollout Rollout(Tensor prefix, Tensor times, Tensor? observations = null, Tensor? observedMask = null, bool guided = true,
        OdeSolverConfig? solver = null)
    {
        if (times.dim() != 2 || times.shape[0] != prefix.shape[0])
            throw new ArgumentException($"SpiralFlow: times must be (B = {prefix.shape[0]}, N), got ({string.Join(", ", times.shape)}).", nameof(times));
        var g = guided ? Guidance : null;
        bool residual = g is { Target: GuidanceTarget.PrefixResidual };
        if (residual && (observations is null || observedMask is null))
            throw new ArgumentException("SpiralFlow: the PrefixResidual correction needs observations and observedMask.", nameof(observations));
        var config = solver ?? Solver;
        if (residual && config.DenseGrid) config = config with { DenseGrid = false };
        using var scope = torch.NewDisposeScope();
        var z0 = forward(prefix);                                                               // (B, D)
        Func<long, Tensor, Tensor>? jump = null;
        if (residual && g!.Gamma > 0)
            jump = (i, z) =>
            {
                var mask = observedMask!.select(1, i).to(z.dtype).unsqueeze(1);                 // (B, 1)
                var target = observations!.select(1, i);                                        // (B, 2)
                return z.Plus(mask.Times(g.Sign * g.Gamma) * Direction(z, target, g));
            };
        var zs = OdeSolver.Solve(z => Velocity(z, guided), z0, times, config, jump);            // (B, N, D)
        var outputs = Decode(zs);                                                               // (B, N, 2)
        return new FlowRollout(outputs.MoveToOuterDisposeScope(), zs.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The correction direction at z: VJP = (d dec / d z)^T v with v = dec(z) (target null) or v = dec(z) - target,
    /// raw or unit-norm per sample, in closed form W1^T [(1 - a^2) * (W2^T v)] with a = tanh(W1 z + b1).
    /// Differentiable (the graph runs through v, a and the weights) unless detached, grad is off or z carries no graph.
    /// </summary>
    /// <param name="z">(B, D) latent.</param>
    /// <param name="target">(B, 2) observed values, or null for the output-energy VJP.</param>
    /// <param name="g">Guidance constants.</param>
    /// <returns>(B, D) direction (without sign and gamma).</returns>
    public Tensor Direction(Tensor z, Tensor? target, FlowGuidanceConfig g)
    {
        ArgumentNullException.ThrowIfNull(g);
        using var scope = torch.NewDisposeScope();
        bool differentiable = !g.Detach && torch.is_grad_enabled() && z.requires_grad;
        Tensor vjp;
        using (differentiable ? null : torch.no_grad())
        {
            var zIn = differentiable ? z : z.detach();
            var a = decoder_hidden.forward(zIn).tanh();                                         // (B, H)
            var output = decoder_out.forward(a);                                                // (B, 2)
            var v = target is null ? output : output - target;                                  // (B, 2)
            var back = v.matmul(decoder_out.weight!) * a.Squared().SubtractedFrom(1.0);         // (B, 2) x (2, H) -> (B, H)
            vjp = back.matmul(decoder_hidden.weight!);                                          // (B, H) x (H, D) -> (B, D)
        }
        var direction = g.Normalise ? ActionGuidedSde.Normalise(vjp, g.NormEpsilon, perObsStep: true) : vjp;
        return direction.MoveToOuterDisposeScope();
    }
}

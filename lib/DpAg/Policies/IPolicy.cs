using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Policies;

// Shape vocabulary (Diffusion Policy's): B batch, T prediction horizon, To observation steps, Ta executed action
// steps, Do observation feature dim, Da action dim. Within the horizon, index 0 is the oldest observation step and
// the executed window is [To - 1, To - 1 + Ta) (the action taken at the latest observation and the next Ta - 1),
// as in Diffusion Policy; this requires Ta <= T - To + 1.
//
//   index:      0 ... To-2 | To-1 ... To-2+Ta | ... T-1
//   obs:        o   ...  o |  o (latest)       |
//   action:     a   ...  a |  A ...  A (exec)  | a ... a

/// <summary>
/// One training batch: observation histories and the action sequences to learn.
/// </summary>
/// <param name="Obs">
/// Observation tensors by key, each (B, To, ...): e.g. <c>"obs"</c> (B, To, Do) for low-dim state, <c>"image"</c>
/// (B, To, C, H, W) and <c>"agent_pos"</c> (B, To, 2) for images. Keys are policy-specific; values are normalised or
/// raw as the policy documents (the kit's policies normalise inside, at their boundary).
/// </param>
/// <param name="Action">Action sequences (B, T, Da).</param>
public sealed record PolicyBatch(IReadOnlyDictionary<string, Tensor> Obs, Tensor Action)
{
    /// <summary>
    /// The generator a policy should draw its training randomness from (diffusion steps, noise, augmentation), on
    /// the batch's device. The trainer sets a fresh one per step, seeded from (run seed, step), so that a resumed run
    /// repeats the same draws whatever else uses torch's global generator; null means the global generator.
    /// </summary>
    public Generator? Generator { get; init; }

    /// <summary>B, the batch size (the first dimension of <see cref="Action"/>).</summary>
    public long BatchSize => Action.shape[0];

    /// <summary>Copies every tensor to <paramref name="device"/> (no copy when it is already there).</summary>
    public PolicyBatch To(Device device) => new(
        Obs.ToDictionary(kv => kv.Key, kv => kv.Value.device == device ? kv.Value : kv.Value.to(device)),
        Action.device == device ? Action : Action.to(device)) { Generator = Generator };

    /// <summary>
    /// Checks the shapes shared by every policy: <see cref="Action"/> is (B, T, Da) and every observation is
    /// (B, To, ...) with the same B. Throws <see cref="ArgumentException"/> naming the key and the shapes found.
    /// </summary>
    public void Validate()
    {
        if (Action.dim() != 3)
            throw new ArgumentException($"PolicyBatch.Action must be (B, T, Da); got shape ({string.Join(", ", Action.shape)}).");
        long b = Action.shape[0];
        if (Obs.Count == 0) throw new ArgumentException("PolicyBatch.Obs is empty; a policy needs at least one observation key.");
        foreach (var (key, value) in Obs)
        {
            if (value.dim() < 2 || value.shape[0] != b)
                throw new ArgumentException(
                    $"PolicyBatch.Obs[\"{key}\"] must be (B, To, ...) with B = {b} (from Action); got shape ({string.Join(", ", value.shape)}).");
        }
    }
}

/// <summary>
/// What <see cref="IPolicy.ComputeLoss"/> returns: the scalar to minimise and its parts, for logging.
/// </summary>
/// <param name="Loss">The total loss, a 0-dim tensor attached to the autograd graph (the trainer calls backward on it).</param>
/// <param name="Terms">
/// Named parts of the loss (0-dim tensors; detached or not, the trainer only reads them), e.g. <c>"denoise"</c>,
/// <c>"kl"</c>, <c>"infonce"</c>. They need not sum to <see cref="Loss"/> (weights may apply). Names are logged as CSV
/// columns: letters, digits, '_', '.', '/' only; <c>loss</c>, <c>step</c>, <c>lr</c>, <c>grad_norm</c> and
/// <c>ema_decay</c> are reserved. A policy with a single term may pass an empty dictionary.
/// </param>
public sealed record LossOutput(Tensor Loss, IReadOnlyDictionary<string, Tensor> Terms)
{
    /// <summary>Names the trainer uses for its own log columns; a term may not take them.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string> { "step", "loss", "lr", "grad_norm", "ema_decay" };

    /// <summary>A loss with no breakdown.</summary>
    public LossOutput(Tensor loss) : this(loss, new Dictionary<string, Tensor>()) { }
}

/// <summary>
/// The contract every policy (Diffusion Policy baseline, DP-AG) implements, LeRobot-style; one trainer serves all.
/// Implementations derive from <see cref="PolicyBase"/> so that parameters, buffers and state dicts work.
/// </summary>
public interface IPolicy
{
    /// <summary>A short, stable name (<c>"dp"</c>, <c>"dp-ag"</c>), used in run folders and reports.</summary>
    string Name { get; }

    /// <summary>To: how many observation steps the policy conditions on.</summary>
    int ObsSteps { get; }

    /// <summary>T: the horizon of a predicted action sequence.</summary>
    int Horizon { get; }

    /// <summary>Ta: how many actions of each predicted sequence are executed; Ta &lt;= T - To + 1.</summary>
    int ActionSteps { get; }

    /// <summary>Da: the action dimension.</summary>
    int ActionDim { get; }

    /// <summary>
    /// The training loss of one batch, with its breakdown. Called in training mode with gradients enabled. Draw
    /// randomness (diffusion steps, noise, augmentation) from <see cref="PolicyBatch.Generator"/>; the trainer also
    /// seeds torch's global generator from (run seed, step) before every step, for what cannot take a generator
    /// (dropout). Either way a resumed run repeats the same draws.
    /// </summary>
    /// <param name="batch">Obs (B, To, ...) and Action (B, T, Da).</param>
    LossOutput ComputeLoss(PolicyBatch batch);

    /// <summary>
    /// Predicts a whole action sequence (B, T, Da) in unnormalised action units from observation histories
    /// (B, To, ...) under <c>no_grad</c> (callers should also put the module in eval mode). The executed part is
    /// <see cref="PolicyBase.ExecutableActions"/>.
    /// </summary>
    /// <param name="obs">Observation tensors by key, each (B, To, ...), the same keys as in training.</param>
    /// <param name="generator">Generator for the sampler's noise; null uses torch's global generator.</param>
    Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator = null);
}

/// <summary>
/// Base class of every policy: a TorchSharp module (so <c>parameters()</c>, <c>state_dict()</c>, <c>save</c>/<c>load</c>
/// work, and the trainer can checkpoint and average it) that implements <see cref="IPolicy"/>.
/// Subclasses implement <see cref="ComputeLoss"/> and <see cref="PredictActionChunk"/>, keep normaliser statistics as
/// buffers or frozen parameters (so they travel with checkpoints), and call <c>RegisterComponents()</c> last in their
/// constructor.
/// </summary>
public abstract class PolicyBase : nn.Module, IPolicy
{
    /// <summary>Creates the module; <paramref name="name"/> is also <see cref="Name"/>.</summary>
    protected PolicyBase(string name) : base(name) { }

    /// <inheritdoc/>
    public string Name => GetName();

    /// <inheritdoc/>
    public abstract int ObsSteps { get; }

    /// <inheritdoc/>
    public abstract int Horizon { get; }

    /// <inheritdoc/>
    public abstract int ActionSteps { get; }

    /// <inheritdoc/>
    public abstract int ActionDim { get; }

    /// <inheritdoc/>
    public abstract LossOutput ComputeLoss(PolicyBatch batch);

    /// <inheritdoc/>
    public abstract Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator = null);

    /// <summary>The executed window of a predicted chunk: (B, T, Da) -> (B, Ta, Da), indices [To - 1, To - 1 + Ta).</summary>
    public Tensor ExecutableActions(Tensor chunk)
    {
        if (chunk.dim() != 3 || chunk.shape[1] != Horizon)
            throw new ArgumentException($"Expected an action chunk (B, T={Horizon}, Da); got shape ({string.Join(", ", chunk.shape)}).");
        long start = ObsSteps - 1;
        return chunk.narrow(1, start, ActionSteps); // (B, Ta, Da)
    }

    /// <summary>
    /// Checks that (To, T, Ta) fit together: To &gt;= 1, Ta &gt;= 1 and Ta &lt;= T - To + 1. Call from the subclass
    /// constructor; throws <see cref="ArgumentException"/> naming the values.
    /// </summary>
    protected void ValidateHorizons()
    {
        if (ObsSteps < 1 || ActionSteps < 1 || ActionSteps > Horizon - ObsSteps + 1)
            throw new ArgumentException(
                $"Policy '{Name}': need To >= 1, Ta >= 1 and Ta <= T - To + 1; got To={ObsSteps}, T={Horizon}, Ta={ActionSteps}. " +
                "Lower n_action_steps or raise the horizon.");
    }
}

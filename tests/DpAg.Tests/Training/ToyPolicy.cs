using DpAg.Policies;
using DpAg.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DpAg.Tests.Training;

/// <summary>
/// A tiny policy for trainer tests: an MLP maps the flattened observation history (B, To*Do) to an action sequence
/// (B, T*Da). Training adds Gaussian noise to the observations from torch's global generator, so resume tests
/// exercise the trainer's per-step seeding. Holds a buffer (an action scale) so checkpoints must carry buffers.
/// </summary>
internal sealed class ToyPolicy : PolicyBase
{
    private readonly Sequential net;
    private readonly Tensor action_scale;
    private readonly Parameter spare;
    private readonly int _obsDim;
    private long _calls;

    public ToyPolicy(int obsDim = 3, int obsSteps = 2, int horizon = 4, int actionSteps = 2, int actionDim = 2, int hidden = 32, double obsNoise = 0.05)
        : base("toy")
    {
        _obsDim = obsDim;
        ObsSteps = obsSteps;
        Horizon = horizon;
        ActionSteps = actionSteps;
        ActionDim = actionDim;
        ObsNoise = obsNoise;
        net = Sequential(Linear(obsSteps * obsDim, hidden), Mish(), Linear(hidden, hidden), Mish(), Linear(hidden, horizon * actionDim));
        action_scale = torch.ones(actionDim);
        spare = new Parameter(torch.zeros(3), requires_grad: false);
        ValidateHorizons();
        RegisterComponents();
    }

    public override int ObsSteps { get; }
    public override int Horizon { get; }
    public override int ActionSteps { get; }
    public override int ActionDim { get; }

    public double ObsNoise { get; }

    /// <summary>Draw the observation noise from torch's global generator instead of the batch's.</summary>
    public bool NoiseFromGlobalGenerator { get; set; }

    /// <summary>Makes the "l1" term NaN on the ComputeLoss call with this 0-based index (per instance).</summary>
    public long? PoisonCall { get; set; }

    /// <summary>Fills the (unused, frozen) parameter "spare" with infinities on this call: state corruption that no loss shows.</summary>
    public long? CorruptCall { get; set; }

    /// <summary>Multiplies the "l1" term on this call (an exploding loss).</summary>
    public (long call, double factor)? ExplodeCall { get; set; }

    private Tensor Forward(Tensor obs)
    {
        long b = obs.shape[0];
        var flat = obs.reshape(b, ObsSteps * _obsDim);               // (B, To*Do)
        return net.forward(flat).reshape(b, Horizon, ActionDim) * action_scale; // (B, T, Da)
    }

    public override LossOutput ComputeLoss(PolicyBatch batch)
    {
        long call = _calls++;
        var obs = batch.Obs["obs"];                                      // (B, To, Do)
        if (ObsNoise > 0)
            obs = obs + ObsNoise * (NoiseFromGlobalGenerator || batch.Generator is null
                ? torch.randn_like(obs)
                : torch.randn(obs.shape, dtype: obs.dtype, device: obs.device, generator: batch.Generator));
        var pred = Forward(obs);                                         // (B, T, Da)
        var mse = functional.mse_loss(pred, batch.Action);
        var l1 = (pred - batch.Action).abs().mean();
        if (PoisonCall == call) l1 = l1 * double.NaN;
        if (ExplodeCall is { } e && e.call == call) l1 = l1 * e.factor;
        var loss = mse + 0.1 * l1;
        if (CorruptCall == call) using (torch.no_grad()) spare.fill_(double.PositiveInfinity);
        return new LossOutput(loss, new Dictionary<string, Tensor> { ["mse"] = mse, ["l1"] = l1 });
    }

    public override Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator = null)
    {
        using var noGrad = torch.no_grad();
        return Forward(obs["obs"]);
    }
}

/// <summary>A small synthetic regression set for the toy policy: actions are a fixed smooth function of observations.</summary>
internal static class ToyData
{
    public static TensorBatchSource Make(int n = 64, int obsDim = 3, int obsSteps = 2, int horizon = 4, int actionDim = 2, long seed = 7)
    {
        using var gen = new Generator((ulong)seed);
        var obs = torch.randn(new long[] { n, obsSteps, obsDim }, generator: gen);                   // (N, To, Do)
        var w = torch.randn(new long[] { obsSteps * obsDim, horizon * actionDim }, generator: gen) * 0.5;
        var action = torch.tanh(obs.reshape(n, -1).matmul(w)).reshape(n, horizon, actionDim);        // (N, T, Da)
        return new TensorBatchSource(new Dictionary<string, Tensor> { ["obs"] = obs }, action);
    }

    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "dpag-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static TrainConfig Config(string runDir) => new()
    {
        RunDir = runDir,
        Steps = 12,
        BatchSize = 16,
        LearningRate = 3e-3,
        WarmupSteps = 3,
        CheckpointEvery = 4,
        KeepLastCheckpoints = 2,
        Seed = 123,
    };

    public static TrainerOptions Quiet => new() { ConsoleWriter = TextWriter.Null };
}

using DpAg.Data;
using DpAg.Diffusion;
using DpAg.Nets;
using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Policies;

/// <summary>
/// What Diffusion Policy and DP-AG share: the observation encoder, the conditional U-Net, the noise schedule, the
/// normaliser and the reverse-process loop. The two policies are siblings over this base and differ only in how the
/// U-Net is conditioned (a static feature, or a latent evolved by the action's VJP) and in their losses.
/// </summary>
/// <remarks>
/// Normalisation happens at the policy boundary: training batches arrive normalised (the dataset applies the same
/// <see cref="LinearNormalizer"/> the policy was built with), while <c>PredictActionChunk</c> takes raw
/// observations from the environment and returns raw actions. The normaliser's scale and offset are buffers, so they
/// travel with every checkpoint.
/// </remarks>
public abstract class DiffusionPolicyBase : PolicyBase
{
    private readonly nn.Module<Tensor, Tensor> obs_encoder;
    private readonly ConditionalUnet1D model;
    private readonly IObsEncoder _encoder;
    private readonly INoiseScheduler _trainingSchedule;
    private readonly string[] _normalizedKeys;

    /// <summary>Builds the shared parts from <paramref name="config"/> and a normaliser fitted on the training data.</summary>
    protected DiffusionPolicyBase(string name, DiffusionPolicyConfig config, LinearNormalizer normalizer) : base(name)
    {
        ArgumentNullException.ThrowIfNull(normalizer);
        Config = config.Validate();
        if (config.Observation == ObservationKind.LowDim)
        {
            var encoder = new LowDimObsEncoder(config.LowDimObsDim);
            obs_encoder = encoder; _encoder = encoder;
        }
        else
        {
            var encoder = new ResNet18Encoder(config.ImageEncoder);
            obs_encoder = encoder; _encoder = encoder;
        }
        model = config.CreateUnet();
        // Some CPUs' oneDNN computes some U-Net widths wrongly (docs: ConvolutionGuard); checked once per shape.
        ConvolutionGuard.EnsureCorrect(model, config.Horizon);
        _trainingSchedule = new DdpmScheduler(new DdpmSchedulerConfig(config.NumTrainTimesteps, config.BetaSchedule));
        _normalizedKeys = RequiredNormalizerKeys(config).ToArray();
        foreach (var key in _normalizedKeys)
        {
            if (!normalizer.ContainsKey(key))
                throw new ArgumentException($"The normaliser has no field '{key}' (it has [{string.Join(", ", normalizer.Keys)}]); fit it on a dataset with {config.Observation} observations.");
            var field = normalizer[key];
            register_buffer($"normalizer_{key}_scale", torch.tensor(field.Scale));
            register_buffer($"normalizer_{key}_offset", torch.tensor(field.Offset));
        }
    }

    /// <summary>The validated configuration.</summary>
    public DiffusionPolicyConfig Config { get; }

    /// <summary>
    /// How <see cref="PredictActionChunk(IReadOnlyDictionary{string, Tensor}, Generator?)"/> samples: the config's
    /// sampler and steps (<see cref="DiffusionPolicyConfig.Sampler"/>, <see cref="DiffusionPolicyConfig.NumInferenceSteps"/>),
    /// output scale 1, and the policy's own choice of latent evolution.
    /// </summary>
    public InferenceOptions DefaultInference => new(Config.Sampler, Config.NumInferenceSteps) { EvolveLatent = EvolvesLatentByDefault };

    /// <summary>Whether the policy evolves its latent when the options leave it open (DP: never).</summary>
    protected virtual bool EvolvesLatentByDefault => false;

    /// <inheritdoc/>
    public override int ObsSteps => Config.ObsSteps;
    /// <inheritdoc/>
    public override int Horizon => Config.Horizon;
    /// <inheritdoc/>
    public override int ActionSteps => Config.ActionSteps;
    /// <inheritdoc/>
    public override int ActionDim => Config.ActionDim;

    /// <summary>The noise predictor eps_theta(a^k, k, global condition), for notebooks that take the method apart.</summary>
    public ConditionalUnet1D NoisePredictor => model;

    /// <summary>eps_theta(a^k, k, z): noisy actions (B, T, Da), steps (B), latent (B, To, F) -> predicted noise (B, T, Da).</summary>
    public Tensor PredictNoise(Tensor noisyActions, Tensor timesteps, Tensor latent) => model.forward(noisyActions, timesteps, latent.flatten(1));

    /// <summary>The forward process used in training (the DDPM schedule over <c>NumTrainTimesteps</c>).</summary>
    public INoiseScheduler TrainingSchedule => _trainingSchedule;

    /// <summary>Features per observation step: F.</summary>
    protected int FeatureDim => _encoder.FeatureDimPerStep;

    /// <summary>The observation feature z_t per step: normalised obs (B, To, ...) -> (B, To, F).</summary>
    public Tensor Encode(IReadOnlyDictionary<string, Tensor> normalizedObs)
    {
        var flat = _encoder.Encode(normalizedObs);                       // (B, To*F)
        return flat.view(flat.shape[0], ObsSteps, FeatureDim);          // (B, To, F)
    }

    /// <summary>Draws the training noise and steps, and noises the actions: returns (a^k, eps, k).</summary>
    protected (Tensor Noisy, Tensor Noise, Tensor Timesteps) AddTrainingNoise(Tensor action, Generator? generator)
    {
        var noise = torch.randn(action.shape, dtype: action.dtype, device: action.device, generator: generator);       // (B, T, Da)
        var k = torch.randint(0, Config.NumTrainTimesteps, [action.shape[0]], dtype: int64, device: action.device, generator: generator); // (B)
        return (_trainingSchedule.AddNoise(action, noise, k), noise, k);
    }

    /// <summary>Checks the batch against this policy's shapes before any work.</summary>
    protected void ValidateBatch(PolicyBatch batch)
    {
        batch.Validate();
        if (batch.Action.shape[1] != Horizon || batch.Action.shape[2] != ActionDim)
            throw new ArgumentException($"Policy '{Name}': Action must be (B, T={Horizon}, Da={ActionDim}); got ({string.Join(", ", batch.Action.shape)}).");
        foreach (var (key, value) in batch.Obs)
            if (value.shape[1] != ObsSteps)
                throw new ArgumentException($"Policy '{Name}': Obs[\"{key}\"] must have To={ObsSteps} steps; got ({string.Join(", ", value.shape)}).");
    }

    /// <summary>Normalises raw observations (B, To, ...) with the policy's buffers.</summary>
    public IReadOnlyDictionary<string, Tensor> NormalizeObs(IReadOnlyDictionary<string, Tensor> obs)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in obs)
        {
            if (_normalizedKeys.Contains(key)) result[key] = (value * Buffer($"normalizer_{key}_scale")).Plus(Buffer($"normalizer_{key}_offset"));
            else throw new ArgumentException($"Policy '{Name}' does not use the observation key '{key}'; it expects [{string.Join(", ", _normalizedKeys.Where(k => k != "action"))}].");
        }
        return result;
    }

    /// <summary>Maps normalised actions (B, T, Da) back to environment units.</summary>
    public Tensor UnnormalizeAction(Tensor action)
    {
        var scale = Buffer("normalizer_action_scale");
        var offset = Buffer("normalizer_action_offset");
        // Degenerate dimensions (scale 0) carry no information; they map back to the offset's pre-image 0.
        using var zero = 0.ToScalar();
        var safe = torch.where(scale.eq(zero), torch.ones_like(scale), scale);
        return (action - offset) / safe;
    }

    /// <summary>
    /// The per-step hook of the reverse loop: (a^k (B, T, Da), k, the latent of the previous step (B, To, F)) -> the
    /// latent that conditions this step's noise prediction. DP-AG evolves its latent by the VJP here.
    /// </summary>
    protected delegate Tensor LatentStep(Tensor sample, int timestep, Tensor latent);

    /// <summary>
    /// The conditioning latent at inference, (B, To, F) from normalised observations (DP: the encoder feature; DP-AG:
    /// the posterior mean), and, when <paramref name="evolveLatent"/> is set, the hook that moves it before each reverse
    /// step. A policy that cannot evolve its latent throws <see cref="ArgumentException"/>.
    /// </summary>
    protected abstract (Tensor Condition, LatentStep? Evolve) InferenceLatent(IReadOnlyDictionary<string, Tensor> normalizedObs, bool evolveLatent);

    /// <inheritdoc/>
    public override Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator = null) =>
        PredictActionChunk(obs, generator, DefaultInference);

    /// <summary>
    /// Predicts a whole action sequence (B, T, Da) in action units from raw observation histories (B, To, ...) under
    /// <c>no_grad</c>, sampled as <paramref name="options"/> say, through the one reverse loop
    /// (<see cref="DiffusionSampler.Denoise"/>). Put the module in eval mode first.
    /// </summary>
    /// <param name="obs">Observation tensors by key, each (B, To, ...), the keys the policy trained on.</param>
    /// <param name="generator">Generator of x_K and of the stochastic steps' noise; null uses torch's global generator.</param>
    /// <param name="options">Sampler, steps, output scale, latent evolution and observer.</param>
    public Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(Config.NumTrainTimesteps);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        RejectNonFinite(obs);
        var normalized = NormalizeObs(obs);
        var first = normalized.Values.First();
        var (condition, evolve) = InferenceLatent(normalized, options.EvolveLatent ?? EvolvesLatentByDefault);   // (B, To, F)
        var xK = torch.randn([first.shape[0], Horizon, ActionDim], device: first.device, generator: generator);  // a^K
        var latent = condition;
        double scale = options.NoiseScale;
        Tensor Predict(Tensor sample, int k)
        {
            if (evolve is not null) latent = evolve(sample, k, latent).MoveToOuterDisposeScope();    // kept across the loop's step scopes
            using var step = k.ToScalar();
            var eps = model.forward(sample, torch.full(sample.shape[0], step, dtype: int64, device: sample.device), latent.flatten(1));
            return scale != 1.0 ? eps.Times(scale) : eps;
        }
        // Observers get copies that outlive this call's dispose scopes; they own (and may keep) them. Index 0 is x_K.
        var observer = options.OnStep;
        Action<int, int, Tensor>? onStep = observer is null ? null : (i, k, x) =>
        {
            if (i > 0) observer(i, k, x.clone().DetachFromDisposeScope(), latent.clone().DetachFromDisposeScope());
        };
        var x0 = DiffusionSampler.Denoise(Config.CreateScheduler(options.Sampler, options.Steps), Predict, xK, options.Steps, generator, onStep);
        return UnnormalizeAction(x0).MoveToOuterDisposeScope();                                      // (B, T, Da)
    }

    /// <summary>
    /// Refuses observations with NaN or infinite entries: the network would turn them into NaN actions that a robot or
    /// the simulator executes silently. The message names the key, the index and the value.
    /// </summary>
    private void RejectNonFinite(IReadOnlyDictionary<string, Tensor> obs)
    {
        foreach (var (key, value) in obs)
        {
            if (!value.is_floating_point()) continue;
            using var bad = value.isfinite().logical_not();
            if (!bad.any().item<bool>()) continue;
            long[] index = bad.nonzero()[0].cpu().data<long>().ToArray();
            float at = value[index.Select(i => TensorIndex.Single(i)).ToArray()].cpu().item<float>();
            throw new ArgumentException(
                $"Policy '{Name}': observation '{key}' (shape ({string.Join(", ", value.shape)})) holds {at} at index " +
                $"({string.Join(", ", index)}); the policy does not act on NaN or infinite inputs. Check the sensor or " +
                "simulator that produced it.");
        }
    }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    private Tensor Buffer(string name) => get_buffer(name) ?? throw new InvalidOperationException($"Policy '{Name}' lost its buffer '{name}'.");

    private static IEnumerable<string> RequiredNormalizerKeys(DiffusionPolicyConfig config) =>
        config.Observation == ObservationKind.LowDim ? ["action", ObsKeys.Obs] : ["action", ObsKeys.AgentPos, ObsKeys.Image];
}

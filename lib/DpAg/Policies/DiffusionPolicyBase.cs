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
/// <see cref="LinearNormalizer"/> the policy was built with), while <see cref="PredictActionChunk"/> takes raw
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
        _trainingSchedule = new DdpmScheduler(new DdpmSchedulerConfig(config.NumTrainTimesteps, config.BetaSchedule));
        Sampler = config.CreateScheduler();
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

    /// <summary>The scheduler used by <see cref="PredictActionChunk"/>; replace it to compare samplers on one model.</summary>
    public INoiseScheduler Sampler { get; set; }

    /// <summary>Inference steps for <see cref="Sampler"/>.</summary>
    public int InferenceSteps { get; set; }

    /// <summary>
    /// Multiplies the network's output before each reverse step (default 1, as both released codes sample). The released
    /// DP-AG trains on noise / 0.4, so its output is 2.5 times the noise; 0.4 gives the sampler the noise it expects.
    /// DDPM with x0 clipping tolerates the mismatch; DDIM with few steps does not (<c>dpag bench --coverage-run</c>).
    /// </summary>
    public double InferenceNoiseScale
    {
        get => _inferenceNoiseScale;
        set => _inferenceNoiseScale = double.IsFinite(value) && value > 0 ? value
            : throw new ArgumentException($"InferenceNoiseScale = {value}; use a positive finite factor (1 = as trained, 0.4 = undo the released 1/0.4 target).", nameof(value));
    }

    private double _inferenceNoiseScale = 1.0;

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
    /// The conditioning latent at inference: (B, To, F) from normalised observations. DP uses the encoder feature;
    /// DP-AG the posterior mean.
    /// </summary>
    protected abstract Tensor InferenceCondition(IReadOnlyDictionary<string, Tensor> normalizedObs);

    /// <summary>
    /// The noise prediction used for one reverse step; DP-AG overrides it to evolve the latent by the VJP first.
    /// </summary>
    /// <param name="sample">a^k (B, T, Da).</param>
    /// <param name="timestep">k.</param>
    /// <param name="initialCondition">The latent from <see cref="InferenceCondition"/>, (B, To, F).</param>
    /// <param name="latent">The latent carried across reverse steps (starts as the initial condition); an override
    /// may replace it (the paper's SDE accumulates its steps here).</param>
    protected virtual Tensor PredictNoiseForStep(Tensor sample, int timestep, Tensor initialCondition, ref Tensor latent)
    {
        using var k = timestep.ToScalar();
        return model.forward(sample, torch.full(sample.shape[0], k, dtype: int64, device: sample.device), latent.flatten(1));
    }

    /// <summary>
    /// Observer of the reverse process: (step index 1.., k, a^{k-1} normalised (B, T, Da), latent (B, To, F)) after each
    /// step; the tensors are copies that the observer owns. Notebooks use it to study latent continuity.
    /// </summary>
    public Action<int, int, Tensor, Tensor>? OnDenoisingStep { get; set; }

    /// <inheritdoc/>
    public override Tensor PredictActionChunk(IReadOnlyDictionary<string, Tensor> obs, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        RejectNonFinite(obs);
        var normalized = NormalizeObs(obs);
        var first = normalized.Values.First();
        var condition = InferenceCondition(normalized);                                            // (B, To, F)
        var x = torch.randn([first.shape[0], Horizon, ActionDim], device: first.device, generator: generator); // a^K
        Sampler.SetTimesteps(InferenceSteps > 0 ? InferenceSteps : Config.NumInferenceSteps);
        var latent = condition;
        int i = 0;
        foreach (int k in Sampler.Timesteps)
        {
            using var stepScope = torch.NewDisposeScope();
            var before = latent;
            var eps = PredictNoiseForStep(x, k, condition, ref latent);
            if (_inferenceNoiseScale != 1.0) eps = eps.Times(_inferenceNoiseScale);
            if (!ReferenceEquals(before, latent)) latent.MoveToOuterDisposeScope();
            x = Sampler.Step(eps, k, x, generator).PrevSample.MoveToOuterDisposeScope();
            ++i;
            // Observers get copies that outlive this call's dispose scopes; they own (and may keep) them.
            OnDenoisingStep?.Invoke(i, k, x.clone().DetachFromDisposeScope(), latent.clone().DetachFromDisposeScope());
        }
        return UnnormalizeAction(x).MoveToOuterDisposeScope();                                      // (B, T, Da)
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

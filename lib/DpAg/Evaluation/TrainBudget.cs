using DpAg.Data;
using DpAg.Policies;
using DpAg.Training;

namespace DpAg.Evaluation;

/// <summary>
/// A named training recipe (<c>dpag train --budget NAME</c>, the main job, the notebooks): network size, dataset,
/// training config and the validation that picks the best checkpoint. The command line and the notebooks build the
/// same spec, data settings, config and validation from it, so they ask the run store (<see cref="RunStore"/>) for
/// the same runs. What each budget reached is measured in docs/results/.
/// </summary>
public sealed record TrainBudget
{
    /// <summary>The name (<c>ci</c>, <c>cpu</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Network size preset (tiny, small, pusht-lowdim, pusht-image).</summary>
    public required string Size { get; init; }

    /// <summary>The dataset, relative to the repository root.</summary>
    public required string Dataset { get; init; }

    /// <summary>The training config (its RunDir is set by the caller or the store).</summary>
    public required TrainConfig Train { get; init; }

    /// <summary>Steps between validations.</summary>
    public required long EvalEvery { get; init; }

    /// <summary>Validation episodes (seeds from <see cref="PushTValidation.DefaultFirstSeed"/>).</summary>
    public required int EvalEpisodes { get; init; }

    /// <summary>Validation sampler.</summary>
    public SamplerKind EvalSampler { get; init; } = SamplerKind.Ddim;

    /// <summary>Validation reverse steps.</summary>
    public required int EvalInferenceSteps { get; init; }

    /// <summary>The tests' budget: a tiny network for 40 steps on the shipped expert demonstrations, validated twice.</summary>
    public static TrainBudget Ci { get; } = new()
    {
        Name = "ci", Size = "tiny", Dataset = "data/pusht_expert.zarr",
        Train = new TrainConfig { Steps = 40, BatchSize = 8, LearningRate = 3e-4, WarmupSteps = 4, CheckpointEvery = 20, KeepLastCheckpoints = 2, Seed = 0 },
        EvalEvery = 20, EvalEpisodes = 2, EvalInferenceSteps = 4,
    };

    /// <summary>
    /// Two CPU cores, about an hour per policy: the small U-Net (5.4M parameters) on the DART demonstrations
    /// (<c>data/pusht_dart.zarr</c>), batch 64, lr 3e-4 with 500 warm-up steps and a cosine to 24,000 steps, validated
    /// every 2,000 steps on 20 episodes with DDIM 16; five checkpoints kept for the protocol's mean over the last ones.
    /// </summary>
    public static TrainBudget Cpu { get; } = new()
    {
        Name = "cpu", Size = "small", Dataset = "data/pusht_dart.zarr",
        Train = new TrainConfig { Steps = 24000, BatchSize = 64, LearningRate = 3e-4, WarmupSteps = 500, CheckpointEvery = 2000, KeepLastCheckpoints = 5, Seed = 0 },
        EvalEvery = 2000, EvalEpisodes = 20, EvalInferenceSteps = 16,
    };

    /// <summary>The budgets by name.</summary>
    public static IReadOnlyList<TrainBudget> All { get; } = [Ci, Cpu];

    /// <summary>The budget called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name (the message lists the known ones).</exception>
    public static TrainBudget Get(string name) => All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"--budget: unknown budget '{name}'. Known: {string.Join(", ", All.Select(b => b.Name))}.");

    /// <summary>The spec of <paramref name="kind"/> (dp, dp-ag) at this budget's size.</summary>
    public PolicySpec Spec(string kind, string? preset = null) => PolicySpec.FromNames(kind, preset, Size);

    /// <summary>The dataset settings a policy trains with (its horizon and observation/action steps; every episode).</summary>
    public static PushTDatasetConfig DatasetConfig(PolicySpec spec) => new(
        Observation: spec.Policy.Observation == ObservationKind.Image ? PushTObservation.Image : PushTObservation.Keypoint,
        Horizon: spec.Policy.Horizon, NObsSteps: spec.Policy.ObsSteps, NActionSteps: spec.Policy.ActionSteps,
        MaxTrainEpisodes: null);

    /// <summary>
    /// The noise scale that samples a policy the way it was trained: 1 for DP, 1 / target scale for DP-AG (0.4 for the
    /// released code's noise / 0.4 target).
    /// </summary>
    public static double ConsistentNoiseScale(PolicySpec spec) => spec is DpAgSpec ag ? 1.0 / ag.Config.Loss.DenoisingTargetScale : 1.0;

    /// <summary>This budget's validation of <paramref name="spec"/> (consistent sampling).</summary>
    public ValidationOptions Validation(PolicySpec spec, long seed = 0) =>
        PushTValidation.Create(EvalEvery, PushTEvalConfig.For(spec.Policy) with { Episodes = EvalEpisodes, FirstSeed = PushTValidation.DefaultFirstSeed },
            new InferenceOptions(EvalSampler, EvalInferenceSteps) { NoiseScale = ConsistentNoiseScale(spec) }, seed);
}

using DpAg.Envs;
using DpAg.Nets;
using DpAg.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Evaluation;

/// <summary>
/// A trained diffusion policy under the evaluation protocol: turns the episodes' observation histories into the policy's
/// raw observation tensors, predicts one chunk per episode in a single batched call, and returns the executable actions
/// (indices [To - 1, To - 1 + Ta) of each chunk). One generator, reseeded at <see cref="Reset"/>, draws every call's
/// noise, so an evaluation repeats from its seed.
/// </summary>
public sealed class PolicyActor : IEnvPolicy
{
    private readonly DiffusionPolicyBase _policy;
    private readonly Device _device;
    private readonly Generator _generator;
    private readonly long _seed;
    private readonly InferenceOptions _inference;

    /// <summary>
    /// Wraps <paramref name="policy"/>, sampled as <paramref name="inference"/> says (null: the policy's
    /// <see cref="DiffusionPolicyBase.DefaultInference"/>); sampling noise comes from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    public PolicyActor(DiffusionPolicyBase policy, Device? device = null, long seed = 0, InferenceOptions? inference = null)
    {
        _policy = policy;
        _inference = inference ?? policy.DefaultInference;
        _device = device ?? torch.CPU;
        _seed = seed;
        _generator = new torch.Generator((ulong)seed, _device);
    }

    /// <inheritdoc/>
    public void Reset()
    {
        _policy.eval();
        _generator.manual_seed(_seed);
    }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active)
    {
        using var scope = torch.NewDisposeScope();
        var histories = active.Select(e => e.History).ToList();
        var obs = ToTensors(histories, _policy.Config, _device);
        var chunk = _policy.ExecutableActions(_policy.PredictActionChunk(obs, _generator, _inference)).to(float64).cpu(); // (B, Ta, Da)
        var values = chunk.data<double>().ToArray();
        int ta = (int)chunk.shape[1], da = (int)chunk.shape[2];
        return Enumerable.Range(0, histories.Count)
            .Select(b => (IReadOnlyList<double[]>)Enumerable.Range(0, ta).Select(t => values.AsSpan((b * ta + t) * da, da).ToArray()).ToList())
            .ToList();
    }

    /// <summary>
    /// Raw observation tensors for a batch of histories: low-dim "obs" (B, To, Do) = 9 keypoints then the agent
    /// position (the environment's keypoint observation, truncated to Do); image "image" (B, To, 3, 96, 96) in [0, 1] and "agent_pos" (B, To, 2).
    /// </summary>
    public static Dictionary<string, Tensor> ToTensors(IReadOnlyList<IReadOnlyList<PushTObservation>> histories, DiffusionPolicyConfig config, Device device)
    {
        int b = histories.Count, to = config.ObsSteps;
        if (histories.Any(h => h.Count != to))
            throw new ArgumentException($"Each observation history must hold To = {to} observations; got [{string.Join(", ", histories.Select(h => h.Count).Distinct())}].");
        if (config.Observation == ObservationKind.LowDim)
        {
            var data = new float[b * to * config.LowDimObsDim];
            for (int i = 0; i < b; i++)
                for (int s = 0; s < to; s++)
                {
                    // 9 keypoints (18) + agent position (2) [+ ball position (2) in Dynamic Push-T]. A policy trained
                    // without the ball (Do = 20) acts on the first 20 numbers: it feels the ball only through the T.
                    var keypoints = histories[i][s].Keypoints;
                    if (keypoints.Length < config.LowDimObsDim)
                        throw new ArgumentException($"The policy expects Do = {config.LowDimObsDim} low-dim observations; the environment gives {keypoints.Length}.");
                    var row = data.AsSpan((i * to + s) * config.LowDimObsDim, config.LowDimObsDim);
                    for (int k = 0; k < row.Length; k++) row[k] = (float)keypoints[k];
                }
            return new() { [ObsKeys.Obs] = torch.tensor(data, [b, to, config.LowDimObsDim], device: device) };
        }
        int pixels = config.ImageEncoder.ImageSize * config.ImageEncoder.ImageSize;
        var images = new float[b * to * 3 * pixels];
        var agent = new float[b * to * 2];
        for (int i = 0; i < b; i++)
            for (int s = 0; s < to; s++)
            {
                var o = histories[i][s];
                var image = o.Image ?? throw new ArgumentException("An image policy needs image observations: evaluate with PushTConfig.ImageObservations = true.");
                image.AsSpan().CopyTo(images.AsSpan((i * to + s) * 3 * pixels, 3 * pixels));
                agent[(i * to + s) * 2] = (float)o.State[0];
                agent[(i * to + s) * 2 + 1] = (float)o.State[1];
            }
        int size = config.ImageEncoder.ImageSize;
        return new()
        {
            [ObsKeys.Image] = torch.tensor(images, [b, to, 3, size, size], device: device),
            [ObsKeys.AgentPos] = torch.tensor(agent, [b, to, 2], device: device),
        };
    }
}

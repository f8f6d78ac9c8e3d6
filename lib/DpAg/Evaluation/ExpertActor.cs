using DpAg.Envs.Expert;

namespace DpAg.Evaluation;

/// <summary>
/// The scripted expert (<see cref="PushTExpertPolicy"/>) under the evaluation protocol: one expert per episode, made at
/// the episode's first decision, asked in parallel (each plans with its own model environment, which is the cost).
/// It returns one action per decision, so evaluate it with <see cref="PushTEvalConfig.ActionSteps"/> = 1 or any Ta: the
/// runner executes what it returns.
/// </summary>
/// <param name="config">Expert settings; null for the defaults.</param>
/// <param name="maxDegreeOfParallelism">Experts asked at once (default: processor count).</param>
public sealed class ExpertActor(PushTExpertConfig? config = null, int maxDegreeOfParallelism = -1) : IEnvPolicy, IDisposable
{
    private readonly Dictionary<int, PushTExpertPolicy> _experts = [];

    /// <inheritdoc/>
    public void Reset()
    {
        foreach (var expert in _experts.Values) expert.Dispose();
        _experts.Clear();
    }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active)
    {
        var experts = active.Select(e =>
        {
            if (!_experts.TryGetValue(e.Index, out var expert))
            {
                _experts[e.Index] = expert = new PushTExpertPolicy(config);
                expert.Reset();
            }
            return expert;
        }).ToArray();
        var actions = new IReadOnlyList<double[]>[active.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism < 1 ? Environment.ProcessorCount : maxDegreeOfParallelism };
        Parallel.For(0, active.Count, options, i => actions[i] = experts[i].Act(active[i].History));
        return actions;
    }

    /// <summary>Frees every expert's model environment.</summary>
    public void Dispose() => Reset();
}

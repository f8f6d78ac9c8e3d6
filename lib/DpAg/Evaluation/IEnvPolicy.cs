using DpAg.Envs;
using DpAg.Numpy;

namespace DpAg.Evaluation;

/// <summary>One unfinished episode as a policy sees it: its index in the evaluation (0.., seed FirstSeed + index) and its
/// last To observations, oldest first (padded at the start by repeating the first, like the reference <c>MultiStepWrapper</c>).</summary>
public readonly record struct EpisodeView(int Index, IReadOnlyList<PushTObservation> History);

/// <summary>
/// The one contract of a policy acting in Push-T under the evaluation protocol (<see cref="PushTRunner"/>): episodes run
/// in lockstep, and at each decision the policy chooses for every unfinished episode at once, so a network policy makes
/// one batched call (B = unfinished episodes). Adapters: <see cref="PolicyActor"/> (a trained diffusion policy),
/// <see cref="ExpertActor"/> (the scripted expert), and the baselines <see cref="HoldPositionPolicy"/> and
/// <see cref="RandomWalkPolicy"/>. A policy with per-episode state keys it by <see cref="EpisodeView.Index"/>.
/// </summary>
public interface IEnvPolicy
{
    /// <summary>Called once before the episodes start: forget every episode's state.</summary>
    void Reset();

    /// <summary>
    /// For each of <paramref name="active"/> (in that order), the actions to execute next: at least one absolute agent
    /// target [x, y] in pixels; the runner executes at most <see cref="PushTEvalConfig.ActionSteps"/> of them (a diffusion
    /// policy returns its predicted actions To-1 .. To-1+Ta-1).
    /// </summary>
    IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active);
}

/// <summary>A trivial baseline: holds the agent where it is (repeats its current position as the target).</summary>
/// <param name="actionSteps">How many actions to return per decision (default 8).</param>
public sealed class HoldPositionPolicy(int actionSteps = 8) : IEnvPolicy
{
    /// <inheritdoc/>
    public void Reset() { }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active) => active.Select(e =>
    {
        var (x, y) = e.History[^1].AgentPosition;
        return (IReadOnlyList<double[]>)Enumerable.Range(0, actionSteps).Select(_ => new[] { x, y }).ToArray();
    }).ToList();
}

/// <summary>
/// A trivial baseline: a reproducible random walk of targets around the agent (steps of up to <paramref name="stepPx"/> px);
/// episode i walks with its own generator seeded <paramref name="seed"/> + i, re-applied at every <see cref="Reset"/>.
/// </summary>
/// <param name="seed">Seed of episode 0's walk.</param>
/// <param name="actionSteps">How many actions to return per decision (default 8).</param>
/// <param name="stepPx">Largest step of the target per action (default 15 px).</param>
public sealed class RandomWalkPolicy(long seed, int actionSteps = 8, double stepPx = 15) : IEnvPolicy
{
    private readonly Dictionary<int, NumpyRandomState> _walks = [];

    /// <inheritdoc/>
    public void Reset() => _walks.Clear();

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<EpisodeView> active) => active.Select(e =>
    {
        if (!_walks.TryGetValue(e.Index, out var rng)) _walks[e.Index] = rng = new NumpyRandomState(seed + e.Index);
        var (x, y) = e.History[^1].AgentPosition;
        var actions = new double[actionSteps][];
        for (int i = 0; i < actionSteps; i++)
        {
            x = Math.Clamp(x + (2 * rng.Rand() - 1) * stepPx, 20, 492);
            y = Math.Clamp(y + (2 * rng.Rand() - 1) * stepPx, 20, 492);
            actions[i] = [x, y];
        }
        return (IReadOnlyList<double[]>)actions;
    }).ToList();
}

using DpAg.Envs;
using DpAg.Numpy;

namespace DpAg.Evaluation;

/// <summary>
/// A closed-loop policy for <see cref="PushTRunner"/>. One instance serves one episode at a time (the runner asks its factory
/// for one instance per episode, so instances may keep per-episode state and need not be thread-safe).
/// </summary>
public interface IEnvPolicy
{
    /// <summary>Called at the start of every episode, before the first <see cref="Act"/>.</summary>
    void Reset();

    /// <summary>
    /// Chooses the actions to execute next. <paramref name="history"/> holds the last To observations, oldest first; at the
    /// start of an episode it is padded by repeating the first observation (like the reference <c>MultiStepWrapper</c>).
    /// Returns the actions to execute now (each an absolute agent target [x, y] in pixels); the runner executes at most
    /// <see cref="PushTEvalConfig.ActionSteps"/> of them (a diffusion policy returns its predicted actions To-1 .. To-1+Ta-1).
    /// </summary>
    IReadOnlyList<double[]> Act(IReadOnlyList<PushTObservation> history);
}

/// <summary>A trivial baseline: holds the agent where it is (repeats its current position as the target).</summary>
/// <param name="actionSteps">How many actions to return per call (default 8).</param>
public sealed class HoldPositionPolicy(int actionSteps = 8) : IEnvPolicy
{
    /// <inheritdoc/>
    public void Reset() { }

    /// <inheritdoc/>
    public IReadOnlyList<double[]> Act(IReadOnlyList<PushTObservation> history)
    {
        var (x, y) = history[^1].AgentPosition;
        var actions = new double[actionSteps][];
        for (int i = 0; i < actionSteps; i++) actions[i] = [x, y];
        return actions;
    }
}

/// <summary>A trivial baseline: a reproducible random walk of targets around the agent (steps of up to <paramref name="stepPx"/> px).</summary>
/// <param name="seed">Seed of the walk (re-applied at every <see cref="Reset"/>).</param>
/// <param name="actionSteps">How many actions to return per call (default 8).</param>
/// <param name="stepPx">Largest step of the target per action (default 15 px).</param>
public sealed class RandomWalkPolicy(long seed, int actionSteps = 8, double stepPx = 15) : IEnvPolicy
{
    private NumpyRandomState _rng = new(seed);

    /// <inheritdoc/>
    public void Reset() => _rng = new NumpyRandomState(seed);

    /// <inheritdoc/>
    public IReadOnlyList<double[]> Act(IReadOnlyList<PushTObservation> history)
    {
        var (x, y) = history[^1].AgentPosition;
        var actions = new double[actionSteps][];
        for (int i = 0; i < actionSteps; i++)
        {
            x = Math.Clamp(x + (2 * _rng.Rand() - 1) * stepPx, 20, 492);
            y = Math.Clamp(y + (2 * _rng.Rand() - 1) * stepPx, 20, 492);
            actions[i] = [x, y];
        }
        return actions;
    }
}

using DpAg.Envs;

namespace DpAg.Evaluation;

/// <summary>
/// A policy that acts for many episodes at once (one batched network call per decision), used by
/// <see cref="LockstepRunner"/>. Each history is the last To observations of one episode, oldest first.
/// </summary>
public interface IBatchEnvPolicy
{
    /// <summary>Called once before the episodes start.</summary>
    void Reset();

    /// <summary>For each history, the actions to execute next (at least one [x, y] each).</summary>
    IReadOnlyList<IReadOnlyList<double[]>> Act(IReadOnlyList<IReadOnlyList<PushTObservation>> histories);
}

namespace DpAg.Envs.Expert;

/// <summary>
/// <see cref="PushTExpert"/> as a closed-loop policy on observations (one action per call; the evaluation's
/// <c>ExpertActor</c> runs one per episode under the protocol). Observations
/// carry no agent velocity, so the policy tracks it by integrating the agent's PD law (docs/pusht.md: per substep
/// v += (100 (a - p) - 20 v) dt, then p += v dt; the agent path does not depend on contacts) over the actions it returned,
/// starting from rest at the reset. The caller must execute every returned action.
/// </summary>
public sealed class PushTExpertPolicy : IDisposable
{
    private readonly PushTExpert _expert;
    private (double X, double Y)? _lastAction;
    private (double X, double Y) _velocity;
    private (double X, double Y) _position;

    /// <summary>Creates the policy with its own expert.</summary>
    /// <param name="config">Expert settings; null for the defaults.</param>
    public PushTExpertPolicy(PushTExpertConfig? config = null) => _expert = new PushTExpert(config);

    /// <summary>The agent velocity (px/s) the policy assumed at its last <see cref="Act"/>.</summary>
    internal (double X, double Y) TrackedVelocity => _velocity;

    /// <summary>Starts a new episode: the expert's plan is dropped and the agent is taken to be at rest.</summary>
    public void Reset()
    {
        _expert.Reset();
        _lastAction = null;
        _velocity = (0, 0);
    }

    /// <summary>The next action for the episode whose last observations are <paramref name="history"/> (oldest first): one [x, y].</summary>
    public IReadOnlyList<double[]> Act(IReadOnlyList<PushTObservation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0) throw new ArgumentException("history is empty; pass at least the current observation.", nameof(history));
        var obs = history[^1];
        if (_lastAction is { } a)
        {
            // Integrate the PD law from the previous position over the executed action; keep the observed position.
            double px = _position.X, py = _position.Y, vx = _velocity.X, vy = _velocity.Y;
            for (int i = 0; i < PushTEnv.Substeps; i++)
            {
                vx += (PushTEnv.Kp * (a.X - px) - PushTEnv.Kv * vx) * PushTEnv.Dt;
                vy += (PushTEnv.Kp * (a.Y - py) - PushTEnv.Kv * vy) * PushTEnv.Dt;
                px += vx * PushTEnv.Dt;
                py += vy * PushTEnv.Dt;
            }
            _velocity = (vx, vy);
        }
        _position = obs.AgentPosition;
        var s = obs.State;
        var action = _expert.NextAction(_position, _velocity, (s[2], s[3], s[4]));
        _lastAction = action;
        return [[action.X, action.Y]];
    }

    /// <summary>Frees the expert's model environment.</summary>
    public void Dispose() => _expert.Dispose();
}

namespace DpAg.Envs;

/// <summary>
/// The full dynamic state of a <see cref="PushTEnv"/>, enough for <see cref="PushTEnv.SetState"/> to continue a roll-out
/// (planners clone environments this way). Velocities are Chipmunk's: the agent's and, for the T, that of its centre of
/// gravity, in px/s. Chipmunk's contact warm-start caches are not part of it (see <see cref="PushTEnv.SetState"/>).
/// </summary>
/// <param name="AgentX">Agent x (px).</param>
/// <param name="AgentY">Agent y (px).</param>
/// <param name="AgentVx">Agent velocity x (px/s).</param>
/// <param name="AgentVy">Agent velocity y (px/s).</param>
/// <param name="BlockX">T origin x (px).</param>
/// <param name="BlockY">T origin y (px).</param>
/// <param name="BlockAngle">T angle (rad, not wrapped).</param>
/// <param name="BlockVx">T centre-of-gravity velocity x (px/s).</param>
/// <param name="BlockVy">T centre-of-gravity velocity y (px/s).</param>
/// <param name="BlockAngularVelocity">T angular velocity (rad/s).</param>
/// <param name="Ball">The ball (x, y, vx, vy in px and px/s) in Dynamic Push-T, otherwise null.</param>
public sealed record PushTState(
    double AgentX, double AgentY, double AgentVx, double AgentVy,
    double BlockX, double BlockY, double BlockAngle,
    double BlockVx, double BlockVy, double BlockAngularVelocity,
    (double X, double Y, double Vx, double Vy)? Ball = null);

/// <summary>
/// One observation of Push-T. <see cref="State"/> = [agent_x, agent_y, block_x, block_y, angle mod 2 pi] (Do = 5), with
/// [ball_x, ball_y, ball_vx, ball_vy] (velocity in px per env step) appended in Dynamic Push-T (Do = 9).
/// <see cref="Keypoints"/> = 9 world keypoints flattened (18) + agent position (2) = 20, plus ball position (2) in Dynamic Push-T.
/// <see cref="Image"/> = RGB [3, S, S] in [0, 1] (channel-major) when the config asks for images.
/// </summary>
/// <param name="State">Low-dim state vector.</param>
/// <param name="Keypoints">Keypoint observation vector.</param>
/// <param name="Image">Image observation [3, S, S] or null.</param>
public sealed record PushTObservation(double[] State, double[] Keypoints, float[]? Image)
{
    /// <summary>Agent position (x, y).</summary>
    public (double X, double Y) AgentPosition => (State[0], State[1]);
}

/// <summary>Extra per-step information, like the reference <c>info</c> dict.</summary>
/// <param name="Coverage">Fraction of the goal T covered, in [0, 1].</param>
/// <param name="NContacts">ceil(contact points summed over the 10 substeps / 10), as upstream counts them.</param>
/// <param name="AgentVelocity">Agent velocity (px/s).</param>
/// <param name="BlockPose">T origin pose (x, y, angle) with the angle not wrapped.</param>
public sealed record PushTInfo(double Coverage, int NContacts, (double X, double Y) AgentVelocity, (double X, double Y, double Angle) BlockPose);

/// <summary>The result of <see cref="PushTEnv.Step(double, double)"/>.</summary>
/// <param name="Observation">Observation after the step.</param>
/// <param name="Reward">clip(coverage / 0.95, 0, 1).</param>
/// <param name="Done">coverage &gt; 0.95.</param>
/// <param name="Info">Coverage, contact count, velocities.</param>
public sealed record PushTStepResult(PushTObservation Observation, double Reward, bool Done, PushTInfo Info);

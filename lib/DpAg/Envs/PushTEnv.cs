using System.Runtime.InteropServices;
using DpAg.Numpy;

namespace DpAg.Envs;

/// <summary>
/// The Push-T simulator on Chipmunk2D 7.0.3 (the engine pymunk 6.2.1 wraps), built with the same Chipmunk calls in the same
/// order as the reference <c>PushTEnv</c> (docs/pusht.md): gravity 0, damping 0, Chipmunk defaults (10 iterations, slop 0.1,
/// bias (1-0.1)^60); four static wall segments of radius 2; a kinematic agent circle of radius 15; a dynamic T of mass 1,
/// moment 3000 and centre of gravity (0, 45); one (0, 0) collision handler whose post-solve counts contact points.
/// A step runs 10 substeps of dt = 0.01, each first applying the agent's PD law v += (100 (a - p) - 20 v) dt.
/// Not thread-safe; use one instance per thread. Dispose to free the native space.
/// </summary>
public sealed unsafe partial class PushTEnv : IDisposable
{
    /// <summary>Physics substep (s): 1 / sim_hz with sim_hz = 100.</summary>
    public const double Dt = 0.01;

    /// <summary>Substeps per env step: sim_hz / control_hz = 100 / 10.</summary>
    public const int Substeps = 10;

    /// <summary>Proportional gain of the agent's PD law (k_p = 100).</summary>
    public const double Kp = 100;

    /// <summary>Derivative gain of the agent's PD law (k_v = 20).</summary>
    public const double Kv = 20;

    private bool _disposed;
    private Origin _origin = new StateOrigin(new PushTState(256, 400, 0, 0, 256, 300, 0, 0, 0, 0));
    private readonly List<(double X, double Y)> _actionLog = new();

    /// <summary>
    /// Whether the physics engine (Chipmunk2D 7) can be loaded: its file and version, or what is wrong and the fix.
    /// Cheap; <c>dpag doctor</c> and the evaluation commands call it before any work.
    /// </summary>
    public static (bool Available, string Description) CheckPhysicsEngine() =>
        (Chipmunk.TryLocate(out _, out var description), description);

    /// <summary>Creates an environment (the space is built; call <see cref="Reset(long, bool?)"/> before stepping).</summary>
    /// <param name="config">Settings; null for <see cref="PushTConfig.Classic"/>.</param>
    public PushTEnv(PushTConfig? config = null)
    {
        Config = config ?? new PushTConfig();
        Config.Validate();
        try
        {
            Chipmunk.EnsureLoaded();
        }
        catch (TypeInitializationException e) when (e.InnerException is DllNotFoundException or EntryPointNotFoundException)
        {
            throw e.InnerException is DllNotFoundException
                ? new DllNotFoundException(e.InnerException.Message, e)
                : new EntryPointNotFoundException(e.InnerException!.Message, e);
        }
        _contactsHandle = GCHandle.Alloc(_contacts);
        BuildSpace();
    }

    /// <summary>The settings this environment was made with.</summary>
    public PushTConfig Config { get; }

    /// <summary>The last action passed to <see cref="Step(double, double)"/> since the reset, or null.</summary>
    public (double X, double Y)? LatestAction { get; private set; }

    /// <summary>The seed of the last <see cref="Reset(long, bool?)"/>, or null after <see cref="SetState"/>.</summary>
    public long? Seed { get; private set; }

    /// <summary>Agent position (px).</summary>
    public (double X, double Y) AgentPosition { get { var p = Chipmunk.cpBodyGetPosition(_agent); return (p.X, p.Y); } }

    /// <summary>Agent velocity (px/s).</summary>
    public (double X, double Y) AgentVelocity { get { var v = Chipmunk.cpBodyGetVelocity(_agent); return (v.X, v.Y); } }

    /// <summary>T origin pose (x, y, angle); the angle is not wrapped.</summary>
    public (double X, double Y, double Angle) BlockPose
    {
        get { var p = Chipmunk.cpBodyGetPosition(_block); return (p.X, p.Y, Chipmunk.cpBodyGetAngle(_block)); }
    }

    /// <summary>The ball (position and velocity in px/s) in Dynamic Push-T, otherwise null.</summary>
    public (double X, double Y, double Vx, double Vy)? Ball
    {
        get
        {
            if (_ball == 0) return null;
            var p = Chipmunk.cpBodyGetPosition(_ball);
            var v = Chipmunk.cpBodyGetVelocity(_ball);
            return (p.X, p.Y, v.X, v.Y);
        }
    }

    /// <summary>Current coverage of the goal T (exact polygon clipping, see <see cref="PushTGeometry.Coverage(double, double, double)"/>).</summary>
    public double Coverage { get { var (x, y, a) = BlockPose; return PushTGeometry.Coverage(x, y, a); } }

    /// <summary>Contact marks (segments from point A - 2n to point B + 2n) of the last substep, for rendering.</summary>
    public IReadOnlyList<(double X0, double Y0, double X1, double Y1)> ContactMarks => _contacts.Marks;

    /// <summary>Low-dim state dimension Do: 5, or 9 in Dynamic Push-T.</summary>
    public int StateDim => Config.Ball is null ? 5 : 9;

    /// <summary>Keypoint observation dimension: 20, or 22 in Dynamic Push-T.</summary>
    public int KeypointDim => Config.Ball is null ? 20 : 22;

    /// <summary>
    /// Resets like the reference: a fresh space, then <c>RandomState(seed)</c> draws [randint(50,450), randint(50,450),
    /// randint(100,400), randint(100,400), randn()*2*pi - pi] = [agent_x, agent_y, block_x, block_y, angle], the state is
    /// placed (legacy: position then angle about the COG) and one substep of 0.01 runs.
    /// </summary>
    /// <param name="seed">Episode seed in [0, 2^32 - 1]; evaluation uses 100000..100049.</param>
    /// <param name="legacy">Legacy placement; null for <see cref="PushTConfig.LegacyReset"/>.</param>
    public PushTObservation Reset(long seed, bool? legacy = null)
    {
        var state = SampleResetState(seed);
        return ResetCore(state, legacy, seed);
    }

    /// <summary>The reset state [agent_x, agent_y, block_x, block_y, angle] that <c>RandomState(seed)</c> draws.</summary>
    public static double[] SampleResetState(long seed)
    {
        var rs = new NumpyRandomState(seed);
        double ax = rs.RandInt(50, 450), ay = rs.RandInt(50, 450);
        double bx = rs.RandInt(100, 400), by = rs.RandInt(100, 400);
        double angle = rs.Randn() * 2 * Math.PI - Math.PI;
        return [ax, ay, bx, by, angle];
    }

    /// <summary>
    /// The reference <c>reset_to_state</c>: a fresh space, the agent at (state[0], state[1]), the T placed at
    /// (state[2], state[3], state[4]) (legacy: position then angle, so the origin ends at (x + 45 sin a, y + 45 - 45 cos a);
    /// otherwise angle then position, origin exactly at (x, y)), then one physics substep. The ball (Dynamic Push-T) is
    /// seeded from 0 plus <see cref="BallDisturbanceConfig.SeedOffset"/>.
    /// </summary>
    /// <param name="state">[agent_x, agent_y, block_x, block_y, block_angle].</param>
    /// <param name="legacy">Legacy placement; null for <see cref="PushTConfig.LegacyReset"/>.</param>
    public PushTObservation ResetToState(ReadOnlySpan<double> state, bool? legacy = null) => ResetCore(state, legacy, null);

    private PushTObservation ResetCore(ReadOnlySpan<double> state, bool? legacy, long? seed) => ResetCore(state, legacy, seed, observe: true)!;

    private PushTObservation? ResetCore(ReadOnlySpan<double> state, bool? legacy, long? seed, bool observe)
    {
        ThrowIfDisposed();
        if (state.Length != 5)
            throw new ArgumentException($"state must have 5 entries [agent_x, agent_y, block_x, block_y, angle]; got {state.Length}.", nameof(state));
        foreach (var v in state)
            if (!double.IsFinite(v)) throw new ArgumentException($"state entries must be finite; got [{string.Join(", ", state.ToArray())}].", nameof(state));
        BuildSpace();
        Seed = seed;
        LatestAction = null;
        _origin = new ResetOrigin(state.ToArray(), legacy, seed);
        _actionLog.Clear();
        Chipmunk.cpBodySetPosition(_agent, new CpVect(state[0], state[1]));
        if (legacy ?? Config.LegacyReset)
        {
            Chipmunk.cpBodySetPosition(_block, new CpVect(state[2], state[3]));
            Chipmunk.cpBodySetAngle(_block, state[4]);
        }
        else
        {
            Chipmunk.cpBodySetAngle(_block, state[4]);
            Chipmunk.cpBodySetPosition(_block, new CpVect(state[2], state[3]));
        }
        PlaceBall(seed ?? 0);
        _contacts.Begin(record: true);
        Chipmunk.cpSpaceStep(_space, Dt);
        return observe ? Observe() : null;
    }

    /// <summary>
    /// One env step (0.1 s): 10 substeps, each setting the agent velocity by v += (100 (action - p) - 20 v) dt and then
    /// stepping the space by dt. The action is the absolute target position of the agent (not clipped).
    /// </summary>
    public PushTStepResult Step(double actionX, double actionY)
    {
        int nContacts = StepPhysics(actionX, actionY);
        var (bx, by, ba) = BlockPose;
        double coverage = PushTGeometry.Coverage(bx, by, ba);
        var info = new PushTInfo(coverage, nContacts, AgentVelocity, (bx, by, ba));
        return new PushTStepResult(Observe(), PushTGeometry.Reward(coverage), coverage > PushTGeometry.SuccessThreshold, info);
    }

    /// <summary>The physics of one env step without building an observation (planners' fast path); returns n_contacts.</summary>
    public int StepPhysics(double actionX, double actionY)
    {
        ThrowIfDisposed();
        if (!double.IsFinite(actionX) || !double.IsFinite(actionY))
            throw new ArgumentException($"action must be finite; got ({actionX}, {actionY}). Pass an absolute agent target in pixels.", nameof(actionX));
        LatestAction = (actionX, actionY);
        _actionLog.Add((actionX, actionY));
        int total = 0;
        for (int i = 0; i < Substeps; i++)
        {
            var p = Chipmunk.cpBodyGetPosition(_agent);
            var v = Chipmunk.cpBodyGetVelocity(_agent);
            double accX = Kp * (actionX - p.X) + Kv * (0.0 - v.X);
            double accY = Kp * (actionY - p.Y) + Kv * (0.0 - v.Y);
            Chipmunk.cpBodySetVelocity(_agent, new CpVect(v.X + accX * Dt, v.Y + accY * Dt));
            if (_ball != 0) BallBeforeSubstep();
            _contacts.Begin(record: i == Substeps - 1);
            Chipmunk.cpSpaceStep(_space, Dt);
            total += _contacts.Count;
            if (_ball != 0) BallAfterSubstep();
        }
        return (total + Substeps - 1) / Substeps;
    }

    /// <summary>One env step with the action as a span of 2 (x, y).</summary>
    public PushTStepResult Step(ReadOnlySpan<double> action)
    {
        if (action.Length != 2) throw new ArgumentException($"action must have 2 entries (x, y); got {action.Length}.", nameof(action));
        return Step(action[0], action[1]);
    }

    /// <summary>The observation of the current state (renders an image when the config asks for images).</summary>
    public PushTObservation Observe()
    {
        var state = new double[StateDim];
        var kp = new double[KeypointDim];
        WriteState(state);
        var (bx, by, ba) = BlockPose;
        PushTGeometry.WriteKeypoints(bx, by, ba, kp);
        var agent = AgentPosition;
        kp[18] = agent.X;
        kp[19] = agent.Y;
        if (Ball is { } ball) { kp[20] = ball.X; kp[21] = ball.Y; }
        float[]? image = Config.ImageObservations ? PushTRenderer.ImageObservation(Snapshot(), Config.ImageSize) : null;
        return new PushTObservation(state, kp, image);
    }

    /// <summary>Writes [agent_x, agent_y, block_x, block_y, angle mod 2 pi] (+ ball x, y, vx, vy per step) into <paramref name="destination"/>.</summary>
    public void WriteState(Span<double> destination)
    {
        var agent = AgentPosition;
        var (bx, by, ba) = BlockPose;
        destination[0] = agent.X;
        destination[1] = agent.Y;
        destination[2] = bx;
        destination[3] = by;
        destination[4] = PythonMod(ba, 2 * Math.PI);
        if (Ball is { } ball)
        {
            destination[5] = ball.X;
            destination[6] = ball.Y;
            destination[7] = ball.Vx * Substeps * Dt;
            destination[8] = ball.Vy * Substeps * Dt;
        }
    }

    /// <summary>Everything the renderer draws, captured now.</summary>
    public PushTFrame Snapshot() => new(AgentPosition, BlockPose, Ball is { } b ? (b.X, b.Y, Config.Ball!.Radius) : null,
        _contacts.Marks.ToArray(), LatestAction);

    /// <summary>Renders an RGB frame (HWC bytes) of side <paramref name="size"/>, with the red action cross like the reference videos.</summary>
    public byte[] Render(int size = 512, bool drawAction = true) => PushTRenderer.RenderRgb(Snapshot(), size, drawAction);

    /// <summary>The full dynamic state (positions and velocities) for planners.</summary>
    public PushTState GetState()
    {
        var a = AgentPosition;
        var av = AgentVelocity;
        var (bx, by, ba) = BlockPose;
        var bv = Chipmunk.cpBodyGetVelocity(_block);
        return new PushTState(a.X, a.Y, av.X, av.Y, bx, by, ba, bv.X, bv.Y, Chipmunk.cpBodyGetAngularVelocity(_block), Ball);
    }

    /// <summary>
    /// Restores a state captured by <see cref="GetState"/> without stepping physics: the space is rebuilt fresh (so
    /// Chipmunk's contact warm-start caches start empty), the T is placed with its origin exactly at (BlockX, BlockY),
    /// and velocities are set. Roll-outs after <c>SetState(s)</c> are therefore deterministic and identical across
    /// environments; they can differ slightly from the environment <c>s</c> was captured from, which keeps its caches
    /// (measured on the reference script: up to about 1e-2 px over 20 steps while pushing, exact without contact).
    /// For bit-exact copies use <see cref="Clone"/> or <see cref="CopyFrom"/>.
    /// </summary>
    public void SetState(PushTState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ThrowIfDisposed();
        BuildSpace();
        Seed = null;
        LatestAction = null;
        _origin = new StateOrigin(state);
        _actionLog.Clear();
        Chipmunk.cpBodySetPosition(_agent, new CpVect(state.AgentX, state.AgentY));
        Chipmunk.cpBodySetVelocity(_agent, new CpVect(state.AgentVx, state.AgentVy));
        Chipmunk.cpBodySetAngle(_block, state.BlockAngle);
        Chipmunk.cpBodySetPosition(_block, new CpVect(state.BlockX, state.BlockY));
        Chipmunk.cpBodySetVelocity(_block, new CpVect(state.BlockVx, state.BlockVy));
        Chipmunk.cpBodySetAngularVelocity(_block, state.BlockAngularVelocity);
        if (_ball != 0 && state.Ball is { } b)
        {
            Chipmunk.cpBodySetPosition(_ball, new CpVect(b.X, b.Y));
            Chipmunk.cpBodySetVelocity(_ball, new CpVect(b.Vx, b.Vy));
        }
        _contacts.Marks.Clear();
    }

    /// <summary>
    /// A new environment in exactly this environment's state, contact caches included: it repeats the last reset (or
    /// <see cref="SetState"/>) and replays every action since, so later steps of the clone and of this environment agree
    /// bit for bit. Costs one env step per step since the reset (about 10 microseconds each); for a cheaper approximate
    /// copy use <c>SetState(GetState())</c> on a spare environment.
    /// </summary>
    public PushTEnv Clone()
    {
        ThrowIfDisposed();
        var env = new PushTEnv(Config);
        env.ReplayFrom(this);
        return env;
    }

    /// <summary>Makes this environment an exact copy of <paramref name="source"/> by replay (see <see cref="Clone"/>); reuses the native space.</summary>
    public void CopyFrom(PushTEnv source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ThrowIfDisposed();
        if (source.Config != Config)
            throw new ArgumentException("source has a different config; copy only between environments made with equal PushTConfig.", nameof(source));
        ReplayFrom(source);
    }

    private void ReplayFrom(PushTEnv source)
    {
        switch (source._origin)
        {
            case ResetOrigin r:
                ResetCore(r.State, r.Legacy, r.Seed, observe: false);
                break;
            case StateOrigin st:
                SetState(st.State);
                break;
        }
        foreach (var (x, y) in source._actionLog) StepPhysics(x, y);
        Seed = source.Seed;
        LatestAction = source.LatestAction;
    }

    private abstract record Origin;
    private sealed record ResetOrigin(double[] State, bool? Legacy, long? Seed) : Origin;
    private sealed record StateOrigin(PushTState State) : Origin;

    /// <summary>Python's float modulo (result has the sign of the divisor), as <c>angle % (2 pi)</c> upstream.</summary>
    public static double PythonMod(double a, double b)
    {
        double m = a % b;
        if (m != 0) { if ((b < 0) != (m < 0)) m += b; }
        else m = Math.CopySign(0.0, b);
        return m;
    }

    /// <summary>Frees the native Chipmunk space, bodies and shapes.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        FreeSpace();
        if (_contactsHandle.IsAllocated) _contactsHandle.Free();
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees native memory if the environment was not disposed.</summary>
    ~PushTEnv()
    {
        FreeSpace();
        if (_contactsHandle.IsAllocated) _contactsHandle.Free();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

}

namespace DpAg.Envs.Expert;

/// <summary>
/// A scripted Push-T expert that exploits quasi-static pushing (docs/pusht.md "Building an expert"). It repeats three
/// phases: (1) plan: for contact points every <see cref="PushTExpertConfig.ContactSpacing"/> px along the T's outline and
/// a few push directions, simulate a short straight push (agent target moving at a speed that shrinks near the goal) on a
/// private model environment (<see cref="PushTEnv.SetState"/>) and keep the (contact, direction, length) with the lowest
/// pose cost plus travel cost; (2) approach: move the agent around the T (grid path, never touching it) to the
/// pre-contact point, with targets at most <see cref="PushTExpertConfig.MaxLead"/> px ahead of the agent; (3) push the
/// planned number of steps, then one stop action (target behind the agent: p - 0.8 v, which cancels the agent's velocity
/// in the first substep so the T stops where the plan predicted). The pose cost is the mean distance (px) of the 9
/// keypoints to their goal positions plus <see cref="PushTExpertConfig.CoverageWeight"/> * (1 - coverage). Any push that
/// lowers the cost may be chosen (travel only ranks them); when none does, the search is repeated with slower, longer pushes,
/// denser contacts and more directions; a push that left the T in place is not repeated until the T moves; with no
/// improving push at all the agent holds still. Measured (data/README.md): 50 / 50 on the evaluation seeds, about 0.05 s
/// of CPU per episode. Deterministic: no randomness and no wall clock; one instance per episode and thread.
/// </summary>
public sealed class PushTExpert : IDisposable
{
    private enum Phase { Plan, Approach, Push, Stop }

    private readonly PushTExpertConfig _config;
    private readonly PushTEnv _model;
    private readonly ApproachPlanner _planner;
    private readonly List<(double X, double Y, double Nx, double Ny)> _contacts;
    private readonly List<(double X, double Y, double Nx, double Ny)> _fineContacts;
    private static readonly double[] FineAngles = [0, -0.2, 0.2, -0.4, 0.4, -0.7, 0.7];
    private readonly double[] _goalKeypoints;

    private Phase _phase = Phase.Plan;
    private (double X, double Y) _pre, _stage, _dir;
    private double _speed;
    private int _pushSteps, _pushIndex, _approachSteps;

    /// <summary>Approach steps after which the expert gives up on a pre-contact point and plans again (a safety net).</summary>
    private const int MaxApproachSteps = 60;
    private List<(double X, double Y)> _path = new();
    private int _pathIndex;
    private (double X, double Y, double A) _plannedPose;
    private bool _pushed;
    private (int List, int Contact, int Angle) _chosen;
    private readonly HashSet<(int List, int Contact, int Angle)> _banned = new();

    /// <summary>Creates an expert with its own model environment.</summary>
    /// <param name="config">Settings; null for the defaults.</param>
    public PushTExpert(PushTExpertConfig? config = null)
    {
        _config = config ?? new PushTExpertConfig();
        _config.Validate();
        _model = new PushTEnv(new PushTConfig());
        _planner = new ApproachPlanner(_config.GridCell);
        var g = PushTGeometry.GoalPose;
        _goalKeypoints = PushTGeometry.Keypoints(g.X, g.Y, g.Angle);
        _contacts = OutlinePoints(_config.ContactSpacing);
        _fineContacts = OutlinePoints(_config.ContactSpacing / 2);
    }

    /// <summary>Points every about <paramref name="spacing"/> px along the T's outline (body frame) with outward normals.</summary>
    private static List<(double X, double Y, double Nx, double Ny)> OutlinePoints(double spacing)
    {
        var result = new List<(double X, double Y, double Nx, double Ny)>();
        (double X, double Y)[] outline = [(-60, 0), (60, 0), (60, 30), (15, 30), (15, 120), (-15, 120), (-15, 30), (-60, 30)];
        for (int e = 0; e < outline.Length; e++)
        {
            var a = outline[e];
            var b = outline[(e + 1) % outline.Length];
            double len = Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y));
            double tx = (b.X - a.X) / len, ty = (b.Y - a.Y) / len;
            // Outline runs clockwise on screen (y down), so the outward normal is (ty, -tx).
            double nx = ty, ny = -tx;
            int m = Math.Max(1, (int)Math.Round(len / spacing));
            for (int k = 0; k < m; k++)
            {
                double t = (k + 0.5) / m * len;
                result.Add((a.X + tx * t, a.Y + ty * t, nx, ny));
            }
        }
        return result;
    }

    /// <summary>The settings in use.</summary>
    public PushTExpertConfig Config => _config;

    /// <summary>Pushes planned since <see cref="Reset"/>.</summary>
    public int PushCount { get; private set; }

    /// <summary>Forgets the current plan; call at the start of every episode.</summary>
    public void Reset()
    {
        _phase = Phase.Plan;
        _path = new();
        PushCount = 0;
        _pushed = false;
        _banned.Clear();
    }

    /// <summary>The next action (absolute agent target, px) for the current state of <paramref name="env"/>.</summary>
    public (double X, double Y) NextAction(PushTEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return NextAction(env.AgentPosition, env.AgentVelocity, env.BlockPose);
    }

    /// <summary>The next action from the agent position and velocity (px, px/s) and the T origin pose.</summary>
    public (double X, double Y) NextAction((double X, double Y) agent, (double X, double Y) agentVelocity, (double X, double Y, double Angle) block)
    {
        for (int guard = 0; guard < 3; guard++)
        {
            switch (_phase)
            {
                case Phase.Plan:
                    if (!Plan(agent, block)) return agent;
                    continue;
                case Phase.Approach:
                    if (Moved(block)) { _phase = Phase.Plan; continue; }
                    if (Dist(agent, _pre) <= _config.ArrivalTolerance) { _phase = Phase.Push; _pushIndex = 0; continue; }
                    if (++_approachSteps > MaxApproachSteps) { _phase = Phase.Plan; continue; }
                    return Pursue(agent, block);
                case Phase.Push:
                    _pushIndex++;
                    _pushed = true;
                    if (_pushIndex >= _pushSteps) _phase = Phase.Stop;
                    return Clamp(_pre.X + _dir.X * _speed * _pushIndex, _pre.Y + _dir.Y * _speed * _pushIndex);
                case Phase.Stop:
                    _phase = Phase.Plan;
                    return StopTarget(agent, agentVelocity);
            }
        }
        return agent;
    }

    /// <summary>The stop action: p - 0.8 v (cancels v in the first PD substep), at most 40 px from the agent.</summary>
    internal static (double X, double Y) StopTarget((double X, double Y) agent, (double X, double Y) v)
    {
        double bx = 0.8 * v.X, by = 0.8 * v.Y, len = Math.Sqrt(bx * bx + by * by);
        if (len > 40) { bx *= 40 / len; by *= 40 / len; }
        return (agent.X - bx, agent.Y - by);
    }

    /// <summary>Pose cost: mean keypoint distance to the goal (px) + CoverageWeight * (1 - coverage).</summary>
    public double Cost(double x, double y, double a)
    {
        double c = Math.Cos(a), s = Math.Sin(a), sum = 0;
        for (int i = 0; i < 9; i++)
        {
            var l = PushTGeometry.LocalKeypoints[i];
            double wx = c * l.X - s * l.Y + x - _goalKeypoints[2 * i], wy = s * l.X + c * l.Y + y - _goalKeypoints[2 * i + 1];
            sum += Math.Sqrt(wx * wx + wy * wy);
        }
        return sum / 9 + _config.CoverageWeight * (1 - PushTGeometry.Coverage(x, y, a));
    }

    private double KeypointError(double x, double y, double a) => Cost(x, y, a) - _config.CoverageWeight * (1 - PushTGeometry.Coverage(x, y, a));

    private bool Moved((double X, double Y, double Angle) block) =>
        Math.Abs(block.X - _plannedPose.X) > 0.5 || Math.Abs(block.Y - _plannedPose.Y) > 0.5 || Math.Abs(block.Angle - _plannedPose.A) > 0.01;

    private (double X, double Y) Clamp(double x, double y)
    {
        double lo = _config.ArenaMargin, hi = PushTGeometry.WorldSize - _config.ArenaMargin;
        return (Math.Clamp(x, lo, hi), Math.Clamp(y, lo, hi));
    }

    private static double Dist((double X, double Y) a, (double X, double Y) b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));

    /// <summary>
    /// Plans the next push. When no push of the normal search lowers the cost, retries twice with slower, longer pushes,
    /// twice as many contact points and more directions (fine adjustments close to the goal).
    /// </summary>
    private bool Plan((double X, double Y) agent, (double X, double Y, double Angle) block)
    {
        var cfg = _config;
        // A push that left the T where it was (the real agent missed a contact the model made) is not tried again
        // until the T moves; otherwise the expert could repeat it forever.
        if (_pushed && !Moved(block)) _banned.Add(_chosen);
        else _banned.Clear();
        _pushed = false;
        double err = KeypointError(block.X, block.Y, block.Angle);
        double speed = Math.Clamp(cfg.PushSpeedGain * err, cfg.MinPushSpeed, cfg.MaxPushSpeed);
        _planner.Build(agent, (block.X, block.Y, block.Angle), PushTGeometry.AgentRadius + cfg.Clearance, cfg.ArenaMargin);
        if (Search(agent, block, speed, cfg.MaxPushSteps, 0, cfg.PushAngles)) return true;
        if (Search(agent, block, speed / 2, 2 * cfg.MaxPushSteps, 1, FineAngles)) return true;
        return Search(agent, block, speed / 4, 3 * cfg.MaxPushSteps, 2, FineAngles);
    }

    private bool Search((double X, double Y) agent, (double X, double Y, double Angle) block, double speed, int maxSteps,
        int level, IReadOnlyList<double> angles)
    {
        var contacts = level == 0 ? _contacts : _fineContacts;
        var cfg = _config;
        double cost0 = Cost(block.X, block.Y, block.Angle);
        double r = PushTGeometry.AgentRadius;
        var pose = (block.X, block.Y, block.Angle);
        double c = Math.Cos(block.Angle), s = Math.Sin(block.Angle);
        double lo = cfg.ArenaMargin, hi = PushTGeometry.WorldSize - cfg.ArenaMargin;
        double bestScore = double.PositiveInfinity;
        (double X, double Y) bestPre = default, bestStage = default, bestDir = default;
        int bestSteps = 0, bestCell = -1;
        (int List, int Contact, int Angle) bestId = default;
        for (int ci = 0; ci < contacts.Count; ci++)
        {
            var (lx, ly, lnx, lny) = contacts[ci];
            double nx = c * lnx - s * lny, ny = s * lnx + c * lny;
            double cx = c * lx - s * ly + block.X, cy = s * lx + c * ly + block.Y;
            double px = cx + nx * (r + cfg.ContactGap), py = cy + ny * (r + cfg.ContactGap);
            if (px < lo || py < lo || px > hi || py > hi) continue;
            if (ApproachPlanner.DistanceToT(px, py, block.X, block.Y, block.Angle) < r + cfg.ContactGap - 1e-6) continue;
            double sx = px + nx * 8, sy = py + ny * 8;
            var (travel, cell) = Dist(agent, (px, py)) < 1 ? (0.0, -1) : _planner.TravelTo(sx, sy, r + 1);
            travel += 8;
            if (!double.IsFinite(travel)) continue;
            double travelCost = cfg.TravelWeight * travel;
            if (travelCost - cost0 >= bestScore) continue; // no push can beat the best so far
            for (int ai = 0; ai < angles.Count; ai++)
            {
                if (_banned.Count > 0 && _banned.Contains((level, ci, ai))) continue;
                double phi = angles[ai];
                double cp = Math.Cos(phi), sp = Math.Sin(phi);
                double dx = -(cp * nx - sp * ny), dy = -(sp * nx + cp * ny);
                _model.SetState(new PushTState(px, py, 0, 0, block.X, block.Y, block.Angle, 0, 0, 0));
                double rolloutBest = double.PositiveInfinity;
                for (int k = 1; k <= maxSteps; k++)
                {
                    var (tx, ty) = Clamp(px + dx * speed * k, py + dy * speed * k);
                    _model.StepPhysics(tx, ty);
                    var (bx, by, ba) = _model.BlockPose;
                    double ck = Cost(bx, by, ba);
                    double score = ck - cost0 + travelCost;
                    if (ck < cost0 - 1e-3 && score < bestScore)
                    {
                        bestScore = score;
                        bestPre = (px, py);
                        bestStage = (sx, sy);
                        bestDir = (dx, dy);
                        bestSteps = k;
                        bestCell = cell;
                        bestId = (level, ci, ai);
                    }
                    rolloutBest = Math.Min(rolloutBest, ck);
                    if (ck > rolloutBest + 5) break;
                }
            }
        }
        if (bestSteps == 0) return false;
        _pre = bestPre;
        _stage = bestStage;
        _dir = bestDir;
        _speed = speed;
        _pushSteps = bestSteps;
        _chosen = bestId;
        _plannedPose = pose;
        _path = bestCell < 0 ? new() : _planner.PathTo(bestCell);
        _path.Add(bestStage);
        _path.Add(bestPre);
        _pathIndex = 0;
        _approachSteps = 0;
        _phase = Phase.Approach;
        PushCount++;
        return true;
    }

    private (double X, double Y) Pursue((double X, double Y) agent, (double X, double Y, double Angle) block)
    {
        var pose = (block.X, block.Y, block.Angle);
        double clearance = PushTGeometry.AgentRadius + 1;
        int chosen = -1;
        for (int j = _pathIndex; j < _path.Count; j++)
        {
            if (Dist(agent, _path[j]) > _config.MaxLead) break;
            if (ApproachPlanner.SegmentClear(agent, _path[j], pose, clearance)) chosen = j;
        }
        if (chosen < 0)
        {
            // Nothing visible within reach: step towards the next waypoint, at most MaxLead away.
            var w = _path[Math.Min(_pathIndex, _path.Count - 1)];
            double d = Dist(agent, w);
            double f = d > _config.MaxLead ? _config.MaxLead / d : 1;
            return Clamp(agent.X + (w.X - agent.X) * f, agent.Y + (w.Y - agent.Y) * f);
        }
        _pathIndex = chosen;
        var target = _path[chosen];
        if (chosen < _path.Count - 1 && Dist(agent, target) < 2)
        {
            // Stuck on a waypoint next to the T (the agent just pushed): first back away from the T.
            var (ux, uy) = ApproachPlanner.AwayFromT(agent.X, agent.Y, pose);
            return Clamp(agent.X + 10 * ux, agent.Y + 10 * uy);
        }
        return Clamp(target.X, target.Y);
    }

    /// <summary>Frees the model environment.</summary>
    public void Dispose() => _model.Dispose();
}

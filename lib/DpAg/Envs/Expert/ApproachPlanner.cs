namespace DpAg.Envs.Expert;

/// <summary>
/// Approach paths for the agent around a T that stays put (the T is quasi-static: it moves only while pushed). A grid of
/// cells (side <c>cell</c> px) over the world marks cells whose centre is closer than <c>clearance</c> to the T (or outside
/// the arena margin) as blocked; Dijkstra with 8-neighbours from the agent gives travel distances to every cell. A blocked
/// start (the agent just pushed, so it touches the T) may leave along cells of increasing distance from the T.
/// </summary>
internal sealed class ApproachPlanner
{
    private readonly double _cell;
    private readonly int _n;
    private readonly double[] _dist;
    private readonly double[] _tDist;
    private readonly int[] _parent;
    private readonly bool[] _blocked;
    private readonly PriorityQueue<int, double> _queue = new();
    private (double X, double Y, double A) _pose;

    public ApproachPlanner(double cell)
    {
        _cell = cell;
        _n = (int)Math.Ceiling(PushTGeometry.WorldSize / cell);
        int count = _n * _n;
        _dist = new double[count];
        _tDist = new double[count];
        _parent = new int[count];
        _blocked = new bool[count];
    }

    /// <summary>Distance (px) from a world point to the T at pose (x, y, a); 0 inside.</summary>
    public static double DistanceToT(double px, double py, double x, double y, double a)
    {
        double c = Math.Cos(a), s = Math.Sin(a);
        double dx = px - x, dy = py - y;
        double lx = c * dx + s * dy, ly = -s * dx + c * dy;
        return Math.Min(BoxDistance(lx, ly, -60, 60, 0, 30), BoxDistance(lx, ly, -15, 15, 30, 120));
    }

    private static double BoxDistance(double x, double y, double x0, double x1, double y0, double y1)
    {
        double ex = Math.Max(Math.Max(x0 - x, x - x1), 0), ey = Math.Max(Math.Max(y0 - y, y - y1), 0);
        return Math.Sqrt(ex * ex + ey * ey);
    }

    /// <summary>Unit direction (world) in which the distance to the T grows fastest at (px, py) (central differences).</summary>
    public static (double X, double Y) AwayFromT(double px, double py, (double X, double Y, double A) pose)
    {
        const double h = 0.5;
        double gx = DistanceToT(px + h, py, pose.X, pose.Y, pose.A) - DistanceToT(px - h, py, pose.X, pose.Y, pose.A);
        double gy = DistanceToT(px, py + h, pose.X, pose.Y, pose.A) - DistanceToT(px, py - h, pose.X, pose.Y, pose.A);
        double n = Math.Sqrt(gx * gx + gy * gy);
        return n > 1e-9 ? (gx / n, gy / n) : (0, 0);
    }

    private (int I, int J) CellOf(double x, double y) =>
        (Math.Clamp((int)(x / _cell), 0, _n - 1), Math.Clamp((int)(y / _cell), 0, _n - 1));

    private (double X, double Y) Centre(int index) => (((index % _n) + 0.5) * _cell, ((index / _n) + 0.5) * _cell);

    /// <summary>Runs Dijkstra from the agent for a T at <paramref name="pose"/>.</summary>
    public void Build((double X, double Y) agent, (double X, double Y, double A) pose, double clearance, double margin)
    {
        _pose = pose;
        for (int k = 0; k < _dist.Length; k++)
        {
            var (cx, cy) = Centre(k);
            double d = DistanceToT(cx, cy, pose.X, pose.Y, pose.A);
            _tDist[k] = d;
            _blocked[k] = d < clearance || cx < margin || cy < margin || cx > PushTGeometry.WorldSize - margin || cy > PushTGeometry.WorldSize - margin;
            _dist[k] = double.PositiveInfinity;
            _parent[k] = -1;
        }
        // Start from the agent's cell and those of its 8 neighbours that the agent sees without nearing the T.
        var (si, sj) = CellOf(agent.X, agent.Y);
        _queue.Clear();
        for (int dj = -1; dj <= 1; dj++)
        for (int di = -1; di <= 1; di++)
        {
            int ci = si + di, cj = sj + dj;
            if (ci < 0 || cj < 0 || ci >= _n || cj >= _n) continue;
            int k = cj * _n + ci;
            var (cx, cy) = Centre(k);
            if (!(di == 0 && dj == 0) && !SegmentClear(agent, (cx, cy), pose, PushTGeometry.AgentRadius + 1)) continue;
            _dist[k] = Math.Sqrt((cx - agent.X) * (cx - agent.X) + (cy - agent.Y) * (cy - agent.Y));
            _queue.Enqueue(k, _dist[k]);
        }
        while (_queue.TryDequeue(out int u, out double du))
        {
            if (du > _dist[u]) continue;
            int ui = u % _n, uj = u / _n;
            for (int dj = -1; dj <= 1; dj++)
            for (int di = -1; di <= 1; di++)
            {
                if (di == 0 && dj == 0) continue;
                int vi = ui + di, vj = uj + dj;
                if (vi < 0 || vj < 0 || vi >= _n || vj >= _n) continue;
                int v = vj * _n + vi;
                if (_blocked[v] && !(_blocked[u] && _tDist[v] > _tDist[u])) continue;
                double w = (di != 0 && dj != 0 ? Math.Sqrt(2) : 1) * _cell;
                double dv = du + w;
                if (dv < _dist[v])
                {
                    _dist[v] = dv;
                    _parent[v] = u;
                    _queue.Enqueue(v, dv);
                }
            }
        }
    }

    /// <summary>
    /// Travel distance (px) from the agent to a staging point through the best reached cell among the point's cell and its
    /// 8 neighbours whose centre sees the point (segment at least <paramref name="clearance"/> from the T); infinite when none.
    /// </summary>
    public (double Distance, int Cell) TravelTo(double x, double y, double clearance)
    {
        var (i, j) = CellOf(x, y);
        double best = double.PositiveInfinity;
        int bestCell = -1;
        for (int dj = -1; dj <= 1; dj++)
        for (int di = -1; di <= 1; di++)
        {
            int ci = i + di, cj = j + dj;
            if (ci < 0 || cj < 0 || ci >= _n || cj >= _n) continue;
            int k = cj * _n + ci;
            if (!double.IsFinite(_dist[k])) continue;
            var (cx, cy) = Centre(k);
            double d = _dist[k] + Math.Sqrt((cx - x) * (cx - x) + (cy - y) * (cy - y));
            if (d >= best) continue;
            if (!SegmentClear((cx, cy), (x, y), _pose, clearance)) continue;
            best = d;
            bestCell = k;
        }
        return (best, bestCell);
    }

    /// <summary>The cell-centre waypoints from the agent's cell to <paramref name="cell"/>, agent end first.</summary>
    public List<(double X, double Y)> PathTo(int cell)
    {
        int k = cell;
        var path = new List<(double X, double Y)>();
        while (k >= 0)
        {
            path.Add(Centre(k));
            k = _parent[k];
        }
        path.Reverse();
        return path;
    }

    /// <summary>
    /// True when the straight segment keeps at least <paramref name="clearance"/> from the T (sampled every 2 px), or, when
    /// <paramref name="a"/> is closer than that (the agent just pushed), at least a's distance less 0.5 px.
    /// </summary>
    public static bool SegmentClear((double X, double Y) a, (double X, double Y) b, (double X, double Y, double A) pose, double clearance)
    {
        double len = Math.Sqrt((b.X - a.X) * (b.X - a.X) + (b.Y - a.Y) * (b.Y - a.Y));
        // A start that is already closer (the agent just pushed) only has to keep the distance it has.
        clearance = Math.Min(clearance, DistanceToT(a.X, a.Y, pose.X, pose.Y, pose.A) - 0.5);
        int n = Math.Max(1, (int)Math.Ceiling(len / 2));
        for (int k = 1; k <= n; k++)
        {
            double t = (double)k / n;
            if (DistanceToT(a.X + t * (b.X - a.X), a.Y + t * (b.Y - a.Y), pose.X, pose.Y, pose.A) < clearance) return false;
        }
        return true;
    }
}

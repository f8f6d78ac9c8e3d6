using DpAg.Numpy;

namespace DpAg.Envs;

// Dynamic Push-T: the ball disturbance of a PushTEnv (see BallDisturbanceConfig for the reconstruction choices).
public sealed unsafe partial class PushTEnv
{
    /// <summary>Places the ball for a new episode from its own seeded generator (Dynamic Push-T only).</summary>
    internal void PlaceBall(long seed)
    {
        if (_ball == 0 || Config.Ball is not { } cfg) return;
        var rs = new NumpyRandomState((seed + cfg.SeedOffset) % (1L + uint.MaxValue));
        double r = cfg.Radius, lo = 5 + PushTGeometry.WallRadius + r + 10, hi = 506 - PushTGeometry.WallRadius - r - 10;
        var agent = AgentPosition;
        var (bx, by, ba) = BlockPose;
        var cog = PushTGeometry.ToWorld(bx, by, ba, PushTGeometry.CenterOfGravity);
        double x = 0.5 * (lo + hi), y = lo;
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            x = lo + rs.Rand() * (hi - lo);
            y = lo + rs.Rand() * (hi - lo);
            bool clearAgent = Math.Sqrt((x - agent.X) * (x - agent.X) + (y - agent.Y) * (y - agent.Y)) > r + PushTGeometry.AgentRadius + 20;
            bool clearBlock = Math.Sqrt((x - cog.X) * (x - cog.X) + (y - cog.Y) * (y - cog.Y)) > r + 80;
            if (clearAgent && clearBlock) break;
        }
        double theta = 2 * Math.PI * rs.Rand();
        double speed = cfg.SpeedPerStep / (Substeps * Dt); // px per env step -> px/s (one env step = 0.1 s)
        Chipmunk.cpBodySetPosition(_ball, new CpVect(x, y));
        Chipmunk.cpBodySetVelocity(_ball, new CpVect(speed * Math.Cos(theta), speed * Math.Sin(theta)));
    }

    private void BallBeforeSubstep()
    {
        double r = Config.Ball!.Radius;
        var p = Chipmunk.cpBodyGetPosition(_ball);
        var v = Chipmunk.cpBodyGetVelocity(_ball);
        double vx = v.X, vy = v.Y;
        double lo = 5 + PushTGeometry.WallRadius + r, hi = 506 - PushTGeometry.WallRadius - r;
        if ((p.X <= lo && vx < 0) || (p.X >= hi && vx > 0)) vx = -vx;
        if ((p.Y <= lo && vy < 0) || (p.Y >= hi && vy > 0)) vy = -vy;
        var a = Chipmunk.cpBodyGetPosition(_agent);
        double dx = p.X - a.X, dy = p.Y - a.Y, d = Math.Sqrt(dx * dx + dy * dy);
        if (d > 0 && d <= r + PushTGeometry.AgentRadius)
            Reflect(ref vx, ref vy, dx / d, dy / d, approachingWhenNegative: true);
        Chipmunk.cpBodySetVelocity(_ball, new CpVect(vx, vy));
    }

    private void BallAfterSubstep()
    {
        if (!_contacts.BallHit) return;
        var v = Chipmunk.cpBodyGetVelocity(_ball);
        double vx = v.X, vy = v.Y;
        // Normal points from the ball towards the T: moving into the T means v.n > 0.
        Reflect(ref vx, ref vy, _contacts.BallNormal.X, _contacts.BallNormal.Y, approachingWhenNegative: false);
        Chipmunk.cpBodySetVelocity(_ball, new CpVect(vx, vy));
    }

    private static void Reflect(ref double vx, ref double vy, double nx, double ny, bool approachingWhenNegative)
    {
        double vn = vx * nx + vy * ny;
        if (approachingWhenNegative ? vn < 0 : vn > 0)
        {
            vx -= 2 * vn * nx;
            vy -= 2 * vn * ny;
        }
    }
}

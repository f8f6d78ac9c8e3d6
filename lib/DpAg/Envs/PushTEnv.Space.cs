using System.Runtime.InteropServices;

namespace DpAg.Envs;

// The native Chipmunk world of a PushTEnv, built call for call like the reference _setup().
public sealed unsafe partial class PushTEnv
{
    private readonly ContactCollector _contacts = new();
    private GCHandle _contactsHandle;
    private nint _space, _staticBody, _agent, _block, _ball;
    private readonly List<nint> _shapes = new(8);
    private readonly List<nint> _bodies = new(4);

    private void BuildSpace()
    {
        FreeSpace();
        var space = Chipmunk.cpSpaceNew();
        _space = space;
        Chipmunk.cpSpaceSetGravity(space, new CpVect(0, 0));
        Chipmunk.cpSpaceSetDamping(space, 0);

        // Walls on a static body (pymunk's space.static_body is a cpBodyNewStatic added to the space on first use).
        _staticBody = AddBody(Chipmunk.cpBodyNewStatic());
        var walls = new (CpVect A, CpVect B)[]
        {
            (new(5, 506), new(5, 5)), (new(5, 5), new(506, 5)), (new(506, 5), new(506, 506)), (new(5, 506), new(506, 506)),
        };
        var wallShapes = new nint[4];
        for (int i = 0; i < 4; i++) wallShapes[i] = Chipmunk.cpSegmentShapeNew(_staticBody, walls[i].A, walls[i].B, PushTGeometry.WallRadius);
        foreach (var s in wallShapes) AddShape(s);

        // Agent: kinematic circle at (256, 400).
        _agent = Chipmunk.cpBodyNewKinematic();
        Chipmunk.cpBodySetPosition(_agent, new CpVect(256, 400));
        var circle = Chipmunk.cpCircleShapeNew(_agent, PushTGeometry.AgentRadius, new CpVect(0, 0));
        AddBody(_agent);
        AddShape(circle);

        // The T: mass 1, moment = 2 x moment_for_poly(bar) (upstream bug kept), COG = mean of the two shape centroids.
        var bar = stackalloc CpVect[4];
        var stem = stackalloc CpVect[4];
        for (int i = 0; i < 4; i++)
        {
            bar[i] = new CpVect(PushTGeometry.Bar[i].X, PushTGeometry.Bar[i].Y);
            stem[i] = new CpVect(PushTGeometry.Stem[i].X, PushTGeometry.Stem[i].Y);
        }
        double inertia1 = Chipmunk.cpMomentForPoly(1, 4, bar, new CpVect(0, 0), 0);
        double inertia2 = Chipmunk.cpMomentForPoly(1, 4, bar, new CpVect(0, 0), 0);
        _block = Chipmunk.cpBodyNew(1, inertia1 + inertia2);
        var shape1 = Chipmunk.cpPolyShapeNew(_block, 4, bar, CpTransform.Identity, 0);
        var shape2 = Chipmunk.cpPolyShapeNew(_block, 4, stem, CpTransform.Identity, 0);
        var c1 = Chipmunk.cpShapeGetCenterOfGravity(shape1);
        var c2 = Chipmunk.cpShapeGetCenterOfGravity(shape2);
        Chipmunk.cpBodySetCenterOfGravity(_block, new CpVect((c1.X + c2.X) / 2, (c1.Y + c2.Y) / 2));
        Chipmunk.cpBodySetPosition(_block, new CpVect(256, 300));
        Chipmunk.cpBodySetAngle(_block, 0);
        AddBody(_block);
        AddShape(shape1);
        AddShape(shape2);

        // Dynamic Push-T: the ball, a kinematic circle (see BallDisturbanceConfig).
        _ball = 0;
        if (Config.Ball is { } ballCfg)
        {
            _ball = Chipmunk.cpBodyNewKinematic();
            Chipmunk.cpBodySetPosition(_ball, new CpVect(256, 100));
            var ballShape = Chipmunk.cpCircleShapeNew(_ball, ballCfg.Radius, new CpVect(0, 0));
            AddBody(_ball);
            AddShape(ballShape);
        }

        // Collision handler (0, 0) with a post-solve that counts contact points.
        var handler = (byte*)Chipmunk.cpSpaceAddCollisionHandler(space, 0, 0);
        *(nint*)(handler + Chipmunk.HandlerPostSolveOffset) = (nint)(delegate* unmanaged<nint, nint, nint, void>)&PostSolve;
        *(nint*)(handler + Chipmunk.HandlerUserDataOffset) = GCHandle.ToIntPtr(_contactsHandle);
        _contacts.BallBody = _ball;
        _contacts.Marks.Clear();
    }

    private nint AddBody(nint body)
    {
        Chipmunk.cpSpaceAddBody(_space, body);
        _bodies.Add(body);
        return body;
    }

    private void AddShape(nint shape)
    {
        Chipmunk.cpSpaceAddShape(_space, shape);
        _shapes.Add(shape);
    }

    private void FreeSpace()
    {
        if (_space == 0) return;
        foreach (var s in _shapes) { Chipmunk.cpSpaceRemoveShape(_space, s); Chipmunk.cpShapeFree(s); }
        foreach (var b in _bodies) { Chipmunk.cpSpaceRemoveBody(_space, b); Chipmunk.cpBodyFree(b); }
        _shapes.Clear();
        _bodies.Clear();
        Chipmunk.cpSpaceFree(_space);
        _space = 0;
        _agent = _block = _ball = _staticBody = 0;
    }

    [UnmanagedCallersOnly]
    private static void PostSolve(nint arbiter, nint space, nint data)
    {
        if (GCHandle.FromIntPtr(data).Target is not ContactCollector c) return;
        var set = Chipmunk.cpArbiterGetContactPointSet(arbiter);
        c.Count += set.Count;
        if (c.Record)
        {
            var n = set.Normal;
            for (int j = 0; j < set.Count && j < 2; j++)
            {
                var pt = j == 0 ? set.Point0 : set.Point1;
                c.Marks.Add((pt.PointA.X - 2 * n.X, pt.PointA.Y - 2 * n.Y, pt.PointB.X + 2 * n.X, pt.PointB.Y + 2 * n.Y));
            }
        }
        if (c.BallBody != 0 && set.Count > 0)
        {
            nint a, b;
            Chipmunk.cpArbiterGetBodies(arbiter, &a, &b);
            if (a == c.BallBody) { c.BallHit = true; c.BallNormal = (set.Normal.X, set.Normal.Y); }
            else if (b == c.BallBody) { c.BallHit = true; c.BallNormal = (-set.Normal.X, -set.Normal.Y); }
        }
    }

    /// <summary>Post-solve sink: contact counts and marks of the current substep.</summary>
    private sealed class ContactCollector
    {
        public int Count;
        public bool Record;
        public nint BallBody;
        public bool BallHit;
        public (double X, double Y) BallNormal;
        public readonly List<(double X0, double Y0, double X1, double Y1)> Marks = new();

        public void Begin(bool record)
        {
            Count = 0;
            Record = record;
            BallHit = false;
            if (record) Marks.Clear();
        }
    }
}

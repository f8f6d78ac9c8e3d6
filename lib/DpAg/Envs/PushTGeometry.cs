namespace DpAg.Envs;

/// <summary>
/// Push-T geometry shared by the simulator, the renderer and planners (docs/pusht.md, "Environment"): the T's two boxes,
/// its keypoints, the goal pose and the exact coverage (area of intersection with the goal T / 6300).
/// Coordinates are pixels with y pointing down; a pose is (x, y, angle) of the T's ORIGIN (middle of the bar's outer edge).
/// </summary>
public static class PushTGeometry
{
    /// <summary>Side of the square world in pixels (512).</summary>
    public const double WorldSize = 512;

    /// <summary>Agent radius in pixels (15).</summary>
    public const double AgentRadius = 15;

    /// <summary>Area of the T in square pixels (120*30 + 30*90 = 6300).</summary>
    public const double TArea = 6300;

    /// <summary>Coverage above which an episode is done (0.95).</summary>
    public const double SuccessThreshold = 0.95;

    /// <summary>Wall segment radius (2); walls join (5,5), (506,5), (506,506), (5,506).</summary>
    public const double WallRadius = 2;

    /// <summary>Goal pose (256, 256, pi/4) of the reference environment.</summary>
    public static readonly (double X, double Y, double Angle) GoalPose = (256, 256, Math.PI / 4);

    /// <summary>Centre of gravity of the T in its body frame, (0, 45): the plain mean of the two box centroids.</summary>
    public static readonly (double X, double Y) CenterOfGravity = (0, 45);

    /// <summary>The bar, x in [-60, 60], y in [0, 30], in upstream vertex order (body frame).</summary>
    public static readonly (double X, double Y)[] Bar = [(-60, 30), (60, 30), (60, 0), (-60, 0)];

    /// <summary>The stem, x in [-15, 15], y in [30, 120], in upstream vertex order (body frame).</summary>
    public static readonly (double X, double Y)[] Stem = [(-15, 30), (-15, 120), (15, 120), (15, 30)];

    /// <summary>The nine keypoints of the T in its body frame (docs/pusht.md), in observation order.</summary>
    public static readonly (double X, double Y)[] LocalKeypoints =
    [
        (9.269787, 90.040974), (-60.983472, -1.186730), (60.912756, -1.393364),
        (-0.270503, 25.543625), (-14.064928, 122.815854), (39.002739, 32.857404),
        (-39.966414, 32.729655), (-16.824344, 62.863179), (23.541461, -1.700288),
    ];

    /// <summary>Maps a body-frame point to world coordinates: R(angle) * local + origin.</summary>
    public static (double X, double Y) ToWorld(double x, double y, double angle, (double X, double Y) local)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle);
        return (c * local.X - s * local.Y + x, s * local.X + c * local.Y + y);
    }

    /// <summary>The 9 keypoints of a T at the given origin pose in world coordinates, flattened to 18 numbers (x0, y0, x1, ...).</summary>
    public static double[] Keypoints(double x, double y, double angle)
    {
        var result = new double[18];
        WriteKeypoints(x, y, angle, result);
        return result;
    }

    /// <summary>Writes the 18 flattened world keypoints into <paramref name="destination"/>.</summary>
    public static void WriteKeypoints(double x, double y, double angle, Span<double> destination)
    {
        if (destination.Length < 18)
            throw new ArgumentException($"destination needs 18 slots, got {destination.Length}; pass a larger span.", nameof(destination));
        for (int i = 0; i < 9; i++)
        {
            var (wx, wy) = ToWorld(x, y, angle, LocalKeypoints[i]);
            destination[2 * i] = wx;
            destination[2 * i + 1] = wy;
        }
    }

    /// <summary>The world vertices of the bar (index 0) or the stem (index 1) of a T at the given origin pose.</summary>
    public static (double X, double Y)[] BoxWorld(int box, double x, double y, double angle)
    {
        var local = box == 0 ? Bar : box == 1 ? Stem : throw new ArgumentOutOfRangeException(nameof(box), box, "box is 0 (bar) or 1 (stem).");
        var result = new (double X, double Y)[4];
        for (int i = 0; i < 4; i++) result[i] = ToWorld(x, y, angle, local[i]);
        return result;
    }

    /// <summary>
    /// Coverage of the goal T by a T at pose (x, y, angle): the sum over the 4 (box, goal box) pairs of the exact
    /// convex-polygon intersection areas (Sutherland-Hodgman clipping), divided by 6300. The boxes of one T have
    /// disjoint interiors, so this equals the shapely area the reference computes.
    /// </summary>
    public static double Coverage(double x, double y, double angle) =>
        Coverage(x, y, angle, GoalPose.X, GoalPose.Y, GoalPose.Angle);

    /// <summary>Coverage of a T at a goal pose (gx, gy, ga) by a T at pose (x, y, angle); see <see cref="Coverage(double, double, double)"/>.</summary>
    public static double Coverage(double x, double y, double angle, double gx, double gy, double ga)
    {
        Span<(double X, double Y)> a = stackalloc (double, double)[4];
        Span<(double X, double Y)> b = stackalloc (double, double)[4];
        Span<(double X, double Y)> buf1 = stackalloc (double, double)[16];
        Span<(double X, double Y)> buf2 = stackalloc (double, double)[16];
        double area = 0;
        for (int i = 0; i < 2; i++)
        {
            Fill(i == 0 ? Bar : Stem, x, y, angle, a);
            for (int j = 0; j < 2; j++)
            {
                Fill(j == 0 ? Bar : Stem, gx, gy, ga, b);
                area += ConvexIntersectionArea(a, b, buf1, buf2);
            }
        }
        return area / TArea;
    }

    /// <summary>The reward for a coverage value: clip(coverage / 0.95, 0, 1).</summary>
    public static double Reward(double coverage) => Math.Clamp(coverage / SuccessThreshold, 0.0, 1.0);

    private static void Fill((double X, double Y)[] local, double x, double y, double angle, Span<(double X, double Y)> dst)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle);
        for (int k = 0; k < 4; k++)
            dst[k] = (c * local[k].X - s * local[k].Y + x, s * local[k].X + c * local[k].Y + y);
    }

    /// <summary>Signed shoelace area of a polygon (positive for counter-clockwise in a y-up frame).</summary>
    internal static double SignedArea(ReadOnlySpan<(double X, double Y)> p)
    {
        double s = 0;
        for (int i = 0; i < p.Length; i++)
        {
            var q = p[(i + 1) % p.Length];
            s += p[i].X * q.Y - q.X * p[i].Y;
        }
        return 0.5 * s;
    }

    /// <summary>Area of the intersection of two convex polygons (any orientation) by Sutherland-Hodgman clipping.</summary>
    internal static double ConvexIntersectionArea(ReadOnlySpan<(double X, double Y)> subject, ReadOnlySpan<(double X, double Y)> clip,
        Span<(double X, double Y)> buf1, Span<(double X, double Y)> buf2)
    {
        double orient = Math.Sign(SignedArea(clip));
        if (orient == 0) return 0;
        int n = subject.Length;
        subject.CopyTo(buf1);
        Span<(double X, double Y)> input = buf1, output = buf2;
        for (int e = 0; e < clip.Length && n > 0; e++)
        {
            var c0 = clip[e];
            var c1 = clip[(e + 1) % clip.Length];
            double ex = c1.X - c0.X, ey = c1.Y - c0.Y;
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                var p = input[i];
                var q = input[(i + 1) % n];
                double dp = orient * (ex * (p.Y - c0.Y) - ey * (p.X - c0.X));
                double dq = orient * (ex * (q.Y - c0.Y) - ey * (q.X - c0.X));
                bool pin = dp >= 0, qin = dq >= 0;
                if (pin) output[m++] = p;
                if (pin != qin)
                {
                    double t = dp / (dp - dq);
                    output[m++] = (p.X + t * (q.X - p.X), p.Y + t * (q.Y - p.Y));
                }
            }
            n = m;
            var tmp = input; input = output; output = tmp;
        }
        return n < 3 ? 0 : Math.Abs(SignedArea(input[..n]));
    }
}

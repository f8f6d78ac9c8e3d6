using SkiaSharp;

namespace DpAg.Envs;

/// <summary>What <see cref="PushTRenderer"/> draws: one captured moment of a <see cref="PushTEnv"/>.</summary>
/// <param name="Agent">Agent position.</param>
/// <param name="Block">T origin pose (x, y, angle).</param>
/// <param name="Ball">Ball (x, y, radius) in Dynamic Push-T, else null.</param>
/// <param name="ContactMarks">Contact ticks of the last substep.</param>
/// <param name="Action">Last action (drawn as a red cross in videos), or null.</param>
public sealed record PushTFrame(
    (double X, double Y) Agent,
    (double X, double Y, double Angle) Block,
    (double X, double Y, double Radius)? Ball,
    IReadOnlyList<(double X0, double Y0, double X1, double Y1)> ContactMarks,
    (double X, double Y)? Action);

/// <summary>
/// Draws Push-T like the reference (pygame + pymunk debug draw; docs/pusht.md "Rendering") on a 512 x 512 SkiaSharp canvas
/// without anti-aliasing (pygame draws hard edges; vertices are rounded to whole pixels like <c>to_pygame</c>), then resizes
/// bilinearly (OpenCV <c>INTER_LINEAR</c> half-pixel mapping) to the requested size. Draw order follows the space's shape
/// order: goal T, walls, agent, T (fill then 2-px outline per box), ball, contact ticks; videos add the action cross.
/// </summary>
public static class PushTRenderer
{
    /// <summary>Side of the drawing canvas (512, the reference <c>window_size</c>).</summary>
    public const int CanvasSize = 512;

    /// <summary>Background (white).</summary>
    public static readonly (byte R, byte G, byte B) Background = (255, 255, 255);
    /// <summary>Goal T fill, pygame LightGreen.</summary>
    public static readonly (byte R, byte G, byte B) GoalColor = (144, 238, 144);
    /// <summary>Agent disc, pygame RoyalBlue.</summary>
    public static readonly (byte R, byte G, byte B) AgentColor = (65, 105, 225);
    /// <summary>Agent inner disc (RoyalBlue x 1.2 clipped).</summary>
    public static readonly (byte R, byte G, byte B) AgentLightColor = (78, 126, 255);
    /// <summary>T fill (LightSlateGray x 1.2).</summary>
    public static readonly (byte R, byte G, byte B) BlockFillColor = (142, 163, 183);
    /// <summary>T outline, pygame LightSlateGray.</summary>
    public static readonly (byte R, byte G, byte B) BlockOutlineColor = (119, 136, 153);
    /// <summary>Walls, pygame LightGray.</summary>
    public static readonly (byte R, byte G, byte B) WallColor = (211, 211, 211);
    /// <summary>Contact ticks (pymunk's collision point colour).</summary>
    public static readonly (byte R, byte G, byte B) ContactColor = (231, 76, 60);
    /// <summary>Dynamic Push-T ball, outer (orange).</summary>
    public static readonly (byte R, byte G, byte B) BallColor = (255, 165, 0);
    /// <summary>Dynamic Push-T ball, lighter core.</summary>
    public static readonly (byte R, byte G, byte B) BallCoreColor = (255, 198, 0);
    /// <summary>Action cross in videos (red).</summary>
    public static readonly (byte R, byte G, byte B) ActionColor = (255, 0, 0);

    /// <summary>Renders RGB bytes in HWC order, side <paramref name="size"/> (512 draws directly; other sizes are resized from 512).</summary>
    /// <param name="frame">What to draw.</param>
    /// <param name="size">Output side in pixels.</param>
    /// <param name="drawAction">Draw the red cross at the action (videos only, never observations).</param>
    public static byte[] RenderRgb(PushTFrame frame, int size = CanvasSize, bool drawAction = false)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "size must be positive (512 or 96 in the reference).");
        var bitmap = DrawCanvas(frame);
        var rgba = bitmap.GetPixelSpan();
        byte[] rgb;
        if (size == CanvasSize)
        {
            rgb = new byte[CanvasSize * CanvasSize * 3];
            for (int i = 0, n = CanvasSize * CanvasSize; i < n; i++)
            {
                rgb[3 * i] = rgba[4 * i];
                rgb[3 * i + 1] = rgba[4 * i + 1];
                rgb[3 * i + 2] = rgba[4 * i + 2];
            }
        }
        else rgb = Resize(rgba, 4, CanvasSize, CanvasSize, size, size);
        if (drawAction && frame.Action is { } act) DrawActionCross(rgb, size, act);
        return rgb;
    }

    /// <summary>The image observation: RGB [3, S, S] (channel-major) in [0, 1], rendered at 512 and resized to S, no action cross.</summary>
    public static float[] ImageObservation(PushTFrame frame, int size = 96)
    {
        var rgb = RenderRgb(frame, size, drawAction: false);
        int n = size * size;
        var result = new float[3 * n];
        for (int i = 0; i < n; i++)
        {
            result[i] = rgb[3 * i] / 255f;
            result[n + i] = rgb[3 * i + 1] / 255f;
            result[2 * n + i] = rgb[3 * i + 2] / 255f;
        }
        return result;
    }

    private static SKColor C((byte R, byte G, byte B) c) => new(c.R, c.G, c.B);

    private static SKPoint P(double x, double y) => new((float)Math.Round(x, MidpointRounding.ToEven), (float)Math.Round(y, MidpointRounding.ToEven));

    [ThreadStatic] private static SKBitmap? _bitmap;

    /// <summary>Draws into this thread's cached 512 x 512 RGBA bitmap (valid until the next draw on the thread).</summary>
    private static SKBitmap DrawCanvas(PushTFrame f)
    {
        var bitmap = _bitmap ??= new SKBitmap(new SKImageInfo(CanvasSize, CanvasSize, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(C(Background));
            // Pixel (i, j) covers [i, i+1): shift by half a pixel so integer coordinates land on pixel centres like pygame.
            canvas.Translate(0.5f, 0.5f);
            using var fill = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Fill };
            using var stroke = new SKPaint { IsAntialias = false, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round };

            var g = PushTGeometry.GoalPose;
            fill.Color = C(GoalColor);
            for (int box = 0; box < 2; box++) FillPolygon(canvas, fill, PushTGeometry.BoxWorld(box, g.X, g.Y, g.Angle));

            stroke.Color = C(WallColor);
            stroke.StrokeWidth = 4;
            FatSegment(canvas, stroke, 5, 506, 5, 5);
            FatSegment(canvas, stroke, 5, 5, 506, 5);
            FatSegment(canvas, stroke, 506, 5, 506, 506);
            FatSegment(canvas, stroke, 5, 506, 506, 506);

            Disc(canvas, fill, f.Agent.X, f.Agent.Y, PushTGeometry.AgentRadius, AgentColor);
            Disc(canvas, fill, f.Agent.X, f.Agent.Y, PushTGeometry.AgentRadius - 4, AgentLightColor);

            for (int box = 0; box < 2; box++)
            {
                var verts = PushTGeometry.BoxWorld(box, f.Block.X, f.Block.Y, f.Block.Angle);
                fill.Color = C(BlockFillColor);
                FillPolygon(canvas, fill, verts);
                stroke.Color = C(BlockOutlineColor);
                for (int i = 0; i < verts.Length; i++)
                {
                    var a = verts[i];
                    var b = verts[(i + 1) % verts.Length];
                    FatSegment(canvas, stroke, a.X, a.Y, b.X, b.Y);
                }
            }

            if (f.Ball is { } ball)
            {
                Disc(canvas, fill, ball.X, ball.Y, ball.Radius, BallColor);
                Disc(canvas, fill, ball.X, ball.Y, Math.Max(1, ball.Radius - 6), BallCoreColor);
            }

            stroke.Color = C(ContactColor);
            stroke.StrokeWidth = 1;
            stroke.StrokeCap = SKStrokeCap.Butt;
            foreach (var m in f.ContactMarks) canvas.DrawLine(P(m.X0, m.Y0), P(m.X1, m.Y1), stroke);
        }
        return bitmap;
    }

    private static void FillPolygon(SKCanvas canvas, SKPaint paint, (double X, double Y)[] verts)
    {
        using var path = new SKPath();
        path.MoveTo(P(verts[0].X, verts[0].Y));
        for (int i = 1; i < verts.Length; i++) path.LineTo(P(verts[i].X, verts[i].Y));
        path.Close();
        canvas.DrawPath(path, paint);
    }

    private static void FatSegment(SKCanvas canvas, SKPaint paint, double x0, double y0, double x1, double y1) =>
        canvas.DrawLine(P(x0, y0), P(x1, y1), paint);

    private static void Disc(SKCanvas canvas, SKPaint paint, double x, double y, double radius, (byte R, byte G, byte B) color)
    {
        paint.Color = C(color);
        canvas.DrawCircle(P(x, y), (float)Math.Round(radius), paint);
    }

    /// <summary>cv2.drawMarker(MARKER_CROSS) at action / 512 * size with size 8/96 and thickness 1/96 of the image side.</summary>
    private static void DrawActionCross(byte[] rgb, int size, (double X, double Y) action)
    {
        int cx = (int)(action.X / CanvasSize * size), cy = (int)(action.Y / CanvasSize * size);
        int half = Math.Max(1, (int)(8.0 / 96 * size)) / 2;
        int thick = Math.Max(1, (int)(1.0 / 96 * size));
        for (int d = -half; d <= half; d++)
            for (int t = -(thick - 1) / 2; t <= thick / 2; t++)
            {
                SetPixel(rgb, size, cx + d, cy + t, ActionColor);
                SetPixel(rgb, size, cx + t, cy + d, ActionColor);
            }
    }

    private static void SetPixel(byte[] rgb, int size, int x, int y, (byte R, byte G, byte B) c)
    {
        if ((uint)x >= (uint)size || (uint)y >= (uint)size) return;
        int o = 3 * (y * size + x);
        rgb[o] = c.R; rgb[o + 1] = c.G; rgb[o + 2] = c.B;
    }

    /// <summary>
    /// Bilinear resize of HWC RGB bytes with OpenCV's INTER_LINEAR mapping: source = (dst + 0.5) * scale - 0.5, clamped at
    /// the borders, weights quantised to 1/2048 like OpenCV's fixed-point path, rounded to the nearest byte.
    /// </summary>
    public static byte[] ResizeBilinear(byte[] src, int srcW, int srcH, int dstW, int dstH)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (src.Length != srcW * srcH * 3) throw new ArgumentException($"src has {src.Length} bytes; expected {srcW * srcH * 3} for {srcW}x{srcH} RGB.", nameof(src));
        return Resize(src, 3, srcW, srcH, dstW, dstH);
    }

    private static byte[] Resize(ReadOnlySpan<byte> src, int stride, int srcW, int srcH, int dstW, int dstH)
    {
        var x0 = new int[dstW]; var wx = new double[dstW];
        var y0 = new int[dstH]; var wy = new double[dstH];
        Coefficients(srcW, dstW, x0, wx);
        Coefficients(srcH, dstH, y0, wy);
        var dst = new byte[dstW * dstH * 3];
        for (int j = 0; j < dstH; j++)
        {
            int r0 = y0[j], r1 = Math.Min(r0 + 1, srcH - 1);
            double b = wy[j], a = 1 - b;
            for (int i = 0; i < dstW; i++)
            {
                int c0 = x0[i], c1 = Math.Min(c0 + 1, srcW - 1);
                double q = wx[i], p = 1 - q;
                for (int ch = 0; ch < 3; ch++)
                {
                    double v = a * (p * src[stride * (r0 * srcW + c0) + ch] + q * src[stride * (r0 * srcW + c1) + ch])
                             + b * (p * src[stride * (r1 * srcW + c0) + ch] + q * src[stride * (r1 * srcW + c1) + ch]);
                    dst[3 * (j * dstW + i) + ch] = (byte)Math.Clamp((int)Math.Round(v, MidpointRounding.AwayFromZero), 0, 255);
                }
            }
        }
        return dst;
    }

    private static void Coefficients(int srcN, int dstN, int[] idx, double[] w)
    {
        double scale = (double)srcN / dstN;
        for (int d = 0; d < dstN; d++)
        {
            double s = (d + 0.5) * scale - 0.5;
            int i = (int)Math.Floor(s);
            double f = s - i;
            if (i < 0) { i = 0; f = 0; }
            if (i >= srcN - 1) { i = srcN - 1; f = 0; }
            idx[d] = i;
            w[d] = Math.Round(f * 2048) / 2048;
        }
    }
}

using DpAg.Envs;
using DpAg.Numpy;
using SkiaSharp;

namespace DpAg.Tests.Envs;

public class PushTRendererTests
{
    private static (byte, byte, byte) Pixel(byte[] rgb, int size, double x, double y)
    {
        int i = 3 * ((int)Math.Round(y) * size + (int)Math.Round(x));
        return (rgb[i], rgb[i + 1], rgb[i + 2]);
    }

    private static PushTEnv PlacedEnv(PushTConfig? config = null)
    {
        var env = new PushTEnv(config ?? new PushTConfig { LegacyReset = false });
        env.ResetToState([100, 400, 400, 120, 0]);
        return env;
    }

    [Fact]
    public void CanvasHasReferenceColoursAtKnownPoints()
    {
        using var env = PlacedEnv();
        var rgb = env.Render(512, drawAction: false);
        Assert.Equal(512 * 512 * 3, rgb.Length);
        Assert.Equal(PushTRenderer.Background, Pixel(rgb, 512, 60, 200));
        var goal = PushTGeometry.ToWorld(256, 256, Math.PI / 4, (0, 60));
        Assert.Equal(PushTRenderer.GoalColor, Pixel(rgb, 512, goal.X, goal.Y));
        Assert.Equal(PushTRenderer.AgentLightColor, Pixel(rgb, 512, 100, 400));
        Assert.Equal(PushTRenderer.AgentColor, Pixel(rgb, 512, 113, 400));
        Assert.Equal(PushTRenderer.BlockFillColor, Pixel(rgb, 512, 400, 135));
        Assert.Equal(PushTRenderer.BlockFillColor, Pixel(rgb, 512, 400, 200));
        Assert.Equal(PushTRenderer.BlockOutlineColor, Pixel(rgb, 512, 400, 120)); // outer edge of the bar
        Assert.Equal(PushTRenderer.WallColor, Pixel(rgb, 512, 5, 250));
    }

    [Fact]
    public void ImageObservationIs96AndInUnitRange()
    {
        using var env = PlacedEnv(new PushTConfig { LegacyReset = false, ImageObservations = true });
        var obs = env.Observe();
        var img = obs.Image!;
        Assert.Equal(3 * 96 * 96, img.Length);
        Assert.All(img, v => Assert.InRange(v, 0f, 1f));
        float At(int c, double x, double y) => img[c * 96 * 96 + (int)(y * 96 / 512) * 96 + (int)(x * 96 / 512)];
        Assert.Equal(1f, At(0, 60, 200));
        var goal = PushTGeometry.ToWorld(256, 256, Math.PI / 4, (0, 60));
        Assert.Equal(144 / 255f, At(0, goal.X, goal.Y), 3);
        Assert.Equal(238 / 255f, At(1, goal.X, goal.Y), 3);
        Assert.Equal(78 / 255f, At(0, 100, 400), 2);
        Assert.Equal(163 / 255f, At(1, 400, 200), 2);
    }

    [Fact]
    public void BilinearResizeOfConstantIsConstantAndAveragesChecker()
    {
        var src = new byte[8 * 8 * 3];
        Array.Fill(src, (byte)77);
        Assert.All(PushTRenderer.ResizeBilinear(src, 8, 8, 3, 3), b => Assert.Equal(77, b));
        // 2x downscale with half-pixel mapping samples exactly between two source pixels: a 0/255 checker averages to 128.
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) for (int c = 0; c < 3; c++) src[3 * (y * 8 + x) + c] = (byte)(((x + y) & 1) * 255);
        Assert.All(PushTRenderer.ResizeBilinear(src, 8, 8, 4, 4), b => Assert.Equal(128, b));
    }

    [Fact]
    public void GifRoundTripsThroughSkiaDecoder()
    {
        const int w = 40, h = 24;
        var rng = new NumpyRandomState(5);
        var frames = new List<byte[]>();
        for (int f = 0; f < 3; f++)
        {
            var rgb = new byte[w * h * 3];
            for (int i = 0; i < w * h; i++)
            {
                // Mostly runs of Push-T colours (long LZW strings) with some arbitrary colours.
                var c = rng.Rand() < 0.8 ? ((i / 7 + f) % 3 == 0 ? PushTRenderer.GoalColor : PushTRenderer.Background)
                                         : ((byte)rng.RandInt(0, 256), (byte)rng.RandInt(0, 256), (byte)rng.RandInt(0, 256));
                rgb[3 * i] = c.Item1; rgb[3 * i + 1] = c.Item2; rgb[3 * i + 2] = c.Item3;
            }
            frames.Add(rgb);
        }
        var gif = GifWriter.Encode(frames, w, h, 100);
        var path = Path.Combine(Path.GetTempPath(), $"dpag-gif-{Guid.NewGuid():N}.gif");
        try
        {
            GifWriter.Save(path, frames, w, h, 100);
            Assert.Equal(gif, File.ReadAllBytes(path));
        }
        finally { File.Delete(path); }
        Assert.StartsWith("<img src=\"data:image/gif;base64,", GifWriter.ToHtml(gif));
        using var data = SKData.CreateCopy(gif);
        using var codec = SKCodec.Create(data);
        Assert.NotNull(codec);
        Assert.Equal(3, codec.FrameCount);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int f = 0; f < 3; f++)
        {
            using var bmp = new SKBitmap(info);
            Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, bmp.GetPixels(), new SKCodecOptions(f)));
            var px = bmp.GetPixelSpan();
            for (int i = 0; i < w * h; i++)
            {
                var expected = GifWriter.Colour(GifWriter.Index(frames[f][3 * i], frames[f][3 * i + 1], frames[f][3 * i + 2]));
                Assert.Equal(expected, (px[4 * i], px[4 * i + 1], px[4 * i + 2]));
            }
        }
    }

    [Fact]
    public void LzwHandlesDictionaryResets()
    {
        // 200 x 200 of noise overflows the 4096-entry table several times; decode with Skia to check.
        const int n = 200;
        var rng = new NumpyRandomState(11);
        var rgb = new byte[n * n * 3];
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)(rng.RandInt(0, 6) * 51);
        var gif = GifWriter.Encode([rgb], n, n);
        using var bmp = SKBitmap.Decode(gif);
        Assert.NotNull(bmp);
        for (int y = 0; y < n; y += 7)
            for (int x = 0; x < n; x += 3)
            {
                var c = bmp.GetPixel(x, y);
                int i = 3 * (y * n + x);
                Assert.Equal((rgb[i], rgb[i + 1], rgb[i + 2]), (c.Red, c.Green, c.Blue));
            }
    }
}

using System.Text;

namespace DpAg.Envs;

/// <summary>
/// A small animated GIF89a encoder (own implementation: global fixed palette, LZW with 8-bit minimum code size, NETSCAPE2.0
/// looping) for episode roll-outs that notebooks show as base64 HTML. The palette holds the Push-T colours exactly
/// (<see cref="PushTRenderer"/>) plus a 6 x 6 x 6 colour cube and a grey ramp; other colours map to the nearest cube/grey entry.
/// </summary>
public static class GifWriter
{
    private static readonly byte[] Palette = BuildPalette(out KeyColours);
    private static readonly Dictionary<int, byte> KeyColours;

    /// <summary>Encodes RGB frames (HWC bytes, all <paramref name="width"/> x <paramref name="height"/>) as a looping GIF.</summary>
    /// <param name="frames">Frames, RGB bytes each of length width*height*3.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="delayMs">Time per frame in milliseconds (rounded to 10 ms; the env runs at 10 Hz, so 100 is real time).</param>
    public static byte[] Encode(IReadOnlyList<byte[]> frames, int width, int height, int delayMs = 100)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0) throw new ArgumentException("frames is empty; pass at least one frame.", nameof(frames));
        if (width < 1 || height < 1 || width > 65535 || height > 65535)
            throw new ArgumentException($"width x height must be in [1, 65535]; got {width} x {height}.", nameof(width));
        using var ms = new MemoryStream();
        ms.Write("GIF89a"u8);
        WriteU16(ms, width);
        WriteU16(ms, height);
        ms.WriteByte(0xF7); // global colour table, 8 bits colour resolution, 256 entries
        ms.WriteByte(0);    // background colour index
        ms.WriteByte(0);    // pixel aspect ratio
        ms.Write(Palette);
        // NETSCAPE2.0 application extension: loop forever.
        ms.Write([0x21, 0xFF, 0x0B]);
        ms.Write("NETSCAPE2.0"u8);
        ms.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        int delay = Math.Clamp((delayMs + 5) / 10, 0, 65535);
        var indices = new byte[width * height];
        foreach (var frame in frames)
        {
            if (frame.Length != width * height * 3)
                throw new ArgumentException($"a frame has {frame.Length} bytes; expected {width * height * 3} for {width}x{height} RGB.", nameof(frames));
            for (int i = 0; i < indices.Length; i++) indices[i] = Index(frame[3 * i], frame[3 * i + 1], frame[3 * i + 2]);
            ms.Write([0x21, 0xF9, 0x04, 0x04]); // graphic control: disposal 1 (leave in place), no transparency
            WriteU16(ms, delay);
            ms.Write([0x00, 0x00]);
            ms.WriteByte(0x2C); // image descriptor
            WriteU16(ms, 0);
            WriteU16(ms, 0);
            WriteU16(ms, width);
            WriteU16(ms, height);
            ms.WriteByte(0); // no local table, not interlaced
            ms.WriteByte(8); // LZW minimum code size
            WriteSubBlocks(ms, Lzw(indices));
        }
        ms.WriteByte(0x3B);
        return ms.ToArray();
    }

    /// <summary>Encodes frames (see <see cref="Encode"/>) and writes the GIF atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<byte[]> frames, int width, int height, int delayMs = 100) =>
        DpAg.IO.AtomicFile.WriteAllBytes(path, Encode(frames, width, height, delayMs));

    /// <summary>An HTML <c>img</c> tag with the GIF inlined as base64 (for notebook display).</summary>
    /// <param name="gif">GIF bytes from <see cref="Encode"/>.</param>
    /// <param name="displayWidth">Optional display width in CSS pixels.</param>
    public static string ToHtml(byte[] gif, int? displayWidth = null)
    {
        ArgumentNullException.ThrowIfNull(gif);
        var sb = new StringBuilder("<img src=\"data:image/gif;base64,");
        sb.Append(Convert.ToBase64String(gif)).Append('"');
        if (displayWidth is { } w) sb.Append(" width=\"").Append(w).Append('"');
        sb.Append(" style=\"image-rendering: pixelated\"/>");
        return sb.ToString();
    }

    /// <summary>The palette index for an RGB colour: exact for Push-T colours, else the nearest cube or grey entry.</summary>
    internal static byte Index(byte r, byte g, byte b)
    {
        if (KeyColours.TryGetValue((r << 16) | (g << 8) | b, out var k)) return k;
        int ri = (r + 25) / 51, gi = (g + 25) / 51, bi = (b + 25) / 51;
        int cube = 16 + ri * 36 + gi * 6 + bi;
        int cr = ri * 51, cg = gi * 51, cb = bi * 51;
        int dCube = (r - cr) * (r - cr) + (g - cg) * (g - cg) + (b - cb) * (b - cb);
        int mean = (r + g + b) / 3;
        int gi2 = Math.Clamp((int)Math.Round(mean / 255.0 * 23), 0, 23);
        int gv = GreyValue(gi2);
        int dGrey = (r - gv) * (r - gv) + (g - gv) * (g - gv) + (b - gv) * (b - gv);
        return (byte)(dGrey < dCube ? 232 + gi2 : cube);
    }

    /// <summary>The RGB of a palette entry.</summary>
    internal static (byte R, byte G, byte B) Colour(byte index) => (Palette[3 * index], Palette[3 * index + 1], Palette[3 * index + 2]);

    private static int GreyValue(int i) => (int)Math.Round(i * 255.0 / 23);

    private static byte[] BuildPalette(out Dictionary<int, byte> keys)
    {
        var p = new byte[256 * 3];
        keys = new Dictionary<int, byte>();
        (byte R, byte G, byte B)[] key =
        [
            PushTRenderer.Background, PushTRenderer.GoalColor, PushTRenderer.AgentColor, PushTRenderer.AgentLightColor,
            PushTRenderer.BlockFillColor, PushTRenderer.BlockOutlineColor, PushTRenderer.WallColor, PushTRenderer.ContactColor,
            PushTRenderer.BallColor, PushTRenderer.BallCoreColor, PushTRenderer.ActionColor, (0, 0, 0),
        ];
        for (int i = 0; i < 16; i++)
        {
            var c = i < key.Length ? key[i] : ((byte)0, (byte)0, (byte)0);
            p[3 * i] = c.Item1; p[3 * i + 1] = c.Item2; p[3 * i + 2] = c.Item3;
            if (i < key.Length) keys.TryAdd((c.Item1 << 16) | (c.Item2 << 8) | c.Item3, (byte)i);
        }
        for (int r = 0; r < 6; r++)
            for (int g = 0; g < 6; g++)
                for (int b = 0; b < 6; b++)
                {
                    int i = 16 + r * 36 + g * 6 + b;
                    p[3 * i] = (byte)(r * 51); p[3 * i + 1] = (byte)(g * 51); p[3 * i + 2] = (byte)(b * 51);
                }
        for (int i = 0; i < 24; i++)
        {
            byte v = (byte)GreyValue(i);
            p[3 * (232 + i)] = v; p[3 * (232 + i) + 1] = v; p[3 * (232 + i) + 2] = v;
        }
        return p;
    }

    /// <summary>GIF LZW: variable code width from 9 to 12 bits, clear code 256, end code 257, LSB-first packing.</summary>
    internal static byte[] Lzw(ReadOnlySpan<byte> indices)
    {
        const int clear = 256, end = 257;
        var output = new List<byte>(indices.Length / 2 + 16);
        int bitBuffer = 0, bitCount = 0, codeSize = 9, next = 258;
        var dict = new Dictionary<int, int>(4096);
        void Emit(int code)
        {
            bitBuffer |= code << bitCount;
            bitCount += codeSize;
            while (bitCount >= 8) { output.Add((byte)bitBuffer); bitBuffer >>= 8; bitCount -= 8; }
        }
        Emit(clear);
        int prefix = -1;
        foreach (byte px in indices)
        {
            if (prefix < 0) { prefix = px; continue; }
            int key = (prefix << 8) | px;
            if (dict.TryGetValue(key, out int code)) { prefix = code; continue; }
            Emit(prefix);
            dict[key] = next++;
            if (next > (1 << codeSize) && codeSize < 12) codeSize++;
            if (next == 4096)
            {
                Emit(clear);
                dict.Clear();
                codeSize = 9;
                next = 258;
            }
            prefix = px;
        }
        if (prefix >= 0) Emit(prefix);
        Emit(end);
        if (bitCount > 0) output.Add((byte)bitBuffer);
        return output.ToArray();
    }

    private static void WriteSubBlocks(Stream s, byte[] data)
    {
        for (int i = 0; i < data.Length; i += 255)
        {
            int n = Math.Min(255, data.Length - i);
            s.WriteByte((byte)n);
            s.Write(data, i, n);
        }
        s.WriteByte(0);
    }

    private static void WriteU16(Stream s, int v)
    {
        s.WriteByte((byte)(v & 0xFF));
        s.WriteByte((byte)(v >> 8));
    }
}

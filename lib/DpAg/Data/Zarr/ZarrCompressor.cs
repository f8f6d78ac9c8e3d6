using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using K4os.Compression.LZ4;
using ZstdSharp;

namespace DpAg.Data.Zarr;

/// <summary>
/// A numcodecs compressor as named in <c>.zarray</c>'s <c>compressor</c> field. Null in <c>.zarray</c> means raw chunks.
/// Implemented: <see cref="BloscCompressor"/> (id "blosc"), <see cref="ZstdCompressor"/> ("zstd"),
/// <see cref="Lz4Compressor"/> ("lz4"), <see cref="ZlibCompressor"/> ("zlib"), <see cref="GZipCompressor"/> ("gzip").
/// bz2 and lzma have no codec in .NET and are refused by name.
/// </summary>
public abstract record ZarrCompressor
{
    /// <summary>The numcodecs codec id.</summary>
    public abstract string Id { get; }

    /// <summary>Compresses one chunk (C-order bytes of <paramref name="typeSize"/>-byte items).</summary>
    public abstract byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize);

    /// <summary>Decompresses one chunk that must hold exactly <paramref name="expectedSize"/> bytes.</summary>
    public abstract byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null);

    /// <summary>Decodes into <paramref name="destination"/> (its length is the size expected); codecs that can, skip the copy.</summary>
    public virtual void DecodeInto(ReadOnlySpan<byte> data, Span<byte> destination, string? path = null, string? key = null) =>
        Decode(data, destination.Length, path, key).CopyTo(destination);

    /// <summary>The JSON object written into <c>.zarray</c>.</summary>
    public abstract JsonObject ToJson();

    /// <summary>Reference Push-T default: Blosc lz4, clevel 5, no shuffle.</summary>
    public static ZarrCompressor Default { get; } = new BloscCompressor();

    /// <summary>Parses the <c>compressor</c> field; null means raw chunks.</summary>
    public static ZarrCompressor? FromJson(JsonNode? node, string? path = null, string? key = null)
    {
        if (node is null) return null;
        string where = ZarrDataType.Where(path, key);
        if (node is not JsonObject obj || obj["id"] is not JsonValue idValue || !idValue.TryGetValue(out string? id))
            throw new DatasetFormatException($"{where}'compressor' must be null or an object with a string 'id', got {ZarrDataType.Show(node)}.", path, key);
        int Int(string name, int fallback)
        {
            var v = obj[name];
            if (v is null) return fallback;
            try { return v.GetValue<int>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            { throw new DatasetFormatException($"{where}compressor field '{name}' must be an integer, got {ZarrDataType.Show(v)}.", path, key, e); }
        }
        switch (id)
        {
            case "blosc":
                string cname = obj["cname"] is JsonValue c && c.TryGetValue(out string? s) ? s : "lz4";
                int shuffle = Int("shuffle", 1);
                if (shuffle is < -1 or > 2) throw new DatasetFormatException($"{where}Blosc shuffle {shuffle}, expected -1, 0, 1 or 2.", path, key);
                return new BloscCompressor(cname, Int("clevel", 5), (BloscShuffle)shuffle, Int("blocksize", 0));
            case "zstd": return new ZstdCompressor(Int("level", 1));
            case "lz4": return new Lz4Compressor(Int("acceleration", 1));
            case "zlib": return new ZlibCompressor(Int("level", 1));
            case "gzip": return new GZipCompressor(Int("level", 1));
            default:
                throw new DatasetFormatException($"{where}unsupported compressor '{id}' (field 'compressor'); this reader handles blosc, zstd, lz4, zlib, gzip and null (raw); re-save the array with one of them.", path, key);
        }
    }

    /// <summary>Inflates one deflate-family stream that must hold exactly <paramref name="expectedSize"/> bytes.</summary>
    private protected static byte[] Inflate(string codec, ReadOnlySpan<byte> data, int expectedSize, string? path, string? key, Func<Stream, Stream> open)
    {
        var dest = new byte[expectedSize];
        int total = 0;
        try
        {
            using var ms = new MemoryStream(data.ToArray());
            using var z = open(ms);
            while (total < expectedSize)
            {
                int n = z.Read(dest, total, expectedSize - total);
                if (n == 0) break;
                total += n;
            }
            if (z.ReadByte() != -1) total = expectedSize + 1;
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException($"{ZarrDataType.Where(path, key)}corrupt {codec} chunk: {e.Message}", path, key, e);
        }
        if (total != expectedSize) throw SizeMismatch(codec, total, expectedSize, path, key);
        return dest;
    }

    private protected static CompressionLevel DeflateLevel(int level) =>
        level >= 7 ? CompressionLevel.SmallestSize : level <= 1 ? CompressionLevel.Fastest : CompressionLevel.Optimal;

    private protected static DatasetFormatException SizeMismatch(string codec, int got, int expected, string? path, string? key) =>
        new($"{ZarrDataType.Where(path, key)}corrupt {codec} chunk: decoded {got} bytes, expected {expected} (chunk shape x item size; truncated file?).", path, key);
}

/// <summary>numcodecs Blosc (Blosc1 container, see <see cref="Blosc"/>). Defaults = the reference Push-T writer: lz4, clevel 5, no shuffle.</summary>
/// <param name="CName">Inner codec: lz4, zstd or zlib.</param>
/// <param name="CLevel">Level 0-9.</param>
/// <param name="Shuffle">Shuffle filter.</param>
/// <param name="BlockSize">Blosc block size in bytes, 0 = automatic.</param>
public sealed record BloscCompressor(string CName = "lz4", int CLevel = 5, BloscShuffle Shuffle = BloscShuffle.NoShuffle, int BlockSize = 0) : ZarrCompressor
{
    /// <summary>The alternative reference setting: zstd, clevel 5, bit shuffle.</summary>
    public static BloscCompressor ZstdBitShuffle { get; } = new("zstd", 5, BloscShuffle.BitShuffle);

    /// <inheritdoc />
    public override string Id => "blosc";

    /// <inheritdoc />
    public override byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize) => Blosc.Compress(chunk, typeSize, CName, CLevel, Shuffle, BlockSize);

    /// <inheritdoc />
    public override byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null) =>
        Blosc.Decompress(data, expectedSize, path, key);

    /// <inheritdoc />
    public override void DecodeInto(ReadOnlySpan<byte> data, Span<byte> destination, string? path = null, string? key = null) =>
        Blosc.DecompressInto(data, destination, path, key);

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["id"] = "blosc", ["cname"] = CName, ["clevel"] = CLevel, ["shuffle"] = (int)Shuffle, ["blocksize"] = BlockSize,
    };
}

/// <summary>numcodecs Zstd: one zstd frame per chunk.</summary>
/// <param name="Level">zstd level (numcodecs default 1).</param>
public sealed record ZstdCompressor(int Level = 1) : ZarrCompressor
{
    /// <inheritdoc />
    public override string Id => "zstd";

    /// <inheritdoc />
    public override byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize)
    {
        using var c = new Compressor(Level);
        return c.Wrap(chunk).ToArray();
    }

    /// <inheritdoc />
    public override byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null)
    {
        var dest = new byte[expectedSize];
        int n;
        try
        {
            using var d = new Decompressor();
            n = d.Unwrap(data, dest);
        }
        catch (Exception e) when (e is ZstdException or ArgumentException or InvalidOperationException)
        {
            throw new DatasetFormatException($"{ZarrDataType.Where(path, key)}corrupt zstd chunk: {e.Message} (expected {expectedSize} bytes).", path, key, e);
        }
        if (n != expectedSize) throw SizeMismatch("zstd", n, expectedSize, path, key);
        return dest;
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new() { ["id"] = "zstd", ["level"] = Level };
}

/// <summary>numcodecs LZ4: a 4-byte little-endian uncompressed size, then one LZ4 block.</summary>
/// <param name="Acceleration">LZ4 acceleration (numcodecs default 1); recorded only, the writer uses K4os' fast level.</param>
public sealed record Lz4Compressor(int Acceleration = 1) : ZarrCompressor
{
    /// <inheritdoc />
    public override string Id => "lz4";

    /// <inheritdoc />
    public override byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize)
    {
        var buffer = new byte[4 + LZ4Codec.MaximumOutputSize(chunk.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, chunk.Length);
        int n = LZ4Codec.Encode(chunk, buffer.AsSpan(4), LZ4Level.L00_FAST);
        return buffer.AsSpan(0, 4 + n).ToArray();
    }

    /// <inheritdoc />
    public override byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null)
    {
        if (data.Length < 4) throw SizeMismatch("lz4", data.Length, expectedSize, path, key);
        int declared = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (declared != expectedSize)
            throw new DatasetFormatException($"{ZarrDataType.Where(path, key)}corrupt lz4 chunk: header says {declared} bytes, expected {expectedSize}.", path, key);
        var dest = new byte[expectedSize];
        int n;
        try { n = LZ4Codec.Decode(data[4..], dest); }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException) { n = -1; }
        if (n != expectedSize) throw SizeMismatch("lz4", n, expectedSize, path, key);
        return dest;
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new() { ["id"] = "lz4", ["acceleration"] = Acceleration };
}

/// <summary>numcodecs Zlib: one zlib stream per chunk.</summary>
/// <param name="Level">zlib level (numcodecs default 1).</param>
public sealed record ZlibCompressor(int Level = 1) : ZarrCompressor
{
    /// <inheritdoc />
    public override string Id => "zlib";

    /// <inheritdoc />
    public override byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, DeflateLevel(Level), leaveOpen: true))
            z.Write(chunk);
        return ms.ToArray();
    }

    /// <inheritdoc />
    public override byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null) =>
        Inflate("zlib", data, expectedSize, path, key, ms => new ZLibStream(ms, CompressionMode.Decompress));

    /// <inheritdoc />
    public override JsonObject ToJson() => new() { ["id"] = "zlib", ["level"] = Level };
}

/// <summary>numcodecs GZip: one gzip member (RFC 1952 header, deflate data, CRC) per chunk.</summary>
/// <param name="Level">gzip level (numcodecs default 1).</param>
public sealed record GZipCompressor(int Level = 1) : ZarrCompressor
{
    /// <inheritdoc />
    public override string Id => "gzip";

    /// <inheritdoc />
    public override byte[] Encode(ReadOnlySpan<byte> chunk, int typeSize)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, DeflateLevel(Level), leaveOpen: true))
            z.Write(chunk);
        return ms.ToArray();
    }

    /// <inheritdoc />
    public override byte[] Decode(ReadOnlySpan<byte> data, int expectedSize, string? path = null, string? key = null) =>
        Inflate("gzip", data, expectedSize, path, key, ms => new GZipStream(ms, CompressionMode.Decompress));

    /// <inheritdoc />
    public override JsonObject ToJson() => new() { ["id"] = "gzip", ["level"] = Level };
}

using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using ZstdSharp;

namespace DpAg.Data.Zarr;

/// <summary>Shuffle filter applied inside a Blosc container (numcodecs' <c>shuffle</c> field: 0, 1, 2; -1 = auto).</summary>
public enum BloscShuffle
{
    /// <summary>numcodecs AUTOSHUFFLE (-1): bit shuffle for 1-byte items, byte shuffle otherwise.</summary>
    Auto = -1,
    /// <summary>No shuffle (0). The reference Push-T store's lz4 setting.</summary>
    NoShuffle = 0,
    /// <summary>Byte shuffle (1), header flag 0x1.</summary>
    ByteShuffle = 1,
    /// <summary>Bit shuffle (2), header flag 0x4.</summary>
    BitShuffle = 2,
}

/// <summary>
/// The Blosc1 container format (c-blosc 1.x, README_CHUNK_FORMAT): a 16-byte header (version 2, codec version, flags,
/// typesize, nbytes, blocksize, cbytes), then one int32 start offset per block, then per block one or <c>typesize</c>
/// split streams, each an int32 size followed by its bytes (a stream whose size equals its uncompressed size is stored raw).
/// Inner codecs: lz4 (block format), zstd (frames), zlib and (read only) blosclz; snappy is rejected with a clear error.
/// </summary>
public static class Blosc
{
    internal const int HeaderSize = 16;
    private const int MaxSplits = 16;
    private const int MinBufferSize = 128;
    private const byte FlagShuffle = 0x1, FlagMemcpy = 0x2, FlagBitShuffle = 0x4, FlagReserved = 0x8, FlagDontSplit = 0x10;

    private static readonly string[] CodecNames = ["blosclz", "lz4", "snappy", "zlib", "zstd"];

    /// <summary>Inner codec names this implementation can write and read.</summary>
    public static IReadOnlyList<string> SupportedCodecs { get; } = ["lz4", "zstd", "zlib"];

    /// <summary>Decodes a Blosc1 buffer whose uncompressed size must be <paramref name="expectedSize"/> bytes.</summary>
    /// <param name="src">The whole compressed buffer (e.g. one chunk file).</param>
    /// <param name="expectedSize">Uncompressed bytes expected (chunk elements x item size).</param>
    /// <param name="path">Chunk file, used in error messages.</param>
    /// <param name="key">Array key, used in error messages.</param>
    public static byte[] Decompress(ReadOnlySpan<byte> src, int expectedSize, string? path = null, string? key = null)
    {
        var dest = new byte[expectedSize];
        DecompressInto(src, dest, path, key);
        return dest;
    }

    /// <summary>
    /// Decodes a Blosc1 buffer into <paramref name="dest"/>, whose length is the uncompressed size expected. Readers of
    /// large arrays decode every chunk into one pooled buffer: a fresh array per chunk lands on the large-object heap,
    /// which the GC collects so rarely that a multi-gigabyte load would hold a second copy's worth of dead chunks.
    /// </summary>
    public static void DecompressInto(ReadOnlySpan<byte> src, Span<byte> dest, string? path = null, string? key = null)
    {
        int expectedSize = dest.Length;
        string where = ZarrDataType.Where(path, key);
        DatasetFormatException Fail(string what) => new($"{where}corrupt Blosc chunk: {what}.", path, key);
        if (src.Length < HeaderSize) throw Fail($"{src.Length} bytes is shorter than the 16-byte Blosc header (truncated file?)");
        byte version = src[0];
        byte flags = src[2];
        int typeSize = src[3];
        int nbytes = BinaryPrimitives.ReadInt32LittleEndian(src[4..]);
        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(src[8..]);
        int cbytes = BinaryPrimitives.ReadInt32LittleEndian(src[12..]);
        if (version != 2) throw Fail($"format version {version}, expected 2 (Blosc1); Blosc2 frames are not supported");
        if ((flags & FlagReserved) != 0) throw Fail($"header flags 0x{flags:x2} set the reserved bit 0x08");
        if (nbytes != expectedSize) throw Fail($"header says {nbytes} uncompressed bytes, expected {expectedSize} (chunk shape x item size)");
        if (cbytes < HeaderSize || cbytes > src.Length) throw Fail($"header says {cbytes} compressed bytes but the buffer has {src.Length} (truncated file?)");
        if (nbytes == 0) return;
        if (typeSize <= 0) throw Fail("typesize 0 in header");
        if (blockSize <= 0 || blockSize > nbytes) throw Fail($"blocksize {blockSize} in header, expected 1..{nbytes} (nbytes)");
        src = src[..cbytes];
        if ((flags & FlagMemcpy) != 0)
        {
            if (cbytes != nbytes + HeaderSize) throw Fail($"memcpyed buffer of {cbytes} bytes, expected {nbytes + HeaderSize}");
            src.Slice(HeaderSize, nbytes).CopyTo(dest);
            return;
        }
        int codec = flags >> 5;
        string codecName = codec < CodecNames.Length ? CodecNames[codec] : $"#{codec}";
        if (codec is not (0 or 1 or 3 or 4))
            throw new DatasetFormatException($"{where}unsupported inner codec '{codecName}' in Blosc chunk; this reader handles blosclz, lz4, zstd and zlib (rewrite the store with cname='lz4' or 'zstd').", path, key);
        int nblocks = nbytes / blockSize;
        int leftover = nbytes % blockSize;
        if (leftover > 0) nblocks++;
        if (nblocks > (cbytes - HeaderSize) / 4) throw Fail($"{nblocks} block offsets do not fit in {cbytes} bytes");
        bool dontSplit = (flags & FlagDontSplit) != 0;
        byte[] tmp = System.Buffers.ArrayPool<byte>.Shared.Rent(blockSize);
        try
        {
            for (int b = 0; b < nblocks; b++)
            {
                bool isLeftover = b == nblocks - 1 && leftover > 0;
                int bsize = isLeftover ? leftover : blockSize;
                int offset = BinaryPrimitives.ReadInt32LittleEndian(src[(HeaderSize + 4 * b)..]);
                bool doShuffle = (flags & FlagShuffle) != 0 && typeSize > 1;
                bool doBitShuffle = (flags & FlagBitShuffle) != 0 && bsize >= typeSize;
                var outBlock = dest.Slice(b * blockSize, bsize);
                var target = doShuffle || doBitShuffle ? tmp.AsSpan(0, bsize) : outBlock;
                int nsplits = !dontSplit && typeSize <= MaxSplits && bsize / typeSize >= MinBufferSize && !isLeftover ? typeSize : 1;
                int neblock = bsize / nsplits;
                if (neblock * nsplits != bsize) throw Fail($"block {b} of {bsize} bytes does not split into {nsplits} streams");
                for (int j = 0; j < nsplits; j++)
                {
                    if (offset < 0 || offset > cbytes - 4) throw Fail($"block {b} stream {j} starts at {offset}, outside the {cbytes}-byte buffer");
                    int csize = BinaryPrimitives.ReadInt32LittleEndian(src[offset..]);
                    offset += 4;
                    if (csize < 0 || csize > cbytes - offset) throw Fail($"block {b} stream {j} claims {csize} bytes, only {cbytes - offset} remain (truncated?)");
                    var part = target.Slice(j * neblock, neblock);
                    var stream = src.Slice(offset, csize);
                    if (csize == neblock) stream.CopyTo(part);
                    else
                    {
                        int got = DecodeInner(codec, stream, part);
                        if (got != neblock) throw Fail($"block {b} stream {j} ({codecName}) decoded to {(got < 0 ? "an error" : got + " bytes")}, expected {neblock}");
                    }
                    offset += csize;
                }
                if (doShuffle) Shuffle.ByteUnshuffle(target, outBlock, typeSize);
                else if (doBitShuffle) Shuffle.BitUnshuffle(target, outBlock, typeSize);
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(tmp); }
    }

    private static int DecodeInner(int codec, ReadOnlySpan<byte> src, Span<byte> dst)
    {
        try
        {
            switch (codec)
            {
                case 0:
                    return BloscLz.Decompress(src, dst);
                case 1:
                    return LZ4Codec.Decode(src, dst);
                case 4:
                    using (var d = new Decompressor())
                        return d.Unwrap(src, dst);
                case 3:
                    using (var ms = new MemoryStream(src.ToArray()))
                    using (var z = new ZLibStream(ms, CompressionMode.Decompress))
                    {
                        int total = 0;
                        while (total < dst.Length)
                        {
                            int n = z.Read(dst[total..]);
                            if (n == 0) break;
                            total += n;
                        }
                        return z.ReadByte() == -1 ? total : -1;
                    }
                default:
                    return -1;
            }
        }
        catch (Exception e) when (e is ZstdException or InvalidDataException or ArgumentException or IndexOutOfRangeException or InvalidOperationException or OverflowException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Encodes <paramref name="src"/> as a Blosc1 buffer that c-blosc 1.x (numcodecs) reads. Blocks are never split
    /// (flag 0x10); a stream that does not shrink is stored raw; a buffer that does not shrink, or one under 128 bytes,
    /// is stored memcpyed (flag 0x2), as c-blosc does.
    /// </summary>
    /// <param name="src">Bytes to encode (one chunk, C order).</param>
    /// <param name="typeSize">Item size in bytes (the shuffle unit); values above 255 fall back to 1.</param>
    /// <param name="cname">Inner codec: lz4, zstd or zlib.</param>
    /// <param name="clevel">Compression level 0-9 (0 = store memcpyed).</param>
    /// <param name="shuffle">Shuffle filter.</param>
    /// <param name="blockSize">Block size in bytes; 0 picks min(nbytes, 256 KiB) rounded down to 8 x typesize.</param>
    public static byte[] Compress(ReadOnlySpan<byte> src, int typeSize, string cname = "lz4", int clevel = 5, BloscShuffle shuffle = BloscShuffle.NoShuffle, int blockSize = 0)
    {
        int codec = Array.IndexOf(CodecNames, cname);
        if (codec is not (1 or 3 or 4))
            throw new ArgumentException($"Blosc cname '{cname}' is not supported by the writer; use lz4, zstd or zlib.", nameof(cname));
        if (clevel is < 0 or > 9) throw new ArgumentException($"Blosc clevel {clevel} is outside 0..9.", nameof(clevel));
        if (typeSize is < 1 or > 255) typeSize = 1;
        if (shuffle == BloscShuffle.Auto) shuffle = typeSize == 1 ? BloscShuffle.BitShuffle : BloscShuffle.ByteShuffle;
        int nbytes = src.Length;
        if (blockSize <= 0)
        {
            blockSize = Math.Min(nbytes, 256 * 1024);
            int unit = 8 * typeSize;
            if (blockSize > unit) blockSize -= blockSize % unit;
        }
        blockSize = Math.Max(1, Math.Min(blockSize, Math.Max(nbytes, 1)));
        byte flags = (byte)(FlagDontSplit | (codec << 5));
        if (shuffle == BloscShuffle.ByteShuffle) flags |= FlagShuffle;
        if (shuffle == BloscShuffle.BitShuffle) flags |= FlagBitShuffle;
        if (nbytes < MinBufferSize || clevel == 0) return Memcpyed(src, flags, typeSize, blockSize);

        int nblocks = nbytes / blockSize + (nbytes % blockSize > 0 ? 1 : 0);
        using var output = new MemoryStream(nbytes / 2 + 64);
        Span<byte> header = stackalloc byte[HeaderSize];
        output.Write(header);
        output.Write(new byte[4 * nblocks]);
        var starts = new int[nblocks];
        var tmp = new byte[blockSize];
        Span<byte> size4 = stackalloc byte[4];
        using var zstd = codec == 4 ? new Compressor(clevel) : null;
        for (int b = 0; b < nblocks; b++)
        {
            starts[b] = (int)output.Position;
            int bsize = Math.Min(blockSize, nbytes - b * blockSize);
            var block = src.Slice(b * blockSize, bsize);
            ReadOnlySpan<byte> data = block;
            if (shuffle == BloscShuffle.ByteShuffle && typeSize > 1) { Shuffle.ByteShuffle(block, tmp, typeSize); data = tmp.AsSpan(0, bsize); }
            else if (shuffle == BloscShuffle.BitShuffle && bsize >= typeSize) { Shuffle.BitShuffle(block, tmp, typeSize); data = tmp.AsSpan(0, bsize); }
            byte[] packed = codec switch
            {
                1 => EncodeLz4(data, clevel),
                4 => zstd!.Wrap(data).ToArray(),
                _ => EncodeZlib(data, clevel),
            };
            bool raw = packed.Length == 0 || packed.Length >= bsize;
            BinaryPrimitives.WriteInt32LittleEndian(size4, raw ? bsize : packed.Length);
            output.Write(size4);
            output.Write(raw ? data : packed);
            if (output.Length > nbytes + HeaderSize) return Memcpyed(src, flags, typeSize, blockSize);
        }
        var result = output.ToArray();
        WriteHeader(result, flags, typeSize, nbytes, blockSize, result.Length);
        for (int b = 0; b < nblocks; b++) BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(HeaderSize + 4 * b), starts[b]);
        return result;
    }

    private static byte[] Memcpyed(ReadOnlySpan<byte> src, byte flags, int typeSize, int blockSize)
    {
        var result = new byte[src.Length + HeaderSize];
        WriteHeader(result, (byte)(flags | FlagMemcpy), typeSize, src.Length, blockSize, result.Length);
        src.CopyTo(result.AsSpan(HeaderSize));
        return result;
    }

    private static void WriteHeader(Span<byte> dest, byte flags, int typeSize, int nbytes, int blockSize, int cbytes)
    {
        dest[0] = 2;
        dest[1] = 1;
        dest[2] = flags;
        dest[3] = (byte)typeSize;
        BinaryPrimitives.WriteInt32LittleEndian(dest[4..], nbytes);
        BinaryPrimitives.WriteInt32LittleEndian(dest[8..], blockSize);
        BinaryPrimitives.WriteInt32LittleEndian(dest[12..], cbytes);
    }

    private static byte[] EncodeLz4(ReadOnlySpan<byte> data, int clevel)
    {
        var buffer = new byte[LZ4Codec.MaximumOutputSize(data.Length)];
        int n = LZ4Codec.Encode(data, buffer, LZ4Level.L00_FAST);
        return n <= 0 ? [] : buffer.AsSpan(0, n).ToArray();
    }

    private static byte[] EncodeZlib(ReadOnlySpan<byte> data, int clevel)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, clevel >= 7 ? CompressionLevel.SmallestSize : CompressionLevel.Optimal, leaveOpen: true))
            z.Write(data);
        return ms.ToArray();
    }
}

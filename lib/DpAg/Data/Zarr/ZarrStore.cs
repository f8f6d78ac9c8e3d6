using System.Runtime.InteropServices;
using DpAg.IO;

namespace DpAg.Data.Zarr;

/// <summary>
/// A zarr v2 directory store: groups are folders with <c>.zgroup</c>, arrays are folders with <c>.zarray</c> and one
/// file per chunk named by its key (<c>i.j.k</c>, or <c>i/j/k</c> with dimension_separator "/" or, in stores written
/// by zarr 2's NestedDirectoryStore before 2.8, with no dimension_separator but chunk folders). Edge chunks are
/// stored full size; a missing chunk file reads as fill_value. Keys are '/'-separated paths inside the store
/// (e.g. <c>data/action</c>).
/// </summary>
public static class ZarrStore
{
    /// <summary>True when <paramref name="key"/> (empty = root) is a group (has <c>.zgroup</c>).</summary>
    public static bool IsGroup(string store, string key = "") => File.Exists(Path.Combine(Folder(store, key), ".zgroup"));

    /// <summary>True when <paramref name="key"/> is an array (has <c>.zarray</c>).</summary>
    public static bool IsArray(string store, string key) => File.Exists(Path.Combine(Folder(store, key), ".zarray"));

    /// <summary>Names of the arrays directly inside group <paramref name="groupKey"/>, sorted ordinally.</summary>
    public static IReadOnlyList<string> ListArrays(string store, string groupKey = "")
    {
        var dir = Folder(store, groupKey);
        if (!Directory.Exists(dir)) return [];
        return Directory.GetDirectories(dir).Where(d => File.Exists(Path.Combine(d, ".zarray")))
            .Select(Path.GetFileName).OfType<string>().OrderBy(n => n, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Reads and validates an array's <c>.zarray</c>. Without a dimension_separator the chunk keys are those the store
    /// holds: nested (<c>0/0</c>) when the array folder has numbered chunk folders, flat (<c>0.0</c>) otherwise.
    /// </summary>
    public static ZarrArrayMetadata ReadMetadata(string store, string key)
    {
        var dir = Folder(store, key);
        var file = Path.Combine(dir, ".zarray");
        if (!File.Exists(file))
            throw new DatasetFormatException($"{file}: missing; expected zarr v2 array metadata for array '{key}' in store {store}.", file, key);
        var meta = ZarrArrayMetadata.Parse(File.ReadAllText(file), file, key, out bool separatorGiven);
        if (separatorGiven || meta.Shape.Length < 2) return meta; // 1-D keys ("3") read the same either way
        bool nested = Directory.EnumerateDirectories(dir).Any(d => IsChunkIndex(Path.GetFileName(d)));
        if (!nested) return meta;
        if (Directory.EnumerateFiles(dir).Any(f => Path.GetFileName(f).Split('.').All(IsChunkIndex)))
            throw new DatasetFormatException(
                $"{file}: no dimension_separator, and the array folder holds both flat chunk files (0.0) and nested chunk folders (0/0); add \"dimension_separator\": \".\" or \"/\" to .zarray to say which are the array's.",
                file, key);
        return meta with { DimensionSeparator = '/' };
    }

    private static bool IsChunkIndex(string? part) => !string.IsNullOrEmpty(part) && part.All(char.IsAsciiDigit);

    /// <summary>Reads a whole array into memory (C order) as the .NET element type of its dtype.</summary>
    public static ZarrArray ReadArray(string store, string key)
    {
        var meta = ReadMetadata(store, key);
        var dir = Folder(store, key);
        // Data are held in host (little-endian) order whatever the stored byte order.
        var result = ZarrArray.Allocate(ZarrDataType.ForClrType(meta.DataType.ClrType), meta.Shape);
        int item = meta.DataType.ItemSize;
        int chunkBytes = (int)meta.ChunkBytes;
        int rank = meta.Shape.Length;
        var fill = meta.FillBytes();
        bool fillIsZero = fill.All(b => b == 0);
        if (result.Length == 0) return result;
        if (!fillIsZero) FillAll(result.Data, fill);
        var grid = meta.ChunkGrid;
        long chunkCount = ZarrArray.Product(grid);
        // An F-order chunk of a 1-D array (or one whose chunk has a single dimension above 1) is already in C order.
        bool fortran = meta.Order == 'F' && meta.Chunks.Count(c => c > 1) > 1;
        // Chunks cover disjoint regions, so they are decoded in parallel; the error reported is the one of the
        // lowest failing chunk index (Break() lets every lower iteration finish), so messages are deterministic.
        Exception? error = null;
        long errorIndex = long.MaxValue;
        var gate = new object();
        Parallel.For(0L, chunkCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (c, state) =>
        {
            try
            {
                var index = new int[rank];
                long rem = c;
                for (int d = rank - 1; d >= 0; d--) { index[d] = (int)(rem % grid[d]); rem /= grid[d]; }
                string chunkKey = meta.ChunkKey(index);
                var file = Path.Combine(dir, chunkKey.Replace('/', Path.DirectorySeparatorChar));
                if (!File.Exists(file)) return;
                // Pooled buffers: per-chunk arrays would pile up on the large-object heap (see Blosc.DecompressInto).
                var pool = System.Buffers.ArrayPool<byte>.Shared;
                byte[] raw = ReadPooled(file, pool, out int rawLength);
                byte[] bytes = meta.Compressor is null ? raw : pool.Rent(chunkBytes);
                byte[]? cOrder = fortran ? pool.Rent(chunkBytes) : null;
                try
                {
                    if (meta.Compressor is null)
                    {
                        if (rawLength != chunkBytes)
                            throw new DatasetFormatException($"{file}: raw chunk of {rawLength} bytes, expected {chunkBytes} (chunks [{string.Join(", ", meta.Chunks)}] x {item} bytes; truncated file?).", file, key);
                    }
                    else meta.Compressor.DecodeInto(raw.AsSpan(0, rawLength), bytes.AsSpan(0, chunkBytes), file, key);
                    if (meta.DataType.NeedsSwap) Swap(bytes.AsSpan(0, chunkBytes), item);
                    if (cOrder is not null) FortranToC(bytes.AsSpan(0, chunkBytes), cOrder.AsSpan(0, chunkBytes), meta.Chunks, item);
                    CopyChunk(meta, index, cOrder ?? bytes, result, toChunk: false);
                }
                finally
                {
                    if (cOrder is not null) pool.Return(cOrder);
                    if (!ReferenceEquals(bytes, raw)) pool.Return(bytes);
                    pool.Return(raw);
                }
            }
            catch (Exception e) when (e is DatasetFormatException or IOException or UnauthorizedAccessException)
            {
                lock (gate)
                {
                    if (c < errorIndex) { errorIndex = c; error = e; }
                }
                state.Break();
            }
        });
        if (error is DatasetFormatException) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        if (error is not null)
            throw new DatasetFormatException($"{ZarrDataType.Where(dir, key)}cannot read chunk {errorIndex}: {error.Message}", dir, key, error);
        return result;
    }

    /// <summary>Creates group <paramref name="key"/> (empty = root): writes <c>.zgroup</c>.</summary>
    public static void CreateGroup(string store, string key = "")
    {
        var dir = Folder(store, key);
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, ".zgroup"), "{\n    \"zarr_format\": 2\n}");
    }

    /// <summary>
    /// Writes <paramref name="array"/> as array <paramref name="key"/>: <c>.zarray</c> plus every chunk (edge chunks
    /// padded with the fill value to full size). Replaces chunk files of an existing array of the same key.
    /// </summary>
    /// <param name="store">Store root folder.</param>
    /// <param name="key">Array key, e.g. <c>data/action</c>.</param>
    /// <param name="array">The data.</param>
    /// <param name="chunks">Chunk shape; null = <see cref="DefaultChunks"/>.</param>
    /// <param name="compressor">Compressor; null = raw chunks. Use <see cref="ZarrCompressor.Default"/> for the reference setting.</param>
    /// <param name="dimensionSeparator">'.' (default) or '/'.</param>
    /// <param name="fillValue">fill_value to record (0 by default, as zarr-python).</param>
    public static ZarrArrayMetadata WriteArray(string store, string key, ZarrArray array, int[]? chunks, ZarrCompressor? compressor,
        char dimensionSeparator = '.', double fillValue = 0)
    {
        ArgumentNullException.ThrowIfNull(array);
        chunks ??= DefaultChunks(array.Shape, array.DataType.ItemSize);
        if (chunks.Length != array.Rank || chunks.Any(c => c <= 0))
            throw new ArgumentException($"chunks [{string.Join(", ", chunks)}] must be {array.Rank} positive sizes for shape [{string.Join(", ", array.Shape)}].", nameof(chunks));
        if (dimensionSeparator != '.' && dimensionSeparator != '/')
            throw new ArgumentException($"dimension separator '{dimensionSeparator}' must be '.' or '/'.", nameof(dimensionSeparator));
        var meta = new ZarrArrayMetadata((int[])array.Shape.Clone(), (int[])chunks.Clone(), array.DataType, compressor, fillValue, dimensionSeparator);
        var dir = Folder(store, key);
        Directory.CreateDirectory(dir);
        int chunkBytes = checked((int)meta.ChunkBytes);
        var fill = meta.FillBytes();
        var grid = meta.ChunkGrid;
        int rank = array.Rank;
        var index = new int[rank];
        long chunkCount = array.Length == 0 ? 0 : ZarrArray.Product(grid);
        var buffer = new byte[chunkBytes];
        for (long c = 0; c < chunkCount; c++)
        {
            long rem = c;
            for (int d = rank - 1; d >= 0; d--) { index[d] = (int)(rem % grid[d]); rem /= grid[d]; }
            for (int i = 0; i < chunkBytes; i += fill.Length) fill.CopyTo(buffer, i);
            CopyChunk(meta, index, buffer, array, toChunk: true);
            var encoded = compressor is null ? buffer : compressor.Encode(buffer, array.DataType.ItemSize);
            var file = Path.Combine(dir, meta.ChunkKey(index).Replace('/', Path.DirectorySeparatorChar));
            if (dimensionSeparator == '/') Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, encoded);
        }
        AtomicFile.WriteAllText(Path.Combine(dir, ".zarray"), meta.ToJson());
        return meta;
    }

    /// <summary>
    /// Default chunk shape: chunks along the first (time) dimension only, about 1 MiB each, full size in the other
    /// dimensions (the reference Push-T store chunks along time only).
    /// </summary>
    public static int[] DefaultChunks(int[] shape, int itemSize)
    {
        if (shape.Length == 0) return [];
        var chunks = (int[])shape.Clone();
        long row = Math.Max(1, ZarrArray.Product(shape.AsSpan(1))) * itemSize;
        chunks[0] = (int)Math.Clamp((1L << 20) / row, 1, Math.Max(1, shape[0]));
        for (int d = 1; d < chunks.Length; d++) chunks[d] = Math.Max(1, chunks[d]);
        return chunks;
    }

    /// <summary>Copies between a full-size C-order chunk buffer and the array region the chunk covers.</summary>
    private static void CopyChunk(ZarrArrayMetadata meta, int[] chunkIndex, byte[] chunk, ZarrArray array, bool toChunk)
    {
        int rank = meta.Shape.Length;
        int item = meta.DataType.ItemSize;
        if (rank == 0)
        {
            if (toChunk) ZarrArray.CopyToBytes(array.Data, 0, chunk, 1);
            else ZarrArray.CopyFromBytes(array.Data, 0, chunk, 1);
            return;
        }
        var start = new int[rank];
        var extent = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            start[d] = chunkIndex[d] * meta.Chunks[d];
            extent[d] = Math.Min(meta.Chunks[d], meta.Shape[d] - start[d]);
        }
        var arrayStride = new long[rank];
        var chunkStride = new long[rank];
        arrayStride[rank - 1] = 1;
        chunkStride[rank - 1] = 1;
        for (int d = rank - 2; d >= 0; d--)
        {
            arrayStride[d] = arrayStride[d + 1] * meta.Shape[d + 1];
            chunkStride[d] = chunkStride[d + 1] * meta.Chunks[d + 1];
        }
        // Merge trailing dimensions the chunk covers completely: they are contiguous in both layouts.
        int k = rank - 1;
        while (k > 0 && meta.Chunks[k] == meta.Shape[k] && extent[k] == meta.Shape[k]) k--;
        long runLong = 1;
        for (int d = k; d < rank; d++) runLong *= extent[d];
        int run = checked((int)runLong);
        long rows = 1;
        for (int d = 0; d < k; d++) rows *= extent[d];
        var idx = new int[rank];
        for (long r = 0; r < rows; r++)
        {
            long rem = r;
            for (int d = k - 1; d >= 0; d--) { idx[d] = (int)(rem % extent[d]); rem /= extent[d]; }
            long a = 0, ch = 0;
            for (int d = 0; d < rank; d++)
            {
                int i = d >= k ? 0 : idx[d];
                a += (start[d] + i) * arrayStride[d];
                ch += i * chunkStride[d];
            }
            var span = chunk.AsSpan(checked((int)(ch * item)), run * item);
            if (toChunk) ZarrArray.CopyToBytes(array.Data, a, span, run);
            else ZarrArray.CopyFromBytes(array.Data, a, span, run);
        }
    }

    /// <summary>
    /// Reorders a full-size chunk stored in Fortran order (first index fastest) into C order (last index fastest), item
    /// by item; the bytes of each item keep their order.
    /// </summary>
    internal static void FortranToC(ReadOnlySpan<byte> src, Span<byte> dst, int[] chunks, int item)
    {
        switch (item)
        {
            case 1: FortranToC(src, dst, chunks); break;
            case 2: FortranToC(MemoryMarshal.Cast<byte, ushort>(src), MemoryMarshal.Cast<byte, ushort>(dst), chunks); break;
            case 4: FortranToC(MemoryMarshal.Cast<byte, uint>(src), MemoryMarshal.Cast<byte, uint>(dst), chunks); break;
            case 8: FortranToC(MemoryMarshal.Cast<byte, ulong>(src), MemoryMarshal.Cast<byte, ulong>(dst), chunks); break;
            default: throw new ArgumentException($"item size {item} is not a zarr numeric size (1, 2, 4 or 8).", nameof(item));
        }
    }

    private static void FortranToC<T>(ReadOnlySpan<T> src, Span<T> dst, int[] chunks) where T : unmanaged
    {
        int rank = chunks.Length;
        // Fortran strides in elements: dimension 0 is contiguous.
        var stride = new long[rank];
        stride[0] = 1;
        for (int d = 1; d < rank; d++) stride[d] = stride[d - 1] * chunks[d - 1];
        int inner = chunks[rank - 1];
        long innerStride = stride[rank - 1];
        long rows = ZarrArray.Product(chunks) / inner;
        var idx = new int[rank];
        long srcBase = 0;
        int o = 0;
        for (long r = 0; r < rows; r++)
        {
            long s = srcBase;
            for (int i = 0; i < inner; i++, s += innerStride) dst[o++] = src[(int)s];
            // Odometer over the C index without its last dimension, keeping the Fortran offset in step.
            for (int d = rank - 2; d >= 0; d--)
            {
                srcBase += stride[d];
                if (++idx[d] < chunks[d]) break;
                srcBase -= stride[d] * chunks[d];
                idx[d] = 0;
            }
        }
    }

    private static void FillAll(Array data, byte[] fill)
    {
        var one = Array.CreateInstance(data.GetType().GetElementType()!, 1);
        ZarrArray.CopyFromBytes(one, 0, fill, 1);
        switch (data)
        {
            case float[] a: Array.Fill(a, ((float[])one)[0]); break;
            case double[] a: Array.Fill(a, ((double[])one)[0]); break;
            case Half[] a: Array.Fill(a, ((Half[])one)[0]); break;
            case sbyte[] a: Array.Fill(a, ((sbyte[])one)[0]); break;
            case short[] a: Array.Fill(a, ((short[])one)[0]); break;
            case int[] a: Array.Fill(a, ((int[])one)[0]); break;
            case long[] a: Array.Fill(a, ((long[])one)[0]); break;
            case byte[] a: Array.Fill(a, ((byte[])one)[0]); break;
            case ushort[] a: Array.Fill(a, ((ushort[])one)[0]); break;
            case uint[] a: Array.Fill(a, ((uint[])one)[0]); break;
            case ulong[] a: Array.Fill(a, ((ulong[])one)[0]); break;
            case bool[] a: Array.Fill(a, ((bool[])one)[0]); break;
        }
    }

    private static void Swap(Span<byte> bytes, int item)
    {
        for (int i = 0; i + item <= bytes.Length; i += item) bytes.Slice(i, item).Reverse();
    }

    /// <summary>A chunk file's bytes in a buffer rented from <paramref name="pool"/> (return it); its length in <paramref name="length"/>.</summary>
    private static byte[] ReadPooled(string file, System.Buffers.ArrayPool<byte> pool, out int length)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        length = checked((int)stream.Length);
        var buffer = pool.Rent(Math.Max(1, length));
        try
        {
            stream.ReadExactly(buffer, 0, length);
            return buffer;
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
    }

    internal static string Folder(string store, string key) =>
        string.IsNullOrEmpty(key) ? store : Path.Combine(store, key.Replace('/', Path.DirectorySeparatorChar));

}

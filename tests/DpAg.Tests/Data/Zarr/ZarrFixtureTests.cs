using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.Data.Zarr;
using Xunit.Abstractions;

namespace DpAg.Tests.Data.Zarr;

/// <summary>Writes the zarr-python fixture store (zarr_fixtures.py) once per test class and deletes it afterwards.</summary>
public sealed class ZarrFixtureStore : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Lazy<(string Store, string Expected, int Count)> _written;

    public ZarrFixtureStore() => _written = new(() =>
    {
        var store = _dir.Sub("fixture.zarr");
        var exp = _dir.Sub("expected");
        var script = File.ReadAllText(Path.Combine(DpAg.Tests.Cli.CliRunner.RepoRoot, "tests", "DpAg.Tests", "Data", "Zarr", "zarr_fixtures.py"));
        var printed = PythonZarr.Run(script, store, exp);
        return (store, exp, int.Parse(printed.Trim(), CultureInfo.InvariantCulture));
    });

    public (string Store, string Expected, int Count) Written => _written.Value;

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// The reader against zarr's own writer: every dtype in C and F order and both byte orders, every compressor and Blosc
/// setting, multi-block and split Blosc chunks, flat, nested and legacy (no dimension_separator) chunk keys, ranks 0 to
/// 4 with partial edge chunks, missing chunks; each value compared bit for bit with what numpy held.
/// </summary>
public sealed class ZarrFixtureTests(ZarrFixtureStore fixture, ITestOutputHelper output) : IClassFixture<ZarrFixtureStore>
{
    /// <summary>Arrays zarr_fixtures.py writes for the reader to decode; a script that silently writes fewer fails here.</summary>
    private const int FixtureArrays = 124;

    private static IEnumerable<(string Key, string DType, char Order, int[] Shape)> Index(string exp) =>
        File.ReadAllLines(Path.Combine(exp, "index.tsv")).Select(line => line.Split('\t')).Select(p => (
            p[0], p[1], p[2][0],
            p[3].Length == 0 ? Array.Empty<int>() : p[3].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()));

    [Fact]
    public void EveryArrayDecodesBitExactly()
    {
        var (store, exp, count) = fixture.Written;
        Assert.Equal(FixtureArrays, count);
        var failures = new List<string>();
        int checkedArrays = 0;
        foreach (var (key, dtype, order, shape) in Index(exp))
        {
            try
            {
                var meta = ZarrStore.ReadMetadata(store, key);
                var array = ZarrStore.ReadArray(store, key);
                var expected = File.ReadAllBytes(Path.Combine(exp, key.Replace('/', '_') + ".bin"));
                var actual = new byte[array.Length * array.DataType.ItemSize];
                ZarrArray.CopyToBytes(array.Data, 0, actual, (int)array.Length);
                if (meta.DataType.TypeString != dtype) failures.Add($"{key}: dtype {meta.DataType}, zarr wrote {dtype}");
                else if (meta.Order != order) failures.Add($"{key}: order {meta.Order}, zarr wrote {order}");
                else if (!array.Shape.SequenceEqual(shape)) failures.Add($"{key}: shape [{string.Join(", ", array.Shape)}], zarr wrote [{string.Join(", ", shape)}]");
                else if (!expected.AsSpan().SequenceEqual(actual))
                {
                    int first = expected.AsSpan().CommonPrefixLength(actual);
                    failures.Add($"{key}: {(expected.Length == actual.Length ? $"first differing byte {first} (element {first / array.DataType.ItemSize})" : $"{actual.Length} bytes, expected {expected.Length}")}");
                }
                checkedArrays++;
            }
            catch (DatasetFormatException e)
            {
                failures.Add($"{key}: refused: {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} arrays differ from what zarr-python wrote:\n  " + string.Join("\n  ", failures));
        Assert.Equal(FixtureArrays, checkedArrays);
    }

    [Fact]
    public void TheFixtureCoversWhatItClaims()
    {
        var (store, exp, _) = fixture.Written;
        var seen = new Dictionary<string, int>();
        void Count(string feature) => seen[feature] = seen.GetValueOrDefault(feature) + 1;
        foreach (var (key, _, _, _) in Index(exp))
        {
            var dir = Path.Combine(store, key.Replace('/', Path.DirectorySeparatorChar));
            var zarray = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, ".zarray")))!.AsObject();
            var meta = ZarrStore.ReadMetadata(store, key);
            Count($"dtype {meta.DataType}");
            Count($"rank {meta.Shape.Length}");
            Count($"compressor {meta.Compressor?.Id ?? "raw"}");
            if (meta.Compressor is BloscCompressor b) Count($"blosc {b.CName} {b.Shuffle}");
            if (meta.Order == 'F' && meta.Chunks.Count(c => c > 1) > 1) Count("order F, N-D chunks");
            if (meta.Order == 'F' && meta.Shape.Length == 1) Count("order F, 1-D");
            if (meta.Shape.Where((s, d) => s % meta.Chunks[d] != 0).Any()) Count("partial edge chunks");
            if (meta.DimensionSeparator == '/') Count(zarray.ContainsKey("dimension_separator") ? "nested keys" : "nested keys, no dimension_separator");
            else if (!zarray.ContainsKey("dimension_separator") && meta.Shape.Length > 1) Count("flat keys, no dimension_separator");
            var chunkFiles = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')).ToList();
            if (chunkFiles.Count < meta.ChunkGrid.Aggregate(1L, (p, n) => p * n)) Count("missing chunks (fill value)");
            if (meta.Compressor is not BloscCompressor) continue;
            var layouts = chunkFiles.Select(f => BloscLayout.Read(File.ReadAllBytes(f))).ToList();
            if (layouts.Any(h => h.Memcpyed)) Count("blosc memcpyed chunk");
            if (layouts.Any(h => h.Blocks > 1)) Count("blosc multi-block chunk");
            if (layouts.Any(h => h.Blocks > 1 && h.Leftover)) Count("blosc leftover block");
            if (layouts.Any(h => h.SplitBlocks > 0)) Count("blosc split blocks (typesize streams)");
            if (layouts.Any(h => h.RawStreams > 0)) Count("blosc stream stored raw");
        }
        foreach (var (feature, n) in seen.OrderBy(kv => kv.Key, StringComparer.Ordinal)) output.WriteLine($"{n,4}  {feature}");
        string[] required =
        [
            "order F, N-D chunks", "order F, 1-D", "partial edge chunks", "nested keys", "nested keys, no dimension_separator",
            "flat keys, no dimension_separator", "missing chunks (fill value)", "blosc memcpyed chunk", "blosc multi-block chunk",
            "blosc leftover block", "blosc split blocks (typesize streams)", "blosc stream stored raw", "rank 0", "rank 1", "rank 2", "rank 3", "rank 4",
            "compressor raw", "compressor blosc", "compressor zlib", "compressor gzip", "compressor zstd", "compressor lz4",
            .. new[] { "<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1", ">f2", ">f4", ">f8", ">i2", ">i4", ">i8", ">u2", ">u4", ">u8" }.Select(t => $"dtype {t}"),
            .. new[] { "lz4", "lz4hc", "zstd", "zlib", "blosclz" }.SelectMany(c => Enum.GetValues<BloscShuffle>().Where(s => s != BloscShuffle.Auto).Select(s => $"blosc {c} {s}")),
            "blosc zstd Auto",
        ];
        var missing = required.Where(f => !seen.ContainsKey(f)).ToList();
        Assert.True(missing.Count == 0, "the fixture no longer exercises: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData("bz2", ".zarray", "unsupported compressor 'bz2' (field 'compressor')")]
    [InlineData("lzma", ".zarray", "unsupported compressor 'lzma' (field 'compressor')")]
    [InlineData("bytes", ".zarray", "unsupported dtype '|S3' (fixed-length strings are out of scope")]
    [InlineData("unicode", ".zarray", "unsupported dtype '<U3' (fixed-length strings are out of scope")]
    [InlineData("object", ".zarray", "unsupported dtype '|O' (object arrays")]
    [InlineData("complex", ".zarray", "unsupported dtype '<c8' (complex numbers are out of scope)")]
    [InlineData("datetime", ".zarray", "unsupported dtype '<M8[s]' (datetime and timedelta arrays are out of scope)")]
    [InlineData("structured", ".zarray", "structured dtypes are not supported")]
    [InlineData("filters", ".zarray", "filters [{\"astype\":\"<i4\",\"dtype\":\"<i4\",\"id\":\"delta\"}] are not supported")]
    [InlineData("snappy", "0", "unsupported inner codec 'snappy' in Blosc chunk")]
    public void OutOfScopeArraysAreRefusedNamingTheFileAndTheField(string name, string file, string message)
    {
        var (store, _, _) = fixture.Written;
        string key = $"refused/{name}";
        var e = Assert.Throws<DatasetFormatException>(() => ZarrStore.ReadArray(store, key));
        Assert.Contains(message, e.Message);
        Assert.Equal(Path.Combine(store, "refused", name, file), e.FilePath);
        Assert.StartsWith($"{e.FilePath} (array '{key}'): ", e.Message);
    }

    [Fact]
    public void FortranToCMatchesTheIndexFormula()
    {
        // A 3 x 4 x 5 chunk of 2-byte items whose value is its C-order index, laid out in Fortran order.
        int[] chunks = [3, 4, 5];
        var fortran = new ushort[60];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 5; k++)
                    fortran[i + 3 * (j + 4 * k)] = (ushort)(i * 20 + j * 5 + k);
        var c = new ushort[60];
        ZarrStore.FortranToC(MemoryMarshal.AsBytes(fortran.AsSpan()), MemoryMarshal.AsBytes(c.AsSpan()), chunks, 2);
        Assert.Equal(Enumerable.Range(0, 60).Select(v => (ushort)v), c);
    }

    /// <summary>How a Blosc1 chunk is laid out (header, block offsets, stream sizes), read independently of the decoder.</summary>
    private readonly record struct BloscLayout(bool Memcpyed, int Blocks, bool Leftover, int SplitBlocks, int RawStreams)
    {
        public static BloscLayout Read(byte[] chunk)
        {
            byte flags = chunk[2];
            int typeSize = chunk[3];
            int nbytes = BinaryPrimitives.ReadInt32LittleEndian(chunk.AsSpan(4));
            int blockSize = BinaryPrimitives.ReadInt32LittleEndian(chunk.AsSpan(8));
            int blocks = (nbytes + blockSize - 1) / blockSize;
            bool leftover = nbytes % blockSize != 0;
            if ((flags & 0x2) != 0) return new(true, blocks, leftover, 0, 0);
            int split = 0, raw = 0;
            for (int b = 0; b < blocks; b++)
            {
                int size = b == blocks - 1 && leftover ? nbytes % blockSize : blockSize;
                // c-blosc splits a full block into typesize streams unless header flag 0x10 says it did not.
                int streams = (flags & 0x10) == 0 && typeSize <= 16 && size / typeSize >= 128 && size == blockSize ? typeSize : 1;
                if (streams > 1) split++;
                int offset = BinaryPrimitives.ReadInt32LittleEndian(chunk.AsSpan(16 + 4 * b));
                for (int j = 0; j < streams; j++)
                {
                    int csize = BinaryPrimitives.ReadInt32LittleEndian(chunk.AsSpan(offset));
                    if (csize == size / streams) raw++;
                    offset += 4 + csize;
                }
            }
            return new(false, blocks, leftover, split, raw);
        }
    }
}

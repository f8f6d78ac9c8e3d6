using DpAg.Data;
using DpAg.Data.Zarr;

namespace DpAg.Tests.Data.Zarr;

public sealed class ZarrWriterTests
{
    public static readonly TheoryData<string> Compressors = new() { "raw", "blosc-lz4", "blosc-zstd-bit", "blosc-lz4-byte", "blosc-zlib", "zstd", "lz4", "zlib", "gzip" };

    internal static ZarrCompressor? Compressor(string name) => name switch
    {
        "raw" => null,
        "blosc-lz4" => ZarrCompressor.Default,
        "blosc-zstd-bit" => BloscCompressor.ZstdBitShuffle,
        "blosc-lz4-byte" => new BloscCompressor("lz4", 5, BloscShuffle.ByteShuffle),
        "blosc-zlib" => new BloscCompressor("zlib", 5, BloscShuffle.ByteShuffle),
        "zstd" => new ZstdCompressor(3),
        "lz4" => new Lz4Compressor(),
        "zlib" => new ZlibCompressor(1),
        "gzip" => new GZipCompressor(5),
        _ => throw new ArgumentException(name),
    };

    /// <summary>One array per dtype with a shape whose edge chunks are partial.</summary>
    internal static List<(string Key, ZarrArray Array, int[] Chunks)> SampleArrays()
    {
        var rng = new Random(7);
        int n = 23 * 3 * 2;
        var list = new List<(string, ZarrArray, int[])>
        {
            ("f4", ZarrArray.Create(Enumerable.Range(0, n).Select(i => (float)(rng.NextDouble() * 100 - 50)).ToArray(), 23, 3, 2), [5, 3, 2]),
            ("f8", ZarrArray.Create(Enumerable.Range(0, n).Select(i => rng.NextDouble() * 1e6).ToArray(), 23, 6), [8, 4]),
            ("i8", ZarrArray.Create(Enumerable.Range(0, 206).Select(i => (long)i * 125 + rng.Next(100)).ToArray(), 206), [50]),
            ("i4", ZarrArray.Create(Enumerable.Range(0, n).Select(i => rng.Next()).ToArray(), 2, 23, 3), [1, 7, 3]),
            ("u1", ZarrArray.Create(Enumerable.Range(0, 5 * 96 * 3).Select(i => (byte)rng.Next(256)).ToArray(), 5, 96, 3), [2, 96, 3]),
            ("b1", ZarrArray.Create(Enumerable.Range(0, 19).Select(i => rng.Next(2) == 1).ToArray(), 19), [4]),
            ("f2", ZarrArray.Create(Enumerable.Range(0, 41).Select(i => (Half)(rng.NextDouble() * 200 - 100)).ToArray(), 41), [16]),
            ("i2", ZarrArray.Create(Enumerable.Range(0, 40).Select(i => (short)rng.Next(-3000, 3000)).ToArray(), 40), [40]),
            ("big", ZarrArray.Create(Enumerable.Range(0, 40 * 300).Select(i => (float)Math.Sin(i * 0.01)).ToArray(), 40, 300), [16, 300]),
        };
        return list;
    }

    internal static byte[] Bytes(ZarrArray a)
    {
        var bytes = new byte[a.Length * a.DataType.ItemSize];
        ZarrArray.CopyToBytes(a.Data, 0, bytes, (int)a.Length);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(Compressors))]
    public void RoundTripsEveryDtype(string compressor)
    {
        using var tmp = new TempDir();
        var store = tmp.Sub("s.zarr");
        ZarrStore.CreateGroup(store);
        foreach (var (key, array, chunks) in SampleArrays())
        {
            ZarrStore.WriteArray(store, key, array, chunks, Compressor(compressor));
            var back = ZarrStore.ReadArray(store, key);
            Assert.Equal(array.Shape, back.Shape);
            Assert.Equal(array.DataType, back.DataType);
            Assert.Equal(Bytes(array), Bytes(back));
        }
    }

    [Fact]
    public void NestedSeparatorAndFillValueRoundTrip()
    {
        using var tmp = new TempDir();
        var a = ZarrArray.Create(Enumerable.Range(0, 30).Select(i => (float)i).ToArray(), 5, 6);
        var meta = ZarrStore.WriteArray(tmp.Path, "x", a, [2, 4], ZarrCompressor.Default, '/', fillValue: double.NaN);
        Assert.True(File.Exists(Path.Combine(tmp.Path, "x", "2", "1")));
        Assert.Equal('/', ZarrStore.ReadMetadata(tmp.Path, "x").DimensionSeparator);
        Assert.True(double.IsNaN(ZarrStore.ReadMetadata(tmp.Path, "x").FillValue!.Value));
        File.Delete(Path.Combine(tmp.Path, "x", "0", "0"));
        var back = ZarrStore.ReadArray(tmp.Path, "x").As<float>();
        Assert.True(float.IsNaN(back[0]) && float.IsNaN(back[9]));
        Assert.Equal(4f, back[4]);
        Assert.Equal(29f, back[29]);
        Assert.Equal(new[] { 3, 2 }, meta.ChunkGrid);
    }

    [Fact]
    public void NestedKeysWithoutASeparatorAreFoundAndAMixedFolderIsRefused()
    {
        using var tmp = new TempDir();
        var a = ZarrArray.Create(Enumerable.Range(0, 30).Select(i => (short)i).ToArray(), 5, 6);
        ZarrStore.WriteArray(tmp.Path, "x", a, [2, 4], new ZstdCompressor(), '/');
        var zarray = Path.Combine(tmp.Path, "x", ".zarray");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(zarray))!.AsObject();
        json.Remove("dimension_separator"); // as zarr 2's NestedDirectoryStore wrote it before 2.8
        File.WriteAllText(zarray, json.ToJsonString());
        Assert.Equal('/', ZarrStore.ReadMetadata(tmp.Path, "x").DimensionSeparator);
        Assert.Equal(Bytes(a), Bytes(ZarrStore.ReadArray(tmp.Path, "x")));
        File.Copy(Path.Combine(tmp.Path, "x", "0", "0"), Path.Combine(tmp.Path, "x", "0.0"));
        var e = Assert.Throws<DatasetFormatException>(() => ZarrStore.ReadArray(tmp.Path, "x"));
        Assert.Equal(zarray, e.FilePath);
        Assert.Contains("both flat chunk files (0.0) and nested chunk folders (0/0)", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(300_001)]
    public void BloscContainerRoundTripsAllShufflesAndSizes(int n)
    {
        var rng = new Random(n);
        var data = new byte[n];
        for (int i = 0; i < n; i++) data[i] = (byte)(i % 13 == 0 ? rng.Next(256) : i / 97);
        foreach (var cname in new[] { "lz4", "zstd", "zlib" })
            foreach (var shuffle in new[] { BloscShuffle.NoShuffle, BloscShuffle.ByteShuffle, BloscShuffle.BitShuffle, BloscShuffle.Auto })
                foreach (var ts in new[] { 1, 4, 8, 3 })
                {
                    var packed = Blosc.Compress(data, ts, cname, 5, shuffle);
                    Assert.Equal(data, Blosc.Decompress(packed, n));
                }
    }

    [Fact]
    public void ShufflesInvertAndBitShuffleMatchesItsDefinition()
    {
        var rng = new Random(3);
        var src = new byte[8 * 4 * 5 + 3];
        rng.NextBytes(src);
        var dst = new byte[src.Length];
        var back = new byte[src.Length];
        Shuffle.BitShuffle(src.AsSpan(0, 160), dst.AsSpan(0, 160), 4);
        int n = 40;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 8; k++)
                {
                    int pos = (8 * j + k) * n + i;
                    Assert.Equal((src[i * 4 + j] >> k) & 1, (dst[pos / 8] >> (pos % 8)) & 1);
                }
        Shuffle.BitShuffle(src, dst, 4);
        Shuffle.BitUnshuffle(dst, back, 4);
        Assert.Equal(src, back);
        Shuffle.ByteShuffle(src, dst, 4);
        Assert.Equal(src[4 * 3 + 2], dst[2 * 40 + 3]);
        Shuffle.ByteUnshuffle(dst, back, 4);
        Assert.Equal(src, back);
    }

    // Python reads every array the kit wrote and compares with the raw bytes the kit wrote beside it.
    private const string ReadScript = """
import sys, os, numpy as np, zarr
store, exp = sys.argv[1], sys.argv[2]
g = zarr.open_group(zarr.DirectoryStore(store), mode='r')
n = 0
for comp in sorted(os.listdir(exp)):
    for f in sorted(os.listdir(os.path.join(exp, comp))):
        key, dtype, shape = f[:-4].split('__')
        shape = tuple(int(s) for s in shape.split('x'))
        want = np.fromfile(os.path.join(exp, comp, f), dtype=dtype).reshape(shape)
        got = g[comp + '/' + key][...]
        assert got.dtype == want.dtype, (comp, key, got.dtype, want.dtype)
        assert got.shape == want.shape, (comp, key, got.shape)
        assert got.tobytes() == want.tobytes(), (comp, key)
        n += 1
print('OK', n)
""";

    [Fact]
    public void ZarrPythonReadsTheKitsStores()
    {
        using var tmp = new TempDir();
        var store = tmp.Sub("kit.zarr");
        var exp = tmp.Sub("expected");
        ZarrStore.CreateGroup(store);
        int count = 0;
        foreach (var comp in ((IEnumerable<object[]>)Compressors).Select(row => (string)row[0]))
        {
            var name = comp;
            ZarrStore.CreateGroup(store, name);
            Directory.CreateDirectory(Path.Combine(exp, name));
            foreach (var (key, array, chunks) in SampleArrays())
            {
                ZarrStore.WriteArray(store, name + "/" + key, array, chunks, Compressor(name), name == "zstd" ? '/' : '.');
                File.WriteAllBytes(Path.Combine(exp, name, $"{key}__{array.DataType.TypeString}__{string.Join("x", array.Shape)}.bin"), Bytes(array));
                count++;
            }
        }
        var output = PythonZarr.Run(ReadScript, store, exp);
        Assert.Equal($"OK {count}", output.Trim());
    }
}

using System.Text.Json.Nodes;
using CsCheck;
using DpAg.Data;
using DpAg.Data.Zarr;

namespace DpAg.Tests.Data;

public sealed class CorruptInputTests
{
    private static string Store(TempDir tmp, ZarrCompressor? compressor = null, int[]? lengths = null)
    {
        var path = tmp.Sub("s.zarr");
        PushTFixture.Make(lengths ?? [6, 9]).Save(path, compressor ?? ZarrCompressor.Default, chunkSteps: 4);
        return path;
    }

    private static void EditZarray(string store, string key, Action<JsonObject> edit)
    {
        var file = Path.Combine(store, key, ".zarray");
        var obj = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        edit(obj);
        File.WriteAllText(file, obj.ToJsonString());
    }

    private static DatasetFormatException Fails(string store) => Assert.Throws<DatasetFormatException>(() => ReplayBuffer.Open(store));

    [Fact]
    public void MissingZarrayNamesTheFile()
    {
        using var tmp = new TempDir();
        var s = Store(tmp);
        File.Delete(Path.Combine(s, "data", "state", ".zarray"));
        var e = Assert.Throws<DatasetFormatException>(() => ReplayBuffer.Open(s, ["state"]));
        Assert.Contains(Path.Combine("data", "state", ".zarray"), e.Message);
        Assert.Equal("data/state", e.Key);
        File.Delete(Path.Combine(s, "meta", "episode_ends", ".zarray"));
        Assert.Contains("meta/episode_ends", Fails(s).Message);
        File.Delete(Path.Combine(s, "data", "action", ".zarray"));
        Assert.Throws<DatasetFormatException>(() => ZarrStore.ReadArray(s, "data/action"));
    }

    [Fact]
    public void UnknownDtypeAndCompressorAreNamed()
    {
        using var tmp = new TempDir();
        var s = Store(tmp);
        EditZarray(s, "data/state", o => o["dtype"] = "<c8");
        var e = Fails(s);
        Assert.Contains("unsupported dtype '<c8'", e.Message);
        Assert.Equal("data/state", e.Key);
        Assert.EndsWith(".zarray", e.FilePath);
        EditZarray(s, "data/state", o => { o["dtype"] = "<f4"; o["compressor"] = new JsonObject { ["id"] = "bz2", ["level"] = 1 }; });
        Assert.Contains("unsupported compressor 'bz2'", Fails(s).Message);
        EditZarray(s, "data/state", o => { o["compressor"] = null; o["order"] = "K"; });
        Assert.Contains("order 'K' is not a zarr chunk order", Fails(s).Message);
        EditZarray(s, "data/state", o => { o["order"] = "C"; o["filters"] = new JsonArray(new JsonObject { ["id"] = "delta" }); });
        Assert.Contains("filters", Fails(s).Message);
        File.WriteAllText(Path.Combine(s, "data", "state", ".zarray"), "{ not json");
        Assert.Contains("not valid JSON", Fails(s).Message);
    }

    [Theory]
    [InlineData("blosc")]
    [InlineData("zstd")]
    [InlineData("raw")]
    [InlineData("lz4")]
    [InlineData("zlib")]
    public void TruncatedChunkNamesTheChunkFile(string compressor)
    {
        using var tmp = new TempDir();
        var s = Store(tmp, compressor switch
        {
            "blosc" => BloscCompressor.ZstdBitShuffle,
            "zstd" => new ZstdCompressor(),
            "lz4" => new Lz4Compressor(),
            "zlib" => new ZlibCompressor(),
            _ => null,
        }, [30, 20]);
        var chunk = Path.Combine(s, "data", "keypoint", "1.0.0");
        var bytes = File.ReadAllBytes(chunk);
        File.WriteAllBytes(chunk, bytes[..(bytes.Length * 2 / 3)]);
        var e = Fails(s);
        Assert.Equal(chunk, e.FilePath);
        Assert.Contains("data/keypoint", e.Message);
    }

    [Fact]
    public void WrongShapesAreReported()
    {
        using var tmp = new TempDir();
        var s = Store(tmp);
        EditZarray(s, "data/state", o => o["chunks"] = new JsonArray(4, 6)); // chunk bytes no longer match
        Assert.Contains("expected", Fails(s).Message);
        EditZarray(s, "data/state", o => o["chunks"] = new JsonArray(4));
        Assert.Contains("differ in rank", Fails(s).Message);

        using var tmp2 = new TempDir();
        var path = tmp2.Sub("bad.zarr");
        var b = ReplayBuffer.CreateEmpty();
        b.AddEpisode(new Dictionary<string, ZarrArray>
        {
            ["action"] = ZarrArray.Create(new float[30], 10, 3),
            ["state"] = ZarrArray.Create(new float[50], 10, 5),
            ["keypoint"] = ZarrArray.Create(new float[180], 10, 9, 2),
        });
        b.Save(path);
        var e = Assert.Throws<DatasetFormatException>(() => PushTDataset.Open(path));
        Assert.Contains("data/action has shape (N, 3); Push-T expects (N, 2)", e.Message);
    }

    [Fact]
    public void MismatchedLengthsAreReported()
    {
        using var tmp = new TempDir();
        var s = Store(tmp); // 15 steps
        ZarrStore.WriteArray(s, "data/state", ZarrArray.Create(new float[14 * 5], 14, 5), [4, 5], ZarrCompressor.Default);
        var e = Fails(s);
        Assert.Contains("overruns data/state, which has 14 steps", e.Message);
        Assert.Equal("data/state", e.Key);
        ZarrStore.WriteArray(s, "data/state", ZarrArray.Create(new float[16 * 5], 16, 5), [4, 5], ZarrCompressor.Default);
        Assert.Contains("data/state has 16 steps but meta/episode_ends[-1] = 15", Fails(s).Message);
    }

    [Theory]
    [InlineData(new long[] { 6, 6, 15 }, "episode_ends[1] = 6 after episode_ends[0] = 6")]
    [InlineData(new long[] { 9, 6, 15 }, "episode_ends[1] = 6 after episode_ends[0] = 9")]
    [InlineData(new long[] { 0, 15 }, "episode_ends[0] = 0 after start 0")]
    [InlineData(new long[] { 6, 20 }, "meta/episode_ends[-1] = 20 overruns data/")]
    [InlineData(new long[] { 6, 10 }, "but meta/episode_ends[-1] = 10")]
    public void BadEpisodeEndsAreReported(long[] ends, string expected)
    {
        using var tmp = new TempDir();
        var s = Store(tmp);
        ZarrStore.WriteArray(s, "meta/episode_ends", ZarrArray.Create(ends, ends.Length), null, ZarrCompressor.Default);
        var e = Fails(s);
        Assert.Contains(expected, e.Message);
        Assert.Contains(s, e.Message);
    }

    [Fact]
    public void NonFiniteValuesAreReported()
    {
        using var tmp = new TempDir();
        var s = Store(tmp);
        var state = ReplayBuffer.Open(s)["state"].As<float>();
        state[7 * 5 + 2] = float.PositiveInfinity;
        ZarrStore.WriteArray(s, "data/state", ZarrArray.Create(state, 15, 5), [4, 5], ZarrCompressor.Default);
        var e = Fails(s);
        Assert.Contains("data/state holds ∞ at step 7", e.Message.Replace("Infinity", "∞"));
        state[7 * 5 + 2] = float.NaN;
        ZarrStore.WriteArray(s, "data/state", ZarrArray.Create(state, 15, 5), [4, 5], ZarrCompressor.Default);
        Assert.Contains("NaN at step 7", Fails(s).Message);
        Assert.Contains("expected finite values", Fails(s).Message);

        // Actions too: a NaN action would train the policy towards NaN.
        state[7 * 5 + 2] = 1f;
        ZarrStore.WriteArray(s, "data/state", ZarrArray.Create(state, 15, 5), [4, 5], ZarrCompressor.Default);
        var action = ReplayBuffer.Open(s)["action"].As<float>();
        action[11 * 2 + 1] = float.NegativeInfinity;
        ZarrStore.WriteArray(s, "data/action", ZarrArray.Create(action, 15, 2), [4, 2], ZarrCompressor.Default);
        Assert.Contains("data/action holds -∞ at step 11", Fails(s).Message.Replace("-Infinity", "-∞"));
    }

    [Fact]
    public void BloscHeaderCorruptionsAreFormatErrors()
    {
        var data = Enumerable.Range(0, 4000).Select(i => (byte)(i / 9)).ToArray();
        var packed = Blosc.Compress(data, 4, "lz4", 5, BloscShuffle.ByteShuffle, 1000);
        var bad = (byte[])packed.Clone(); bad[0] = 3;
        Assert.Contains("format version 3", Assert.Throws<DatasetFormatException>(() => Blosc.Decompress(bad, 4000)).Message);
        bad = (byte[])packed.Clone(); bad[2] |= 0x08;
        Assert.Contains("reserved", Assert.Throws<DatasetFormatException>(() => Blosc.Decompress(bad, 4000)).Message);
        Assert.Contains("expected 4001", Assert.Throws<DatasetFormatException>(() => Blosc.Decompress(packed, 4001)).Message);
        bad = (byte[])packed.Clone(); bad[2] = (byte)((bad[2] & 0x1f) | (2 << 5));
        Assert.Contains("unsupported inner codec 'snappy'", Assert.Throws<DatasetFormatException>(() => Blosc.Decompress(bad, 4000)).Message);
        Assert.Contains("16-byte", Assert.Throws<DatasetFormatException>(() => Blosc.Decompress(packed.AsSpan(0, 10), 4000)).Message);
    }

    private enum Damage { Truncate, FlipByte, Overwrite, Delete, Append, Empty }

    /// <summary>Random damage to random files of small stores never escapes as anything but DatasetFormatException.</summary>
    [Fact]
    public void RandomCorruptionsOnlyRaiseDatasetFormatException()
    {
        using var tmp = new TempDir();
        var compressors = new ZarrCompressor?[] { ZarrCompressor.Default, BloscCompressor.ZstdBitShuffle, new BloscCompressor("lz4", 5, BloscShuffle.ByteShuffle), null, new ZstdCompressor(), new Lz4Compressor(), new ZlibCompressor() };
        var templates = compressors.Select((c, i) =>
        {
            var p = tmp.Sub($"t{i}.zarr");
            PushTFixture.Make([5, 40, 9]).Save(p, c, chunkSteps: i % 2 == 0 ? 16 : 64);
            return p;
        }).ToArray();
        var files = templates.Select(t => Directory.GetFiles(t, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(t, f)).OrderBy(f => f, StringComparer.Ordinal).ToArray()).ToArray();
        var gen = Gen.Select(Gen.Int[0, templates.Length - 1], Gen.Int[0, 1000], Gen.Enum<Damage>(), Gen.Int[0, 1 << 20], Gen.Byte, Gen.Int[1, 4]);
        gen.Sample(t =>
        {
            var (which, fileSeed, damage, position, value, count) = t;
            var dir = templates[which];
            var rel = files[which][fileSeed % files[which].Length];
            var file = Path.Combine(dir, rel);
            var original = File.ReadAllBytes(file);
            var bytes = (byte[])original.Clone();
            for (int c = 0; c < count; c++)
            {
                int pos = bytes.Length == 0 ? 0 : (int)((uint)position % (uint)bytes.Length);
                switch (damage)
                {
                    case Damage.Truncate: bytes = bytes[..pos]; break;
                    case Damage.FlipByte: if (bytes.Length > 0) bytes[pos] ^= (byte)(value == 0 ? 1 : value); break;
                    case Damage.Overwrite: if (bytes.Length > 0) bytes[pos] = value; break;
                    case Damage.Append: bytes = [.. bytes, value]; break;
                    case Damage.Empty: bytes = []; break;
                    case Damage.Delete: break;
                }
                position = unchecked(position * 31 + 7);
            }
            if (damage == Damage.Delete) File.Delete(file); else File.WriteAllBytes(file, bytes);
            try
            {
                var b = ReplayBuffer.Open(dir);
                _ = PushTDataset.Create(b, new PushTDatasetConfig(ValRatio: 0.3, MaxTrainEpisodes: null));
            }
            catch (DatasetFormatException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            finally
            {
                File.WriteAllBytes(file, original); // restore the template for the next sample
            }
        }, iter: 250, threads: 1);
    }

    /// <summary>Mutated Blosc containers (any inner codec bits, including blosclz) fail only with DatasetFormatException.</summary>
    [Fact]
    public void MutatedBloscBuffersOnlyRaiseDatasetFormatException()
    {
        var data = Enumerable.Range(0, 6000).Select(i => (byte)((i / 7) % 50)).ToArray();
        var packed = new[]
        {
            Blosc.Compress(data, 4, "lz4", 5, BloscShuffle.ByteShuffle, 2048),
            Blosc.Compress(data, 8, "zstd", 5, BloscShuffle.BitShuffle, 4096),
            Blosc.Compress(data, 2, "zlib", 5, BloscShuffle.NoShuffle),
        };
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 1 << 20], Gen.Byte, Gen.Int[0, 7], Gen.Bool).Sample(t =>
        {
            var (which, pos, value, codec, truncate) = t;
            var bytes = (byte[])packed[which].Clone();
            bytes[2] = (byte)((bytes[2] & 0x1f) | (codec << 5));
            bytes[pos % bytes.Length] = value;
            if (truncate) bytes = bytes[..(pos % bytes.Length)];
            try
            {
                var result = Blosc.Decompress(bytes, data.Length);
                Assert.Equal(data.Length, result.Length);
            }
            catch (DatasetFormatException)
            {
            }
        }, iter: 3000, threads: 1);
    }
}

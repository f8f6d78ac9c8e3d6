using DpAg.Data;
using DpAg.Data.Zarr;

namespace DpAg.Tests.Data;

public sealed class ReplayBufferTests
{
    [Fact]
    public void SaveAndOpenRoundTrip()
    {
        using var tmp = new TempDir();
        var buffer = PushTFixture.Make([12, 30, 9], images: true, nContacts: true);
        var path = tmp.Sub("r.zarr");
        buffer.Save(path, chunkSteps: 7);
        var back = ReplayBuffer.Open(path);
        Assert.Equal(new long[] { 12, 42, 51 }, back.EpisodeEnds);
        Assert.Equal(["action", "img", "keypoint", "n_contacts", "state"], back.Keys);
        foreach (var key in buffer.Keys)
        {
            Assert.Equal(buffer[key].Shape, back[key].Shape);
            Assert.Equal(buffer.GetFloat(key), back.GetFloat(key));
        }
        Assert.Equal(new[] { 7, 96, 96, 3 }, ZarrStore.ReadMetadata(path, "data/img").Chunks);
        Assert.Equal(new[] { 51, 96, 96, 3 }, back.StepShape("img").Prepend(51).ToArray());
        var only = ReplayBuffer.Open(path, ["state"]);
        Assert.Equal(["action", "state"], only.Keys);
        Assert.Equal((12, 42), back.EpisodeBounds(1));
        Assert.Equal(30, back.GetEpisode(1)["action"].Shape[0]);
        Assert.Equal(12f, back.GetEpisode(1)["action"].As<float>()[0]);
    }

    [Fact]
    public void SaveReplacesAnExistingStoreAndLeavesNoTempFolders()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("r.zarr");
        PushTFixture.Make([10, 10]).Save(path);
        PushTFixture.Make([11]).Save(path, BloscCompressor.ZstdBitShuffle);
        Assert.Equal(new long[] { 11 }, ReplayBuffer.Open(path).EpisodeEnds);
        Assert.Equal(["r.zarr"], Directory.GetFileSystemEntries(tmp.Path).Select(Path.GetFileName));
    }

    private const string PyReadScript = """
import sys, zarr, numpy as np
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='r')
ends = g['meta/episode_ends'][:]
a = g['data/action'][:]
print(ends.dtype, list(ends), a.shape, float(a[13, 0]), float(a[13, 1]), g['data/keypoint'].shape)
""";

    [Fact]
    public void PythonReadsTheSavedBuffer()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("r.zarr");
        PushTFixture.Make([12, 30]).Save(path);
        Assert.Equal("int64 [12, 42] (42, 2) 13.0 1001.0 (42, 9, 2)", PythonZarr.Run(PyReadScript, path).Trim());
    }

    private const string PyWriteScript = """
import sys, zarr, numpy as np
from numcodecs import Blosc
root = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='w')
n = 40
comp = Blosc('zstd', 5, Blosc.BITSHUFFLE)
root.create_dataset('data/action', data=np.stack([np.arange(n), np.arange(n) * 2], 1).astype('<f4'), chunks=(16, 2), compressor=comp)
root.create_dataset('data/state', data=np.ones((n, 5), '<f4'), chunks=(16, 5), compressor=comp)
root.create_dataset('data/keypoint', data=np.zeros((n, 9, 2), '<f4'), chunks=(16, 9, 2), compressor=comp)
root.create_dataset('meta/episode_ends', data=np.array([10, 25, 40], dtype='<i8'), chunks=(3,), compressor=comp)
""";

    [Fact]
    public void OpensABufferWrittenByZarrPython()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("py.zarr");
        PythonZarr.Run(PyWriteScript, path);
        var b = ReplayBuffer.Open(path);
        Assert.Equal(3, b.EpisodeCount);
        Assert.Equal(40, b.StepCount);
        Assert.Equal(78f, b.GetFloat("action")[79]);
        var ds = PushTDataset.Create(b, new PushTDatasetConfig(ValRatio: 0, MaxTrainEpisodes: null));
        Assert.Equal(3 + 8 + 8, ds.Count);
    }

    [Fact]
    public void AddEpisodeValidatesInput()
    {
        var b = PushTFixture.Make([5]);
        var good = PushTFixture.Make([4]).GetEpisode(0);
        b.AddEpisode(good);
        Assert.Equal(new long[] { 5, 9 }, b.EpisodeEnds);
        var missing = new Dictionary<string, ZarrArray>(good); missing.Remove("state");
        Assert.Contains("missing [state]", Assert.Throws<ArgumentException>(() => b.AddEpisode(missing)).Message);
        var ragged = new Dictionary<string, ZarrArray>(good) { ["state"] = ZarrArray.Create(new float[15], 3, 5) };
        Assert.Contains("'state' has 3 steps", Assert.Throws<ArgumentException>(() => b.AddEpisode(ragged)).Message);
        var shape = new Dictionary<string, ZarrArray>(good) { ["state"] = ZarrArray.Create(new float[24], 4, 6) };
        Assert.Contains("'state'", Assert.Throws<ArgumentException>(() => b.AddEpisode(shape)).Message);
        var nan = new Dictionary<string, ZarrArray>(good) { ["state"] = ZarrArray.Create(Enumerable.Repeat(float.NaN, 20).ToArray(), 4, 5) };
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => b.AddEpisode(nan)).Message);
        Assert.Throws<ArgumentException>(() => ReplayBuffer.CreateEmpty().AddEpisode(new Dictionary<string, ZarrArray> { ["state"] = ZarrArray.Create(new float[5], 1, 5) }));
        Assert.Equal(new long[] { 5, 9 }, b.EpisodeEnds);
    }

    [Fact]
    public void EpisodeEndsOfOtherIntegerTypesAreAcceptedAndFloatsRejected()
    {
        using var tmp = new TempDir();
        var path = tmp.Sub("r.zarr");
        PushTFixture.Make([4, 6]).Save(path);
        ZarrStore.WriteArray(path, "meta/episode_ends", ZarrArray.Create(new[] { 4, 10 }, 2), null, null);
        Assert.Equal(new long[] { 4, 10 }, ReplayBuffer.Open(path).EpisodeEnds);
        ZarrStore.WriteArray(path, "meta/episode_ends", ZarrArray.Create(new ulong[] { 4, 10 }, 2), null, null);
        Assert.Equal(new long[] { 4, 10 }, ReplayBuffer.Open(path).EpisodeEnds);
        ZarrStore.WriteArray(path, "meta/episode_ends", ZarrArray.Create(new[] { 4.0, 10.0 }, 2), null, null);
        Assert.Contains("expected a 1-D integer array", Assert.Throws<DatasetFormatException>(() => ReplayBuffer.Open(path)).Message);
    }
}

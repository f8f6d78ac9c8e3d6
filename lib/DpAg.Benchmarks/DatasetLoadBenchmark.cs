using System.Diagnostics;
using DpAg.Data;
using DpAg.Data.Zarr;
using DpAg.IO;

namespace DpAg.Benchmarks;

/// <summary>
/// The memory and time of loading a Push-T image dataset of the official size (pusht_cchi_v7_replay.zarr: 206
/// episodes, 25,650 frames, img (N, 96, 96, 3) float32, state, keypoint, action, n_contacts). The store is synthetic,
/// written once with the kit's zarr writer; loading it is measured in a fresh process, so the peak belongs to loading
/// alone and not to whatever the measuring process allocated before.
/// </summary>
public static class DatasetLoadBenchmark
{
    /// <summary>Frames of the official Push-T dataset.</summary>
    public const int OfficialFrames = 25_650;

    /// <summary>Episodes of the official Push-T dataset.</summary>
    public const int OfficialEpisodes = 206;

    /// <summary>What loading measured: the wall time, the resident size before and at the peak, and the raw data size.</summary>
    public sealed record Result(int Frames, double Seconds, long BeforeBytes, long PeakBytes, long DataBytes)
    {
        /// <summary>Peak growth over the data it holds: 1.0 means no copy beyond the data itself.</summary>
        public double PeakOverData => (PeakBytes - BeforeBytes) / (double)DataBytes;
    }

    /// <summary>
    /// Writes a synthetic store of <paramref name="frames"/> frames in <paramref name="episodes"/> equal episodes
    /// (atomically; the images are a grey field with a moving square, so they compress like rendered frames do).
    /// </summary>
    public static void WriteStore(string path, int frames = OfficialFrames, int episodes = OfficialEpisodes)
    {
        if (frames < episodes || episodes < 1)
            throw new ArgumentException($"Need at least one frame per episode; got {frames} frames for {episodes} episodes.");
        const int size = PushTDataset.ImageSize, pixels = size * size * 3;
        var img = new float[(long)frames * pixels];
        var state = new float[frames * 5];
        var keypoint = new float[frames * 18];
        var action = new float[frames * 2];
        var contacts = new float[frames];
        Parallel.For(0, frames, f =>
        {
            var frame = img.AsSpan((int)((long)f * pixels), pixels);
            frame.Fill(200f);
            int x0 = f * 7 % (size - 12), y0 = f * 3 % (size - 12);
            for (int y = y0; y < y0 + 12; y++)
                for (int x = x0; x < x0 + 12; x++)
                    frame.Slice((y * size + x) * 3, 3).Fill(40f);
            for (int i = 0; i < 5; i++) state[f * 5 + i] = (f * (i + 1)) % 500;
            for (int i = 0; i < 18; i++) keypoint[f * 18 + i] = (f + 11 * i) % 500;
            action[f * 2] = f % 500;
            action[f * 2 + 1] = (3 * f) % 500;
            contacts[f] = f % 3;
        });
        var ends = Enumerable.Range(1, episodes).Select(e => (long)frames * e / episodes).ToArray();
        AtomicFile.WriteDirectory(path, temp =>
        {
            ZarrStore.CreateGroup(temp);
            ZarrStore.CreateGroup(temp, "data");
            ZarrStore.CreateGroup(temp, "meta");
            void Write(string key, float[] data, params int[] stepShape)
            {
                int[] shape = [frames, .. stepShape];
                ZarrStore.WriteArray(temp, "data/" + key, ZarrArray.Create(data, shape), ZarrStore.DefaultChunks(shape, sizeof(float)), ZarrCompressor.Default);
            }
            Write("img", img, size, size, 3);
            Write("state", state, 5);
            Write("keypoint", keypoint, 9, 2);
            Write("action", action, 2);
            Write("n_contacts", contacts, 1);
            ZarrStore.WriteArray(temp, "meta/episode_ends", ZarrArray.Create(ends, episodes), [episodes], ZarrCompressor.Default);
        });
    }

    /// <summary>
    /// Opens <paramref name="path"/> as an image dataset in this process (normaliser fitted, sampler built) and
    /// returns what it cost. Call it in a fresh process (<c>dpag bench</c> does) for an honest peak.
    /// </summary>
    public static Result MeasureLoad(string path)
    {
        PushTDataset? data = null;
        var watch = new Stopwatch();
        var (peak, before) = ProcessMemory.MeasurePeak(() =>
        {
            watch.Start();
            data = PushTDataset.Open(path, new PushTDatasetConfig(Observation: PushTObservation.Image));
            watch.Stop();
        });
        int frames = data!.Buffer.StepCount;
        long dataBytes = data.Buffer.Keys.Sum(k => (long)frames * data.Buffer.StepShape(k).Aggregate(1L, (a, b) => a * b) * sizeof(float));
        GC.KeepAlive(data);
        return new Result(frames, watch.Elapsed.TotalSeconds, before ?? 0, peak ?? 0, dataBytes);
    }
}

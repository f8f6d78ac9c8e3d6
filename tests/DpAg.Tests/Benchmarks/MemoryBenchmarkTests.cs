using System.Runtime.InteropServices;
using DpAg.Benchmarks;
using DpAg.Data;

namespace DpAg.Tests.Benchmarks;

/// <summary>The memory probes the benchmark reports: they see native allocations and their peak can be reset.</summary>
[Collection(nameof(DpAg.Tests.Training.GlobalGeneratorCollection))] // alone: other tests' allocations would move the peak
public sealed class MemoryBenchmarkTests
{
    [Fact]
    public void PeakSeesANativeAllocationAndResetForgetsIt()
    {
        Assert.True(ProcessMemory.IsSupported, "this Linux exposes /proc/self/status and clear_refs");
        const int bytes = 256 << 20;
        var (peak, before) = ProcessMemory.MeasurePeak(() =>
        {
            nint block = Marshal.AllocHGlobal(bytes);
            for (int offset = 0; offset < bytes; offset += 4096) Marshal.WriteByte(block, offset, 1); // touch every page so it becomes resident
            Marshal.FreeHGlobal(block);
        });
        Assert.NotNull(peak);
        Assert.InRange(peak!.Value - before!.Value, bytes * 0.9, bytes * 1.5);
        Assert.True(ProcessMemory.ResetPeak());
        Assert.True(ProcessMemory.PeakBytes < peak - bytes / 2, "after the reset the freed block no longer counts");
    }

    [Fact]
    public void TheSyntheticOfficialLayoutStoreLoadsAsAnImageDataset()
    {
        string store = Path.Combine(Path.GetTempPath(), $"dpag-load-{Guid.NewGuid():N}.zarr");
        try
        {
            DatasetLoadBenchmark.WriteStore(store, frames: 300, episodes: 6);
            var data = PushTDataset.Open(store, new PushTDatasetConfig(Observation: PushTObservation.Image));
            Assert.Equal(6, data.Buffer.EpisodeCount);
            Assert.Equal(300, data.Buffer.StepCount);
            var result = DatasetLoadBenchmark.MeasureLoad(store);
            Assert.Equal(300, result.Frames);
            // img, state and action are what an image dataset loads: 300 x (96*96*3 + 5 + 2) float32.
            Assert.Equal(300L * (96 * 96 * 3 + 5 + 2) * 4, result.DataBytes);
            Assert.True(result.PeakBytes >= result.BeforeBytes && result.Seconds > 0);

            var e = Assert.Throws<ArgumentException>(() => DatasetLoadBenchmark.WriteStore(store, frames: 3, episodes: 6));
            Assert.Contains("one frame per episode", e.Message);
        }
        finally { if (Directory.Exists(store)) Directory.Delete(store, true); }
    }
}

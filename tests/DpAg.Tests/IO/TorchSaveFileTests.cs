using System.IO.Compression;
using DpAg.IO;
using DpAg.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.IO;

/// <summary>The torch.save archive the kit writes: values and dtypes survive, the bytes depend only on the tensors.</summary>
public class TorchSaveFileTests
{
    private static List<KeyValuePair<string, Tensor>> Sample() =>
    [
        new("_dummy_variable", torch.empty(0)),
        new("model.w", torch.linspace(-1, 1, 12).reshape(3, 4)),
        new("model.w_t", torch.arange(6, dtype: float32).reshape(2, 3).t()),   // not contiguous: written as its values
        new("stats.f64", torch.tensor(new[] { Math.PI, -1e-300, 1e300 })),
        new("steps", torch.tensor(new long[] { 0, 99, long.MaxValue })),
    ];

    [Fact]
    public void SaveThenLoadKeepsNamesDtypesShapesAndBitsAndSavingAgainGivesTheSameBytes()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        var tensors = Sample();
        TorchSaveFile.Save(dir.Sub("a.pt"), tensors);
        var loaded = TorchSaveFile.Load(dir.Sub("a.pt"));
        Assert.Equal(tensors.Select(kv => kv.Key).Order(), loaded.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.True(t.equal(loaded[name]).all().item<bool>(), $"{name} changed in the round trip");
        }
        TorchSaveFile.Save(dir.Sub("b.pt"), tensors.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, loaded[kv.Key])));
        Assert.Equal(File.ReadAllBytes(dir.Sub("a.pt")), File.ReadAllBytes(dir.Sub("b.pt")));
    }

    [Fact]
    public void EntriesAreStoredWithAFixedDateSoTheBytesDoNotDependOnWhenTheFileWasWritten()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        TorchSaveFile.Save(dir.Sub("a.pt"), Sample());
        using var zip = ZipFile.OpenRead(dir.Sub("a.pt"));
        Assert.Contains(zip.Entries, e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal));
        Assert.All(zip.Entries, e =>
        {
            Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime);
            Assert.Equal(e.Length, e.CompressedLength);                          // stored, not deflated
        });
    }

    [Fact]
    public void ARepeatedNameAndAFileThatIsNotATorchArchiveAreRefusedByName()
    {
        Torch.Init();
        using var scope = torch.NewDisposeScope();
        using var dir = new TempDir();
        var twice = new List<KeyValuePair<string, Tensor>> { new("model.w", torch.ones(2)), new("model.w", torch.zeros(2)) };
        var e = Assert.Throws<ArgumentException>(() => TorchSaveFile.Save(dir.Sub("a.pt"), twice));
        Assert.Contains("'model.w' appears twice", e.Message);
        File.WriteAllText(dir.Sub("legacy.pt"), "\u0080\u0002not a zip archive");
        var bad = Assert.Throws<InvalidDataException>(() => TorchSaveFile.Load(dir.Sub("legacy.pt")));
        Assert.Contains("legacy.pt is not a torch.save zip archive", bad.Message);
        Assert.Throws<FileNotFoundException>(() => TorchSaveFile.Load(dir.Sub("missing.pt")));
    }
}

using DpAg.Runtime;

namespace DpAg.Tests.Runtime;

public class ElfVersionPatchTests
{
    private static string StockLibrary()
    {
        // The package cache holds the untouched library; the build output may already be patched.
        string home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(home, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"expected the restored TorchSharp package at {path}");
        return path;
    }

    private static string TempCopy(string path)
    {
        string copy = Path.Combine(Path.GetTempPath(), $"dpag-elf-{Guid.NewGuid():N}.so");
        File.Copy(path, copy);
        return copy;
    }

    [Fact]
    public void TheOnlySymbolOfGlibcxx3432IsTheLinkTimeAnchor()
    {
        var need = Assert.Single(ElfVersionPatch.ReadVersionNeeds(StockLibrary()), n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.Equal(["_ZSt21ios_base_library_initv"], need.Symbols);
    }

    [Fact]
    public void WeakeningIsATwoByteIdempotentEdit()
    {
        string copy = TempCopy(StockLibrary());
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            Assert.Equal(["GLIBCXX_3.4.32"], ElfVersionPatch.WeakenVersions(copy, ["GLIBCXX_3.4.32"]));
            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            Assert.InRange(before.Zip(after).Count(p => p.First != p.Second), 1, 2);
            Assert.True(ElfVersionPatch.ReadVersionNeeds(copy).Single(n => n.Version == "GLIBCXX_3.4.32").Weak);
            Assert.Empty(ElfVersionPatch.WeakenVersions(copy, ["GLIBCXX_3.4.32"])); // second run: nothing to do
            Assert.Equal(after, File.ReadAllBytes(copy));
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void WeakeningAVersionThatRealSymbolsUseIsRefused()
    {
        string copy = TempCopy(StockLibrary());
        try
        {
            var used = ElfVersionPatch.ReadVersionNeeds(copy).First(n => n.Version.StartsWith("GLIBCXX_") && n.Symbols.Count > 1);
            var e = Assert.Throws<InvalidOperationException>(() => ElfVersionPatch.WeakenVersions(copy, [used.Version]));
            Assert.Contains(used.Version, e.Message);
            Assert.Contains("newer libstdc++", e.Message);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void TheSystemLibStdCxxVersionsAreRead()
    {
        string? lib = LibStdCxxCompat.LoadedLibStdCxx();
        Assert.NotNull(lib);
        var versions = ElfVersionPatch.DefinedGlibcxxVersions(lib!);
        Assert.Contains("GLIBCXX_3.4", versions);
    }

    [Fact]
    public void NonElfInputIsRejectedWithThePath()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a library");
            var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatch.ReadVersionNeeds(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}

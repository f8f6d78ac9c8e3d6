namespace DpAg.Runtime;

/// <summary>
/// Applies <see cref="ElfVersionPatch"/> to the kit's own copy of LibTorchSharp, only when the libstdc++ that this
/// process uses lacks a GLIBCXX version that the library requires.
/// </summary>
public static class LibStdCxxCompat
{
    /// <summary>Weakens the missing versions (if safe) and returns their names; empty when nothing was needed.</summary>
    public static IReadOnlyList<string> EnsureLoadable(string libraryPath)
    {
        string? libstdcxx = LoadedLibStdCxx();
        if (libstdcxx is null) return []; // statically linked host or unusual layout: nothing to compare against
        var defined = ElfVersionPatch.DefinedGlibcxxVersions(libstdcxx);
        var missing = ElfVersionPatch.ReadVersionNeeds(libraryPath)
            .Where(n => n.Version.StartsWith("GLIBCXX_", StringComparison.Ordinal) && !n.Weak && !defined.Contains(n.Version))
            .Select(n => n.Version)
            .Distinct()
            .ToList();
        if (missing.Count == 0) return [];
        try
        {
            return ElfVersionPatch.WeakenVersions(libraryPath, missing);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TorchRuntimeException(
                $"{libraryPath} needs {string.Join(", ", missing)}, which {libstdcxx} lacks, and the kit cannot write the " +
                "fixed copy there. Rebuild the kit into a folder you own (`./scripts/setup.sh`), or install a newer libstdc++.", e);
        }
    }

    /// <summary>The libstdc++ this process has mapped (the .NET runtime links it), from /proc/self/maps.</summary>
    public static string? LoadedLibStdCxx()
    {
        var mapped = MappedFiles.List().FirstOrDefault(p => p.Contains("libstdc++.so", StringComparison.Ordinal));
        if (mapped is not null) return mapped;
        return new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
    }
}

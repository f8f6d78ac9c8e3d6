namespace DpAg.Runtime;

/// <summary>The files this process has mapped into memory (Linux, from /proc/self/maps): which native libraries really loaded.</summary>
public static class MappedFiles
{
    private const string Maps = "/proc/self/maps";

    /// <summary>Whether the platform exposes the list (Linux).</summary>
    public static bool Available => File.Exists(Maps);

    /// <summary>The distinct absolute paths of mapped files, in map order; empty where <see cref="Available"/> is false.</summary>
    public static IReadOnlyList<string> List() => !Available
        ? []
        : File.ReadLines(Maps)
            .Select(line => line.IndexOf('/') is var slash and >= 0 ? line[slash..].Trim() : null)
            .OfType<string>()
            .Distinct()
            .ToList();
}

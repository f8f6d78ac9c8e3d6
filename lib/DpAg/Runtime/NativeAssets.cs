using System.Reflection;
using System.Runtime.InteropServices;

namespace DpAg.Runtime;

/// <summary>
/// Points SkiaSharp and HarfBuzzSharp (ScottPlot's and the renderer's drawing natives) at the copies shipped next to
/// the kit. Apps find them through their deps file, but a notebook kernel only probes its own folders, and the
/// libraries' sonames (<c>libSkiaSharp.so.119.0.0</c>) do not match the bare names the bindings ask for.
/// </summary>
public static class NativeAssets
{
    private static int _registered;

    /// <summary>Registers the resolvers once per process; harmless where the default probing already works.</summary>
    public static void RegisterResolvers()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Register(typeof(SkiaSharp.SKBitmap).Assembly, "SkiaSharp");
        Register(typeof(HarfBuzzSharp.Blob).Assembly, "HarfBuzzSharp");
    }

    private static void Register(Assembly assembly, string library)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, (name, requesting, searchPath) =>
            {
                if (!name.Contains(library, StringComparison.OrdinalIgnoreCase)) return IntPtr.Zero;
                if (NativeLibrary.TryLoad(name, requesting, searchPath, out var handle)) return handle;
                var local = FindBesideKit(NativeLocator.LibraryFile(library));
                return local is not null && NativeLibrary.TryLoad(local, out handle) ? handle : IntPtr.Zero;
            });
        }
        catch (InvalidOperationException)
        {
            // The library registered its own resolver; leave it in charge.
        }
    }

    private static string? FindBesideKit(string fileName)
    {
        var root = Path.GetDirectoryName(typeof(NativeAssets).Assembly.Location);
        if (string.IsNullOrEmpty(root)) return null;
        string rid = NativeLocator.RuntimeRid();
        return new[] { Path.Combine(root, "runtimes", rid, "native", fileName), Path.Combine(root, fileName) }.FirstOrDefault(File.Exists);
    }
}

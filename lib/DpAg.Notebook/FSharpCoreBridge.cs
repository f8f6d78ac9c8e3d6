using System.Reflection;
using System.Runtime.Loader;

namespace DpAg.Notebook;

/// <summary>
/// Plotly.NET 6 and Deedle 8 are compiled against FSharp.Core 10.1, but the dotnet-interactive host has already
/// loaded FSharp.Core 10.0; without help every Plotly or Deedle call throws
/// <c>Could not load file or assembly 'FSharp.Core, Version=10.1.0.0'</c>. The bridge hands back the FSharp.Core the
/// host already loaded (the 10.x API the kit uses is the same).
/// </summary>
public static class FSharpCoreBridge
{
    private static int _installed;

    /// <summary>Registers the resolver once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += Resolve;
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        if (!string.Equals(name.Name, "FSharp.Core", StringComparison.OrdinalIgnoreCase)) return null;
        var loaded = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => string.Equals(a.GetName().Name, "FSharp.Core", StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(a => a.GetName().Version)
            .FirstOrDefault();
        if (loaded is not null) return loaded;
        // No host copy: load the one shipped beside the kit.
        var local = Path.Combine(Path.GetDirectoryName(typeof(FSharpCoreBridge).Assembly.Location)!, "FSharp.Core.dll");
        return File.Exists(local) ? context.LoadFromAssemblyPath(local) : null;
    }
}

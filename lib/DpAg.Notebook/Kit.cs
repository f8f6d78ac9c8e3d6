using System.Runtime.CompilerServices;
using DpAg.Runtime;

namespace DpAg.Notebook;

/// <summary>
/// The one call a notebook makes after <c>#r "../lib/DpAg.Notebook/bin/DpAg.Notebook.dll"</c>:
/// <code>var kit = DpAg.Notebook.Kit.Setup();</code>
/// It bridges FSharp.Core for Plotly.NET and Deedle, initialises the TorchSharp runtime (natives, device, threads,
/// seed), registers display formatters for Plotly charts, ScottPlot plots, Deedle frames and tensors, and shows
/// plotly.js once, from the copy the kit carries, so charts draw offline.
/// </summary>
public static class Kit
{
    /// <summary>True when the notebook runs with the tiny CI budget (<c>DPAG_BUDGET=ci</c>), false for the real budget.</summary>
    public static bool IsCiBudget =>
        string.Equals(Environment.GetEnvironmentVariable("DPAG_BUDGET"), "ci", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sets everything up; safe to call again (later calls only re-seed).</summary>
    /// <param name="seed">Seed for torch's generators.</param>
    /// <param name="device">auto, cpu or cuda (default: <c>DPAG_DEVICE</c> or auto).</param>
    /// <param name="threads">Intra-op threads (default: all cores).</param>
    public static RuntimeInfo Setup(long seed = 0, string? device = null, int? threads = null)
    {
        // Must run before any method that mentions a Plotly.NET or Deedle type is compiled.
        FSharpCoreBridge.Install();
        var info = TorchRuntime.Initialize(new RuntimeOptions(
            Device: device is null ? null : TorchRuntime.ParseDevice(device),
            Threads: threads,
            Seed: seed,
            Quiet: true));
        RegisterFormatters();
        ShowPlotlyScript();
        Console.WriteLine(info.Summary);
        var (simulator, description) = DpAg.Envs.PushTEnv.CheckPhysicsEngine();
        if (!simulator) Console.WriteLine($"Warning: {description} (notebooks 05, 06, 09 and 10 run the Push-T simulator).");
        Console.WriteLine($"Budget: {(IsCiBudget ? "ci (tiny, for the test suite)" : "real")}; set DPAG_BUDGET=ci for the CI budget.");
        return info;
    }

    /// <summary>Raw HTML for a cell's output (e.g. a GIF from <c>GifWriter.ToHtml</c>).</summary>
    public static Microsoft.AspNetCore.Html.IHtmlContent Html(string html) => new Microsoft.AspNetCore.Html.HtmlString(html);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RegisterFormatters()
    {
        Formatters.Register();
        KernelDiagnostics.Install();
    }

    /// <summary>
    /// Shows plotly.js (Plotly.NET's bundled copy) in this cell's output, so every chart below draws without the
    /// internet, in Jupyter, VS Code and the exported HTML alike. On every call: a notebook saved after re-running the
    /// setup cell must still carry it. Outside a kernel (tests, scripts) there is nothing to show.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ShowPlotlyScript()
    {
        if (Microsoft.DotNet.Interactive.KernelInvocationContext.Current is { } context)
            Microsoft.DotNet.Interactive.KernelInvocationContextExtensions.Display(context, Html(DpAg.Plots.OfflinePlotly.ScriptHtml()), "text/html");
    }
}

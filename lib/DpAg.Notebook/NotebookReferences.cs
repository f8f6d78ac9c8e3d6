namespace DpAg.Notebook;

/// <summary>
/// The kernel's compiler finds an assembly that a notebook uses only if a referenced assembly names it in its
/// metadata. Naming one type from each library here makes the single <c>#r</c> of DpAg.Notebook.dll enough for
/// notebook cells to use DpAg, TorchSharp, Plotly.NET (C# API), Deedle and ScottPlot. Never initialised at run time.
/// </summary>
internal static class NotebookReferences
{
    internal static readonly Type[] Libraries =
    [
        typeof(DpAg.Runtime.TorchRuntime),
        typeof(TorchSharp.torch),
        typeof(Plotly.NET.GenericChart),
        typeof(Plotly.NET.CSharp.Chart),
        typeof(Deedle.Frame),
        typeof(ScottPlot.Plot),
        typeof(SkiaSharp.SKBitmap),
    ];
}

using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;

namespace DpAg.Notebook;

/// <summary>
/// Display formatters: Plotly.NET charts drawn with the plotly.js the kit carries (DpAg.Plots.OfflinePlotly),
/// ScottPlot plots as inline PNG, Deedle frames as HTML tables, tensors as one-line summaries (instead of a 2 MB object tree).
/// </summary>
public static class Formatters
{
    private static int _registered;

    /// <summary>Width and height, in pixels, of ScottPlot plots shown inline.</summary>
    public static (int Width, int Height) PlotSize { get; set; } = (640, 400);

    /// <summary>Registers every formatter once per process.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        RegisterPlotly();
        Formatter.Register<ScottPlot.Plot>((plot, writer) => writer.Write(PngHtml(plot)), HtmlFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(ScottPlot.Plot), HtmlFormatter.MimeType);
        Formatter.Register(typeof(Deedle.Frame<,>), (frame, writer) => writer.Write(DeedleHtml.Render(frame)), HtmlFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Deedle.Frame<,>), HtmlFormatter.MimeType);
        Formatter.Register<torch.Tensor>((tensor, writer) => writer.Write(Summarize(tensor)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(torch.Tensor), PlainTextFormatter.MimeType);
    }

    private static void RegisterPlotly()
    {
        // The kit's own formatter, not Plotly.NET.Interactive's: that one loads require.js and plotly.js from CDNs, so
        // charts stay blank offline; this one draws with the plotly.js that Kit.Setup() loads from Plotly.NET's assembly.
        Formatter.Register<Plotly.NET.GenericChart>((chart, writer) => writer.Write(DpAg.Plots.OfflinePlotly.ChartHtml(chart)), HtmlFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(Plotly.NET.GenericChart), HtmlFormatter.MimeType);
    }

    /// <summary>A ScottPlot plot as an <c>img</c> tag holding a base64 PNG (renders offline and on GitHub).</summary>
    public static string PngHtml(ScottPlot.Plot plot, int? width = null, int? height = null)
    {
        var bytes = plot.GetImage(width ?? PlotSize.Width, height ?? PlotSize.Height).GetImageBytes(ScottPlot.ImageFormat.Png);
        return PngHtml(bytes);
    }

    /// <summary>PNG (or GIF) bytes as an inline <c>img</c> tag.</summary>
    public static string PngHtml(byte[] png, string mime = "image/png") =>
        $"<img src=\"data:{mime};base64,{Convert.ToBase64String(png)}\" />";

    /// <summary>A short description of a tensor: dtype, shape, device and basic statistics.</summary>
    public static string Summarize(torch.Tensor tensor)
    {
        var shape = "[" + string.Join(", ", tensor.shape) + "]";
        var text = new StringBuilder($"Tensor {tensor.dtype.ToString().ToLowerInvariant()} {shape} on {tensor.device}");
        if (tensor.numel() > 0 && tensor.is_floating_point())
        {
            using var scope = torch.NewDisposeScope();
            var t = tensor.detach().to(torch.float64);
            text.Append(CultureInfo.InvariantCulture, $": min {t.min().item<double>():G4}, max {t.max().item<double>():G4}, mean {t.mean().item<double>():G4}");
        }
        if (tensor.requires_grad) text.Append(", requires grad");
        return text.ToString();
    }
}

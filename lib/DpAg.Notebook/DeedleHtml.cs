using System.Net;
using System.Reflection;
using System.Text;
using Deedle;

namespace DpAg.Notebook;

/// <summary>Renders any Deedle frame as a compact HTML table (the first and last rows of long frames).</summary>
public static class DeedleHtml
{
    /// <summary>Maximum rows shown; longer frames show the head and tail with an ellipsis row.</summary>
    public static int MaxRows { get; set; } = 20;

    /// <summary>Renders a <c>Frame&lt;R, C&gt;</c> given as object (formatters see the open generic type).</summary>
    public static string Render(object frame)
    {
        var type = frame.GetType();
        while (type is not null && !(type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Frame<,>))) type = type.BaseType;
        if (type is null) throw new ArgumentException($"Expected a Deedle Frame, got {frame.GetType()}.");
        var method = typeof(DeedleHtml).GetMethod(nameof(RenderTyped), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type.GetGenericArguments());
        return (string)method.Invoke(null, [frame])!;
    }

    private static string RenderTyped<R, C>(Frame<R, C> frame)
        where R : notnull
        where C : notnull
    {
        var rows = frame.RowKeys.ToList();
        var cols = frame.ColumnKeys.ToList();
        var shown = rows.Count <= MaxRows ? rows : rows.Take(MaxRows - 5).Concat(rows.Skip(rows.Count - 5)).ToList();
        var html = new StringBuilder("<table class=\"dpag-frame\"><thead><tr><th></th>");
        foreach (var c in cols) html.Append("<th>").Append(WebUtility.HtmlEncode(c.ToString())).Append("</th>");
        html.Append("</tr></thead><tbody>");
        var columns = cols.Select(c => frame.GetColumn<object>(c)).ToList();
        for (int i = 0; i < shown.Count; i++)
        {
            if (rows.Count > MaxRows && i == MaxRows - 5)
                html.Append("<tr><td>&#8942;</td>").Append(string.Concat(Enumerable.Repeat("<td>&#8942;</td>", cols.Count))).Append("</tr>");
            html.Append("<tr><th>").Append(WebUtility.HtmlEncode(shown[i].ToString())).Append("</th>");
            foreach (var column in columns)
            {
                var value = column.TryGet(shown[i]);
                html.Append("<td>").Append(value.HasValue ? WebUtility.HtmlEncode(Format(value.Value)) : "<i>N/A</i>").Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        html.Append($"<p><small>{rows.Count} rows &#215; {cols.Count} columns</small></p>");
        return html.ToString();
    }

    private static string Format(object? value) => value switch
    {
        double d => d.ToString("G5", System.Globalization.CultureInfo.InvariantCulture),
        float f => f.ToString("G5", System.Globalization.CultureInfo.InvariantCulture),
        null => "",
        _ => value.ToString() ?? "",
    };
}

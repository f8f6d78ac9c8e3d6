using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace DpAg.NotebookTests;

/// <summary>
/// Reads the numbers a notebook shows (the kit's Deedle frames and printed lines) back out of its executed outputs, so
/// that the notebook tests check computed values rather than labels.
/// </summary>
public static partial class NotebookValues
{
    /// <summary>The rows of the one frame whose header has every column in <paramref name="columns"/>.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Frame(this ExecutedNotebook nb, params string[] columns)
    {
        var matches = nb.Outputs("text/html").Where(h => h.Contains("<table class=\"dpag-frame\"", StringComparison.Ordinal))
            .Select(ParseFrame).Where(rows => rows.Count > 0 && columns.All(rows[0].ContainsKey)).ToList();
        Assert.True(matches.Count == 1, $"{nb.Name}: expected one table with columns {string.Join(", ", columns)}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>The numbers a printed line shows, matched by a regular expression with numeric groups.</summary>
    public static double[] Line(this ExecutedNotebook nb, string pattern)
    {
        var texts = nb.Outputs("text/plain").Concat(nb.Outputs("stream"));
        var match = texts.Select(t => Regex.Match(t, pattern)).FirstOrDefault(m => m.Success);
        Assert.True(match is not null, $"{nb.Name}: no output matches /{pattern}/");
        return match!.Groups.Cast<Group>().Skip(1).Select(g => Number(g.Value)).ToArray();
    }

    /// <summary>The number at the start of a cell's text ("0.208 (1 seed)" gives 0.208).</summary>
    public static double Number(string text)
    {
        var m = LeadingNumber().Match(WebUtility.HtmlDecode(text).Trim().Replace('\u2212', '-'));
        Assert.True(m.Success, $"'{text}' does not start with a number");
        return double.Parse(m.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>A table cell read as a number.</summary>
    public static double Num(this IReadOnlyDictionary<string, string> row, string column) =>
        row.TryGetValue(column, out var text) ? Number(text) : throw new KeyNotFoundException($"no column {column}");

    /// <summary>The kit's frame formatter writes a header row (an empty corner, then the columns) and one th + tds per row.</summary>
    internal static IReadOnlyList<IReadOnlyDictionary<string, string>> ParseFrame(string html)
    {
        var head = HeadRow().Match(html);
        if (!head.Success) return [];
        var columns = Cell().Matches(head.Groups[1].Value).Select(m => WebUtility.HtmlDecode(m.Groups[2].Value)).Skip(1).ToList();
        var rows = new List<IReadOnlyDictionary<string, string>>();
        foreach (Match row in BodyRow().Matches(html[(head.Index + head.Length)..]))
        {
            var cells = Cell().Matches(row.Groups[1].Value).Select(m => m.Groups[2].Value).Skip(1).ToList();
            if (cells.Count != columns.Count) continue;
            rows.Add(columns.Zip(cells).ToDictionary(p => p.First, p => WebUtility.HtmlDecode(p.Second)));
        }
        return rows;
    }

    [GeneratedRegex(@"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")]
    private static partial Regex LeadingNumber();

    [GeneratedRegex(@"<thead><tr>(.*?)</tr></thead>", RegexOptions.Singleline)]
    private static partial Regex HeadRow();

    [GeneratedRegex(@"<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex BodyRow();

    [GeneratedRegex(@"<(th|td)>(.*?)</\1>", RegexOptions.Singleline)]
    private static partial Regex Cell();
}

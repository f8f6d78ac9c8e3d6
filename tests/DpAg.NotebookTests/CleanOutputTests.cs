using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DpAg.NotebookTests;

/// <summary>
/// No compiler noise and no stack traces in what a reader sees: every output of every notebook this run executed is
/// scanned for compiler warnings and errors and for exception traces.
/// </summary>
[Collection(RunLastOrderer.Name)]
public partial class CleanOutputTests
{
    public static TheoryData<string> AllNotebooks() => new(NotebookRunner.AllNotebookNames());

    [Theory]
    [MemberData(nameof(AllNotebooks))]
    public void OutputsHaveNoCompilerMessagesOrStackTraces(string notebook)
    {
        var executed = NotebookRunner.ExecutedInThisRun(notebook);
        var problems = Problems(executed.Document).ToList();
        Assert.True(problems.Count == 0,
            $"{notebook}: {problems.Count} output(s) a reader should not see (fix the cause, don't hide the output):\n" + string.Join("\n", problems));
    }

    /// <summary>Each offending output as "cell N (kind): the matching line".</summary>
    internal static IEnumerable<string> Problems(JsonNode notebook)
    {
        int index = 0;
        foreach (var cell in notebook["cells"]?.AsArray() ?? [])
        {
            index++;
            foreach (var output in cell?["outputs"]?.AsArray() ?? [])
            {
                if (output is null) continue;
                string kind = (string?)output["output_type"] ?? "?";
                if (kind == "error")
                {
                    yield return $"cell {index} (error): {(string?)output["ename"]}: {(string?)output["evalue"]}";
                    continue;
                }
                var texts = new List<string>();
                if (output["text"] is { } text) texts.Add(Join(text));
                if (output["data"] is JsonObject data)
                    foreach (var (mime, value) in data)
                    {
                        string content = Join(value);
                        // The plotly.js bundle Kit.Setup() shows is a script, not something a reader sees.
                        if (mime.StartsWith("text/", StringComparison.Ordinal) && !content.Contains("data-dpag-plotly=", StringComparison.Ordinal)) texts.Add(content);
                    }
                foreach (var t in texts)
                    if (FirstProblem(t) is { } line) yield return $"cell {index} ({kind}): {line}";
            }
        }
    }

    /// <summary>The first line that is a compiler diagnostic or part of an exception trace, or null.</summary>
    internal static string? FirstProblem(string text)
    {
        if (CompilerMessage().Match(text) is { Success: true } compiler) return compiler.Value.Trim();
        if (text.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase))
            return text.Split('\n').First(l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase)).Trim();
        // A .NET exception as printed: "SomeException: message" followed (within a few lines) by "   at Type.Method(" frames.
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (!StackFrame().IsMatch(lines[i])) continue;
            for (int j = i - 1; j >= Math.Max(0, i - 6); j--)
                if (lines[j].Length < 4000 && ExceptionHead().IsMatch(lines[j])) return lines[j].Trim();
        }
        return null;
    }

    [GeneratedRegex(@"^.*\b(warning|error) CS\d{4}\b.*$", RegexOptions.Multiline)]
    private static partial Regex CompilerMessage();

    [GeneratedRegex(@"^\s+at \S+\(")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\w*Exception\b[^:]*:")]
    private static partial Regex ExceptionHead();

    private static string Join(JsonNode? node) => node switch
    {
        JsonArray array => string.Concat(array.Select(n => (string?)n)),
        JsonValue value => value.TryGetValue<string>(out var s) ? s : "",
        _ => "",
    };

    [Fact]
    public void TheScanFindsWhatItLooksFor()
    {
        Assert.NotNull(FirstProblem("\nwarning CS1701: Assuming assembly reference 'System.Runtime.Numerics, Version=8.0.0.0' ...\n"));
        Assert.NotNull(FirstProblem("(3,5): error CS0103: The name 'x' does not exist in the current context"));
        Assert.NotNull(FirstProblem("System.InvalidOperationException: boom\n   at DpAg.Foo.Bar(Int32 x) in /src/Foo.cs:line 3\n"));
        Assert.NotNull(FirstProblem("Unhandled exception. System.Exception: x"));
        // Ordinary results that mention the words stay clean.
        Assert.Null(FirstProblem("TrainingDivergedException is raised when the loss is NaN at a step"));
        Assert.Null(FirstProblem("the warning threshold: 0.5; error bars show 95 % intervals"));
        var doc = JsonNode.Parse("""{"cells":[{"cell_type":"code","outputs":[{"output_type":"stream","name":"stderr","text":["\nwarning CS1702: x\n"]}]}]}""")!;
        Assert.Single(Problems(doc));
    }
}

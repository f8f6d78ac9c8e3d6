using System.Text.RegularExpressions;

namespace DpAg.Tests;

/// <summary>
/// Every document the library's comments cite ships with the repository, and every equation (M1..M8), section letter
/// (R, O) and quoted section name a comment points to exists in it.
/// </summary>
public partial class DocsReferenceTests
{
    private static readonly string Root = DpAg.Tests.Cli.CliRunner.RepoRoot;

    private static IEnumerable<(string File, string Text)> LibrarySources() =>
        Directory.EnumerateFiles(Path.Combine(Root, "lib"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(f => (Path.GetRelativePath(Root, f), File.ReadAllText(f)));

    /// <summary>Doc comments continue a sentence on the next "///" line; read them as one line.</summary>
    private static string Joined(string text) => DocLineBreak().Replace(text, " ");

    [Fact]
    public void EveryCitedDocumentExists()
    {
        var missing = new List<string>();
        int references = 0;
        foreach (var (file, text) in LibrarySources())
            foreach (Match m in DocPath().Matches(text))
            {
                references++;
                if (!File.Exists(Path.Combine(Root, m.Value))) missing.Add($"{file}: {m.Value}");
            }
        Assert.True(references > 50, $"only {references} references to docs/ found; is the scan reading lib/?");
        Assert.True(missing.Count == 0, "cited but not in the repository:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void NoCommentCitesADocumentOutsideTheRepository()
    {
        var bare = LibrarySources()
            .SelectMany(s => BareDesignDoc().Matches(s.Text).Select(m => $"{s.File}: ...{s.Text.Substring(Math.Max(0, m.Index - 20), Math.Min(40, s.Text.Length - Math.Max(0, m.Index - 20)))}..."))
            .ToList();
        Assert.True(bare.Count == 0, "cite docs/method.md or docs/pusht.md (the repository's copies):\n" + string.Join("\n", bare));
    }

    [Fact]
    public void EveryCitedEquationAndSectionOfTheMethodExists()
    {
        string method = File.ReadAllText(Path.Combine(Root, "docs", "method.md"));
        var problems = new List<string>();
        int equations = 0;
        foreach (var (file, text) in LibrarySources())
        {
            string joined = Joined(text);
            foreach (Match m in MethodEquations().Matches(joined))
                foreach (Match n in Regex.Matches(m.Groups[1].Value, @"M(\d+)"))
                {
                    equations++;
                    if (!method.Contains($"**(M{n.Groups[1].Value})", StringComparison.Ordinal)) problems.Add($"{file}: M{n.Groups[1].Value}");
                }
            foreach (Match m in MethodSection().Matches(joined))
                if (!method.Contains($"## {m.Groups[1].Value}:", StringComparison.Ordinal)) problems.Add($"{file}: section {m.Groups[1].Value}");
        }
        Assert.True(equations >= 15, $"only {equations} equation references found");
        Assert.True(problems.Count == 0, "not in docs/method.md:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void EveryQuotedSectionOfACitedDocumentExists()
    {
        var problems = new List<string>();
        int sections = 0;
        foreach (var (file, text) in LibrarySources())
            foreach (Match m in QuotedSections().Matches(Joined(text)))
            {
                string doc = File.ReadAllText(Path.Combine(Root, m.Groups[1].Value));
                foreach (Match q in Regex.Matches(m.Groups[2].Value, "\"([^\"]+)\""))
                {
                    sections++;
                    string name = q.Groups[1].Value;
                    bool heading = doc.Split('\n').Any(l => l.StartsWith('#') && l.TrimStart('#').Trim().StartsWith(name, StringComparison.Ordinal));
                    if (!heading && !doc.Contains($"**{name}**", StringComparison.Ordinal) && !doc.Contains($"**{name}.**", StringComparison.Ordinal))
                        problems.Add($"{file}: {m.Groups[1].Value} \"{name}\"");
                }
            }
        Assert.True(sections >= 10, $"only {sections} quoted sections found");
        Assert.True(problems.Count == 0, "no such heading or bold label:\n" + string.Join("\n", problems));
    }

    [GeneratedRegex(@"\s*\r?\n\s*///\s*")]
    private static partial Regex DocLineBreak();

    [GeneratedRegex(@"docs/[A-Za-z0-9_./-]+\.md")]
    private static partial Regex DocPath();

    [GeneratedRegex(@"(?<![/\w])(method|pusht|kit|platform|style)\.md|design/\w+\.md")]
    private static partial Regex BareDesignDoc();

    [GeneratedRegex(@"docs/method\.md (M\d+(?:(?:-| and |, )M\d+)*)")]
    private static partial Regex MethodEquations();

    [GeneratedRegex(@"docs/method\.md, ([RO])\b")]
    private static partial Regex MethodSection();

    [GeneratedRegex("(docs/[A-Za-z0-9_./-]+\\.md),? ((?:\"[^\"]+\"(?: and |, )?)+)")]
    private static partial Regex QuotedSections();
}

using System.Text.RegularExpressions;
using DpAg.Tests.Cli;
using Xunit.Abstractions;

namespace DpAg.Tests;

/// <summary>
/// The dependency graph between the library's folders (each folder is a namespace, <c>DpAg.X</c>), read from the source:
/// folder A uses folder B when A's code (comments skipped) names <c>DpAg.B</c>, in a using directive or a qualified
/// name. Prints the graph and the folder sizes; run with
/// <c>dotnet test tests/DpAg.Tests --filter FolderDependency --logger "console;verbosity=detailed"</c> to see them.
/// </summary>
public partial class FolderDependencyTests(ITestOutputHelper output)
{
    private static readonly string Lib = Path.Combine(CliRunner.RepoRoot, "lib", "DpAg");

    [GeneratedRegex(@"/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex BlockComment();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"\bDpAg\.([A-Z][A-Za-z0-9]*)")]
    private static partial Regex Qualified();

    private static IEnumerable<string> Folders() =>
        Directory.GetDirectories(Lib).Select(Path.GetFileName).OfType<string>().Where(f => f is not ("bin" or "obj")).Order(StringComparer.Ordinal);

    private static IEnumerable<string> Sources(string folder) =>
        Directory.GetFiles(Path.Combine(Lib, folder), "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    /// <summary>Folder -> the other folders whose namespaces its code uses.</summary>
    internal static SortedDictionary<string, SortedSet<string>> Graph()
    {
        var folders = Folders().ToHashSet();
        var graph = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var uses = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var file in Sources(folder))
            {
                string code = LineComment().Replace(BlockComment().Replace(File.ReadAllText(file), ""), "");
                foreach (Match m in Qualified().Matches(code))
                    if (m.Groups[1].Value != folder && folders.Contains(m.Groups[1].Value)) uses.Add(m.Groups[1].Value);
            }
            graph[folder] = uses;
        }
        return graph;
    }

    private static SortedSet<string> Reachable(SortedDictionary<string, SortedSet<string>> graph, string from)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var todo = new Stack<string>([from]);
        while (todo.Count > 0)
            foreach (var next in graph[todo.Pop()])
                if (seen.Add(next)) todo.Push(next);
        return seen;
    }

    [Fact]
    public void TheParsingSeesUsingsAndQualifiedNamesButNotComments()
    {
        var graph = Graph();
        // Known edges of each kind: a using directive (Policies uses Nets) and a qualified name (Evaluation's
        // PushTEvalConfig.For names DpAg.Policies types); a folder never lists itself.
        Assert.Contains("Nets", graph["Policies"]);
        Assert.Contains("Policies", graph["Evaluation"]);
        Assert.All(graph, kv => Assert.DoesNotContain(kv.Key, kv.Value));
        string code = LineComment().Replace(BlockComment().Replace("using DpAg.B; // DpAg.C\n/* DpAg.D */ var x = new DpAg.E.T();", ""), "");
        Assert.Equal(["B", "E"], Qualified().Matches(code).Select(m => m.Groups[1].Value));
    }

    [Fact]
    public void PoliciesAndEnvsDependOnNeitherEachOtherNorEvaluation()
    {
        var graph = Graph();
        foreach (var (folder, uses) in graph)
            output.WriteLine($"{folder,-12} -> {string.Join(", ", uses)}");
        foreach (var folder in new[] { "Policies", "Evaluation", "Diffusion", "Envs" })
        {
            var files = Sources(folder).ToList();
            output.WriteLine($"{folder}: {files.Count} files, {files.Sum(f => File.ReadAllLines(f).Length)} lines");
        }
        // Evaluation puts a policy in an environment, so it may use both; neither may reach the other or Evaluation,
        // directly or through another folder (that would be a cycle through Evaluation, or a policy tied to one simulator).
        Assert.Empty(Reachable(graph, "Policies").Intersect(["Envs", "Evaluation"]));
        Assert.Empty(Reachable(graph, "Envs").Intersect(["Policies", "Evaluation"]));
    }

    [Fact]
    public void NoFolderDependsOnItselfThroughOthers()
    {
        var graph = Graph();
        var cycles = graph.Keys.Where(folder => Reachable(graph, folder).Contains(folder))
            .Select(folder => $"{folder} -> ... -> {folder} (it uses {string.Join(", ", graph[folder].Where(u => Reachable(graph, u).Contains(folder) || u == folder))})")
            .ToList();
        Assert.True(cycles.Count == 0, "folders in a dependency cycle:\n" + string.Join("\n", cycles));
    }
}

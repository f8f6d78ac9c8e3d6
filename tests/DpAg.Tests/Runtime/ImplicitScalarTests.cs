using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Runtime;

/// <summary>
/// Keeps TorchSharp's implicit double -> Scalar conversion out of the kit's compiled code (lib/): each one makes a
/// native scalar that a collection can free while libtorch reads it (docs/CONTRIBUTING.md, "Scalars").
/// </summary>
public class ImplicitScalarTests
{
    /// <summary>Cold paths allowed to convert implicitly, each with its reason. Keep it short.</summary>
    private static readonly Dictionary<string, string> AllowList = new()
    {
    };

    /// <summary>Every assembly built from lib/: the library, the benchmarks, the notebook setup and the command line.</summary>
    public static IEnumerable<object[]> LibraryAssemblies() => new[]
    {
        Path.Combine("lib", "DpAg", "bin", Configuration, "net10.0", "DpAg.dll"),
        Path.Combine("lib", "DpAg.Benchmarks", "bin", Configuration, "net10.0", "DpAg.Benchmarks.dll"),
        Path.Combine("lib", "DpAg.Notebook", "bin", "DpAg.Notebook.dll"),
        Path.Combine("lib", "DpAg.Cli", "bin", Configuration, "net10.0", "DpAg.Cli.dll"),
    }.Select(a => new object[] { a });

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    [Theory]
    [MemberData(nameof(LibraryAssemblies))]
    public void LibraryCodeMakesNoImplicitScalars(string assembly)
    {
        var path = Path.Combine(DpAg.Tests.Cli.CliRunner.RepoRoot, assembly);
        Assert.True(File.Exists(path), $"{path} is not built; build the solution first.");
        var hits = ImplicitScalarScan.Scan(path).Where(h => !AllowList.ContainsKey(h.Method)).ToList();
        Assert.True(hits.Count == 0,
            $"{assembly}: {hits.Count} methods make a Scalar nothing keeps alive (pass numbers as ToScalar() in a using or a kept " +
            $"constant; read a tensor's value with ScalarMath.Value, not ToDouble(); docs/CONTRIBUTING.md, \"Scalars\"):\n  " + string.Join("\n  ", hits));
    }

    [Fact]
    public void AllowListNamesOnlyMethodsThatStillConvert()
    {
        var all = ImplicitScalarScan.Scan(Path.Combine(AppContext.BaseDirectory, "DpAg.dll")).Select(h => h.Method).ToHashSet();
        var stale = AllowList.Keys.Where(k => !all.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Allow-list entries with no implicit conversion left (remove them): " + string.Join(", ", stale));
    }

    [Fact]
    public void ScanFindsAPlantedImplicitScalar()
    {
        var hits = ImplicitScalarScan.Scan(typeof(ImplicitScalarTests).Assembly.Location);
        var planted = Assert.Single(hits, h => h.Method.EndsWith("+Planted::Halve"));
        Assert.Equal(2, planted.Count);
        Assert.Equal("implicit double -> Scalar", planted.Via);
        Assert.DoesNotContain(hits, h => h.Method.EndsWith("+Planted::HalveSafely"));
        // Reading a value through TorchSharp's ToDouble() makes a Scalar too (Tensor.ToScalar() inside); data reads do not.
        var read = Assert.Single(hits, h => h.Method.EndsWith("+Planted::Read"));
        Assert.Contains("ToDouble", read.Via);
        Assert.DoesNotContain(hits, h => h.Method.EndsWith("+Planted::ReadSafely"));
    }

    /// <summary>Never called: compiled only so that the scan has something to find.</summary>
    private static class Planted
    {
        public static Tensor Halve(Tensor x) => x.mul(0.5).add_(x, alpha: 0.25);

        public static double Read(Tensor loss) => loss.ToDouble();

        public static double ReadSafely(Tensor loss) => DpAg.Runtime.ScalarMath.Value(loss);

        public static Tensor HalveSafely(Tensor x)
        {
            using var half = 0.5.ToScalar();
            return x.mul(half);
        }
    }
}

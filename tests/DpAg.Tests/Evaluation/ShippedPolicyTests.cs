using DpAg.Evaluation;
using DpAg.Tests.Cli;
using DpAg.Training;

namespace DpAg.Tests.Evaluation;

/// <summary>
/// The policies the kit ships still score what their records say: the quick check (a few test episodes, DDIM 16,
/// sampled as trained) is repeated and must not fall well below the recorded score. This guards inference,
/// normalisation and the simulator together.
/// </summary>
public class ShippedPolicyTests
{
    public static IEnumerable<object[]> Kinds() => [["dp"], ["dp-ag"]];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AShippedPolicyScoresAsRecorded(string kind)
    {
        Torch.Init();
        string dir = Path.Combine(CliRunner.RepoRoot, "data", "policies", kind);
        Assert.True(File.Exists(Path.Combine(dir, ShippedPolicy.RecordFile)), $"{dir} has no {ShippedPolicy.RecordFile}: the kit ships this policy (dpag ship).");
        var weights = Directory.GetFiles(Path.Combine(dir, ValidationLog.BestFolder), "ema-*.bin");
        Assert.Single(weights);
        Assert.True(new FileInfo(weights[0]).Length <= 25L << 20, $"{weights[0]} is over 25 MB");

        var recorded = ShippedPolicy.RecordedCheck(dir);
        var now = ShippedPolicy.Check(dir);
        Assert.Equal(recorded.Episodes, now.Episodes);
        Assert.Equal(recorded.NoiseScale, now.NoiseScale);
        // The same weights, seeds and sampler on the CPU give the same episodes up to float differences between
        // machines, which can flip a closed-loop episode (0.1 of the mean); a larger drop means inference,
        // normalisation or the simulator changed.
        Assert.True(now.Score >= recorded.Score - 0.1,
            $"{kind}: quick check {now.Score:F4} (success {now.SuccessRate:P0}) against the recorded {recorded.Score:F4} (success {recorded.SuccessRate:P0})");
    }
}

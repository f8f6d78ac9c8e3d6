using System.Globalization;
using System.Text.RegularExpressions;
using DpAg.Nets;
using DpAg.Runtime;
using DpAg.Tests.Cli;
using DpAg.Tests.Training;
using TorchSharp;

namespace DpAg.Tests.Nets;

/// <summary>
/// The U-Net computes in float32 what it computes in float64 on this CPU. Some CPUs' oneDNN gets a U-Net (8, 16)
/// wrong (NaN or wrong input gradients, found on the CI machine); <see cref="ConvolutionGuard"/> detects it and switches
/// to PyTorch's own kernels. Switching is process-wide, so the affected shape is checked in a child process
/// (<c>dpag doctor</c>) and this test host keeps oneDNN for every other test.
/// </summary>
public class ConvolutionGuardTests
{
    [Theory]
    [InlineData(new[] { 16, 32, 64 }, 4)]
    [InlineData(new[] { 64, 128, 256 }, 8)]
    public void ThePresetsUnetsComputeLikeFloat64(int[] downDims, int groups)
    {
        Torch.Init();
        using var net = new ConditionalUnet1D(new UnetConfig { DownDims = downDims, DiffusionStepEmbedDim = 32, NGroups = groups }, 2, 40);
        double error = ConvolutionGuard.MeasureError(net, horizon: 16);
        Assert.True(error < 1e-4, $"U-Net ({string.Join(", ", downDims)}): float32 differs from float64 by {error:G3} (relative)");
    }

    [Fact]
    public void AWrongHorizonIsRefusedWithTheMultipleItNeeds()
    {
        Torch.Init();
        using var net = new ConditionalUnet1D(new UnetConfig { DownDims = [16, 32, 64], DiffusionStepEmbedDim = 32, NGroups = 4 }, 2, 40);
        var e = Assert.Throws<ArgumentException>(() => ConvolutionGuard.MeasureError(net, horizon: 10));
        Assert.Contains("multiple of 4", e.Message);
    }

    [Fact]
    public void DoctorShowsAnAffectedUnetComputingCorrectly()
    {
        var (code, output, err) = CliRunner.Run("doctor", "--runtime-only", "--device", "cpu", "--threads", "1");
        Assert.True(code == 0, $"dpag doctor failed ({code}): {err}");
        AssertBothUnetsCorrect(output);
    }

    [Fact]
    public void DpagOnednnOffTurnsOneDnnOffForTheWholeProcessAndATypoIsRefused()
    {
        var env = new Dictionary<string, string> { ["DPAG_ONEDNN"] = "off" };
        var (code, output, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--runtime-only", "--device", "cpu", "--threads", "1");
        Assert.True(code == 0, $"dpag doctor with DPAG_ONEDNN=off failed ({code}): {err}");
        // Both U-Nets are measured with PyTorch's own kernels: the native switch was found and took effect.
        Assert.Equal(2, output.Split('\n').Count(l => l.StartsWith("CPU convolutions, U-Net (") && l.Contains("with PyTorch's own kernels (oneDNN off)")));
        AssertBothUnetsCorrect(output);
        Assert.Contains("CPU convolutions: libtorch reports oneDNN off: OK", output);

        env["DPAG_ONEDNN"] = "of";
        (code, _, err) = CliRunner.Run(CliRunner.RepoRoot, env, "doctor", "--runtime-only", "--device", "cpu", "--threads", "1");
        Assert.NotEqual(0, code);
        Assert.Contains("DPAG_ONEDNN = 'of' is not understood", err);
    }

    private static void AssertBothUnetsCorrect(string output)
    {
        foreach (string dims in new[] { "64, 128, 256", "8, 16" })
        {
            string line = output.Split('\n').Single(l => l.StartsWith($"CPU convolutions, U-Net ({dims}):"));
            Assert.EndsWith(": OK", line.TrimEnd());
            // The last number on the line is the error the kit computes with (after a switch, if there was one).
            var numbers = Regex.Matches(line, @"error (\S+) against|; (\S+) with PyTorch").SelectMany(m => m.Groups.Cast<Group>().Skip(1))
                .Where(g => g.Success).Select(g => double.Parse(g.Value, CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(numbers);
            Assert.True(numbers.Last() < 1e-4, line);
        }
    }
}

/// <summary>The check draws no number from torch's global generator: seeded tests run alone (<see cref="GlobalGeneratorCollection"/>).</summary>
[Collection(nameof(GlobalGeneratorCollection))]
public class ConvolutionGuardRandomStreamTests
{
    [Fact]
    public void TheCheckLeavesTheGlobalRandomStreamAndTheWeightsAlone()
    {
        Torch.Init();
        TorchRuntime.Seed(7);
        using var net = new ConditionalUnet1D(new UnetConfig { DownDims = [16, 32], DiffusionStepEmbedDim = 32, NGroups = 4 }, 2, 40);
        var before = net.parameters().Select(p => p.detach().clone()).ToList();
        var expected = torch.randn(4).data<float>().ToArray();

        TorchRuntime.Seed(7);
        using var again = new ConditionalUnet1D(new UnetConfig { DownDims = [16, 32], DiffusionStepEmbedDim = 32, NGroups = 4 }, 2, 40);
        ConvolutionGuard.MeasureError(again, horizon: 16);
        Assert.Equal(expected, torch.randn(4).data<float>().ToArray());
        Assert.All(again.parameters().Zip(before), pair => Assert.True(pair.First.eq(pair.Second).all().item<bool>()));
        Assert.All(again.parameters(), p => Assert.True(p.grad is null || p.grad.IsInvalid));
    }

}

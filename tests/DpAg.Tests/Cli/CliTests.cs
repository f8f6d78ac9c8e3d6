namespace DpAg.Tests.Cli;

public class CliTests
{
    [Fact]
    public void DoctorLoadsTorchAndComputesGradients()
    {
        var (code, output, err) = CliRunner.Run("doctor", "--device", "cpu", "--threads", "1");
        Assert.True(code == 0, $"dpag doctor failed ({code}): {err}");
        Assert.Contains("backward and double backward OK", output);
        Assert.Contains("DpAg: device cpu (requested)", err);
    }

    [Fact]
    public void EveryVerbHasHelp()
    {
        var (code, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        var verbs = output.Split('\n').SkipWhile(l => !l.StartsWith("Commands:")).Skip(1)
            .Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split(' ')[0]).ToList();
        Assert.Contains("doctor", verbs);
        foreach (var verb in verbs)
        {
            var (c, o, e) = CliRunner.Run(verb, "--help");
            Assert.True(c == 0, $"dpag {verb} --help failed: {e}");
            Assert.Contains("Usage:", o);
        }
    }

    [Fact]
    public void CudaRequestWithoutCudaFailsWithTheFixAndFallsBackWhenAllowed()
    {
        var (code, _, err) = CliRunner.Run("doctor", "--device", "cuda");
        Assert.Equal(2, code);
        Assert.Contains("CUDA was requested", err);
        Assert.Contains("--allow-cpu-fallback", err);

        var (code2, output, err2) = CliRunner.Run("doctor", "--device", "cuda", "--allow-cpu-fallback");
        Assert.True(code2 == 0, err2);
        Assert.Contains("falling back to the CPU as allowed", err2);
        Assert.Contains("double backward OK", output);
    }

    [Fact]
    public void UnknownDeviceIsABadOptionNotACrash()
    {
        var (code, _, err) = CliRunner.Run("doctor", "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("Unknown device 'tpu'", err);
    }

    [Fact]
    public void SmokeRunLearnsAndWritesItsFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dpag-smoke-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = CliRunner.Run("smoke", "--steps", "150", "--output", dir, "--threads", "1");
            Assert.True(code == 0, err);
            Assert.Contains("smoke: 150 steps", output);
            Assert.Equal(151, File.ReadAllLines(Path.Combine(dir, "loss.csv")).Length);
            Assert.True(new FileInfo(Path.Combine(dir, "loss.png")).Length > 1000);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void SmokeRejectsNonPositiveSteps()
    {
        var (code, _, err) = CliRunner.Run("smoke", "--steps", "0");
        Assert.Equal(2, code);
        Assert.Contains("--steps must be positive, got 0", err);
    }
}

using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Runtime;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharpComputesForwardBackwardAndDoubleBackward()
    {
        var info = Torch.Init();
        Assert.Equal(DeviceType.CPU, info.Device.type);
        Assert.Contains("backward and double backward OK", RuntimeSelfTest.Run(info.Device));
    }

    [Fact]
    public void NativesComeFromTheKitsOwnBuildNotFromTheSystem()
    {
        var info = Torch.Init();
        string expected = Path.GetDirectoryName(typeof(TorchRuntime).Assembly.Location)!;
        Assert.StartsWith(expected, info.NativeDirectory);
        // Every libtorch mapped into this process is the kit's copy (a system libtorch such as Debian's would show here).
        var mapped = MappedFiles.List().Where(p => p.Contains("libtorch_cpu.so")).ToList();
        Assert.NotEmpty(mapped);
        Assert.All(mapped, path => Assert.StartsWith(expected, path));
    }

    [Fact]
    public void SeedingGivesTheSameNumbersAgain()
    {
        Torch.Init();
        TorchRuntime.Seed(123);
        var a = torch.randn(5).data<float>().ToArray();
        TorchRuntime.Seed(123);
        var b = torch.randn(5).data<float>().ToArray();
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData("auto", DeviceRequest.Auto)]
    [InlineData("CPU", DeviceRequest.Cpu)]
    [InlineData("cuda", DeviceRequest.Cuda)]
    [InlineData(null, DeviceRequest.Auto)]
    public void DeviceNamesParse(string? text, DeviceRequest expected) => Assert.Equal(expected, TorchRuntime.ParseDevice(text));

    [Fact]
    public void UnknownDeviceNameSaysWhatIsAllowed()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDevice("tpu"));
        Assert.Contains("tpu", e.Message);
        Assert.Contains("auto, cpu or cuda", e.Message);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Latent;

/// <summary>Float64 helpers for the numerical tests: finite differences, a small per-sample MLP predictor, conversions.</summary>
internal static class Numerics
{
    /// <summary>Central finite-difference gradient of a scalar function of a float64 tensor, shaped like x.</summary>
    public static double[] CentralDifferences(Func<Tensor, double> f, Tensor x, double h = 1e-6)
    {
        var shape = x.shape;
        var values = x.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var grad = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double keep = values[i];
            values[i] = keep + h;
            double plus = Eval(f, values, shape);
            values[i] = keep - h;
            double minus = Eval(f, values, shape);
            values[i] = keep;
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    private static double Eval(Func<Tensor, double> f, double[] values, long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return f(torch.tensor(values, dtype: ScalarType.Float64).reshape(shape));
    }

    /// <summary>The values of a tensor as a flat float64 array.</summary>
    public static double[] Values(Tensor t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>Asserts two arrays agree element-wise within abs + rel * |expected|.</summary>
    public static void AssertClose(double[] expected, double[] actual, double abs, double rel = 0, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = abs + rel * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol:G3})");
        }
    }

    /// <summary>A random float64 tensor (seeded by the caller through Torch.Init).</summary>
    public static Tensor Randn(params long[] shape) => torch.randn(shape, dtype: ScalarType.Float64);
}

/// <summary>
/// A small float64 MLP noise predictor eps = f(z): (B, To, F) -> (B, Ta, Da), every sample independent (no batch
/// statistics), smooth (tanh) so that finite differences are accurate.
/// </summary>
internal sealed class TestPredictor : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> net;
    public long To { get; }
    public long F { get; }
    public long Ta { get; }
    public long Da { get; }

    public TestPredictor(long to = 2, long f = 3, long ta = 4, long da = 2, long hidden = 16)
    {
        (To, F, Ta, Da) = (to, f, ta, da);
        net = nn.Sequential(nn.Linear(to * f, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, ta * da));
        net.to(ScalarType.Float64);
    }

    /// <summary>eps = f(z), (B, To, F) -> (B, Ta, Da).</summary>
    public Tensor Forward(Tensor z) => net.forward(z.reshape(z.shape[0], To * F)).reshape(z.shape[0], Ta, Da);

    public IEnumerable<TorchSharp.Modules.Parameter> Parameters() => net.parameters();

    public void Dispose() => net.Dispose();
}

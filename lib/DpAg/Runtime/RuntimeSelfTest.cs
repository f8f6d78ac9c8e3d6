using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Runtime;

/// <summary>A tiny end-to-end check that the loaded natives compute correctly: maths, backward, double backward.</summary>
public static class RuntimeSelfTest
{
    /// <summary>Runs the check on <paramref name="device"/>; throws with the failing quantity on a wrong result.</summary>
    public static string Run(Device device)
    {
        using var scope = torch.NewDisposeScope();
        // f(x) = sum(x^3): f' = 3x^2, f'' = 6x, checked at x = [1, 2, 3].
        var x = torch.tensor(new[] { 1.0, 2.0, 3.0 }, dtype: float64, device: device).requires_grad_(true);
        var f = x.Power(3).sum();
        var grad = torch.autograd.grad([f], [x], create_graph: true, retain_graph: true)[0];
        var second = torch.autograd.grad([grad.sum()], [x])[0];
        double[] g = grad.detach().cpu().data<double>().ToArray();
        double[] h = second.cpu().data<double>().ToArray();
        double[] expectG = [3, 12, 27], expectH = [6, 12, 18];
        for (int i = 0; i < 3; i++)
        {
            if (Math.Abs(g[i] - expectG[i]) > 1e-12) throw new InvalidOperationException($"backward gave {g[i]} for d/dx x^3 at {i + 1}, expected {expectG[i]}");
            if (Math.Abs(h[i] - expectH[i]) > 1e-12) throw new InvalidOperationException($"double backward gave {h[i]} for d2/dx2 x^3 at {i + 1}, expected {expectH[i]}");
        }
        var m = ScalarMath.Arange(6, dtype: float32, device: device).reshape(2, 3);
        float trace = m.matmul(m.T).trace().item<float>(); // 0+1+4+9+16+25
        if (trace != 55f) throw new InvalidOperationException($"matmul gave trace {trace}, expected 55");
        return $"torch {torch.__version__} on {device.type.ToString().ToLowerInvariant()}: maths, backward and double backward OK";
    }
}

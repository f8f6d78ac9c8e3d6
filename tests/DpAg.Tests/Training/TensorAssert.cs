using static TorchSharp.torch;

namespace DpAg.Tests.Training;

/// <summary>Exact tensor comparison (TorchSharp's <c>torch.equal</c> is element-wise, unlike PyTorch's).</summary>
internal static class TensorAssert
{
    /// <summary>Same shape, dtype and bytes.</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.cpu().contiguous().bytes.SequenceEqual(b.cpu().contiguous().bytes);
}

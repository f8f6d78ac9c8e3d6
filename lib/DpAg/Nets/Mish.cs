using DpAg.Runtime;
using static TorchSharp.torch;

namespace DpAg.Nets;

/// <summary>
/// Mish(x) = x tanh(softplus(x)), the activation of Diffusion Policy's U-Net, computed by <see cref="ScalarMath.Mish"/>.
/// TorchSharp's <c>nn.Mish</c> calls <c>softplus(1.0, 20.0)</c>, which turns both numbers into scalars that a
/// collection can free during the call (docs/CONTRIBUTING.md, "Scalars"). No parameters, so state-dict names are
/// unchanged where it replaces <c>nn.Mish()</c>.
/// </summary>
public sealed class Mish() : nn.Module<Tensor, Tensor>("Mish")
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => ScalarMath.Mish(x);
}

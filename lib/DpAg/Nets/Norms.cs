using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DpAg.Nets;

/// <summary>Normalisation layers with their weights initialised the PyTorch way.</summary>
public static class Norms
{
    /// <summary>
    /// <c>nn.GroupNorm(groups, channels)</c> with weight = 1 and bias = 0, as PyTorch initialises it.
    /// TorchSharp 0.107.0's <c>GroupNorm</c> leaves both uninitialised (values such as 3e9 or 1e-41 were seen), which
    /// turns a fresh network's output into NaN: its constructor makes them with <c>torch.empty</c> and never fills them
    /// (dotnet/TorchSharp src/TorchSharp/NN/Normalization/GroupNorm.cs), although its doc says ones and zeros.
    /// Every GroupNorm of the kit comes from here.
    /// </summary>
    /// <param name="groups">Number of groups; must divide <paramref name="channels"/>.</param>
    /// <param name="channels">Number of channels C of an input (N, C, ...).</param>
    /// <param name="device">Where to create the weights (null: the default device).</param>
    public static GroupNorm GroupNorm(long groups, long channels, Device? device = null)
    {
        if (groups < 1 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm: groups = {groups} must be positive and divide channels = {channels}.", nameof(groups));
        var norm = nn.GroupNorm(groups, channels, device: device);
        using (torch.no_grad())
        {
            norm.weight!.fill_(ScalarMath.One);
            norm.bias!.zero_();
        }
        return norm;
    }
}

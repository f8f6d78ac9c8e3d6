using DpAg.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Data;

/// <summary>
/// A small multimodal imitation task for notebooks and tests, already normalised: each observation history
/// (N, To, Do) in [-1, 1] comes with an action chunk (N, T, 2) that sweeps from the observed position along an arc
/// bending left or right (a hidden coin: two equally good demonstrations for the same observation), so a regressor
/// averages the modes while a diffusion policy can represent both.
/// </summary>
public static class SyntheticChunks
{
    /// <summary>Draws <paramref name="n"/> samples deterministically from <paramref name="seed"/>.</summary>
    public static (Dictionary<string, Tensor> Obs, Tensor Action) Make(int n, long seed, int obsSteps = 2, int obsDim = 4, int horizon = 16)
    {
        if (n < 1 || obsSteps < 1 || obsDim < 2 || horizon < 2)
            throw new ArgumentException($"SyntheticChunks.Make: need n >= 1, obsSteps >= 1, obsDim >= 2, horizon >= 2; got {n}, {obsSteps}, {obsDim}, {horizon}.");
        using var scope = torch.NewDisposeScope();
        var g = new torch.Generator((ulong)seed);
        var obs = torch.rand([n, obsSteps, obsDim], generator: g).Times(1.6).Minus(0.8);                // (N, To, Do)
        var start = obs[.., -1, ..2];                                                                  // (N, 2) the latest position
        var heading = torch.atan2(-start[.., 1], -start[.., 0]);                                       // towards the origin
        using var half = 0.5.ToScalar();
        var bend = torch.where(torch.rand([n], generator: g).lt(half), 1.0, -1.0).to(float32);         // the hidden mode
        var s = torch.linspace(0, 1, horizon).unsqueeze(0);                                            // (1, T)
        var angle = heading.unsqueeze(1).Plus(bend.unsqueeze(1).Times(1.2) * s);                        // (N, T)
        var radius = s.Times(0.6);
        var x = start[.., 0].unsqueeze(1).Plus(radius * torch.cos(angle));
        var y = start[.., 1].unsqueeze(1).Plus(radius * torch.sin(angle));
        var action = torch.stack([x, y], 2).ClampTo(-1, 1);                                           // (N, T, 2)
        return (new Dictionary<string, Tensor> { ["obs"] = obs.MoveToOuterDisposeScope() }, action.MoveToOuterDisposeScope());
    }

    /// <summary>A normaliser that leaves the (already normalised) data unchanged.</summary>
    public static LinearNormalizer IdentityNormalizer(int obsDim = 4)
    {
        var n = new LinearNormalizer();
        n["obs"] = NormalizerField.FitLimits(Enumerable.Repeat(-1f, obsDim).Concat(Enumerable.Repeat(1f, obsDim)).ToArray(), obsDim);
        n["action"] = NormalizerField.FitLimits([-1f, -1f, 1f, 1f], 2);
        return n;
    }
}

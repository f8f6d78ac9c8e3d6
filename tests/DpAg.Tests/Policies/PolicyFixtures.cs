using DpAg.Data;
using DpAg.Policies;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Tests.Policies;

/// <summary>Tiny configs and data shared by the policy tests.</summary>
internal static class PolicyFixtures
{
    public static DiffusionPolicyConfig TinyConfig => DiffusionPolicyConfig.Tiny with { LowDimObsDim = 4, Horizon = 8, ActionSteps = 4, NumInferenceSteps = 100 };

    /// <summary>A normaliser for raw obs in [0, 10] (4 dims) and actions in [0, 512] (2 dims).</summary>
    public static LinearNormalizer Normalizer()
    {
        var n = new LinearNormalizer();
        n["obs"] = NormalizerField.FitLimits([0f, 0f, 0f, 0f, 10f, 10f, 10f, 10f], 4);
        n["action"] = NormalizerField.FitLimits([0f, 0f, 512f, 512f], 2);
        return n;
    }

    /// <summary>
    /// A tiny normalised dataset in which the action chunk is a deterministic function of the observation:
    /// obs (N, To=2, 4) in [-1, 1], action (N, T=8, 2) a ramp from obs[:, -1, :2].
    /// </summary>
    public static (Dictionary<string, Tensor> Obs, Tensor Action) Data(int n, long seed)
    {
        var g = new torch.Generator((ulong)seed);
        var obs = torch.rand([n, 2, 4], generator: g) * 2 - 1;                                    // (N, To, Do)
        var start = obs[.., -1, ..2].unsqueeze(1);                                                 // (N, 1, 2)
        var ramp = torch.linspace(0, 0.5, 8).view(1, 8, 1);                                       // (1, T, 1)
        var action = (start * 0.5 + ramp * start.sign()).clamp(-1, 1);                            // (N, T, Da)
        return (new Dictionary<string, Tensor> { ["obs"] = obs }, action);
    }
}

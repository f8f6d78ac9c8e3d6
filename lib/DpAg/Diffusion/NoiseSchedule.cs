using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Diffusion;

/// <summary>
/// The forward-process noise schedule shared by the DDPM and DDIM samplers: betas, alphas = 1 - betas and
/// alphas_cumprod (abar) for the <see cref="NumTrainTimesteps"/> training steps.
/// </summary>
/// <remarks>
/// Values are float32, computed like diffusers (betas from float64 formulas rounded to float32, then
/// alphas = 1 - betas and a float32 <c>torch.cumprod</c>), so that a checkpoint trained with diffusers sees the same
/// numbers. The double arrays hold exactly those float32 values. The class holds no tensors: each
/// <c>...Tensor</c> method returns a fresh tensor owned by the caller's dispose scope.
/// Check values for N = 100 with <see cref="BetaScheduleKind.SquaredCosCapV2"/> (docs/pusht.md):
/// beta_0 = 6.3128e-4, beta_99 = 0.999, abar_0 = 0.99936873, abar_49 = 0.49384353, abar_99 = 2.4285e-7.
/// </remarks>
public sealed class NoiseSchedule
{
    /// <summary>Largest beta of the cosine schedule (diffusers' <c>max_beta</c> = 0.999), which keeps beta below 1 near t = N.</summary>
    public const double MaxBeta = 0.999;

    private readonly float[] _betas;
    private readonly float[] _alphas;
    private readonly float[] _alphasCumprod;

    /// <summary>Builds the schedule.</summary>
    /// <param name="numTrainTimesteps">N, the number of training diffusion steps (Diffusion Policy: 100).</param>
    /// <param name="kind">The beta layout.</param>
    /// <param name="betaStart">First beta of the <see cref="BetaScheduleKind.Linear"/> schedule (diffusers default 1e-4).</param>
    /// <param name="betaEnd">Last beta of the <see cref="BetaScheduleKind.Linear"/> schedule (diffusers default 0.02).</param>
    public NoiseSchedule(int numTrainTimesteps, BetaScheduleKind kind, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        if (numTrainTimesteps < 1)
            throw new ArgumentException($"numTrainTimesteps must be at least 1, got {numTrainTimesteps}.", nameof(numTrainTimesteps));
        if (kind == BetaScheduleKind.Linear && !(betaStart > 0 && betaStart <= betaEnd && betaEnd < 1))
            throw new ArgumentException($"The linear schedule needs 0 < betaStart <= betaEnd < 1, got betaStart = {betaStart}, betaEnd = {betaEnd}.", nameof(betaStart));
        NumTrainTimesteps = numTrainTimesteps;
        Kind = kind;
        _betas = kind switch
        {
            BetaScheduleKind.SquaredCosCapV2 => CosineBetas(numTrainTimesteps),
            BetaScheduleKind.Linear => LinearBetas(numTrainTimesteps, betaStart, betaEnd),
            _ => throw new ArgumentException($"Unknown beta schedule {kind}.", nameof(kind)),
        };
        _alphas = _betas.Select(b => 1f - b).ToArray();
        _alphasCumprod = CumprodLikeTorch(_alphas);
        Betas = Array.ConvertAll(_betas, b => (double)b);
        Alphas = Array.ConvertAll(_alphas, a => (double)a);
        AlphasCumprod = Array.ConvertAll(_alphasCumprod, a => (double)a);
    }

    /// <summary>N, the number of training diffusion steps; timesteps run 0..N-1.</summary>
    public int NumTrainTimesteps { get; }

    /// <summary>The beta layout this schedule was built with.</summary>
    public BetaScheduleKind Kind { get; }

    /// <summary>beta_t for t = 0..N-1 (float32 values).</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>alpha_t = 1 - beta_t for t = 0..N-1 (float32 values).</summary>
    public IReadOnlyList<double> Alphas { get; }

    /// <summary>abar_t = prod_{s &lt;= t} alpha_s for t = 0..N-1 (float32 values).</summary>
    public IReadOnlyList<double> AlphasCumprod { get; }

    /// <summary>betas as a float32 tensor of shape (N,).</summary>
    public Tensor BetasTensor(Device? device = null) => torch.tensor(_betas, device: device);

    /// <summary>alphas as a float32 tensor of shape (N,).</summary>
    public Tensor AlphasTensor(Device? device = null) => torch.tensor(_alphas, device: device);

    /// <summary>alphas_cumprod as a float32 tensor of shape (N,).</summary>
    public Tensor AlphasCumprodTensor(Device? device = null) => torch.tensor(_alphasCumprod, device: device);

    /// <summary>The cosine schedule's abar as a function of continuous time s in [0, 1] (Nichol and Dhariwal 2021, eq. 17).</summary>
    public static double CosineAlphaBar(double s)
    {
        double c = Math.Cos((s + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    private static float[] CosineBetas(int n)
    {
        var betas = new float[n];
        for (int i = 0; i < n; i++)
            betas[i] = (float)Math.Min(1 - CosineAlphaBar((i + 1) / (double)n) / CosineAlphaBar(i / (double)n), MaxBeta);
        return betas;
    }

    private static float[] LinearBetas(int n, double start, double end)
    {
        using var scope = torch.NewDisposeScope();
        return torch.linspace(start, end, n, dtype: ScalarType.Float32).data<float>().ToArray();
    }

    private static float[] CumprodLikeTorch(float[] alphas)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cumprod(torch.tensor(alphas), 0).data<float>().ToArray();
    }
}

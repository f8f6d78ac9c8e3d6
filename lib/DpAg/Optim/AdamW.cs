using DpAg.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DpAg.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019), the optimiser of Diffusion Policy and of every training loop in the kit; the
/// same update, in the same order of operations, as PyTorch's single-tensor <c>torch.optim.AdamW</c>. For step t and
/// each parameter p with gradient g:
/// <code>
/// p   &lt;- p (1 - lr wd)                                   decoupled weight decay
/// m   &lt;- beta1 m + (1 - beta1) g                         first moment
/// v   &lt;- beta2 v + (1 - beta2) g^2                       second moment
/// p   &lt;- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// </code>
/// Why the kit has its own: TorchSharp 0.107's <c>optim.AdamW.step()</c> passes eight plain numbers per parameter where
/// libtorch expects scalars, and each becomes a native scalar that a garbage collection can free during the call
/// (docs/CONTRIBUTING.md, "Scalars"); here every scalar is made explicitly and disposed after its op.
/// tests/DpAg.Tests/Optim/AdamWTests.cs checks 1,000 steps against PyTorch's AdamW.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _expAvg, _expAvgSq;
    private const int FormatVersion = 1;
    private const string FormatTag = "dpag-adamw";

    /// <summary>Optimises <paramref name="parameters"/> (each gets zero moments on its device and dtype).</summary>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.0)
    {
        if (!(lr >= 0)) throw new ArgumentException($"AdamW: lr must be >= 0, got {lr}.", nameof(lr));
        if (!(beta1 is >= 0 and < 1)) throw new ArgumentException($"AdamW: beta1 must be in [0, 1), got {beta1}.", nameof(beta1));
        if (!(beta2 is >= 0 and < 1)) throw new ArgumentException($"AdamW: beta2 must be in [0, 1), got {beta2}.", nameof(beta2));
        if (!(eps >= 0)) throw new ArgumentException($"AdamW: eps must be >= 0, got {eps}.", nameof(eps));
        if (!(weightDecay >= 0)) throw new ArgumentException($"AdamW: weight decay must be >= 0, got {weightDecay}.", nameof(weightDecay));
        _parameters = parameters.ToArray();
        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        _expAvg = _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
        _expAvgSq = _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>lr, set by the schedule before each step.</summary>
    public double LearningRate { get; set; }

    /// <summary>beta1 (first-moment decay).</summary>
    public double Beta1 { get; }

    /// <summary>beta2 (second-moment decay).</summary>
    public double Beta2 { get; }

    /// <summary>eps (added to the denominator).</summary>
    public double Eps { get; }

    /// <summary>wd (decoupled weight decay).</summary>
    public double WeightDecay { get; }

    /// <summary>t: steps taken (all parameters step together; a parameter without a gradient is skipped, as in PyTorch,
    /// but the kit's loops give every trained parameter a gradient).</summary>
    public long StepCount { get; private set; }

    /// <summary>The optimised parameters, in order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Sets every parameter's gradient to none (PyTorch's <c>set_to_none=True</c> default).</summary>
    public void ZeroGrad()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var p in _parameters)
            if (p.grad is not null) p.grad = null;
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        double biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        double biasCorrection2 = 1 - Math.Pow(Beta2, StepCount);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var decay = (1 - LearningRate * WeightDecay).ToScalar();
        using var beta1 = Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - Beta1).ToScalar();
        using var beta2 = Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - Beta2).ToScalar();
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var eps = Eps.ToScalar();
        using var minusStepSize = (-LearningRate / biasCorrection1).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            var grad = p.grad;
            if (grad is null) continue;
            p.mul_(decay);
            _expAvg[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _expAvgSq[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var denom = _expAvgSq[i].sqrt().div_(sqrtBiasCorrection2).add_(eps, ScalarMath.One);
            p.addcdiv_(_expAvg[i], denom, minusStepSize);
        }
    }

    /// <summary>Writes the step count and both moments of every parameter (the kit's own format, versioned).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatTag);
        writer.Write(FormatVersion);
        writer.Write(StepCount);
        writer.Write(_parameters.Length);
        for (int i = 0; i < _parameters.Length; i++)
        {
            _expAvg[i].Save(writer);
            _expAvgSq[i].Save(writer);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote, for the same parameters in the same order.</summary>
    /// <exception cref="InvalidDataException">The stream is not this optimiser's state (another format, or other parameters).</exception>
    public void Load(BinaryReader reader, string source = "optimizer state")
    {
        string tag;
        try { tag = reader.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or IOException) { tag = ""; }
        if (tag != FormatTag)
            throw new InvalidDataException($"{source} is not the kit's AdamW state (written by an older kit, which used TorchSharp's optimiser?). " +
                                           "Start the run over (dpag train --fresh) or use a new run folder.");
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"{source}: AdamW state format {version}, this kit reads {FormatVersion}.");
        long steps = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count != _parameters.Length)
            throw new InvalidDataException($"{source} holds moments for {count} parameters; this optimiser has {_parameters.Length}.");
        using var noGrad = torch.no_grad();
        for (int i = 0; i < count; i++)
        {
            _expAvg[i].Load(reader);
            _expAvgSq[i].Load(reader);
        }
        StepCount = steps;
    }

    /// <summary>Frees the moments.</summary>
    public void Dispose()
    {
        foreach (var t in _expAvg) t.Dispose();
        foreach (var t in _expAvgSq) t.Dispose();
    }
}

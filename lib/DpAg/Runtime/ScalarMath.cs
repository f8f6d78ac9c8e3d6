using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Runtime;

/// <summary>
/// Tensor arithmetic with plain numbers, safe from TorchSharp 0.107's scalar use-after-free.
/// <para>
/// Why: every number TorchSharp turns into a <see cref="Scalar"/> by itself (<c>x * 0.5</c>, <c>t.mul_(d)</c>,
/// <c>clamp(-1.0, 1.0)</c>, and inside <c>a + b</c>, which is <c>a.add(b, alpha: 1)</c>) is a native object that only
/// a finalizer frees, and nothing keeps it alive while libtorch reads it: a garbage collection during the native call
/// can free it, and the op then throws (<c>Scalar.h:140</c>) or computes with whatever the freed memory holds.
/// Here every scalar is either a constant kept for the life of the process or made explicitly and disposed after
/// the op, so it is alive for the whole call. docs/CONTRIBUTING.md, "Scalars", states the rule; a test over the
/// compiled library (tests/DpAg.Tests/Runtime/ImplicitScalarTests.cs) keeps implicit scalars out.
/// </para>
/// Names read as the arithmetic they do: <c>x.Times(0.5).Plus(1.0).DividedBy(0.4)</c> is <c>(x * 0.5 + 1) / 0.4</c>.
/// </summary>
public static class ScalarMath
{
    // Kept in static fields: reachable for the whole process, so their finalizers never run.
    private static readonly Scalar Zero = 0.ToScalar();

    /// <summary>The number 1 as a scalar that lives as long as the process (e.g. for <c>fill_</c>).</summary>
    public static Scalar One { get; } = 1.ToScalar();

    /// <summary>
    /// The value of a one-element tensor as a double, read through its data rather than a <see cref="Scalar"/>:
    /// TorchSharp's <c>Tensor.ToDouble()</c> is <c>ToScalar().ToDouble()</c>, whose temporary scalar a collection can free
    /// while libtorch reads it (a 20,000-step DP-AG run under the stress harness died of it; the native error there is
    /// not caught, so the process ends).
    /// </summary>
    public static double Value(Tensor t)
    {
        if (t.numel() != 1) throw new ArgumentException($"Value needs a one-element tensor; got shape ({string.Join(", ", t.shape)}).", nameof(t));
        using var scope = torch.NewDisposeScope();
        var cpu = t.device_type == DeviceType.CPU ? t : t.cpu();
        return cpu.dtype switch
        {
            ScalarType.Float64 => cpu.item<double>(),
            ScalarType.Float32 => cpu.item<float>(),
            _ => cpu.to_type(ScalarType.Float64).item<double>(),
        };
    }

    /// <summary>a + b (elementwise, broadcasting).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + c.</summary>
    public static Tensor Plus(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.add(s, One);
    }

    /// <summary>a - b (TorchSharp's <c>sub(Tensor)</c> makes no scalar; this exists so that sums read alike).</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.sub(b);

    /// <summary>a - c.</summary>
    public static Tensor Minus(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.sub(s);
    }

    /// <summary>c - a.</summary>
    public static Tensor SubtractedFrom(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        using var negated = a.neg();
        return negated.add(s, One);
    }

    /// <summary>a * c.</summary>
    public static Tensor Times(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.mul(s);
    }

    /// <summary>a / c.</summary>
    public static Tensor DividedBy(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.div(s);
    }

    /// <summary>c / a.</summary>
    public static Tensor Into(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        using var reciprocal = a.reciprocal();
        return reciprocal.mul(s);
    }

    /// <summary>a^2, as <c>a * a</c> (TorchSharp's <c>square()</c> makes an implicit exponent).</summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);

    /// <summary>a^p.</summary>
    public static Tensor Power(this Tensor a, double p)
    {
        using var s = p.ToScalar();
        return a.pow(s);
    }

    /// <summary>min(max(a, lo), hi).</summary>
    public static Tensor ClampTo(this Tensor a, double lo, double hi)
    {
        using var l = lo.ToScalar();
        using var h = hi.ToScalar();
        return a.clamp(l, h);
    }

    /// <summary>max(a, lo).</summary>
    public static Tensor AtLeast(this Tensor a, double lo)
    {
        using var l = lo.ToScalar();
        return a.clamp_min(l);
    }

    /// <summary>min(a, hi).</summary>
    public static Tensor AtMost(this Tensor a, double hi)
    {
        using var h = hi.ToScalar();
        return a.clamp_max(h);
    }

    /// <summary>a &gt; c, elementwise (a bool tensor).</summary>
    public static Tensor GreaterThan(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.gt(s);
    }

    /// <summary>In place: a += b.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>In place: a += alpha * b.</summary>
    public static Tensor PlusScaledInPlace(this Tensor a, Tensor b, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.add_(b, s);
    }

    /// <summary>In place: a *= c.</summary>
    public static Tensor TimesInPlace(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.mul_(s);
    }

    /// <summary>In place: a += c.</summary>
    public static Tensor PlusInPlace(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.add_(s, One);
    }

    /// <summary>In place: a += value * t1 * t2.</summary>
    public static Tensor PlusProductInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var s = value.ToScalar();
        return a.addcmul_(t1, t2, s);
    }

    /// <summary>In place: a += value * t1 / t2.</summary>
    public static Tensor PlusQuotientInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var s = value.ToScalar();
        return a.addcdiv_(t1, t2, s);
    }

    /// <summary>A tensor shaped like <paramref name="like"/> filled with <paramref name="value"/>.</summary>
    public static Tensor FullLike(Tensor like, double value)
    {
        using var s = value.ToScalar();
        return torch.full_like(like, s);
    }

    /// <summary>0, 1, ..., n - 1 (torch.arange(n)).</summary>
    public static Tensor Arange(long n, ScalarType? dtype = null, Device? device = null)
    {
        // arange(stop) and arange(start, stop) fill in their other bounds with implicit scalars; this overload does not.
        using var stop = n.ToScalar();
        return torch.arange(Zero, stop, One, dtype: dtype, device: device);
    }

    /// <summary>
    /// softplus(x) = log(1 + e^x), with PyTorch's defaults (beta 1, threshold 20: x itself above 20). The exponent is
    /// clamped at the threshold so that the branch not taken never overflows (its gradient would be NaN).
    /// </summary>
    public static Tensor Softplus(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var smooth = x.AtMost(SoftplusThreshold).exp().log1p();
        return torch.where(x.GreaterThan(SoftplusThreshold), x, smooth).MoveToOuterDisposeScope();
    }

    /// <summary>Mish(x) = x tanh(softplus(x)) (Misra 2019), the U-Net's activation.</summary>
    public static Tensor Mish(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        return x.mul(Softplus(x).tanh()).MoveToOuterDisposeScope();
    }

    private const double SoftplusThreshold = 20.0;
}

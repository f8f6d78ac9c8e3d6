namespace DpAg.Numpy;

/// <summary>
/// Bit-exact port of numpy's legacy <c>np.random.RandomState(seed)</c> for the draws Push-T uses: MT19937 seeded with
/// <c>init_genrand(seed)</c> and standard tempering, <c>randint</c> (masked rejection, high exclusive), <c>rand</c>
/// (53-bit <c>random_sample</c>) and <c>randn</c> (polar Box-Muller with the second value cached, like numpy's
/// <c>legacy_gauss</c>). Check values (docs/pusht.md): seed 0 gives first u32 2357136044.
/// </summary>
public sealed class NumpyRandomState
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908b0dfu;
    private const uint UpperMask = 0x80000000u;
    private const uint LowerMask = 0x7fffffffu;

    private readonly uint[] _mt = new uint[N];
    private int _index;
    private bool _hasGauss;
    private double _gauss;

    /// <summary>Seeds like <c>RandomState(seed)</c> with an integer seed in [0, 2^32 - 1].</summary>
    /// <param name="seed">The seed; numpy rejects values outside [0, 2^32 - 1] and so does this.</param>
    public NumpyRandomState(long seed)
    {
        if (seed < 0 || seed > uint.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(seed), seed, "seed must be in [0, 2^32 - 1] (numpy's legacy seeding range); pass a non-negative 32-bit value.");
        _mt[0] = (uint)seed;
        for (int i = 1; i < N; i++)
            _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _index = N;
    }

    /// <summary>The next tempered 32-bit output of MT19937 (numpy's <c>next_uint32</c>).</summary>
    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits: ((a &gt;&gt; 5) * 2^26 + (b &gt;&gt; 6)) / 2^53 (numpy's <c>random_sample</c>).</summary>
    public double Rand()
    {
        uint a = NextUInt32() >> 5;
        uint b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>
    /// <c>randint(low, high)</c>: an integer in [low, high) by masked rejection sampling on 32-bit draws (numpy's legacy
    /// path for ranges that fit 32 bits): r = high - low - 1, mask = smallest 2^k - 1 &gt;= r, draw v = u32 &amp; mask
    /// until v &lt;= r.
    /// </summary>
    /// <param name="low">Inclusive lower bound.</param>
    /// <param name="high">Exclusive upper bound; must exceed <paramref name="low"/> by at most 2^32.</param>
    public long RandInt(long low, long high)
    {
        if (high <= low)
            throw new ArgumentException($"randint needs high > low; got low={low}, high={high}. Pass an exclusive upper bound above low.", nameof(high));
        ulong range = (ulong)(high - low - 1);
        if (range > uint.MaxValue)
            throw new ArgumentException($"randint range {range + 1} exceeds 2^32; only 32-bit ranges are ported. Narrow [low, high).", nameof(high));
        if (range == 0) return low;
        uint r = (uint)range;
        uint mask = r;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint v;
        while ((v = NextUInt32() & mask) > r) { }
        return low + v;
    }

    /// <summary>A standard normal draw by numpy's legacy polar Box-Muller (<c>legacy_gauss</c>): returns f*x2 and caches f*x1.</summary>
    public double Randn()
    {
        if (_hasGauss)
        {
            _hasGauss = false;
            double cached = _gauss;
            _gauss = 0.0;
            return cached;
        }
        double x1, x2, r2;
        do
        {
            x1 = 2.0 * Rand() - 1.0;
            x2 = 2.0 * Rand() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        _gauss = f * x1;
        _hasGauss = true;
        return f * x2;
    }

    private void Twist()
    {
        for (int k = 0; k < N; k++)
        {
            uint y = (_mt[k] & UpperMask) | (_mt[(k + 1) % N] & LowerMask);
            _mt[k] = _mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1u) != 0 ? MatrixA : 0u);
        }
        _index = 0;
    }
}

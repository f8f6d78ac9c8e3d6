using System.Numerics;

namespace DpAg.Numpy;

/// <summary>
/// numpy's <c>SeedSequence</c> (bit_generator.pyx, pool size 4): turns an integer seed into generator state words.
/// Re-implemented from the published algorithm so that <c>np.random.default_rng(seed)</c> streams are reproduced.
/// </summary>
public static class NumpySeedSequence
{
    private const uint InitA = 0x43b0d7e5, MultA = 0x931e8875, InitB = 0x8b51f9dd, MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd, MixMultR = 0x4973f715;
    private const int PoolSize = 4;

    /// <summary><c>SeedSequence(seed).generate_state(nWords, np.uint32)</c>.</summary>
    public static uint[] GenerateState32(BigInteger seed, int nWords)
    {
        if (seed.Sign < 0) throw new ArgumentException($"seed {seed} must be non-negative (numpy rejects negative seeds).", nameof(seed));
        var entropy = new List<uint>();
        if (seed.IsZero) entropy.Add(0);
        while (seed > 0) { entropy.Add((uint)(seed & uint.MaxValue)); seed >>= 32; }
        var pool = new uint[PoolSize];
        uint hashConst = InitA;
        uint HashMix(uint value)
        {
            value ^= hashConst;
            hashConst *= MultA;
            value *= hashConst;
            value ^= value >> 16;
            return value;
        }
        static uint Mix(uint x, uint y)
        {
            uint r = MixMultL * x - MixMultR * y;
            return r ^ (r >> 16);
        }
        for (int i = 0; i < PoolSize; i++) pool[i] = HashMix(i < entropy.Count ? entropy[i] : 0);
        for (int src = 0; src < PoolSize; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                if (src != dst) pool[dst] = Mix(pool[dst], HashMix(pool[src]));
        for (int src = PoolSize; src < entropy.Count; src++)
            for (int dst = 0; dst < PoolSize; dst++)
                pool[dst] = Mix(pool[dst], HashMix(entropy[src]));
        var state = new uint[nWords];
        uint hb = InitB;
        for (int i = 0; i < nWords; i++)
        {
            uint v = pool[i % PoolSize];
            v ^= hb;
            hb *= MultB;
            v *= hb;
            v ^= v >> 16;
            state[i] = v;
        }
        return state;
    }

    /// <summary><c>SeedSequence(seed).generate_state(nWords, np.uint64)</c> (pairs of 32-bit words, little-endian).</summary>
    public static ulong[] GenerateState64(BigInteger seed, int nWords)
    {
        var w = GenerateState32(seed, 2 * nWords);
        var result = new ulong[nWords];
        for (int i = 0; i < nWords; i++) result[i] = w[2 * i] | ((ulong)w[2 * i + 1] << 32);
        return result;
    }
}

/// <summary>
/// numpy's PCG64 bit generator (128-bit LCG, XSL-RR output, multiplier 0x2360ED051FC65DA44385DF649FCCF645), seeded
/// through <see cref="NumpySeedSequence"/> exactly like <c>np.random.PCG64(seed)</c>, including the buffered upper
/// half used by 32-bit draws.
/// </summary>
public sealed class Pcg64
{
    private static readonly UInt128 Multiplier = new(0x2360ED051FC65DA4UL, 0x4385DF649FCCF645UL);
    private UInt128 _state;
    private readonly UInt128 _inc;
    private bool _hasUInt32;
    private uint _uinteger;

    /// <summary>Seeds like <c>np.random.PCG64(seed)</c>.</summary>
    public Pcg64(BigInteger seed)
    {
        var s = NumpySeedSequence.GenerateState64(seed, 4);
        var initState = new UInt128(s[0], s[1]);
        var initSeq = new UInt128(s[2], s[3]);
        _inc = (initSeq << 1) | 1;
        _state = 0;
        Step();
        _state += initState;
        Step();
    }

    /// <summary>The 128-bit LCG state (numpy's <c>state['state']['state']</c>).</summary>
    public UInt128 State => _state;

    /// <summary>The increment (numpy's <c>state['state']['inc']</c>).</summary>
    public UInt128 Increment => _inc;

    private void Step() => _state = unchecked(_state * Multiplier + _inc);

    /// <summary>Next 64-bit output (numpy's <c>random_raw()</c>).</summary>
    public ulong NextUInt64()
    {
        Step();
        ulong hi = (ulong)(_state >> 64), lo = (ulong)_state;
        return BitOperations.RotateRight(hi ^ lo, (int)(hi >> 58));
    }

    /// <summary>Next 32-bit output: the low half of a fresh 64-bit draw, then its buffered high half.</summary>
    public uint NextUInt32()
    {
        if (_hasUInt32)
        {
            _hasUInt32 = false;
            return _uinteger;
        }
        ulong next = NextUInt64();
        _hasUInt32 = true;
        _uinteger = (uint)(next >> 32);
        return (uint)next;
    }
}

/// <summary>
/// The subset of <c>np.random.Generator</c> (over <see cref="Pcg64"/>) the data pipeline needs:
/// bounded integers (Lemire), <c>choice(n, size, replace=False)</c> (Floyd / tail shuffle) and <c>permutation(n)</c>.
/// Equivalent to <c>np.random.default_rng(seed)</c>.
/// </summary>
public sealed class NumpyGenerator
{
    /// <summary>Creates the equivalent of <c>np.random.default_rng(seed)</c>.</summary>
    public NumpyGenerator(BigInteger seed) => BitGenerator = new Pcg64(seed);

    /// <summary>The underlying bit generator.</summary>
    public Pcg64 BitGenerator { get; }

    /// <summary>Uniform integer in [0, <paramref name="max"/>] inclusive (numpy <c>random_bounded_uint64</c>, unmasked Lemire).</summary>
    public ulong BoundedUInt64(ulong max)
    {
        if (max == 0) return 0;
        if (max <= uint.MaxValue)
        {
            if (max == uint.MaxValue) return BitGenerator.NextUInt32();
            uint rng = (uint)max;
            uint excl = rng + 1;
            ulong m = (ulong)BitGenerator.NextUInt32() * excl;
            uint leftover = (uint)m;
            if (leftover < excl)
            {
                uint threshold = (uint.MaxValue - rng) % excl;
                while (leftover < threshold)
                {
                    m = (ulong)BitGenerator.NextUInt32() * excl;
                    leftover = (uint)m;
                }
            }
            return m >> 32;
        }
        if (max == ulong.MaxValue) return BitGenerator.NextUInt64();
        ulong excl64 = max + 1;
        UInt128 mm = (UInt128)BitGenerator.NextUInt64() * excl64;
        ulong left = (ulong)mm;
        if (left < excl64)
        {
            ulong threshold = (ulong.MaxValue - max) % excl64;
            while (left < threshold)
            {
                mm = (UInt128)BitGenerator.NextUInt64() * excl64;
                left = (ulong)mm;
            }
        }
        return (ulong)(mm >> 64);
    }

    /// <summary>Uniform integer in [0, <paramref name="max"/>] by masked rejection (numpy <c>random_interval</c>, used by shuffle).</summary>
    public ulong Interval(ulong max)
    {
        if (max == 0) return 0;
        ulong mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
        ulong value;
        if (max <= uint.MaxValue)
            while ((value = BitGenerator.NextUInt32() & mask) > max) { }
        else
            while ((value = BitGenerator.NextUInt64() & mask) > max) { }
        return value;
    }

    /// <summary><c>rng.choice(popSize, size, replace=False, shuffle=shuffle)</c>: distinct indices in [0, popSize).</summary>
    public long[] ChoiceWithoutReplacement(long popSize, int size, bool shuffle = true)
    {
        if (popSize < 0) throw new ArgumentException($"population {popSize} must be non-negative.", nameof(popSize));
        if (size < 0 || size > popSize) throw new ArgumentException($"cannot take {size} distinct samples from a population of {popSize}.", nameof(size));
        long cutoff = shuffle ? 50 : 20;
        if (popSize > 10000 && size > popSize / cutoff)
        {
            var all = new long[popSize];
            for (long i = 0; i < popSize; i++) all[i] = i;
            ShuffleInt(all, popSize, Math.Max(popSize - size, 1));
            return all[(int)(popSize - size)..];
        }
        var idx = new long[size];
        ulong setSize = (ulong)(1.2 * size);
        ulong mask = setSize;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16; mask |= mask >> 32;
        var hash = new ulong[mask + 1];
        Array.Fill(hash, ulong.MaxValue);
        for (long j = popSize - size; j < popSize; j++)
        {
            ulong val = BoundedUInt64((ulong)j);
            ulong loc = val & mask;
            while (hash[loc] != ulong.MaxValue && hash[loc] != val) loc = (loc + 1) & mask;
            if (hash[loc] == ulong.MaxValue)
            {
                hash[loc] = val;
                idx[j - popSize + size] = (long)val;
            }
            else
            {
                loc = (ulong)j & mask;
                while (hash[loc] != ulong.MaxValue) loc = (loc + 1) & mask;
                hash[loc] = (ulong)j;
                idx[j - popSize + size] = j;
            }
        }
        if (shuffle) ShuffleInt(idx, size, 1);
        return idx;
    }

    /// <summary><c>rng.permutation(n)</c>: a shuffled 0..n-1 (Fisher-Yates from the end with <see cref="Interval"/>).</summary>
    public long[] Permutation(int n)
    {
        var a = new long[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i >= 1; i--)
        {
            int j = (int)Interval((ulong)i);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    private void ShuffleInt(long[] data, long n, long first)
    {
        for (long i = n - 1; i >= first; i--)
        {
            long j = (long)BoundedUInt64((ulong)i);
            (data[i], data[j]) = (data[j], data[i]);
        }
    }
}

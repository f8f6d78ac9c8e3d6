using System.Numerics;
using DpAg.Numpy;
using DpAg.Tests.Data;

namespace DpAg.Tests.Numpy;

public sealed class NumpyRandomTests
{
    [Fact]
    public void SeedSequenceAndPcg64MatchNumpyCheckValues()
    {
        // np.random.SeedSequence(42).generate_state(4, np.uint64); PCG64(42).state; PCG64(42).random_raw(3) (numpy 1.24).
        Assert.Equal(new[] { 0x9f1e2e6dcd540ab7UL, 0xd57873dc79fb94b6UL, 0x7d282a1b64d420b7UL, 0x336579714692d5ffUL },
            NumpySeedSequence.GenerateState64(42, 4));
        var g = new Pcg64(42);
        Assert.Equal(UInt128.Parse("274674114334540486603088602300644985544"), g.State);
        Assert.Equal(UInt128.Parse("332724090758049132448979897138935081983"), g.Increment);
        Assert.Equal(new[] { 14276969152011380360UL, 8095878257575067585UL, 15838336090824644132UL },
            new[] { g.NextUInt64(), g.NextUInt64(), g.NextUInt64() });
    }

    [Fact]
    public void ChoiceWithoutReplacementForPushTSplit()
    {
        Assert.Equal(new long[] { 90, 18, 134, 157 }, new NumpyGenerator(42).ChoiceWithoutReplacement(206, 4));
    }

    private const string Script = """
import numpy as np
def p(xs): print(' '.join(str(int(x)) for x in xs))
for seed in [0, 1, 42, 2**40 + 7, 12345678901234567890, 2**130 + 5]:
    p(np.random.default_rng(seed).choice(206, size=90, replace=False))
p(np.random.default_rng(3).choice(20000, size=1000, replace=False)[:50])
p(np.random.default_rng(4).choice(50000, size=1500, replace=False, shuffle=False)[:50])
p(np.random.default_rng(5).choice(100, size=100, replace=False))
p(np.random.default_rng(6).permutation(1000)[:60])
r = np.random.default_rng(7); p([r.integers(0, 2**40 + 1) for _ in range(5)] + [r.integers(0, 1000) for _ in range(5)])
""";

    [Fact]
    public void MatchesLiveNumpyOnManySeedsAndPaths()
    {
        var lines = PythonZarr.Run(Script).Trim().Split('\n').Select(l => l.Trim().Split(' ').Select(long.Parse).ToArray()).ToArray();
        var seeds = new[] { BigInteger.Zero, 1, 42, BigInteger.Pow(2, 40) + 7, BigInteger.Parse("12345678901234567890"), BigInteger.Pow(2, 130) + 5 };
        for (int i = 0; i < seeds.Length; i++)
            Assert.Equal(lines[i], new NumpyGenerator(seeds[i]).ChoiceWithoutReplacement(206, 90));
        Assert.Equal(lines[6], new NumpyGenerator(3).ChoiceWithoutReplacement(20000, 1000)[..50]);
        Assert.Equal(lines[7], new NumpyGenerator(4).ChoiceWithoutReplacement(50000, 1500, shuffle: false)[..50]);
        Assert.Equal(lines[8], new NumpyGenerator(5).ChoiceWithoutReplacement(100, 100));
        Assert.Equal(lines[9], new NumpyGenerator(6).Permutation(1000)[..60]);
        // Generator.integers(0, high) draws random_bounded_uint64(0, high - 1) (Lemire, 32- or 64-bit path).
        var r = new NumpyGenerator(7);
        var ints = Enumerable.Range(0, 5).Select(_ => (long)r.BoundedUInt64((1UL << 40)))
            .Concat(Enumerable.Range(0, 5).Select(_ => (long)r.BoundedUInt64(999))).ToArray();
        Assert.Equal(lines[10], ints);
    }
}

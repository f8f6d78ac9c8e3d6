using System.Numerics;
using DpAg.Data;

namespace DpAg.Tests.Data;

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

    [Fact]
    public void PushTSplitEqualsDesignDocument()
    {
        var split = ValidationSplit.Create(206, 0.02, 42, 90);
        Assert.Equal(new[] { 18, 90, 134, 157 }, split.ValidationEpisodes);
        Assert.Equal(new[]
        {
            7, 9, 10, 11, 13, 16, 20, 25, 26, 27, 32, 33, 35, 42, 44, 50, 51, 56, 58, 60, 61, 63, 65, 67, 71, 73,
            76, 77, 78, 81, 84, 85, 86, 89, 91, 93, 94, 97, 98, 102, 103, 109, 110, 111, 112, 117, 118, 119, 120,
            122, 125, 126, 128, 129, 130, 131, 132, 135, 137, 138, 140, 141, 145, 148, 156, 158, 159, 160, 161, 163,
            165, 166, 167, 170, 172, 174, 176, 178, 179, 183, 184, 185, 188, 189, 192, 194, 195, 198, 200, 203,
        }, split.TrainEpisodes);
        Assert.Equal(206 - 90, split.ReferenceValidationDatasetMask.Count(m => m));
        Assert.DoesNotContain(split.TrainEpisodes, split.ValidationEpisodes.Contains);
    }

    [Fact]
    public void SplitEdgeCases()
    {
        Assert.Empty(ValidationSplit.Create(10, 0, 42, null).ValidationEpisodes);
        Assert.Equal(10, ValidationSplit.Create(10, 0, 42, null).TrainEpisodes.Length);
        var one = ValidationSplit.Create(2, 0.9, 0, null); // n_val = min(max(1, 2), 1) = 1
        Assert.Single(one.ValidationEpisodes);
        Assert.Single(one.TrainEpisodes);
        Assert.Empty(ValidationSplit.Create(0, 0.5, 0, null).TrainEpisodes);
        Assert.Throws<ArgumentException>(() => ValidationSplit.Create(10, 1.0));
    }
}

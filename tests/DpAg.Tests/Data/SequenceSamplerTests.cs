using DpAg.Data;

namespace DpAg.Tests.Data;

public sealed class SequenceSamplerTests
{
    [Fact]
    public void PushTWindowCountIsLMinus7PerEpisode()
    {
        int[] lengths = [20, 9, 8, 7, 3, 161];
        var buffer = PushTFixture.Make(lengths);
        var sampler = new SequenceSampler(buffer, 16, padBefore: 1, padAfter: 7);
        Assert.Equal(lengths.Sum(l => Math.Max(0, l - 7)), sampler.Count);
        for (int e = 0; e < lengths.Length; e++)
            Assert.Equal(Math.Max(0, lengths[e] - 7), Enumerable.Range(0, sampler.Count).Count(i => sampler[i].Episode == e));
    }

    [Fact]
    public void EdgeWindowsRepeatFirstAndLastFrame()
    {
        var buffer = PushTFixture.Make([5, 20]); // episode 1 = global steps 5..24
        var sampler = new SequenceSampler(buffer, 16, 1, 7, [false, true]);
        Assert.Equal(13, sampler.Count);
        var first = sampler.Sample("action", 0);
        var firstT = Enumerable.Range(0, 16).Select(p => first[2 * p]).ToArray();
        Assert.Equal(new float[] { 5, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19 }, firstT);
        Assert.All(Enumerable.Range(0, 16), p => Assert.Equal(1001f, first[2 * p + 1]));
        Assert.Equal(new SequenceWindow(5, 20, 1, 16, 1), sampler[0]);
        var last = sampler.Sample("action", 12); // idx = L - 9 = 11: steps 16..24 then 7 x 24
        var lastT = Enumerable.Range(0, 16).Select(p => last[2 * p]).ToArray();
        Assert.Equal(new float[] { 16, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 24, 24, 24, 24 }, lastT);
        Assert.Equal(new SequenceWindow(16, 25, 0, 9, 1), sampler[12]);
        var kp = sampler.Sample("keypoint", 0);
        Assert.Equal(16 * 18, kp.Length);
        Assert.Equal(5f + 3, kp[18 * 0 + 6]);
        Assert.Equal(-(5f + 3), kp[18 * 1 + 7]);
    }

    [Fact]
    public void WindowsMatchTheDefinitionForManyPaddings()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 40; trial++)
        {
            var lengths = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(1, 30)).ToArray();
            var buffer = PushTFixture.Make(lengths);
            int T = rng.Next(1, 20), before = rng.Next(-1, 25), after = rng.Next(-1, 25);
            var mask = lengths.Select(_ => rng.Next(4) > 0).ToArray();
            var sampler = new SequenceSampler(buffer, T, before, after, mask);
            int pb = Math.Clamp(before, 0, T - 1), pa = Math.Clamp(after, 0, T - 1);
            int w = 0;
            var ends = buffer.EpisodeEnds;
            for (int e = 0; e < lengths.Length; e++)
            {
                if (!mask[e]) continue;
                int start = e == 0 ? 0 : (int)ends[e - 1], L = lengths[e];
                for (int idx = -pb; idx <= L - T + pa; idx++, w++)
                {
                    var a = sampler.Sample("action", w);
                    for (int p = 0; p < T; p++) Assert.Equal(start + Math.Clamp(idx + p, 0, L - 1), (int)a[2 * p]);
                }
            }
            Assert.Equal(w, sampler.Count);
        }
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        var buffer = PushTFixture.Make([10]);
        Assert.Throws<ArgumentException>(() => new SequenceSampler(buffer, 0));
        Assert.Throws<ArgumentException>(() => new SequenceSampler(buffer, 16, 1, 7, [true, false]));
    }
}

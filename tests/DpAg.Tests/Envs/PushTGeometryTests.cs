using DpAg.Envs;

namespace DpAg.Tests.Envs;

public class PushTGeometryTests
{
    [Theory]
    [InlineData(256, 256, Math.PI / 4, 1.0)]
    [InlineData(266, 256, Math.PI / 4, 0.746499)]
    [InlineData(256, 256, Math.PI / 4 + 0.1, 0.834166)]
    [InlineData(256, 300, 0, 0.167002)]
    [InlineData(300, 300, Math.PI / 4, 0.275117)]
    public void CoverageCheckValues(double x, double y, double a, double expected) =>
        Assert.Equal(expected, PushTGeometry.Coverage(x, y, a), 6);

    [Fact]
    public void CoverageIsZeroFarAwayAndRewardClips()
    {
        Assert.Equal(0, PushTGeometry.Coverage(60, 60, 0));
        Assert.Equal(1.0, PushTGeometry.Reward(0.96));
        Assert.Equal(0.5 / 0.95, PushTGeometry.Reward(0.5), 12);
    }

    [Fact]
    public void ConvexClipMatchesClosedForm()
    {
        // Two axis-aligned unit-free squares overlapping in a 5 x 7 rectangle, in both orientations.
        (double, double)[] a = [(0, 0), (10, 0), (10, 10), (0, 10)];
        (double, double)[] b = [(5, 3), (5, 20), (20, 20), (20, 3)];
        var buf1 = new (double, double)[16];
        var buf2 = new (double, double)[16];
        Assert.Equal(35, PushTGeometry.ConvexIntersectionArea(a, b, buf1, buf2), 12);
        Assert.Equal(35, PushTGeometry.ConvexIntersectionArea(b, a, buf1, buf2), 12);
    }

    [Fact]
    public void KeypointsAreRotatedAndTranslated()
    {
        var kp = PushTGeometry.Keypoints(100, 200, Math.PI / 2);
        // R(pi/2) (x, y) = (-y, x).
        Assert.Equal(100 - 90.040974, kp[0], 9);
        Assert.Equal(200 + 9.269787, kp[1], 9);
        var kp0 = PushTGeometry.Keypoints(0, 0, 0);
        Assert.Equal(-14.064928, kp0[8], 12);
        Assert.Equal(122.815854, kp0[9], 12);
    }
}

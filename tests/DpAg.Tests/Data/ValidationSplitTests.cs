using DpAg.Data;

namespace DpAg.Tests.Data;

public sealed class ValidationSplitTests
{
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

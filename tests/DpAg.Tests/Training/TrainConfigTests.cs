using DpAg.Training;

namespace DpAg.Tests.Training;

public class TrainConfigTests
{
    [Fact]
    public void Defaults_are_the_diffusion_policy_recipe_and_valid()
    {
        var c = new TrainConfig().Validate();
        Assert.Equal(1e-4, c.LearningRate);
        Assert.Equal((0.95, 0.999), (c.Beta1, c.Beta2));
        Assert.Equal(1e-6, c.WeightDecay);
        Assert.Equal(500, c.WarmupSteps);
        Assert.Equal(LrScheduleKind.Cosine, c.LrSchedule);
        Assert.Equal((0.75, 0.9999), (c.EmaPower, c.EmaMaxValue));
    }

    [Theory]
    [InlineData("Steps")]
    [InlineData("BatchSize")]
    [InlineData("Beta1")]
    [InlineData("EmaMaxValue")]
    [InlineData("MaxGradNorm")]
    [InlineData("KeepLastCheckpoints")]
    public void Validate_names_the_bad_field(string field)
    {
        var c = new TrainConfig();
        c = field switch
        {
            "Steps" => c with { Epochs = 3 },
            "BatchSize" => c with { BatchSize = 0 },
            "Beta1" => c with { Beta1 = 1.0 },
            "EmaMaxValue" => c with { EmaMaxValue = 1.5 },
            "MaxGradNorm" => c with { MaxGradNorm = -1 },
            "KeepLastCheckpoints" => c with { KeepLastCheckpoints = 0 },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var ex = Assert.Throws<ArgumentException>(() => c.Validate());
        Assert.Contains("TrainConfig." + field, ex.Message);
        Assert.Equal(field, ex.ParamName);
    }

    [Fact]
    public void Json_round_trip_and_numeric_differences()
    {
        var c = new TrainConfig { Steps = null, Epochs = 5, MaxGradNorm = 1.0, LrSchedule = LrScheduleKind.Constant };
        var back = TrainConfig.FromJson(c.ToJson());
        Assert.Equal(c, back);
        Assert.Contains("\"Constant\"", c.ToJson());
        Assert.Empty(c.NumericDifferences(back with { RunDir = "elsewhere", CheckpointEvery = 7 }));
        Assert.Single(c.NumericDifferences(back with { Seed = 1 }), d => d.StartsWith("Seed"));
    }
}

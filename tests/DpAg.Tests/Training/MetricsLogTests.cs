using DpAg.Training;

namespace DpAg.Tests.Training;

public class MetricsLogTests
{
    private static MetricsRow Row(long step) =>
        new(step, 1.0 / (step + 1), 1e-4, 0.5, 0.9, new Dictionary<string, double> { ["mse"] = 0.1 * step, ["kl"] = 1e-3 });

    [Fact]
    public void Truncation_drops_rows_after_the_checkpoint_and_torn_lines()
    {
        var dir = ToyData.TempDir("metrics");
        using (var log = new MetricsLog(dir))
        {
            for (long s = 0; s < 6; s++) log.Append(Row(s));
            log.Flush();
        }
        // A process killed mid-write leaves a torn last line.
        File.AppendAllText(Path.Combine(dir, MetricsLog.CsvName), "6,0.14");
        File.AppendAllText(Path.Combine(dir, MetricsLog.JsonlName), "{\"step\":6,\"lo");
        using (var log = new MetricsLog(dir))
        {
            log.TruncateTo(4);
            log.Append(Row(4));
            log.Flush();
        }
        var rows = MetricsLog.ReadCsv(Path.Combine(dir, MetricsLog.CsvName));
        Assert.Equal([0.0, 1, 2, 3, 4], rows.Select(r => r["step"]));
        Assert.Equal(0.4, rows[4]["mse"], 15);
        Assert.Equal(1e-3, rows[4]["kl"]);
        var header = File.ReadLines(Path.Combine(dir, MetricsLog.CsvName)).First();
        Assert.Equal("step,loss,lr,grad_norm,ema_decay,mse,kl", header);
        var json = File.ReadAllLines(Path.Combine(dir, MetricsLog.JsonlName));
        Assert.Equal(5, json.Length);
        Assert.StartsWith("{\"step\":4,\"loss\":0.2,", json[4]);
    }

    [Fact]
    public void Values_are_written_round_trip_exact()
    {
        var dir = ToyData.TempDir("metrics-exact");
        double tricky = 0.1 + 0.2;
        using (var log = new MetricsLog(dir))
        {
            log.Append(new MetricsRow(0, tricky, 1.0 / 3, Math.PI, 0, new Dictionary<string, double>()));
            log.Flush();
        }
        var row = MetricsLog.ReadCsv(Path.Combine(dir, MetricsLog.CsvName)).Single();
        Assert.Equal(tricky, row["loss"]);
        Assert.Equal(1.0 / 3, row["lr"]);
        Assert.Equal(Math.PI, row["grad_norm"]);
    }
}

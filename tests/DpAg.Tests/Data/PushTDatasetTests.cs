using DpAg.Data;
using DpAg.Data.Zarr;
using TorchSharp;

namespace DpAg.Tests.Data;

public sealed class PushTDatasetTests
{
    [Fact]
    public void KeypointBatchHasReferenceShapesAndValues()
    {
        Torch.Init();
        var buffer = PushTFixture.Make([20, 12, 30]);
        var ds = PushTDataset.Create(buffer, new PushTDatasetConfig(ValRatio: 0, MaxTrainEpisodes: null));
        Assert.Equal(13 + 5 + 23, ds.Count);
        using var batch = ds.GetBatch([0, 14]);
        var obs = batch.Obs["obs"];
        Assert.Equal(new long[] { 2, 2, 20 }, obs.shape);
        Assert.Equal(new long[] { 2, 16, 2 }, batch.Action.shape);
        // Window 0 = episode 0, idx -1: obs steps (0, 0); window 14 = episode 1 (steps 20..31), idx 0: obs steps (20, 21).
        var raw = new double[20];
        for (int k = 0; k < 9; k++) { raw[2 * k] = 20 + k; raw[2 * k + 1] = -20 - k; }
        raw[18] = 20.5; raw[19] = 40;
        var expected = ds.Normalizer.Normalize("obs", raw);
        var got = obs[1, 0].data<float>().ToArray();
        for (int i = 0; i < 20; i++) Assert.Equal(expected[i], got[i], 5);
        var a = ds.Normalizer.Unnormalize("action", batch.Action).data<float>().ToArray();
        Assert.Equal(0f, a[0], 3);
        Assert.Equal(0f, a[2], 3); // padded first frame repeats step 0
        Assert.Equal(1f, a[4], 3);
        Assert.Equal(1000f, a[1], 2);
        Assert.Equal(20f, a[32], 3);
        Assert.Equal(1001f, a[33], 2);
        // Normalised data stays in [-1, 1] (normaliser fitted over all data).
        Assert.InRange(obs.abs().max().item<float>(), 0f, 1.0001f);
    }

    [Fact]
    public void ImageBatchIsChannelFirstInMinusOneOne()
    {
        Torch.Init();
        var buffer = PushTFixture.Make([10, 9], images: true);
        var ds = PushTDataset.Create(buffer, new PushTDatasetConfig(Observation: PushTObservation.Image, ValRatio: 0, MaxTrainEpisodes: null));
        Assert.Equal(3 + 2, ds.Count);
        using var batch = ds.GetBatch([4]); // windows 3, 4 = episode 1 (steps 10..18) at idx -1, 0; idx 0 -> obs steps 10, 11
        var img = batch.Obs["image"];
        Assert.Equal(new long[] { 1, 2, 3, 96, 96 }, img.shape);
        Assert.Equal(new long[] { 1, 2, 2 }, batch.Obs["agent_pos"].shape);
        int t = 11, p = 5 * 96 + 7, c = 2;
        float raw = (t * 7 + p + 50 * c) % 256;
        Assert.Equal(raw / 255f * 2 - 1, img[0, 1, c, 5, 7].item<float>(), 5);
        var pos = ds.Normalizer.Unnormalize("agent_pos", batch.Obs["agent_pos"]).data<float>().ToArray();
        Assert.Equal(10.5f, pos[0], 3);
        Assert.Equal(22f, pos[3], 3);
        Assert.Equal(["action", "agent_pos", "image"], ds.Normalizer.Keys);
    }

    [Fact]
    public void ReferenceSplitOn206EpisodesAndWindowCounts()
    {
        var rng = new Random(1);
        var lengths = Enumerable.Range(0, 206).Select(_ => rng.Next(9, 20)).ToArray();
        var ds = PushTDataset.Create(PushTFixture.Make(lengths));
        Assert.Equal(new[] { 18, 90, 134, 157 }, ds.Split.ValidationEpisodes);
        Assert.Equal(90, ds.Split.TrainEpisodes.Length);
        Assert.Equal(ds.Split.TrainEpisodes.Sum(e => lengths[e] - 7), ds.Count);
        var val = ds.GetValidationDataset();
        Assert.True(val.IsValidation);
        Assert.Equal(new[] { 18, 90, 134, 157 }.Sum(e => lengths[e] - 7), val.Count);
        Assert.Same(ds.Normalizer, val.Normalizer);
        Assert.Equal(116, Enumerable.Range(0, ds.GetValidationDataset(referenceMask: true).Count).Select(i => ds.GetValidationDataset(true).Sampler[i].Episode).Distinct().Count());
    }

    [Fact]
    public void EpochOrderIsDeterministicAndCoversEveryWindow()
    {
        Torch.Init();
        var ds = PushTDataset.Create(PushTFixture.Make([20, 15, 11]), new PushTDatasetConfig(ValRatio: 0, MaxTrainEpisodes: null));
        Assert.Equal(ds.EpochOrder(3), ds.EpochOrder(3));
        Assert.NotEqual(ds.EpochOrder(3), ds.EpochOrder(4));
        Assert.Equal(Enumerable.Range(0, ds.Count), ds.EpochOrder(0).Order());
        var seen = new List<int>();
        int batches = 0;
        foreach (var b in ds.Batches(7, epoch: 1))
            using (b) { seen.AddRange(b.Indices); batches++; Assert.Equal(b.Indices.Length, (int)b.Action.shape[0]); }
        Assert.Equal(ds.EpochOrder(1), seen);
        Assert.Equal((ds.Count + 6) / 7, batches);
        Assert.Equal(ds.Count / 7, ds.Batches(7, dropLast: true).Select(b => { b.Dispose(); return 1; }).Count());
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        Assert.Contains("Horizon", Assert.Throws<ArgumentException>(() => new PushTDatasetConfig(Horizon: 0).Validate()).Message);
        Assert.Contains("NObsSteps", Assert.Throws<ArgumentException>(() => new PushTDatasetConfig(NObsSteps: 17).Validate()).Message);
        Assert.Contains("ValRatio", Assert.Throws<ArgumentException>(() => new PushTDatasetConfig(ValRatio: 1).Validate()).Message);
        var cfg = new PushTDatasetConfig();
        Assert.Equal(1, cfg.PadBefore);
        Assert.Equal(7, cfg.PadAfter);
        var noKeypoint = ReplayBuffer.CreateEmpty();
        noKeypoint.AddEpisode(new Dictionary<string, ZarrArray> { ["action"] = ZarrArray.Create(new float[20], 10, 2), ["state"] = ZarrArray.Create(new float[50], 10, 5) });
        Assert.Contains("needs data/keypoint", Assert.Throws<DatasetFormatException>(() => PushTDataset.Create(noKeypoint)).Message);
    }
}

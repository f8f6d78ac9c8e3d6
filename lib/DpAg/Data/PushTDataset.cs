using DpAg.Numpy;
using TorchSharp;
using static TorchSharp.torch;

namespace DpAg.Data;

/// <summary>Which observation a <see cref="PushTDataset"/> yields.</summary>
public enum PushTObservation
{
    /// <summary>"obs" (B, To, 20): the 9 block keypoints flattened (18) + agent position state[:2] (2).</summary>
    Keypoint,
    /// <summary>"image" (B, To, 3, 96, 96) in [-1, 1] and "agent_pos" (B, To, 2).</summary>
    Image,
}

/// <summary>
/// Push-T dataset settings; defaults are the reference configs (docs/pusht.md "Windows" and "Split"): horizon 16,
/// 2 obs steps, 8 action steps, val_ratio 0.02, max_train_episodes 90, seed 42.
/// </summary>
/// <param name="Observation">Keypoint (low-dim) or image observations.</param>
/// <param name="Horizon">Window length T (reference 16).</param>
/// <param name="NObsSteps">To (reference 2); pad_before = To - 1.</param>
/// <param name="NActionSteps">Executed actions Ta (reference 8); pad_after = Ta - 1.</param>
/// <param name="ValRatio">Validation episode fraction (reference 0.02).</param>
/// <param name="MaxTrainEpisodes">Training episode cap (reference 90), null = all non-validation episodes.</param>
/// <param name="Seed">Split seed (reference 42); batch order uses it too.</param>
public sealed record PushTDatasetConfig(
    PushTObservation Observation = PushTObservation.Keypoint,
    int Horizon = 16,
    int NObsSteps = 2,
    int NActionSteps = 8,
    double ValRatio = 0.02,
    int? MaxTrainEpisodes = 90,
    int Seed = 42)
{
    /// <summary>pad_before = NObsSteps - 1.</summary>
    public int PadBefore => NObsSteps - 1;

    /// <summary>pad_after = NActionSteps - 1.</summary>
    public int PadAfter => NActionSteps - 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the fix.</summary>
    public void Validate()
    {
        if (Horizon < 1) throw new ArgumentException($"Horizon = {Horizon}; must be >= 1 (reference 16).", nameof(Horizon));
        if (NObsSteps < 1 || NObsSteps > Horizon) throw new ArgumentException($"NObsSteps = {NObsSteps}; must be in 1..Horizon ({Horizon}) (reference 2).", nameof(NObsSteps));
        if (NActionSteps < 1 || NActionSteps > Horizon) throw new ArgumentException($"NActionSteps = {NActionSteps}; must be in 1..Horizon ({Horizon}) (reference 8).", nameof(NActionSteps));
        if (double.IsNaN(ValRatio) || ValRatio < 0 || ValRatio >= 1) throw new ArgumentException($"ValRatio = {ValRatio}; must be in [0, 1) (reference 0.02).", nameof(ValRatio));
        if (MaxTrainEpisodes is < 1) throw new ArgumentException($"MaxTrainEpisodes = {MaxTrainEpisodes}; must be >= 1 or null (reference 90).", nameof(MaxTrainEpisodes));
        if (Seed < 0) throw new ArgumentException($"Seed = {Seed}; must be >= 0 (numpy seeds are non-negative).", nameof(Seed));
        if (!Enum.IsDefined(Observation)) throw new ArgumentException($"Observation = {Observation}; use Keypoint or Image.", nameof(Observation));
    }
}

/// <summary>A batch of normalised Push-T training data; disposing it disposes the tensors.</summary>
public sealed class PushTBatch : IDisposable
{
    internal PushTBatch(Dictionary<string, Tensor> obs, Tensor action, int[] indices)
    {
        Obs = obs;
        Action = action;
        Indices = indices;
    }

    /// <summary>Observations: "obs" (B, To, 20) or "image" (B, To, 3, 96, 96) + "agent_pos" (B, To, 2), normalised.</summary>
    public IReadOnlyDictionary<string, Tensor> Obs { get; }

    /// <summary>Actions (B, T, 2), normalised.</summary>
    public Tensor Action { get; }

    /// <summary>Window indices the batch was built from.</summary>
    public int[] Indices { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in Obs.Values) t.Dispose();
        Action.Dispose();
    }
}

/// <summary>
/// The Push-T training set: <see cref="ReplayBuffer"/> + <see cref="SequenceSampler"/> over the training episodes of
/// the reference <see cref="ValidationSplit"/> + a <see cref="LinearNormalizer"/> fitted over all episodes
/// ("obs"/"agent_pos" and "action" min-max to [-1, 1]; "image" [0, 1] -> [-1, 1]). Mirrors the reference
/// PushTLowdimDataset / PushTImageDataset, except that it returns only the To observation steps the policy uses
/// (the reference returns T and the policy slices [:To]) and returns data already normalised.
/// </summary>
public sealed class PushTDataset
{
    /// <summary>Keypoint observation width: 9 keypoints x 2 + agent position 2.</summary>
    public const int KeypointObsDim = 20;

    /// <summary>Image side in pixels.</summary>
    public const int ImageSize = 96;

    private PushTDataset(ReplayBuffer buffer, PushTDatasetConfig config, ValidationSplit split, LinearNormalizer normalizer, bool[] mask, bool isValidation)
    {
        Buffer = buffer;
        Config = config;
        Split = split;
        Normalizer = normalizer;
        IsValidation = isValidation;
        Sampler = new SequenceSampler(buffer, config.Horizon, config.PadBefore, config.PadAfter, mask);
    }

    /// <summary>Builds the training dataset (windows of <see cref="ValidationSplit.TrainMask"/>) over a buffer validated against the Push-T layout.</summary>
    public static PushTDataset Create(ReplayBuffer buffer, PushTDatasetConfig? config = null)
    {
        config ??= new PushTDatasetConfig();
        Checked(buffer, config);
        var split = MakeSplit(buffer, config);
        return new PushTDataset(buffer, config, split, FitNormalizer(buffer, config), split.TrainMask, false);
    }

    /// <summary>Opens a Push-T zarr store, loading only the keys the observation mode needs.</summary>
    public static PushTDataset Open(string zarrPath, PushTDatasetConfig? config = null)
    {
        config ??= new PushTDatasetConfig();
        config.Validate();
        var keys = config.Observation == PushTObservation.Keypoint ? new[] { "keypoint", "state", "action" } : ["img", "state", "action"];
        return Create(ReplayBuffer.Open(zarrPath, keys), config);
    }

    /// <summary>The replay buffer.</summary>
    public ReplayBuffer Buffer { get; }

    /// <summary>The settings.</summary>
    public PushTDatasetConfig Config { get; }

    /// <summary>The train/validation episode split.</summary>
    public ValidationSplit Split { get; }

    /// <summary>Normaliser fitted over all episodes (shared by the validation dataset).</summary>
    public LinearNormalizer Normalizer { get; }

    /// <summary>Windows of this dataset's episodes.</summary>
    public SequenceSampler Sampler { get; }

    /// <summary>True for a dataset made by <see cref="GetValidationDataset"/>.</summary>
    public bool IsValidation { get; }

    /// <summary>Number of windows.</summary>
    public int Count => Sampler.Count;

    /// <summary>
    /// The validation dataset. By default over <see cref="ValidationSplit.ValidationMask"/> (Push-T: episodes 18, 90,
    /// 134, 157); <paramref name="referenceMask"/> = true uses the reference's <c>~train_mask</c> instead.
    /// </summary>
    public PushTDataset GetValidationDataset(bool referenceMask = false) =>
        new(Buffer, Config, Split, Normalizer, referenceMask ? Split.ReferenceValidationDatasetMask : Split.ValidationMask, true);

    private static ReplayBuffer Checked(ReplayBuffer buffer, PushTDatasetConfig config)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        config.Validate();
        void Need(string key, int[] step)
        {
            if (!buffer.ContainsKey(key))
                throw new DatasetFormatException($"Push-T {config.Observation} dataset needs data/{key} (N, {string.Join(", ", step)}); buffer keys: {string.Join(", ", buffer.Keys)}.", null, "data/" + key);
            var actual = buffer.StepShape(key);
            bool ok = key == "state" ? actual.Length == 1 && actual[0] >= 2 : actual.AsSpan().SequenceEqual(step);
            if (!ok)
                throw new DatasetFormatException($"data/{key} has shape (N, {string.Join(", ", actual)}); Push-T expects (N, {string.Join(", ", step)}).", null, "data/" + key);
        }
        Need("action", [2]);
        Need("state", [5]);
        if (config.Observation == PushTObservation.Keypoint) Need("keypoint", [9, 2]);
        else Need("img", [ImageSize, ImageSize, 3]);
        return buffer;
    }

    private static ValidationSplit MakeSplit(ReplayBuffer buffer, PushTDatasetConfig config) =>
        ValidationSplit.Create(buffer.EpisodeCount, config.ValRatio, config.Seed, config.MaxTrainEpisodes);

    /// <summary>Fits the reference normaliser over all steps of the buffer.</summary>
    public static LinearNormalizer FitNormalizer(ReplayBuffer buffer, PushTDatasetConfig config)
    {
        var n = new LinearNormalizer();
        if (buffer.StepCount == 0) throw new DatasetFormatException("cannot fit a normaliser on an empty replay buffer (0 steps).");
        n["action"] = NormalizerField.FitLimits(buffer.GetFloat("action"), 2);
        var state = buffer.GetFloat("state");
        int stateDim = state.Length / buffer.StepCount;
        if (config.Observation == PushTObservation.Keypoint)
        {
            var kp = buffer.GetFloat("keypoint");
            var obs = new float[buffer.StepCount * KeypointObsDim];
            for (int i = 0; i < buffer.StepCount; i++)
            {
                kp.AsSpan(i * 18, 18).CopyTo(obs.AsSpan(i * KeypointObsDim));
                obs[i * KeypointObsDim + 18] = state[i * stateDim];
                obs[i * KeypointObsDim + 19] = state[i * stateDim + 1];
            }
            n["obs"] = NormalizerField.FitLimits(obs, KeypointObsDim);
        }
        else
        {
            var pos = new float[buffer.StepCount * 2];
            for (int i = 0; i < buffer.StepCount; i++)
            {
                pos[2 * i] = state[i * stateDim];
                pos[2 * i + 1] = state[i * stateDim + 1];
            }
            n["agent_pos"] = NormalizerField.FitLimits(pos, 2);
            n["image"] = NormalizerField.ImageRange();
        }
        return n;
    }

    /// <summary>Builds the normalised batch of windows <paramref name="indices"/> on <paramref name="device"/> (CPU by default).</summary>
    public PushTBatch GetBatch(IReadOnlyList<int> indices, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (var i in indices)
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"window {i} outside 0..{Count - 1}.");
        int b = indices.Count, t = Config.Horizon, to = Config.NObsSteps;
        device ??= CPU;
        var action = new float[b * t * 2];
        for (int k = 0; k < b; k++) Sampler.SampleInto("action", indices[k], action.AsSpan(k * t * 2, t * 2));
        NormalizeInPlace(action, Normalizer["action"]);
        var state = new float[to * Buffer.StepShape("state")[0]];
        int sd = state.Length / to;
        var obs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = torch.NewDisposeScope();
        if (Config.Observation == PushTObservation.Keypoint)
        {
            var o = new float[b * to * KeypointObsDim];
            var kp = new float[to * 18];
            for (int k = 0; k < b; k++)
            {
                Sampler.SampleInto("keypoint", indices[k], kp, to);
                Sampler.SampleInto("state", indices[k], state, to);
                for (int s = 0; s < to; s++)
                {
                    var dst = o.AsSpan((k * to + s) * KeypointObsDim, KeypointObsDim);
                    kp.AsSpan(s * 18, 18).CopyTo(dst);
                    dst[18] = state[s * sd];
                    dst[19] = state[s * sd + 1];
                }
            }
            NormalizeInPlace(o, Normalizer["obs"]);
            obs["obs"] = torch.tensor(o, [b, to, KeypointObsDim], device: device).MoveToOuterDisposeScope();
        }
        else
        {
            const int pixels = ImageSize * ImageSize;
            var img = new float[b * to * 3 * pixels];
            var pos = new float[b * to * 2];
            var frame = new float[to * pixels * 3];
            var imageField = Normalizer["image"];
            for (int k = 0; k < b; k++)
            {
                Sampler.SampleInto("img", indices[k], frame, to);
                Sampler.SampleInto("state", indices[k], state, to);
                for (int s = 0; s < to; s++)
                {
                    // (H, W, 3) 0..255 -> (3, H, W) 0..1 -> normalised.
                    var src = frame.AsSpan(s * pixels * 3, pixels * 3);
                    var dst = img.AsSpan((k * to + s) * 3 * pixels, 3 * pixels);
                    for (int p = 0; p < pixels; p++)
                        for (int c = 0; c < 3; c++)
                            dst[c * pixels + p] = src[p * 3 + c] / 255f * imageField.Scale[0] + imageField.Offset[0];
                    pos[(k * to + s) * 2] = state[s * sd];
                    pos[(k * to + s) * 2 + 1] = state[s * sd + 1];
                }
            }
            NormalizeInPlace(pos, Normalizer["agent_pos"]);
            obs["image"] = torch.tensor(img, [b, to, 3, ImageSize, ImageSize], device: device).MoveToOuterDisposeScope();
            obs["agent_pos"] = torch.tensor(pos, [b, to, 2], device: device).MoveToOuterDisposeScope();
        }
        var actionTensor = torch.tensor(action, [b, t, 2], device: device).MoveToOuterDisposeScope();
        return new PushTBatch(obs, actionTensor, indices.ToArray());
    }

    /// <summary>
    /// Window order for epoch <paramref name="epoch"/>: <c>np.random.default_rng(seed + epoch).permutation(Count)</c>
    /// when shuffling, else 0..Count-1. Deterministic for a given seed.
    /// </summary>
    public int[] EpochOrder(int epoch, bool shuffle = true)
    {
        if (!shuffle) return Enumerable.Range(0, Count).ToArray();
        return new NumpyGenerator((long)Config.Seed + epoch).Permutation(Count).Select(x => (int)x).ToArray();
    }

    /// <summary>Batches of one epoch in <see cref="EpochOrder"/>; the caller disposes each batch.</summary>
    public IEnumerable<PushTBatch> Batches(int batchSize, int epoch = 0, bool shuffle = true, bool dropLast = false, Device? device = null)
    {
        if (batchSize < 1) throw new ArgumentException($"batchSize = {batchSize}; must be >= 1 (reference low-dim 256, image 64).", nameof(batchSize));
        var order = EpochOrder(epoch, shuffle);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int n = Math.Min(batchSize, order.Length - start);
            if (n < batchSize && dropLast) yield break;
            yield return GetBatch(order.AsSpan(start, n).ToArray(), device);
        }
    }

    private static void NormalizeInPlace(Span<float> data, NormalizerField field)
    {
        int d = field.Dimension;
        for (int i = 0; i < data.Length; i++) data[i] = data[i] * field.Scale[i % d] + field.Offset[i % d];
    }
}

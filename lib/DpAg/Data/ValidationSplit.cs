using DpAg.Numpy;

namespace DpAg.Data;

/// <summary>
/// The reference train/validation episode split (diffusion_policy/common/sampler.py <c>get_val_mask</c> and
/// <c>downsample_mask</c>), reproduced bit for bit with numpy's <c>default_rng(seed)</c> (PCG64) and
/// <c>Generator.choice(replace=False)</c>. Push-T (206 episodes, seed 42, val_ratio 0.02, max_train_episodes 90)
/// gives validation [18, 90, 134, 157] and the 90 training episodes listed in docs/pusht.md.
/// </summary>
public sealed class ValidationSplit
{
    private ValidationSplit(bool[] validation, bool[] train)
    {
        ValidationMask = validation;
        TrainMask = train;
    }

    /// <summary>Episodes chosen by <c>get_val_mask</c>.</summary>
    public bool[] ValidationMask { get; }

    /// <summary>Training episodes: not validation, then down-sampled to at most max_train_episodes.</summary>
    public bool[] TrainMask { get; }

    /// <summary>
    /// The mask the reference's <c>get_validation_dataset()</c> actually uses: <c>~train_mask</c> (so with
    /// max_train_episodes set it also holds the training episodes dropped by down-sampling).
    /// </summary>
    public bool[] ReferenceValidationDatasetMask => TrainMask.Select(t => !t).ToArray();

    /// <summary>Indices of <see cref="ValidationMask"/>, ascending.</summary>
    public int[] ValidationEpisodes => Indices(ValidationMask);

    /// <summary>Indices of <see cref="TrainMask"/>, ascending.</summary>
    public int[] TrainEpisodes => Indices(TrainMask);

    /// <summary>Computes the split.</summary>
    /// <param name="episodes">Number of episodes (206 for Push-T).</param>
    /// <param name="valRatio">Validation fraction (reference Push-T config: 0.02).</param>
    /// <param name="seed">Seed (reference: 42), used for both draws.</param>
    /// <param name="maxTrainEpisodes">Cap on training episodes (reference Push-T: 90), null = no cap.</param>
    public static ValidationSplit Create(int episodes, double valRatio = 0.02, int seed = 42, int? maxTrainEpisodes = 90)
    {
        if (episodes < 0) throw new ArgumentException($"episodes = {episodes}; must be >= 0.", nameof(episodes));
        if (double.IsNaN(valRatio) || valRatio >= 1) throw new ArgumentException($"valRatio = {valRatio}; must be < 1 (0 for no validation).", nameof(valRatio));
        if (seed < 0) throw new ArgumentException($"seed = {seed}; numpy seeds must be >= 0.", nameof(seed));
        if (maxTrainEpisodes is < 0) throw new ArgumentException($"maxTrainEpisodes = {maxTrainEpisodes}; must be >= 0 or null.", nameof(maxTrainEpisodes));
        var val = GetValMask(episodes, valRatio, seed);
        var train = DownsampleMask(val.Select(v => !v).ToArray(), maxTrainEpisodes, seed);
        return new ValidationSplit(val, train);
    }

    /// <summary><c>get_val_mask</c>: n_val = min(max(1, round(n * ratio)), n - 1) episodes by <c>choice(n, n_val, replace=False)</c>.</summary>
    public static bool[] GetValMask(int episodes, double valRatio, int seed)
    {
        var mask = new bool[episodes];
        if (valRatio <= 0) return mask;
        int nVal = (int)Math.Min(Math.Max(1, Math.Round(episodes * valRatio, MidpointRounding.ToEven)), episodes - 1);
        if (nVal <= 0) return mask;
        var rng = new NumpyGenerator(seed);
        foreach (var i in rng.ChoiceWithoutReplacement(episodes, nVal)) mask[i] = true;
        return mask;
    }

    /// <summary><c>downsample_mask</c>: keeps <paramref name="maxN"/> of the true entries, chosen with a fresh <c>default_rng(seed)</c>.</summary>
    public static bool[] DownsampleMask(bool[] mask, int? maxN, int seed)
    {
        var current = Indices(mask);
        if (maxN is not { } max || current.Length <= max) return (bool[])mask.Clone();
        var rng = new NumpyGenerator(seed);
        var result = new bool[mask.Length];
        foreach (var i in rng.ChoiceWithoutReplacement(current.Length, max)) result[current[i]] = true;
        return result;
    }

    private static int[] Indices(bool[] mask) => Enumerable.Range(0, mask.Length).Where(i => mask[i]).ToArray();
}

using DpAg.Data.Zarr;

namespace DpAg.Data;

/// <summary>
/// Episodes stored back to back, as in the reference <c>ReplayBuffer</c> (diffusion_policy/common/replay_buffer.py):
/// a zarr group with <c>data/&lt;key&gt;</c> arrays of shape (N, ...) sharing the time axis and
/// <c>meta/episode_ends</c> (E,) int64 holding the exclusive cumulative end of each episode. Push-T keys: img
/// (N,96,96,3), state (N,5), action (N,2), keypoint (N,9,2), n_contacts (N,1). Only <c>action</c> and
/// <c>episode_ends</c> are required. Held fully in memory (like <c>copy_from_path</c>).
/// </summary>
public sealed class ReplayBuffer
{
    private readonly Dictionary<string, Column> _columns = new(StringComparer.Ordinal);
    private readonly List<long> _episodeEnds = [];

    /// <summary>The key that must always be present.</summary>
    public const string ActionKey = "action";

    private ReplayBuffer()
    {
    }

    /// <summary>An empty buffer; add episodes with <see cref="AddEpisode"/>.</summary>
    public static ReplayBuffer CreateEmpty() => new();

    /// <summary>Data keys (without the <c>data/</c> prefix), sorted ordinally.</summary>
    public IReadOnlyList<string> Keys => _columns.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();

    /// <summary>Number of episodes (E).</summary>
    public int EpisodeCount => _episodeEnds.Count;

    /// <summary>Number of steps over all episodes (N = episode_ends[-1]).</summary>
    public int StepCount => _episodeEnds.Count == 0 ? 0 : (int)_episodeEnds[^1];

    /// <summary>A copy of <c>meta/episode_ends</c> (exclusive cumulative ends).</summary>
    public long[] EpisodeEnds => _episodeEnds.ToArray();

    /// <summary>True when data key <paramref name="key"/> exists.</summary>
    public bool ContainsKey(string key) => _columns.ContainsKey(key);

    /// <summary>Steps [Start, End) of episode <paramref name="episode"/>.</summary>
    public (int Start, int End) EpisodeBounds(int episode)
    {
        if ((uint)episode >= (uint)_episodeEnds.Count) throw new ArgumentOutOfRangeException(nameof(episode), $"episode {episode} outside 0..{_episodeEnds.Count - 1}.");
        return (episode == 0 ? 0 : (int)_episodeEnds[episode - 1], (int)_episodeEnds[episode]);
    }

    /// <summary>Length of episode <paramref name="episode"/>.</summary>
    public int EpisodeLength(int episode)
    {
        var (s, e) = EpisodeBounds(episode);
        return e - s;
    }

    /// <summary>The whole array of data key <paramref name="key"/>, shape (N, ...).</summary>
    public ZarrArray this[string key] => Get(key).Merged();

    /// <summary>Shape of one step of <paramref name="key"/> (e.g. [9, 2] for keypoint).</summary>
    public int[] StepShape(string key) => (int[])Get(key).StepShape.Clone();

    /// <summary>The data of <paramref name="key"/> as float32 (N x step size, C order); cached, do not modify.</summary>
    public float[] GetFloat(string key)
    {
        var column = Get(key);
        return column.FloatCache ??= column.Merged().Data is float[] f ? f : column.Merged().ToFloat();
    }

    private Column Get(string key) =>
        _columns.TryGetValue(key, out var c) ? c : throw new KeyNotFoundException($"replay buffer has no data key '{key}'; keys: {string.Join(", ", Keys)}.");

    /// <summary>
    /// Opens a zarr directory store laid out like the reference Push-T replay buffer and validates it (see
    /// <see cref="Validate"/>). <paramref name="keys"/> selects data keys to load (null = all; <c>action</c> is always loaded).
    /// </summary>
    public static ReplayBuffer Open(string path, IEnumerable<string>? keys = null)
    {
        if (!Directory.Exists(path))
            throw new DatasetFormatException($"{path}: replay buffer folder not found; expected a zarr v2 directory store with data/ and meta/episode_ends.", path);
        var metaFile = Path.Combine(path, "meta", "episode_ends", ".zarray");
        if (!File.Exists(metaFile))
            throw new DatasetFormatException($"{metaFile}: missing; a replay buffer needs meta/episode_ends (E,) int64.", metaFile, "meta/episode_ends");
        var buffer = new ReplayBuffer();
        var ends = ZarrStore.ReadArray(path, "meta/episode_ends");
        if (ends.Rank != 1 || ends.DataType.Kind is not ('i' or 'u'))
            throw new DatasetFormatException($"{metaFile}: meta/episode_ends is {ends.DataType} [{string.Join(", ", ends.Shape)}]; expected a 1-D integer array (E,) int64.", metaFile, "meta/episode_ends");
        var endsData = new long[ends.Length];
        for (int i = 0; i < endsData.Length; i++)
        {
            var value = ends.Data.GetValue(i)!;
            if (value is ulong u && u > long.MaxValue)
                throw new DatasetFormatException($"{metaFile}: meta/episode_ends[{i}] = {u} does not fit in int64.", metaFile, "meta/episode_ends");
            endsData[i] = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
        }
        var available = ZarrStore.ListArrays(path, "data");
        var wanted = keys is null ? available.ToList() : keys.Append(ActionKey).Distinct().ToList();
        foreach (var key in wanted)
        {
            if (!available.Contains(key))
            {
                var file = Path.Combine(path, "data", key, ".zarray");
                throw new DatasetFormatException($"{file}: missing; expected array data/{key} (available: {string.Join(", ", available)}).", file, "data/" + key);
            }
            var array = ZarrStore.ReadArray(path, "data/" + key);
            if (array.Rank < 1)
                throw new DatasetFormatException($"{Path.Combine(path, "data", key, ".zarray")}: data/{key} is 0-dimensional; expected (N, ...).", path, "data/" + key);
            buffer._columns[key] = new Column(array.DataType, array.Shape[1..], [array]);
        }
        buffer._episodeEnds.AddRange(endsData);
        buffer.Validate(path);
        return buffer;
    }

    /// <summary>
    /// Checks the invariants: <c>action</c> present; episode_ends positive and strictly increasing; every data key
    /// has exactly episode_ends[-1] steps; float data finite. Throws <see cref="DatasetFormatException"/> naming the
    /// store, key and expectation.
    /// </summary>
    public void Validate(string? source = null)
    {
        string where = source is null ? "replay buffer" : source;
        if (!_columns.ContainsKey(ActionKey))
            throw new DatasetFormatException($"{where}: data/action is missing; every replay buffer needs actions (N, Da).", source, "data/action");
        long previous = 0;
        for (int i = 0; i < _episodeEnds.Count; i++)
        {
            long end = _episodeEnds[i];
            if (end <= previous)
                throw new DatasetFormatException(
                    $"{where}: meta/episode_ends must be strictly increasing and positive: episode_ends[{i}] = {end} after {(i == 0 ? "start 0" : $"episode_ends[{i - 1}] = {previous}")}.",
                    source, "meta/episode_ends");
            previous = end;
        }
        if (previous > int.MaxValue)
            throw new DatasetFormatException($"{where}: meta/episode_ends[-1] = {previous} exceeds 2^31 steps.", source, "meta/episode_ends");
        foreach (var (key, column) in _columns)
        {
            long n = column.Length;
            if (n < previous)
                throw new DatasetFormatException($"{where}: meta/episode_ends[-1] = {previous} overruns data/{key}, which has {n} steps; expected equal lengths.", source, "data/" + key);
            if (n > previous)
                throw new DatasetFormatException($"{where}: data/{key} has {n} steps but meta/episode_ends[-1] = {previous}; expected equal lengths (mismatched or missing episodes).", source, "data/" + key);
            CheckFinite(column.Merged(), key, source, where);
        }
    }

    private static void CheckFinite(ZarrArray array, string key, string? source, string where)
    {
        long bad = -1;
        switch (array.Data)
        {
            case float[] f:
                for (long i = 0; i < f.LongLength; i++) if (!float.IsFinite(f[i])) { bad = i; break; }
                break;
            case double[] d:
                for (long i = 0; i < d.LongLength; i++) if (!double.IsFinite(d[i])) { bad = i; break; }
                break;
        }
        if (bad < 0) return;
        int row = array.RowSize;
        double value = array.Data is float[] ff ? ff[bad] : ((double[])array.Data)[bad];
        throw new DatasetFormatException(
            $"{where}: data/{key} holds {value} at step {bad / row} (flat element {bad}); expected finite values (no NaN or infinity).",
            source, "data/" + key);
    }

    /// <summary>
    /// Appends one episode: every existing data key must be given (the first episode defines the keys), all with
    /// the same length L >= 1 along the first axis and the same step shapes and dtypes as before; floats must be finite.
    /// </summary>
    public void AddEpisode(IReadOnlyDictionary<string, ZarrArray> episode)
    {
        ArgumentNullException.ThrowIfNull(episode);
        if (!episode.ContainsKey(ActionKey)) throw new ArgumentException("episode has no 'action' key; every episode needs actions (L, Da).", nameof(episode));
        if (_columns.Count > 0)
        {
            var missing = _columns.Keys.Except(episode.Keys).ToList();
            var extra = episode.Keys.Except(_columns.Keys).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new ArgumentException($"episode keys differ from the buffer's: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}].", nameof(episode));
        }
        int length = -1;
        foreach (var (key, array) in episode)
        {
            if (array.Rank < 1) throw new ArgumentException($"episode key '{key}' is 0-dimensional; expected (L, ...).", nameof(episode));
            if (length < 0) length = array.Shape[0];
            if (array.Shape[0] != length)
                throw new ArgumentException($"episode key '{key}' has {array.Shape[0]} steps, others have {length}; all keys need the same length.", nameof(episode));
            if (_columns.TryGetValue(key, out var column))
            {
                if (!column.StepShape.AsSpan().SequenceEqual(array.Shape.AsSpan(1)) || column.DataType != array.DataType)
                    throw new ArgumentException($"episode key '{key}' is {array.DataType} [L, {string.Join(", ", array.Shape[1..])}]; the buffer holds {column.DataType} [N, {string.Join(", ", column.StepShape)}].", nameof(episode));
            }
            try { CheckFinite(array, key, null, "episode"); }
            catch (DatasetFormatException e) { throw new ArgumentException(e.Message, nameof(episode), e); }
        }
        if (length < 1) throw new ArgumentException("episode has 0 steps; episodes need at least one step.", nameof(episode));
        foreach (var (key, array) in episode)
        {
            if (!_columns.TryGetValue(key, out var column))
                _columns[key] = column = new Column(array.DataType, array.Shape[1..], []);
            column.Append(array);
        }
        _episodeEnds.Add(StepCount + (long)length);
    }

    /// <summary>The arrays of episode <paramref name="episode"/> (copies), keyed like the data group.</summary>
    public Dictionary<string, ZarrArray> GetEpisode(int episode)
    {
        var (start, end) = EpisodeBounds(episode);
        var result = new Dictionary<string, ZarrArray>(StringComparer.Ordinal);
        foreach (var (key, column) in _columns) result[key] = column.Slice(start, end);
        return result;
    }

    /// <summary>
    /// Writes the buffer as a zarr v2 directory store (root, data and meta groups; data chunked along time only),
    /// atomically: everything goes to a temporary sibling folder which then replaces <paramref name="path"/>.
    /// </summary>
    /// <param name="path">Target folder (e.g. <c>pusht_cchi_v7_replay.zarr</c>); replaced if it exists.</param>
    /// <param name="compressor">Compressor for every array; null = <see cref="ZarrCompressor.Default"/> (Blosc lz4 clevel 5, no shuffle).</param>
    /// <param name="chunkSteps">Steps per chunk for data arrays; null = about 1 MiB per chunk.</param>
    public void Save(string path, ZarrCompressor? compressor = null, int? chunkSteps = null)
    {
        Validate();
        if (chunkSteps is <= 0) throw new ArgumentException($"chunkSteps = {chunkSteps}; must be positive.", nameof(chunkSteps));
        compressor ??= ZarrCompressor.Default;
        DpAg.IO.AtomicFile.WriteDirectory(path, temp =>
        {
            ZarrStore.CreateGroup(temp);
            ZarrStore.CreateGroup(temp, "data");
            ZarrStore.CreateGroup(temp, "meta");
            foreach (var key in Keys)
            {
                var array = this[key];
                var chunks = ZarrStore.DefaultChunks(array.Shape, array.DataType.ItemSize);
                if (chunkSteps is { } cs && chunks.Length > 0) chunks[0] = Math.Max(1, Math.Min(cs, Math.Max(1, array.Shape[0])));
                ZarrStore.WriteArray(temp, "data/" + key, array, chunks, compressor);
            }
            var ends = ZarrArray.Create(_episodeEnds.ToArray(), _episodeEnds.Count);
            ZarrStore.WriteArray(temp, "meta/episode_ends", ends, [Math.Max(1, _episodeEnds.Count)], compressor);
        });
    }

    /// <summary>One data key: dtype, per-step shape and the appended segments (merged lazily).</summary>
    private sealed class Column(ZarrDataType dataType, int[] stepShape, List<ZarrArray> segments)
    {
        public ZarrDataType DataType { get; } = dataType;
        public int[] StepShape { get; } = stepShape;
        public float[]? FloatCache { get; set; }
        private ZarrArray? _merged = segments.Count == 1 ? segments[0] : null;

        public long Length => segments.Sum(s => (long)s.Shape[0]);

        public void Append(ZarrArray array)
        {
            segments.Add(array);
            _merged = null;
            FloatCache = null;
        }

        public ZarrArray Merged()
        {
            if (_merged is not null) return _merged;
            int n = checked((int)Length);
            var result = ZarrArray.Allocate(DataType, [n, .. StepShape]);
            long offset = 0;
            foreach (var s in segments)
            {
                Array.Copy(s.Data, 0, result.Data, offset, s.Data.LongLength);
                offset += s.Data.LongLength;
            }
            segments.Clear();
            segments.Add(result);
            return _merged = result;
        }

        public ZarrArray Slice(int start, int end)
        {
            var merged = Merged();
            int row = merged.RowSize;
            var result = ZarrArray.Allocate(DataType, [end - start, .. StepShape]);
            Array.Copy(merged.Data, (long)start * row, result.Data, 0, (long)(end - start) * row);
            return result;
        }
    }
}

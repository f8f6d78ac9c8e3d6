using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DpAg.Data;
using DpAg.IO;
using DpAg.Policies;

namespace DpAg.Training;

/// <summary>
/// Runs trained once and reused: a folder of run folders (for example <c>artifacts/runs/</c>), each named by the
/// policy and a hash of everything that determines its numbers: the policy spec, the training config (without
/// operational fields such as the folder or how often to checkpoint), the dataset's content and settings, and the
/// validation that picks its best checkpoint. Asking for a run that exists and is finished trains nothing (the
/// trainer's <see cref="Trainer.Run"/> returns at once); asking for a half-trained one resumes it exactly.
/// Each run folder holds <c>key.json</c>, the canonical description that was hashed.
/// </summary>
public sealed class RunStore
{
    /// <summary>The description file in each run folder.</summary>
    public const string KeyFile = "key.json";

    /// <summary>
    /// The layout of <see cref="KeyFile"/>: 2 since the policy part is a per-kind spec (<see cref="PolicySpec.CurrentFormat"/>);
    /// folders of format 1 are re-keyed by <see cref="RunStoreMigration"/> (<c>dpag store migrate</c>).
    /// </summary>
    public const int KeyFormat = 2;

    private static readonly JsonSerializerOptions KeyJson = new() { WriteIndented = true };

    /// <summary>A store rooted at <paramref name="root"/> (created on first use).</summary>
    public RunStore(string root) => Root = root;

    /// <summary>The folder that holds the run folders.</summary>
    public string Root { get; }

    /// <summary>The canonical description of a run: what <see cref="RunDir"/> hashes.</summary>
    public static string Describe(PolicySpec spec, PushTDataset data, TrainConfig config, ValidationOptions? validation = null)
    {
        var train = JsonNode.Parse(config.ToJson())!.AsObject();
        foreach (var field in TrainConfig.OperationalFields) train.Remove(field);
        var key = new JsonObject
        {
            ["format"] = KeyFormat,
            ["policy"] = spec.ToJsonNode(),
            ["train"] = train,
            ["data"] = new JsonObject
            {
                ["content_sha256"] = ContentHash(data.Buffer),
                ["config"] = JsonNode.Parse(JsonSerializer.Serialize(data.Config, PolicySpec.JsonOptions)),
            },
            ["validation"] = validation?.Description,
        };
        return Text(key);
    }

    /// <summary>A key as <see cref="KeyFile"/> holds it and as it is hashed.</summary>
    internal static string Text(JsonObject key) => key.ToJsonString(KeyJson);

    /// <summary>The folder name of a run: <c>NAME-HASH</c>, 12 hex digits of the SHA-256 of its description.</summary>
    internal static string FolderName(PolicySpec spec, string description) =>
        $"{spec.Name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(description)))[..12]}";

    /// <summary>
    /// The run folder for this configuration: <c>Root/NAME-HASH</c> (12 hex digits of SHA-256).
    /// </summary>
    /// <exception cref="InvalidOperationException">The store holds this run in the layout before <see cref="KeyFormat"/>
    /// (it would be trained again under the new name); the message gives the migration command.</exception>
    public string RunDir(PolicySpec spec, PushTDataset data, TrainConfig config, ValidationOptions? validation = null)
    {
        string dir = Path.Combine(Root, FolderName(spec, Describe(spec, data, config, validation)));
        if (!Directory.Exists(dir) && RunStoreMigration.FindOldFormat(Root, Path.GetFileName(dir)) is { } old)
            throw new InvalidOperationException(
                $"The run store {Root} holds this run in the older layout, as {old} (key format 1), so it would be trained again as {Path.GetFileName(dir)}. " +
                $"Re-key the store once (nothing is retrained): `dpag store migrate --store {Root}`; or delete {old} to train afresh.");
        return dir;
    }

    /// <summary>
    /// The trainer of this configuration's run: new, resumed where it stopped, or finished (then <see cref="Trainer.Run"/>
    /// trains nothing and <see cref="Trainer.EmaPolicy"/> holds the trained weights).
    /// </summary>
    public Trainer Open(PolicySpec spec, PushTDataset data, TrainConfig config, TrainerOptions? options = null)
    {
        var validation = options?.Validation;
        string dir = RunDir(spec, data, config, validation);
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, KeyFile), Describe(spec, data, config, validation));
        return PolicyRuns.Create(spec, data, config with { RunDir = dir }, (options ?? new TrainerOptions()) with { Resume = true });
    }

    /// <summary>
    /// The run of <see cref="PolicyRuns.Recipe"/> for a step count (warm-up a tenth, four checkpoints), as notebooks
    /// ask for runs.
    /// </summary>
    public Trainer Open(PolicySpec spec, PushTDataset data, long steps, TorchSharp.torch.Device? device = null, int batchSize = 64,
        double learningRate = 3e-4, long seed = 42, TextWriter? console = null) =>
        Open(spec, data, PolicyRuns.Recipe(steps, batchSize, learningRate, seed),
            new TrainerOptions { Device = device, ConsoleWriter = console ?? TextWriter.Null });

    /// <summary>
    /// Holds the run folder <paramref name="runDir"/> for this process until disposed, waiting while another process
    /// (a notebook, the main job, <c>dpag train --store</c>) holds it, so that two never train the same run at once.
    /// </summary>
    public static IDisposable Lock(string runDir, TimeSpan? timeout = null, TextWriter? log = null)
    {
        Directory.CreateDirectory(runDir);
        string path = Path.Combine(runDir, "run.lock");
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromHours(12));
        bool told = false;
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!told) log?.WriteLine($"Waiting for {runDir}: another process is training it.");
                told = true;
                Thread.Sleep(500);
            }
        }
    }

    /// <summary>Whether the run folder <paramref name="runDir"/> has reached its last step.</summary>
    public static bool IsFinished(string runDir)
    {
        var latest = new CheckpointStore(Path.Combine(runDir, "checkpoints")).Latest();
        if (latest is null) return false;
        var state = Trainer.ReadStateFile(latest.Path);
        return state.Step >= state.TotalSteps;
    }

    /// <summary>SHA-256 of the buffer's episode ends and every loaded column's stored bytes (keys in order).</summary>
    private static string ContentHash(ReplayBuffer buffer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var end in buffer.EpisodeEnds) sha.AppendData(BitConverter.GetBytes(end));
        foreach (var key in buffer.Keys)
        {
            var column = buffer[key];
            sha.AppendData(Encoding.UTF8.GetBytes($"{key}:{column.DataType}:{string.Join("x", column.Shape)}"));
            // The stored values as they are (no float copy: an image set is gigabytes).
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(column.Data, System.Runtime.InteropServices.GCHandleType.Pinned);
            try
            {
                long bytes = column.Data.LongLength * System.Runtime.InteropServices.Marshal.SizeOf(column.Data.GetType().GetElementType()!);
                unsafe
                {
                    var start = (byte*)handle.AddrOfPinnedObject();
                    for (long offset = 0; offset < bytes; offset += int.MaxValue)
                        sha.AppendData(new ReadOnlySpan<byte>(start + offset, (int)Math.Min(int.MaxValue, bytes - offset)));
                }
            }
            finally { handle.Free(); }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

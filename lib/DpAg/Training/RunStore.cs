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
            ["format"] = 1,
            ["policy"] = JsonNode.Parse(JsonSerializer.Serialize(spec, PolicySpec.JsonOptions)),
            ["train"] = train,
            ["data"] = new JsonObject
            {
                ["content_sha256"] = ContentHash(data.Buffer),
                ["config"] = JsonNode.Parse(JsonSerializer.Serialize(data.Config, PolicySpec.JsonOptions)),
            },
            ["validation"] = validation?.Description,
        };
        return key.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The run folder for this configuration: <c>Root/NAME-HASH</c> (12 hex digits of SHA-256).</summary>
    public string RunDir(PolicySpec spec, PushTDataset data, TrainConfig config, ValidationOptions? validation = null)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Describe(spec, data, config, validation))));
        return Path.Combine(Root, $"{spec.Name}-{hash[..12]}");
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

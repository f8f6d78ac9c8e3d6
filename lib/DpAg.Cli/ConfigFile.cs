using System.CommandLine;
using System.Text.Json;

namespace DpAg.Cli;

/// <summary>
/// A JSON run file whose keys are the verb's option names (with or without dashes; '-' and '_' alike), e.g.
/// <c>{ "policy": "dp-ag", "preset": "paper", "steps": 2000, "batch_size": 64 }</c>. Options given on the
/// command line win over the file; unknown keys are an error that lists the known ones.
/// </summary>
internal sealed class ConfigFile
{
    private readonly Dictionary<string, JsonElement> _values;
    private readonly string _path;

    private ConfigFile(string path, Dictionary<string, JsonElement> values) { _path = path; _values = values; }

    /// <summary>
    /// The file at <paramref name="path"/> over the values of <paramref name="under"/> (a named budget): the file's keys
    /// win; either may be missing.
    /// </summary>
    public static ConfigFile? Load(string? path, IEnumerable<Option> known, ConfigFile? under)
    {
        var file = Load(path, known);
        if (under is null) return file;
        if (file is null) return under;
        var merged = new Dictionary<string, JsonElement>(under._values);
        foreach (var (k, v) in file._values) merged[k] = v;
        return new ConfigFile(file._path, merged);
    }

    /// <summary>Parses option values from JSON text (a built-in budget), named <paramref name="source"/> in errors.</summary>
    public static ConfigFile FromJson(string source, string json, IEnumerable<Option> known)
    {
        using var doc = JsonDocument.Parse(json);
        var names = known.Select(o => Key(o.Name)).ToHashSet();
        var values = new Dictionary<string, JsonElement>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var key = Key(p.Name);
            if (!names.Contains(key)) throw new InvalidOperationException($"{source}: unknown key '{p.Name}' (a bug in the budget).");
            values[key] = p.Value.Clone();
        }
        return new ConfigFile(source, values);
    }

    public static ConfigFile? Load(string? path, IEnumerable<Option> known)
    {
        if (string.IsNullOrEmpty(path)) return null;
        if (!File.Exists(path)) throw new FileNotFoundException($"--config: no file {path}.", path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"--config {path} is not valid JSON: {e.Message}", e); }
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"--config {path} must hold a JSON object of option names and values.");
        var names = known.Select(o => Key(o.Name)).ToHashSet();
        var values = new Dictionary<string, JsonElement>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var key = Key(p.Name);
            if (!names.Contains(key))
                throw new ArgumentException($"--config {path}: unknown key '{p.Name}'. Known: {string.Join(", ", names.Order())}.");
            values[key] = p.Value.Clone();
        }
        return new ConfigFile(path, values);
    }

    /// <summary>The option's value: from the command line if given there, else from the file, else its default.</summary>
    public static T Value<T>(ParseResult parse, Option<T> option, ConfigFile? file)
    {
        var result = parse.GetResult(option);
        bool given = result is not null && !result.Implicit;
        if (given || file is null || !file._values.TryGetValue(Key(option.Name), out var element)) return parse.GetValue(option)!;
        try
        {
            return element.Deserialize<T>()!;
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--config {file._path}: '{option.Name.TrimStart('-')}' has the wrong type ({element.ValueKind}); expected {typeof(T).Name}.", e);
        }
    }

    private static string Key(string name) => name.TrimStart('-').Replace('_', '-').ToLowerInvariant();
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace DpAg.Policies;

/// <summary>
/// Refuses unknown keys in an edited spec, naming the file, the key's path and the keys known at that place, so that
/// a misspelt setting ("Gama") fails instead of silently keeping its default.
/// </summary>
internal static class SpecKeys
{
    /// <summary>Throws unless every key of <paramref name="node"/> is one of <paramref name="known"/>.</summary>
    public static void Check(JsonObject node, IReadOnlyCollection<string> known, string source, string path)
    {
        foreach (var (key, _) in node)
            if (!known.Contains(key))
                throw Unknown(source, path, key, known);
    }

    /// <summary>Throws unless every key of <paramref name="node"/>, and of its nested objects, is a property of <paramref name="type"/>.</summary>
    public static void Check(JsonObject node, Type type, JsonSerializerOptions options, string source, string path)
    {
        var info = options.GetTypeInfo(type);
        if (info.Kind != JsonTypeInfoKind.Object) return;
        var properties = info.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (key, value) in node)
        {
            if (!properties.TryGetValue(key, out var property)) throw Unknown(source, path, key, properties.Keys);
            if (value is JsonObject child) Check(child, property.PropertyType, options, source, Join(path, key));
        }
    }

    private static InvalidDataException Unknown(string source, string path, string key, IEnumerable<string> known) =>
        new($"{source}: unknown key \"{Join(path, key)}\". Known keys{(path.Length > 0 ? $" in \"{path}\"" : "")}: {string.Join(", ", known)}. " +
            "Print a full spec with `dpag spec` to see every setting.");

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}

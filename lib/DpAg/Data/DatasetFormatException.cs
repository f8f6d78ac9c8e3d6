namespace DpAg.Data;

/// <summary>
/// The one exception type the data layer throws for malformed stores, chunks, metadata or contents. The message
/// names the file (or store path), the array key where known, what was found and what was expected.
/// </summary>
public sealed class DatasetFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Full message: file, key, what was found, what was expected.</param>
    /// <param name="path">File or folder concerned, if any.</param>
    /// <param name="key">Array key (e.g. <c>data/action</c>), if any.</param>
    /// <param name="inner">Underlying exception, if any.</param>
    public DatasetFormatException(string message, string? path = null, string? key = null, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = path;
        Key = key;
    }

    /// <summary>File or folder the problem was found in (null when not file related).</summary>
    public string? FilePath { get; }

    /// <summary>Array key the problem concerns (null when not key related).</summary>
    public string? Key { get; }
}

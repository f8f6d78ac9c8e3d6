namespace DpAg.Tests.Envs;

/// <summary>Locates the shared test data folder: walks up from the test assembly to the folder that has <c>shared/testdata</c>.</summary>
internal static class TestData
{
    public static string File(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var tried = new List<string>();
        for (; dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "testdata"), Path.Combine(dir.FullName, "..", "shared", "testdata") })
            {
                var path = Path.GetFullPath(Path.Combine(candidate, name));
                tried.Add(path);
                if (System.IO.File.Exists(path)) return path;
            }
        }
        throw new FileNotFoundException(
            $"Test data '{name}' not found. Expected it in a folder shared/testdata beside the repository root (../shared/testdata). Tried: {string.Join(", ", tried.Distinct().Take(6))} ...");
    }
}

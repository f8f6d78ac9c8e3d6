using Xunit.Abstractions;

[assembly: TestCollectionOrderer("DpAg.NotebookTests.RunLastOrderer", "DpAg.NotebookTests")]

namespace DpAg.NotebookTests;

/// <summary>
/// Runs the collection named <see cref="Name"/> after every other (collections run one at a time here, see
/// xunit.runner.json): its checks read the notebooks that <see cref="NotebookTests"/> executed in this run.
/// </summary>
public sealed class RunLastOrderer : ITestCollectionOrderer
{
    /// <summary>The collection of checks on executed notebooks (clean outputs, the results site in a browser).</summary>
    public const string Name = "Executed notebooks, read after all ran";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName == Name ? 1 : 0);
}

using DpAg.Training;

namespace DpAg.Tests.Training;

public class CheckpointStoreTests
{
    private static void WriteDummy(string dir, string content)
    {
        File.WriteAllText(Path.Combine(dir, "model.bin"), content);
        File.WriteAllText(Path.Combine(dir, CheckpointStore.CompleteMarker), "{}");
    }

    [Fact]
    public void Save_sets_latest_and_keeps_the_newest_K()
    {
        var store = new CheckpointStore(Path.Combine(ToyData.TempDir("ckpt-keep"), "checkpoints"));
        Assert.Null(store.Latest());
        for (long s = 10; s <= 40; s += 10) store.Save(s, d => WriteDummy(d, $"step {s}"), keepLast: 2);
        Assert.Equal([30L, 40L], store.List().Select(c => c.Step));
        Assert.Equal(40, store.Latest()!.Step);
        Assert.Equal("step 40", File.ReadAllText(Path.Combine(store.Latest()!.Path, "model.bin")));
    }

    [Fact]
    public void A_resume_point_takes_no_kept_place_and_goes_once_a_scheduled_checkpoint_follows()
    {
        var store = new CheckpointStore(Path.Combine(ToyData.TempDir("ckpt-resume"), "checkpoints"));
        static bool OffSchedule(long step) => step % 10 != 0;
        foreach (long s in new long[] { 10, 20, 25 }) store.Save(s, d => WriteDummy(d, $"step {s}"), keepLast: 2, isResumePoint: OffSchedule);
        Assert.Equal([10L, 20L, 25L], store.List().Select(c => c.Step));   // the stop at 25 pushes no scheduled checkpoint out
        Assert.Equal(25, store.Latest()!.Step);
        store.Save(30, d => WriteDummy(d, "step 30"), keepLast: 2, isResumePoint: OffSchedule);
        Assert.Equal([20L, 30L], store.List().Select(c => c.Step));          // as if the run had never stopped
    }

    [Fact]
    public void A_crash_inside_the_writer_leaves_the_previous_checkpoint_in_place()
    {
        var store = new CheckpointStore(Path.Combine(ToyData.TempDir("ckpt-crash"), "checkpoints"));
        store.Save(5, d => WriteDummy(d, "good"), keepLast: 1);
        var ex = Assert.Throws<IOException>(() => store.Save(10, d =>
        {
            File.WriteAllText(Path.Combine(d, "model.bin"), "half");
            throw new IOException("disk full (simulated)");
        }, keepLast: 1));
        Assert.Contains("simulated", ex.Message);
        var latest = store.Latest()!;
        Assert.Equal(5, latest.Step);
        Assert.Equal("good", File.ReadAllText(Path.Combine(latest.Path, "model.bin")));
        Assert.Single(Directory.GetDirectories(store.Directory)); // no temporary folder left, no step-10
    }

    [Fact]
    public void A_killed_save_leaves_a_temp_folder_that_is_ignored_and_cleaned()
    {
        var store = new CheckpointStore(Path.Combine(ToyData.TempDir("ckpt-kill"), "checkpoints"));
        store.Save(5, d => WriteDummy(d, "good"), keepLast: 3);
        // What a SIGKILL during a save leaves behind: a temporary folder, possibly with every file in it.
        var torn = Path.Combine(store.Directory, ".tmp-step-000000010.999.abc");
        Directory.CreateDirectory(torn);
        WriteDummy(torn, "torn");
        // A checkpoint folder without its state file (e.g. copied by hand, half) is not complete either.
        Directory.CreateDirectory(Path.Combine(store.Directory, CheckpointStore.FolderName(20)));
        Assert.Equal(5, store.Latest()!.Step);
        // A missing pointer falls back to the newest complete folder.
        File.Delete(Path.Combine(store.Directory, CheckpointStore.LatestPointer));
        Assert.Equal(5, store.Latest()!.Step);
        store.Save(10, d => WriteDummy(d, "new"), keepLast: 3);
        Assert.False(Directory.Exists(torn));
        Assert.Equal(10, store.Latest()!.Step);
    }

    [Fact]
    public void A_writer_that_forgets_the_state_file_fails()
    {
        var store = new CheckpointStore(Path.Combine(ToyData.TempDir("ckpt-marker"), "checkpoints"));
        Assert.Throws<InvalidOperationException>(() => store.Save(1, d => File.WriteAllText(Path.Combine(d, "model.bin"), "x"), 1));
        Assert.Null(store.Latest());
    }
}

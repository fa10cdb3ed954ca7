using DifyUsageExporter.Sync;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Sync;

public class CycleLockTests
{
    [Fact]
    public void The_lock_is_exclusive_and_released_on_dispose()
    {
        using var dir = new TempDir();
        var first = CycleLock.TryAcquire(dir.Path);
        first.ShouldNotBeNull();
        CycleLock.TryAcquire(dir.Path).ShouldBeNull();

        first.Dispose();
        using var again = CycleLock.TryAcquire(dir.Path);
        again.ShouldNotBeNull();
    }

    [Fact]
    public async Task A_manual_run_once_in_another_process_is_refused_with_exit_1_while_a_cycle_holds_the_lock()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        using var held = CycleLock.TryAcquire(data);
        held.ShouldNotBeNull();

        using var second = ExporterProcess.Start(ValidConfig.Variables(data), dir.Path, "run", "--once");
        var code = await second.WaitForExitAsync(TimeSpan.FromMinutes(2));

        code.ShouldBe(1, second.Stdout + second.Stderr);
        second.Stdout.ShouldContain("Another export cycle is running");
        second.Stdout.ShouldNotContain("Export cycle started");
    }

    [Fact]
    public async Task A_killed_lock_holder_leaves_no_stale_lock()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        var lockFile = Path.Combine(data, CycleLock.FileName);

        // flock(1) takes the same flock(2) lock .NET uses for FileShare.None; it stands for a crashed exporter.
        using (var holder = ExporterProcess.StartFile("flock", ["--close", lockFile, "sleep", "600"], new Dictionary<string, string>(), dir.Path))
        {
            for (var i = 0; i < 400 && CycleLock.TryAcquire(data) is { } probe; i++)
            {
                probe.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(25), TimeProvider.System, TestContext.Current.CancellationToken);
            }

            CycleLock.TryAcquire(data).ShouldBeNull("the holder process should hold the lock");
            holder.Process.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        File.Exists(lockFile).ShouldBeTrue();
        using var after = ExporterProcess.Start(ValidConfig.Variables(data), dir.Path, "run", "--once");
        await after.WaitForExitAsync(TimeSpan.FromMinutes(2));
        after.Stdout.ShouldContain("Export cycle started");
        after.Stdout.ShouldNotContain("Another export cycle is running");
    }
}

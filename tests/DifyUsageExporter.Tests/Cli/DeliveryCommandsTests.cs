using System.Text.Json;
using DifyUsageExporter.Hosting;
using DifyUsageExporter.Tests.Sync;
using DifyUsageExporter.Usage;
using Shouldly;
using Simulators.Meter;
using Xunit;
using static DifyUsageExporter.Tests.Sync.DeliveryHarness;

namespace DifyUsageExporter.Tests.Cli;

public sealed class DeliveryCommandsTests
{
    private static readonly DateOnly D1 = new(2026, 3, 1);
    private static readonly DateOnly D2 = new(2026, 3, 2);

    private static UsageEvent[] Events() =>
    [
        Event(D1, "langgenius/openai/openai", "gpt-4o", 100, 10, 0.0000006m, app: "a", user: "u1"),
        Event(D1, "OpenAI", "gpt-4o", 1, 1, 0.1m, app: "b", user: "u2"),
        Event(D2, "anthropic", "claude-3-5-sonnet", 5, 5, 0.05m, app: "a", user: "u1"),
    ];

    [Fact]
    public async Task Export_delivers_and_exits_0_then_again_sends_nothing()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(Events());

        var run = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02");

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Error);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        var requests = h.Meter.Requests.Count;
        (await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02")).ExitCode.ShouldBe(ExitCodes.Success);
        h.Meter.Requests.Count.ShouldBe(requests);
    }

    [Fact]
    public async Task Dry_run_prints_the_exact_request_bodies_and_sends_nothing()
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(Events());

        var run = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02", "--dry-run");

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Error);
        h.Meter.Requests.ShouldBeEmpty();
        (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken)).ShouldBeEmpty();
        var body = run.Out.Trim();
        MeterValidator.Validate(body, out var field, out var problem).ShouldNotBeNull($"{field}: {problem}");
        using var doc = JsonDocument.Parse(body);
        var records = doc.RootElement.GetProperty("records").EnumerateArray().ToList();
        records.Count.ShouldBe(2);
        body.ShouldContain("\"cost_actual\":0.1000006,");
    }

    [Fact]
    public async Task Export_exits_3_when_data_waits_in_the_spool_and_spool_resend_delivers_it()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(Events());
        await h.Meter.TakeDownAsync();

        (await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02")).ExitCode.ShouldBe(ExitCodes.Spooled);
        var list = await CliHarness.InvokeAsync(h, "spool", "list", "--json");
        using var doc = JsonDocument.Parse(list.Out);
        var batch = doc.RootElement.EnumerateArray().Single();
        batch.GetProperty("records").GetInt32().ShouldBe(2);
        batch.GetProperty("status").GetString().ShouldBe("pending");
        batch.GetProperty("last_error").GetString()!.ShouldContain("unreachable");
        (await CliHarness.InvokeAsync(h, "spool", "resend", "--all")).ExitCode.ShouldBe(ExitCodes.Spooled);

        await h.Meter.BringUpAsync();
        var resend = await CliHarness.InvokeAsync(h, "spool", "resend", batch.GetProperty("id").GetString()!);

        resend.ExitCode.ShouldBe(ExitCodes.Success, resend.Out + resend.Error);
        Truth.ServerShouldEqual(h.Meter, h.Source.Events);
        (await CliHarness.InvokeAsync(h, "spool", "list")).Out.ShouldContain("empty");
    }

    [Fact]
    public async Task Spool_discard_asks_first_and_needs_yes_without_a_terminal()
    {
        await using var h = await CreateAsync(configure: s => s with { MaxRetry = 0 });
        h.Source.Events.AddRange(Events());
        await h.Meter.TakeDownAsync();
        await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02");
        var id = (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken))[0].BatchId;

        (await CliHarness.InvokeAsync(h, "spool", "discard", id)).ExitCode.ShouldBe(ExitCodes.Usage);
        (await CliHarness.InvokeAsync(h, "n\n", true, "spool", "discard", id)).ExitCode.ShouldBe(ExitCodes.Failure);
        (await h.Store.ReadOutboxAsync(null, id, null, TestContext.Current.CancellationToken)).Count.ShouldBe(2);
        (await CliHarness.InvokeAsync(h, "y\n", true, "spool", "discard", id)).ExitCode.ShouldBe(ExitCodes.Success);
        (await h.Store.ReadOutboxAsync(null, null, null, TestContext.Current.CancellationToken)).ShouldBeEmpty();
        (await CliHarness.InvokeAsync(h, "spool", "discard", "no-such-batch", "--yes")).ExitCode.ShouldBe(ExitCodes.Failure);
    }

    [Theory]
    [InlineData("csv", "keys")]
    [InlineData("jsonl", "keys")]
    [InlineData("csv", "events")]
    [InlineData("jsonl", "events")]
    public async Task Export_writes_audit_rows(string format, string rows)
    {
        await using var h = await CreateAsync();
        h.Source.Events.AddRange(Events());
        var file = Path.Combine(h.Dir, "audit." + format);

        var run = await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02", "--dry-run", "--format", format, "--output", file, "--rows", rows);

        run.ExitCode.ShouldBe(ExitCodes.Success, run.Error);
        var lines = await File.ReadAllLinesAsync(file, TestContext.Current.CancellationToken);
        var dataLines = format == "csv" ? lines.Skip(1).ToArray() : lines;
        dataLines.Length.ShouldBe(rows == "keys" ? 2 : 3);
        if (format == "csv")
        {
            lines[0].ShouldStartWith(rows == "keys" ? "usage_date,provider,model" : "event_id,source_id");
        }
        else
        {
            dataLines.ShouldAllBe(l => JsonDocument.Parse(l, default).RootElement.ValueKind == JsonValueKind.Object);
        }

        if (rows == "keys")
        {
            string.Join("\n", dataLines).ShouldContain("0.1000006");
        }
    }

    [Fact]
    public async Task Watermark_show_and_reset_with_confirmation()
    {
        await using var h = await CreateAsync();
        var ct = TestContext.Current.CancellationToken;
        await h.Store.SetWatermarkAsync("app-1", "App One", new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero), ct);
        await h.Store.SetWatermarkAsync("app-2", "App Two", new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero), ct);

        (await CliHarness.InvokeAsync(h, "watermark", "show")).Out.ShouldContain("App One");
        (await CliHarness.InvokeAsync(h, "watermark", "reset", "--app", "app-1", "--date", "2026-03-01")).ExitCode.ShouldBe(ExitCodes.Usage);
        (await CliHarness.InvokeAsync(h, "watermark", "reset", "--app", "nope", "--date", "2026-03-01", "--yes")).ExitCode.ShouldBe(ExitCodes.Failure);
        (await CliHarness.InvokeAsync(h, "y\n", true, "watermark", "reset", "--app", "app-1", "--date", "2026-03-01")).ExitCode.ShouldBe(ExitCodes.Success);

        var marks = await h.Store.ReadWatermarksAsync(ct);
        // Without USAGE_TIMEZONE the account's zone is unknown offline: the reset goes back to the
        // earliest midnight of the date anywhere, 00:00 at UTC+14.
        marks.Single(m => m.AppId == "app-1").Watermark.ShouldBe(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.FromHours(14)));
        marks.Single(m => m.AppId == "app-2").Watermark.ShouldBe(new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero));
        (await CliHarness.InvokeAsync(h, "watermark", "reset", "--app", "all", "--date", "2026-02-01", "--yes")).Out.ShouldContain("Reset 2");
    }
    [Fact]
    public async Task Commands_that_write_state_are_refused_while_another_cycle_holds_the_lock()
    {
        await using var h = await CreateAsync();
        using (var held = DifyUsageExporter.Sync.CycleLock.TryAcquire(h.Settings.DataDir))
        {
            held.ShouldNotBeNull();
            foreach (var args in new[]
            {
                new[] { "export", "--from", "2026-03-01", "--to", "2026-03-02" },
                new[] { "spool", "resend", "--all" },
                new[] { "watermark", "reset", "--app", "all", "--date", "2026-03-01", "--yes" },
            })
            {
                var refused = await CliHarness.InvokeAsync(h, args);
                refused.ExitCode.ShouldBe(ExitCodes.Failure, string.Join(' ', args));
                refused.Error.ShouldContain("another process is running an export cycle");
            }

            // Reading is allowed while a cycle runs.
            (await CliHarness.InvokeAsync(h, "spool", "list")).ExitCode.ShouldBe(ExitCodes.Success);
        }

        (await CliHarness.InvokeAsync(h, "export", "--from", "2026-03-01", "--to", "2026-03-02")).ExitCode.ShouldBe(ExitCodes.Success);
    }
}

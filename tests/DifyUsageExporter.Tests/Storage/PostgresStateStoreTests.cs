using DifyUsageExporter.Storage;
using DifyUsageExporter.Sync;
using Npgsql;
using Shouldly;
using Xunit;

namespace DifyUsageExporter.Tests.Storage;

/// <summary>
/// What only the PostgreSQL state store has (STATE_DATABASE_URL, docs/state-postgres.md): migrations
/// under a lock, the advisory cycle lock shared by every process, and errors that name the variable
/// and the fix but never the password, without touching what is already stored.
/// </summary>
public sealed class PostgresStateStoreTests
{
    private const string Secret = "St4te-Pa55-Never-Shown-72";
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replicas_starting_together_migrate_once_and_share_one_cycle_lock()
    {
        var url = TestStores.NewPostgresDatabase();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => StateStore.OpenPostgres(url, new FakeTimeProvider(T0)), Ct)));
        try
        {
            var latest = Migrations.All[^1].Version;
            stores.ShouldAllBe(s => s.SchemaVersion() == latest);
            await using (var connection = new NpgsqlConnection(url))
            {
                await connection.OpenAsync(Ct);
                await using var count = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
                ((long)(await count.ExecuteScalarAsync(Ct))!).ShouldBe(Migrations.All.Count);
            }

            var first = CycleLock.TryAcquire(stores[0]).ShouldNotBeNull();
            CycleLock.TryAcquire(stores[1]).ShouldBeNull("another replica holds the cycle");
            CycleLock.TryAcquire(stores[0]).ShouldBeNull("the lock is per session, not per process: a second cycle in the same process waits too");
            CycleLock.Describe(stores[1]).ShouldContain("advisory lock");
            first.Dispose();
            using var second = CycleLock.TryAcquire(stores[1]).ShouldNotBeNull();
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_batch_claimed_by_one_replica_is_skipped_by_another_until_the_answer_is_recorded()
    {
        var url = TestStores.NewPostgresDatabase();
        using var a = StateStore.OpenPostgres(url, new FakeTimeProvider(T0));
        using var b = StateStore.OpenPostgres(url, new FakeTimeProvider(T0));
        var day = new DateOnly(2026, 3, 1);
        await a.EnqueueAsync("api_meter", [new OutboxItem("k1", day, "{}", "h1"), new OutboxItem("k2", day, "{}", "h2")], 500, false, Ct);
        var rows = await a.ReadOutboxAsync(null, null, OutboxRow.Pending, Ct);

        using (var first = await a.ClaimAsync([rows[0]], Ct))
        {
            first.Rows.Count.ShouldBe(1);
            using var second = await b.ClaimAsync(rows, Ct);
            second.Rows.Select(r => r.RecordKey).ShouldBe(["k2"], "k1 is being sent by the other replica: FOR UPDATE SKIP LOCKED skips it");
            await a.MarkDeliveredAsync(first.Rows, Ct); // recording the answer ends the claim first, so it cannot block itself
        }

        (await b.ReadOutboxAsync(null, null, null, Ct)).Select(r => r.RecordKey).ShouldBe(["k2"]);
        using var again = await b.ClaimAsync(await b.ReadOutboxAsync(null, null, null, Ct), Ct);
        again.Rows.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_lock_holder_whose_connection_dies_releases_the_cycle_lock()
    {
        var url = TestStores.NewPostgresDatabase();
        using var store = StateStore.OpenPostgres(url, new FakeTimeProvider(T0));
        await using (var holder = new NpgsqlConnection(url))
        {
            await holder.OpenAsync(Ct);
            await using var take = new NpgsqlCommand($"SELECT pg_advisory_lock({StateStore.CycleLockKey})", holder);
            await take.ExecuteNonQueryAsync(Ct);
            CycleLock.TryAcquire(store).ShouldBeNull();
            // The holder's session ends without unlocking, as when its process is killed.
            await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pg_backend_pid())", holder);
            await Should.ThrowAsync<Exception>(() => kill.ExecuteNonQueryAsync(Ct));
        }

        using var taken = CycleLock.TryAcquire(store).ShouldNotBeNull();
    }

    [Fact]
    public async Task Wrong_password_missing_database_unreachable_server_and_missing_privilege_name_STATE_DATABASE_URL_and_keep_the_spool()
    {
        var url = TestStores.NewPostgresDatabase();
        var day = new DateOnly(2026, 3, 1);
        using (var store = StateStore.OpenPostgres(url, new FakeTimeProvider(T0)))
        {
            await store.EnqueueAsync("api_meter", [new OutboxItem("2026-03-01|openai|gpt-4o", day, "{}", "h1")], 500, false, Ct);
        }

        var admin = new NpgsqlConnectionStringBuilder(url);
        // Roles are cluster-wide (and DIFY_TEST_POSTGRES may be reused): a name of this run.
        var role = "limited_" + Guid.NewGuid().ToString("N")[..12];
        await ExecAsync(url, $"CREATE ROLE {role} LOGIN PASSWORD '{Secret}'");
        var otherDb = TestStores.NewPostgresDatabase();
        await ExecAsync(otherDb, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        var port = FreePort();
        var cases = new (string Url, string Expected)[]
        {
            (new NpgsqlConnectionStringBuilder(url) { Password = Secret }.ConnectionString, "rejected the login"),
            (new NpgsqlConnectionStringBuilder(url) { Database = "no_such_state_db" }.ConnectionString, "does not exist"),
            (new NpgsqlConnectionStringBuilder(url) { Port = port, Timeout = 3 }.ConnectionString, "cannot be reached"),
            (new NpgsqlConnectionStringBuilder(otherDb) { Username = role, Password = Secret }.ConnectionString, "lacks a privilege"),
        };
        foreach (var (bad, expected) in cases)
        {
            var ex = Should.Throw<StoreException>(() => StateStore.OpenPostgres(bad, new FakeTimeProvider(T0)));
            ex.Message.ShouldContain("STATE_DATABASE_URL");
            ex.Message.ShouldContain(expected);
            ex.Message.ShouldContain("Fix");
            ex.ToString().ShouldNotContain(Secret);
            ex.ToString().ShouldNotContain(admin.Password!);
        }

        using var again = StateStore.OpenPostgres(url, new FakeTimeProvider(T0));
        (await again.ReadOutboxAsync(null, null, OutboxRow.Pending, Ct)).Single().ContentHash.ShouldBe("h1");
    }

    [Fact]
    public void Commands_on_PostgreSQL_mask_the_password_verify_works_and_backup_and_restore_point_to_pg_dump()
    {
        using var dir = new TempDir();
        var url = new NpgsqlConnectionStringBuilder(TestStores.NewPostgresDatabase());
        var uri = $"postgres://{url.Username}:{Uri.EscapeDataString(url.Password!)}@{url.Host}:{url.Port}/{url.Database}";
        var variables = ValidConfig.Variables(dir.Path);
        variables["STATE_DATABASE_URL"] = uri;

        var cli = new CapturedEnvironment(variables, dir.Path);
        cli.Run("config").ShouldBe(0, cli.Error.ToString());
        cli.Run("spool", "list").ShouldBe(0, cli.Error.ToString());
        cli.Run("watermark", "show").ShouldBe(0, cli.Error.ToString());
        cli.Run("verify").ShouldBe(0, cli.Error.ToString());
        cli.Run("backup").ShouldBe(1);
        cli.Error.ToString().ShouldContain("pg_dump --format=custom");
        cli.Run("restore", Path.Combine(dir.Path, "x.db"), "--yes").ShouldBe(1);
        cli.Error.ToString().ShouldContain("pg_restore --clean");
        var all = cli.Out + cli.Error.ToString();
        all.ShouldContain("STATE_DATABASE_URL");
        all.ShouldNotContain(url.Password!);
        File.Exists(Path.Combine(dir.Path, StateStore.FileName)).ShouldBeFalse("no SQLite file is created when the state is in PostgreSQL");

        variables["STATE_DATABASE_URL"] = $"postgres://{url.Username}:{Secret}@{url.Host}:{url.Port}/{url.Database}";
        var wrong = new CapturedEnvironment(variables, dir.Path);
        wrong.Run("spool", "list").ShouldBe(1);
        wrong.Error.ToString().ShouldContain("STATE_DATABASE_URL");
        wrong.Error.ToString().ShouldNotContain(Secret);
    }

    private static async Task ExecAsync(string url, string sql)
    {
        await using var connection = new NpgsqlConnection(url);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

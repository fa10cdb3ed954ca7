using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace DifyUsageExporter.Storage;

/// <summary>
/// Spool rows one sender has claimed for one request. PostgreSQL: the rows are locked with
/// <c>SELECT ... FOR UPDATE SKIP LOCKED</c> in a transaction of their own, so a second replica
/// sending at the same moment skips them instead of sending them twice; the transaction ends (and
/// the locks with it) when the request's answer is recorded, when the claim is disposed, or when
/// the claimer's connection dies, so a killed replica leaves no claim behind. SQLite: one process
/// sends at a time (the cycle lock) and the claim holds every row and no lock.
/// </summary>
public sealed class OutboxClaim : IDisposable
{
    private readonly DbConnection? connection;
    private readonly DbTransaction? transaction;
    private readonly Action<OutboxClaim>? onRelease;
    private int released;

    internal OutboxClaim(IReadOnlyList<OutboxRow> rows, DbConnection? connection = null, DbTransaction? transaction = null, Action<OutboxClaim>? onRelease = null)
    {
        Rows = rows;
        this.connection = connection;
        this.transaction = transaction;
        this.onRelease = onRelease;
    }

    /// <summary>The rows this sender holds (those no other sender had claimed).</summary>
    public IReadOnlyList<OutboxRow> Rows { get; }

    /// <summary>Ends the claim (idempotent): the row locks are released without changing anything.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref released, 1) == 1)
        {
            return;
        }

        onRelease?.Invoke(this);
        try
        {
            transaction?.Rollback();
        }
        catch (DbException)
        {
            // The connection is gone, and with it the locks.
        }
        finally
        {
            transaction?.Dispose();
            connection?.Dispose();
        }
    }
}

public sealed partial class StateStore
{
    private readonly List<OutboxClaim> claims = [];

    /// <summary>
    /// Claims <paramref name="rows"/> for one request (see <see cref="OutboxClaim"/>). The claim is
    /// released by the Mark* call that records the answer for its rows, or by disposing it.
    /// </summary>
    public async Task<OutboxClaim> ClaimAsync(IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!IsPostgres || rows.Count == 0)
        {
            return new OutboxClaim(rows);
        }

        var connection = await postgres!.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT id FROM outbox WHERE id = ANY(@ids) FOR UPDATE SKIP LOCKED", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = rows.Select(r => r.Id).ToArray() });
            var locked = new HashSet<long>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    locked.Add(reader.GetInt64(0));
                }
            }

            var claim = new OutboxClaim(rows.Where(r => locked.Contains(r.Id)).ToList(), connection, transaction, Forget);
            lock (claims)
            {
                claims.Add(claim);
            }

            return claim;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Before recording an answer: this process's claims on those rows end, so the write is not blocked by our own row locks.</summary>
    private void ReleaseClaims(IReadOnlyList<OutboxRow> rows)
    {
        if (!IsPostgres)
        {
            return;
        }

        List<OutboxClaim> ending;
        lock (claims)
        {
            var ids = rows.Select(r => r.Id).ToHashSet();
            ending = claims.Where(c => c.Rows.Any(r => ids.Contains(r.Id))).ToList();
        }

        ending.ForEach(c => c.Dispose());
    }

    private void Forget(OutboxClaim claim)
    {
        lock (claims)
        {
            claims.Remove(claim);
        }
    }
}

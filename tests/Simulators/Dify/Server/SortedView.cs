using System.Collections.Concurrent;

namespace Simulators.Dify;

/// <summary>
/// Cached ascending views of an app's conversations and app logs, so a page costs a binary search
/// instead of a sort (large workspaces page through hundreds of thousands of rows).
/// </summary>
internal sealed class SortedViews
{
    private readonly ConcurrentDictionary<(Guid App, bool ByUpdated), SimConversation[]> _conversations = new();
    private readonly ConcurrentDictionary<Guid, SimWorkflowRun[]> _logs = new();

    /// <summary>Listed conversations (non-empty; advanced-chat debugger ones hidden), ascending by (key, id).</summary>
    public SimConversation[] Conversations(SimApp app, bool byUpdated)
        => _conversations.GetOrAdd((app.Id, byUpdated), _ =>
        {
            Func<SimConversation, DateTimeOffset> key = byUpdated ? c => c.UpdatedAt : c => c.CreatedAt;
            return [.. app.Conversations
                .Where(c => c.Messages.Count > 0 && !(app.ReportedMode == "advanced-chat" && c.IsDebugger))
                .OrderBy(key).ThenBy(c => c.Id)];
        });

    public void InvalidateConversations(SimApp app)
    {
        _conversations.TryRemove((app.Id, true), out _);
        _conversations.TryRemove((app.Id, false), out _);
    }

    /// <summary>Production runs (app logs), ascending by (log created_at, log id).</summary>
    public SimWorkflowRun[] Logs(SimApp app)
        => _logs.GetOrAdd(app.Id, _ => [.. app.Runs.Where(r => r.IsLogged).OrderBy(r => r.LogCreatedAt).ThenBy(r => r.LogId)]);

    /// <summary>First index whose key is ≥ <paramref name="bound"/> (or &gt; when <paramref name="strict"/>).</summary>
    public static int LowerBound<T>(T[] items, Func<T, DateTimeOffset> key, DateTimeOffset bound, bool strict = false)
    {
        int lo = 0, hi = items.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            var k = key(items[mid]);
            if (strict ? k <= bound : k < bound)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>One page of the range [lo, hi) of an ascending array, in ascending or descending order.</summary>
    public static IEnumerable<T> Page<T>(T[] items, int lo, int hi, int page, int limit, bool descending)
    {
        var skip = (long)(page - 1) * limit;
        var count = hi - lo;
        for (long i = skip; i < Math.Min(count, skip + limit); i++)
        {
            yield return items[descending ? hi - 1 - i : lo + i];
        }
    }
}

using System.Runtime.CompilerServices;

namespace DifyUsageExporter.Dify;

/// <summary>
/// The workspace listings one cycle reads twice (the extraction, then reconcile of the same days):
/// the profile, <c>/apps</c>, <c>/agent</c> and <c>/datasets</c>. From <see cref="BeginCycle"/> to
/// the next one each is read from Dify once; a client no cycle began (<c>check</c>, tests) reads
/// every time, and a failed read is not kept (the next caller asks Dify again).
/// </summary>
public sealed partial class DifyConsoleClient
{
    private readonly Lock cycleGate = new();
    private CycleListings? cycle;

    private sealed class CycleListings
    {
        public DifyProfile? Profile;
        public List<DifyApp>? Apps;
        public bool AgentsRead;
        public IReadOnlyList<DifyAgentApp>? Agents;
        public List<DifyDataset>? Datasets;
    }

    /// <summary>
    /// Starts a cycle: forgets a failed login of the previous cycle (the next cycle may make its one
    /// attempt) and the listings the previous cycle read.
    /// </summary>
    public void BeginCycle()
    {
        failedLogin = null;
        lock (cycleGate)
        {
            cycle = new CycleListings();
        }
    }

    /// <summary>GET /console/api/account/profile: the account's IANA time zone (and identity); once per cycle.</summary>
    internal async Task<DifyProfile> GetProfileAsync(CancellationToken cancellationToken)
    {
        var listings = CurrentCycle();
        if (listings?.Profile is { } kept)
        {
            return kept;
        }

        var profile = await SendAsync(HttpMethod.Get, "/console/api/account/profile", null, DifyJson.Default.DifyProfile, cancellationToken).ConfigureAwait(false);
        Keep(listings, l => l.Profile = profile);
        return profile;
    }

    /// <summary>All apps of the current workspace, every page (page/limit); once per cycle.</summary>
    internal async IAsyncEnumerable<DifyApp> ListAppsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listings = CurrentCycle();
        var kept = listings is null ? null : Kept(() => listings.Apps);
        if (kept is not null)
        {
            foreach (var app in kept)
            {
                yield return app;
            }

            yield break;
        }

        var read = new List<DifyApp>();
        await foreach (var app in PagesAsync(page => $"/console/api/apps?page={page}&limit={PageSize}", DifyJson.Default.DifyPageDifyApp, cancellationToken).ConfigureAwait(false))
        {
            read.Add(app);
            yield return app;
        }

        Keep(listings, l => l.Apps = read);
    }

    /// <summary>
    /// Agent apps (<c>GET /console/api/agent</c>, api/controllers/console/agent/roster.py): every
    /// page, once per cycle. Dify before the Agent runtime has no such route: a 404 there gives null.
    /// </summary>
    internal async Task<IReadOnlyList<DifyAgentApp>?> ListAgentAppsAsync(CancellationToken cancellationToken)
    {
        var listings = CurrentCycle();
        if (listings is not null && Kept(() => listings.AgentsRead))
        {
            return Kept(() => listings.Agents);
        }

        var agents = await ReadAgentAppsAsync(cancellationToken).ConfigureAwait(false);
        Keep(listings, l => (l.Agents, l.AgentsRead) = (agents, true));
        return agents;
    }

    /// <summary>Knowledge bases (<c>GET /console/api/datasets</c>), every page; once per cycle.</summary>
    internal async IAsyncEnumerable<DifyDataset> ListDatasetsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listings = CurrentCycle();
        var kept = listings is null ? null : Kept(() => listings.Datasets);
        if (kept is not null)
        {
            foreach (var dataset in kept)
            {
                yield return dataset;
            }

            yield break;
        }

        var read = new List<DifyDataset>();
        await foreach (var dataset in PagesAsync(page => $"/console/api/datasets?page={page}&limit={PageSize}", DifyJson.Default.DifyPageDifyDataset, cancellationToken).ConfigureAwait(false))
        {
            read.Add(dataset);
            yield return dataset;
        }

        Keep(listings, l => l.Datasets = read);
    }

    private CycleListings? CurrentCycle()
    {
        lock (cycleGate)
        {
            return cycle;
        }
    }

    private T Kept<T>(Func<T> read)
    {
        lock (cycleGate)
        {
            return read();
        }
    }

    /// <summary>Keeps a complete listing for the rest of the cycle it was read in (not for a newer one).</summary>
    private void Keep(CycleListings? listings, Action<CycleListings> store)
    {
        lock (cycleGate)
        {
            if (listings is not null && ReferenceEquals(listings, cycle))
            {
                store(listings);
            }
        }
    }
}

using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Simulators.Dify;

/// <summary>
/// A fake Dify console on real loopback HTTP (Kestrel, 127.0.0.1). Start with
/// <see cref="StartAsync"/>, point the client at <see cref="BaseUrl"/>, dispose when done.
/// </summary>
public sealed class DifySimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private Lazy<GroundTruth> _truth;
    private Lazy<RequestLowerBound> _lowerBound;

    private DifySimulator(DifySimulatorOptions options, WebApplication app)
    {
        Options = options;
        _app = app;
        AllWorkspaces = [options.Workspace, .. options.AdditionalWorkspaces];
        Index = new SimIndex(AllWorkspaces);
        Auth = new AuthState(options, options.Workspace);
        AccountZone = TimeZoneInfo.FindSystemTimeZoneById(options.AccountTimeZone);
        _truth = new Lazy<GroundTruth>(() => GroundTruth.Compute(options.Workspace));
        _lowerBound = new Lazy<RequestLowerBound>(() => RequestLowerBound.Compute(options.Workspace));
    }

    public DifySimulatorOptions Options { get; }

    /// <summary><c>http://127.0.0.1:PORT/</c> (the origin; the console API is under <c>console/api</c>).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Fault rules applied before routing.</summary>
    public FaultInjector Faults { get; } = new();

    public SimCounters Counters { get; } = new();

    /// <summary>
    /// Called with <c>"METHOD /path"</c> before every request is handled (after counting, before faults),
    /// e.g. to advance a fake clock in the middle of a long extraction so the access token expires.
    /// </summary>
    public Action<string>? BeforeRequest { get; set; }

    /// <summary>Refresh tokens, login lock, current workspace.</summary>
    public AuthState Auth { get; }

    /// <summary>Expected usage of <see cref="DifySimulatorOptions.Workspace"/>.</summary>
    public GroundTruth Truth => _truth.Value;

    /// <summary>The fewest requests that extract all of <see cref="DifySimulatorOptions.Workspace"/>.</summary>
    public RequestLowerBound LowerBound => _lowerBound.Value;

    public TimeZoneInfo AccountZone { get; }

    internal IReadOnlyList<SimWorkspace> AllWorkspaces { get; }

    internal SimIndex Index { get; private set; }

    internal SortedViews Views { get; private set; } = new();

    /// <summary>
    /// Call after changing the workspace objects of a running simulator (e.g. new messages between two
    /// export runs): rebuilds the id index, the sorted views and the truth. Not safe during requests.
    /// </summary>
    public void NotifyDataChanged()
    {
        Index = new SimIndex(AllWorkspaces);
        Views = new SortedViews();
        _truth = new Lazy<GroundTruth>(() => GroundTruth.Compute(Options.Workspace));
        _lowerBound = new Lazy<RequestLowerBound>(() => RequestLowerBound.Compute(Options.Workspace));
    }

    /// <summary>Starts Kestrel on 127.0.0.1 (port from options, 0 = free port) and returns when it listens.</summary>
    public static async Task<DifySimulator> StartAsync(DifySimulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = LoopbackWeb.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, options.Port));
        var app = builder.Build();
        var sim = new DifySimulator(options, app);
        sim.Configure();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sim.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return sim;
    }

    private void Configure()
    {
        _app.Use(PipelineAsync);
        SimStatsEndpoints.Map(_app, this);
        AuthEndpoints.Map(_app, this);
        var api = _app.MapGroup("/console/api").AddEndpointFilter(new ConsoleAuth(this));
        WorkspaceEndpoints.Map(api, this);
        AppEndpoints.Map(api, this);
        ConversationEndpoints.Map(api, this);
        WorkflowEndpoints.Map(api, this);
        PipelineEndpoints.MapDatasets(api);
        if (Options.ServesCurrentDifyApi)
        {
            CurrentDifyEndpoints.Map(api, this);
        }
        _app.MapFallback(() => DifyResult.NotFound());
    }

    /// <summary>X-Version on every response, counters, latency and faults.</summary>
    private async Task PipelineAsync(HttpContext ctx, Func<Task> next)
    {
        ctx.Response.Headers["X-Version"] = Options.EffectiveVersion;
        ctx.Response.Headers["X-Env"] = Options.DeployEnv;
        var method = ctx.Request.Method;
        var path = ctx.Request.Path.Value ?? "/";
        if (path.StartsWith(SimStatsEndpoints.Prefix + "/", StringComparison.Ordinal))
        {
            // The simulator's own endpoints are not Dify requests: no counting, latency or faults.
            await next().ConfigureAwait(false);
            return;
        }

        var key = method + " " + path;
        Counters.Begin(key);
        if (Options.RecordRequests && HttpMethods.IsGet(method))
        {
            Counters.Record(path + ctx.Request.QueryString.Value);
        }
        try
        {
            BeforeRequest?.Invoke(key);
            if (Options.Latency > TimeSpan.Zero)
            {
                await Task.Delay(Options.Latency, TimeProvider.System, ctx.RequestAborted).ConfigureAwait(false);
            }

            if (Faults.Take(method, path) is { } fault)
            {
                switch (fault.Kind)
                {
                    case DifyFaultKind.Delay:
                        await Task.Delay(fault.Delay, TimeProvider.System, ctx.RequestAborted).ConfigureAwait(false);
                        break;
                    case DifyFaultKind.DropConnection:
                        ctx.Abort();
                        return;
                    case DifyFaultKind.InternalServerError:
                        await DifyResult.Error(500, "unknown", "Internal Server Error").ExecuteAsync(ctx).ConfigureAwait(false);
                        return;
                    case DifyFaultKind.BadGatewayHtml:
                        await DifyResult.Html(502, "502 Bad Gateway").ExecuteAsync(ctx).ConfigureAwait(false);
                        return;
                    case DifyFaultKind.GatewayTimeoutHtml:
                        await DifyResult.Html(504, "504 Gateway Time-out").ExecuteAsync(ctx).ConfigureAwait(false);
                        return;
                    case DifyFaultKind.TooManyRequests:
                        if (fault.RetryAfter is not null)
                        {
                            ctx.Response.Headers.RetryAfter = fault.RetryAfter;
                        }

                        await DifyResult.Html(429, "429 Too Many Requests").ExecuteAsync(ctx).ConfigureAwait(false);
                        return;
                    case DifyFaultKind.Status:
                        if (fault.RetryAfter is not null)
                        {
                            ctx.Response.Headers.RetryAfter = fault.RetryAfter;
                        }

                        await DifyResult.Error(fault.Status, "injected", $"Injected HTTP {fault.Status}").ExecuteAsync(ctx).ConfigureAwait(false);
                        return;
                    default:
                        break;
                }
            }

            await next().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (timeout test): nothing left to answer.
        }
        finally
        {
            Counters.End();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

using DifyUsageExporter.Configuration;

namespace DifyUsageExporter.Dify;

/// <summary>The failure classes <c>check</c> diagnoses, each with its likely fix.</summary>
public enum DifyCheckFailure
{
    None,
    Configuration,
    Dns,
    ConnectionRefused,
    Timeout,
    Tls,
    NotDify,
    HttpError,
    WrongCredentials,
    PasswordEncoding,
    AccountLocked,
    AccountDisabled,
    NoWorkspace,
    WorkspaceNotFound,
    PasswordLoginDisabled,
    NotSetUp,
    CookieCsrf,
    AdminKeyRejected,
    Unknown,
}

/// <summary>The outcome of <c>DifyDiagnostics.CheckAsync</c>.</summary>
public sealed record DifyCheckResult
{
    public bool Ok => Failure == DifyCheckFailure.None;
    public DifyCheckFailure Failure { get; init; }
    /// <summary>kebab-case name of <see cref="Failure"/> (stable, for --json and scripts).</summary>
    public string FailureClass => Failure == DifyCheckFailure.None ? "none" : DifyDiagnostics.Kebab(Failure);
    public string? Message { get; init; }
    public string? Fix { get; init; }
    public string? BaseUrl { get; init; }
    public string? Version { get; init; }
    public string? Era { get; init; }
    public string? PasswordEncoding { get; init; }
    public IReadOnlyList<string> CookieNames { get; init; } = [];
    public string? AccountEmail { get; init; }
    public string? AccountTimeZone { get; init; }
    public int? AppCount { get; init; }
    public IReadOnlyDictionary<string, int> AppsByMode { get; init; } = new Dictionary<string, int>();

    /// <summary>Apps of a mode that never carries usage (<c>channel</c>), as "name (mode)".</summary>
    public IReadOnlyList<string> NoUsageApps { get; init; } = [];

    /// <summary>Apps of a mode this exporter does not know: they will not be counted, as "name (mode)".</summary>
    public IReadOnlyList<string> UnknownModeApps { get; init; } = [];

    /// <summary>Agent apps of the Agent runtime (<c>/console/api/agent</c>); null when this Dify has none.</summary>
    public int? AgentApps { get; init; }

    /// <summary>Knowledge bases that run a knowledge pipeline (their production runs are counted).</summary>
    public int? KnowledgePipelines { get; init; }
}

/// <summary>
/// <c>check --dify</c>: connect, detect the version and auth era, log in, read the profile and
/// count apps; on failure a diagnosis per failure class with the likely fix. Other checks (the
/// <c>check --api-meter</c>) call this as a library.
/// </summary>
public static class DifyDiagnostics
{
    /// <summary>Runs the Dify check. Never throws for a Dify/network/configuration failure: it is reported in the result.</summary>
    public static Task<DifyCheckResult> CheckAsync(ExporterSettings settings, SecretRegistry secrets, ILoggerFactory loggerFactory, TimeProvider time, HttpMessageHandler? handler = null, CancellationToken cancellationToken = default) =>
        CheckAsync(settings, secrets, loggerFactory, time, null, handler, cancellationToken);

    /// <param name="guard">The state store's memory of rejected credentials: the check makes its one attempt anyway (bypass) and a success clears it.</param>
    public static async Task<DifyCheckResult> CheckAsync(ExporterSettings settings, SecretRegistry secrets, ILoggerFactory loggerFactory, TimeProvider time, DifyLoginGuard? guard, HttpMessageHandler? handler, CancellationToken cancellationToken)
    {
        var result = new DifyCheckResult { BaseUrl = settings.DifyBaseUrl?.ToString() };
        DifyConsoleClient? client = null;
        try
        {
            client = new DifyConsoleClient(settings, secrets, loggerFactory, time, handler) { LoginGuard = guard };
            result = result with { BaseUrl = client.BaseUrl };
            var version = await client.DetectVersionAsync(cancellationToken).ConfigureAwait(false);
            result = result with { Version = version };
            var info = await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            result = result with { Version = info.Version, Era = Kebab(info.Era), PasswordEncoding = info.PasswordEncoding, CookieNames = info.CookieNames };
            var profile = await client.GetProfileAsync(cancellationToken).ConfigureAwait(false);
            result = result with { AccountEmail = profile.Email, AccountTimeZone = profile.Timezone };
            var byMode = new SortedDictionary<string, int>(StringComparer.Ordinal);
            var count = 0;
            var noUsage = new List<string>();
            var unknown = new List<string>();
            var agents = await client.ListAgentAppsAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var app in client.ListAppsAsync(cancellationToken).ConfigureAwait(false))
            {
                count++;
                var mode = app.Mode ?? "(none)";
                byMode[mode] = byMode.GetValueOrDefault(mode) + 1;
                var label = $"{app.Name ?? app.Id} ({mode})";
                if (DifyUsageSource.NoUsageModes.Contains(mode))
                {
                    noUsage.Add(label);
                }
                else if (!DifyUsageSource.KnownModes.Contains(mode) || (mode == "agent" && agents is null))
                {
                    unknown.Add(label);
                }
            }

            var pipelines = 0;
            await foreach (var dataset in client.ListDatasetsAsync(cancellationToken).ConfigureAwait(false))
            {
                pipelines += dataset.RuntimeMode == "rag_pipeline" && !string.IsNullOrEmpty(dataset.PipelineId) ? 1 : 0;
            }

            return result with { AppCount = count, AppsByMode = byMode, NoUsageApps = noUsage, UnknownModeApps = unknown, AgentApps = agents?.Count, KnowledgePipelines = pipelines };
        }
        catch (Exception ex) when (ex is DifyAuthException or DifyApiException or ConfigurationException or HttpRequestException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // The check reports failures instead of throwing: that is its purpose.
            var (failure, fix) = Diagnose(ex, settings);
            var era = client?.ServerInfo;
            return result with
            {
                Failure = failure,
                Message = secrets.Mask(ex.Message),
                Fix = fix,
                Version = result.Version ?? era?.Version,
                PasswordEncoding = result.PasswordEncoding ?? era?.PasswordEncoding,
            };
        }
        finally
        {
            client?.Dispose();
        }
    }

    /// <summary>Maps an exception to a failure class and the likely fix (the table of <see cref="DifyFailures"/>).</summary>
    public static (DifyCheckFailure Failure, string Fix) Diagnose(Exception ex, ExporterSettings settings)
    {
        var failure = DifyFailures.Classify(ex, settings);
        return (failure.Kind, failure.Fix);
    }

    internal static string Kebab<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}

using System.Net;
using DifyUsageExporter.Http;

namespace DifyUsageExporter.Dify;

/// <summary>
/// The client's two message handlers. <see cref="SessionHandler"/> (outer) writes the session's
/// credentials onto requests marked <see cref="Authenticated"/> and, on 401, renews the session
/// (refresh, else one login) and sends again. <see cref="AttemptHandler"/> (inner) runs every
/// attempt through the shared retry rule (<see cref="ResilientHttp"/>) while holding a slot of the
/// adaptive concurrency limit, so the limit sees every attempt; the login POST gets one attempt.
/// A renewal sends its own requests through the same pipeline but holds no slot while it waits.
/// </summary>
public sealed partial class DifyConsoleClient
{
    /// <summary>Marks a request that carries the session's credentials.</summary>
    private static readonly HttpRequestOptionsKey<bool> Authenticated = new("dify.authenticated");

    /// <summary>Marks the login POST: never retried (Dify's 5-failure account lock, api/services/account_service.py).</summary>
    private static readonly HttpRequestOptionsKey<bool> LoginKey = new("dify.login");

    /// <summary>The request's path below the origin, without the query (for logs and errors).</summary>
    private static readonly HttpRequestOptionsKey<string> PathKey = new("dify.path");

    private static readonly string[] CredentialHeaders = ["Authorization", "Cookie", "X-CSRF-Token", "X-WORKSPACE-ID"];

    /// <summary>Credentials on every authenticated request; a 401 renews the session and sends the same request again.</summary>
    private sealed class SessionHandler(DifyConsoleClient client) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Options.TryGetValue(Authenticated, out var authenticated) || !authenticated)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            var s = await client.EnsureSessionAsync(cancellationToken).ConfigureAwait(false);
            var renewals = 0;
            for (var attempt = 0; ; attempt++)
            {
                var used = s;
                foreach (var header in CredentialHeaders)
                {
                    request.Headers.Remove(header);
                }

                Authorize(request, used, client.settings.DifyWorkspaceId);
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                // A 401 renews the session (refresh, else login) and tries again. Only renewals this
                // request performed itself count towards the limit: under heavy concurrency a session
                // renewed by another caller can expire again before this caller's retry. A session
                // refused even right after its own renewals is a cookie/CSRF problem, not an expiry;
                // the 401 is handed back and the caller reports it (DifyFailures.SessionRejectedMessage).
                if (response.StatusCode != HttpStatusCode.Unauthorized || renewals >= MaxSessionRenewals || attempt >= MaxSessionRenewals * 4)
                {
                    return response;
                }

                response.Dispose();
                (s, var renewed) = await client.RecoverAsync(used, cancellationToken).ConfigureAwait(false);
                if (renewed)
                {
                    renewals++;
                }
            }
        }
    }

    /// <summary>Each attempt: a concurrency slot, the send, the whole body read, the slot returned with what the attempt says about Dify's load.</summary>
    private sealed class AttemptHandler(DifyConsoleClient client) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var login = request.Options.TryGetValue(LoginKey, out var l) && l;
            var path = request.Options.TryGetValue(PathKey, out var p) ? p : "?";
            return (login ? client.loginHttp : client.resilientHttp).SendAsync(
                attemptToken => AttemptAsync(request, attemptToken, cancellationToken),
                notice =>
                {
                    DifyMetrics.Retries.Add(1);
                    var outcome = notice.Exception is { } ex ? ex.GetType().Name : notice.StatusCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
                    DifyLog.Retrying(client.logger, request.Method.Method, path, outcome, notice.Attempt, (long)notice.Delay.TotalMilliseconds);
                },
                cancellationToken);
        }

        private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, CancellationToken attemptToken, CancellationToken callerToken)
        {
            var lease = await client.concurrency.AcquireAsync(attemptToken).ConfigureAwait(false);
            var signal = RequestSignal.Ignored;
            try
            {
                DifyMetrics.Requests.Add(1);
                var response = await base.SendAsync(request, attemptToken).ConfigureAwait(false);
                try
                {
                    await response.Content.LoadIntoBufferAsync(attemptToken).ConfigureAwait(false);
                }
                catch
                {
                    response.Dispose();
                    throw;
                }

                signal = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests ? RequestSignal.Overload : RequestSignal.Success;
                return response;
            }
            catch (HttpRequestException)
            {
                signal = RequestSignal.Overload;
                throw;
            }
            catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
            {
                // The per-attempt timeout (DIFY_FETCH_TIMEOUT_MS) fired, not the caller.
                signal = RequestSignal.Overload;
                throw;
            }
            finally
            {
                client.concurrency.Release(lease, signal);
            }
        }
    }
}

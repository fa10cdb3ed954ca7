using System.Globalization;
using Polly;
using Polly.Retry;

namespace DifyUsageExporter.Http;

/// <summary>
/// The one HTTP resilience pipeline: every attempt bounded by <see cref="HttpRetryPolicy.AttemptTimeout"/>
/// (real time: it bounds a real network wait), transient failures (<see cref="HttpTransient"/>)
/// retried with exponential backoff and jitter, or after the server's <c>Retry-After</c> when it
/// sends one. Backoff waits run on the injected <see cref="TimeProvider"/>. The caller builds each
/// attempt itself (a request message cannot be sent twice), so a caller that meters attempts (the
/// Dify client's adaptive concurrency limit) sees every one of them. After the last attempt the
/// last transient answer is returned, or its exception thrown; nothing else is caught.
/// </summary>
public sealed class ResilientHttp
{
    private static readonly ResiliencePropertyKey<Action<HttpRetryNotice>?> NoticeKey = new("http.retry-notice");

    private readonly HttpRetryPolicy policy;
    private readonly TimeProvider time;
    private readonly ResiliencePipeline<HttpResponseMessage> pipeline;

    public ResilientHttp(HttpRetryPolicy policy, TimeProvider time)
    {
        this.policy = policy;
        this.time = time;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (policy.MaxRetries > 0)
        {
            // Polly's retry strategy needs at least one retry; zero means a single attempt.
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = policy.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = policy.BaseDelay,
                MaxDelay = policy.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex ? HttpTransient.IsTransient(ex) : HttpTransient.IsTransient(args.Outcome.Result!.StatusCode)),
                DelayGenerator = args => ValueTask.FromResult(HttpTransient.RetryAfter(args.Outcome.Result, this.time.GetUtcNow(), this.policy.MaxRetryAfter)),
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(NoticeKey, out var notice) && notice is not null)
                    {
                        var status = args.Outcome.Result is { } r ? (int)r.StatusCode : (int?)null;
                        notice(new HttpRetryNotice(args.AttemptNumber + 1, args.Outcome.Exception, status, args.RetryDelay));
                    }

                    return default;
                },
            });
        }

        pipeline = builder.Build();
    }

    public HttpRetryPolicy Policy => policy;

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, gives a non-transient answer or the retries
    /// are spent. The token given to <paramref name="attempt"/> is cancelled when the attempt times
    /// out; that surfaces as <see cref="HttpAttemptTimeoutException"/>. Cancelling
    /// <paramref name="cancellationToken"/> is never retried.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<CancellationToken, Task<HttpResponseMessage>> attempt, Action<HttpRetryNotice>? onRetry, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(NoticeKey, onRetry);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.Self.AttemptAsync(state.Attempt, ctx.CancellationToken).ConfigureAwait(false),
                context,
                (Self: this, Attempt: attempt)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Sends and reads the whole answer into memory, so the timeout covers the body too.</summary>
    public static async Task<HttpResponseMessage> SendBufferedAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        return response;
    }

    private async Task<HttpResponseMessage> AttemptAsync(Func<CancellationToken, Task<HttpResponseMessage>> attempt, CancellationToken cancellationToken)
    {
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attemptCts.CancelAfter(policy.AttemptTimeout);
        try
        {
            return await attempt(attemptCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpAttemptTimeoutException($"no response within {policy.AttemptTimeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms ({policy.TimeoutVariable})", ex);
        }
    }
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>
/// A loopback Slack/Discord-like webhook that records every accepted (204) body; scripted answers
/// (<see cref="Enqueue"/>) are given first, one per request, without recording the body.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> bodies = new();
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> scripted = new();
    private WebApplication? app;
    private int requests;

    /// <summary>Every POST received, accepted or not.</summary>
    public int Requests => Volatile.Read(ref requests);

    /// <summary>The next request is answered with <paramref name="status"/> (and <c>Retry-After</c> when given).</summary>
    public void Enqueue(int status, string? retryAfter = null) => scripted.Enqueue((status, retryAfter));

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<string> Bodies => bodies.ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = global::Simulators.LoopbackWeb.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        var web = builder.Build();
        web.Run(async context =>
        {
            Interlocked.Increment(ref receiver.requests);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            if (receiver.scripted.TryDequeue(out var answer))
            {
                if (answer.RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = answer.RetryAfter;
                }

                context.Response.StatusCode = answer.Status;
                return;
            }

            receiver.bodies.Enqueue(body);
            context.Response.StatusCode = 204;
        });
        await web.StartAsync();
        var address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = new Uri(address.TrimEnd('/') + "/api/webhooks/123/secret-hook-token");
        receiver.app = web;
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

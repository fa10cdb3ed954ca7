using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DifyUsageExporter.Tests.Sync;

/// <summary>A loopback Slack/Discord-like webhook that records every POSTed body.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> bodies = new();
    private WebApplication? app;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<string> Bodies => bodies.ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        var web = builder.Build();
        web.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            receiver.bodies.Enqueue(await reader.ReadToEndAsync(context.RequestAborted));
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

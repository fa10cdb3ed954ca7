using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace DifyUsageExporter.Tests.Telemetry;

public sealed record ReceivedSpan(string Name, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, string> Attributes, int StatusCode, IReadOnlyDictionary<string, string> Resource);

public sealed record ReceivedPoint(string Metric, string Kind, IReadOnlyDictionary<string, string> Attributes, double Value, ulong Count);

/// <summary>
/// A real OTLP receiver on 127.0.0.1: OTLP/HTTP (POST /v1/traces, /v1/metrics, protobuf) on one
/// port and OTLP/gRPC (HTTP/2 without TLS) on another; decodes every request with <see cref="ProtoMessage"/>.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string TracePath = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    private const string MetricsPath = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    private readonly WebApplication app;

    private OtlpReceiver(WebApplication app) => this.app = app;

    public Uri HttpEndpoint { get; private set; } = null!;

    public Uri GrpcEndpoint { get; private set; } = null!;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    public ConcurrentQueue<ReceivedPoint> Points { get; } = new();

    /// <summary>Path, protocol and Authorization header of every request.</summary>
    public ConcurrentQueue<(string Path, string Protocol, string? Authorization)> Requests { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = global::Simulators.LoopbackWeb.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
        });
        var receiver = new OtlpReceiver(builder.Build());
        receiver.app.MapPost("/v1/traces", async (HttpContext http) => await receiver.ReceiveAsync(http, grpc: false, traces: true));
        receiver.app.MapPost("/v1/metrics", async (HttpContext http) => await receiver.ReceiveAsync(http, grpc: false, traces: false));
        receiver.app.MapPost(TracePath, async (HttpContext http) => await receiver.ReceiveAsync(http, grpc: true, traces: true));
        receiver.app.MapPost(MetricsPath, async (HttpContext http) => await receiver.ReceiveAsync(http, grpc: true, traces: false));
        await receiver.app.StartAsync();
        var addresses = receiver.app.Urls.ToList();
        receiver.HttpEndpoint = new Uri(addresses[0]);
        receiver.GrpcEndpoint = new Uri(addresses[1]);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext http, bool grpc, bool traces)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (grpc)
        {
            // gRPC framing: 1 byte compressed flag (0), 4 bytes big-endian length, the message.
            body = body.AsSpan(5, (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1, 4))).ToArray();
        }

        Requests.Enqueue((http.Request.Path, http.Request.Protocol, http.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null));
        var request = ProtoMessage.Parse(body);
        if (traces)
        {
            DecodeTraces(request);
        }
        else
        {
            DecodeMetrics(request);
        }

        if (grpc)
        {
            http.Response.ContentType = "application/grpc";
            // An empty ExportServiceResponse, framed, then the OK status trailer.
            await http.Response.Body.WriteAsync(new byte[5]);
            http.Response.AppendTrailer("grpc-status", "0");
        }
        else
        {
            http.Response.ContentType = "application/x-protobuf";
        }
    }

    private void DecodeTraces(ProtoMessage request)
    {
        foreach (var resourceSpans in request.Messages(1))
        {
            var resource = Attributes(resourceSpans.Message(1), 1);
            foreach (var span in resourceSpans.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                Spans.Enqueue(new ReceivedSpan(
                    span.Text(5)!,
                    Hex(span.Bytes(1)),
                    Hex(span.Bytes(2)),
                    Hex(span.Bytes(4)),
                    Attributes(span, 9),
                    (int)(span.Message(15)?.Varint(3) ?? 0),
                    resource));
            }
        }
    }

    private void DecodeMetrics(ProtoMessage request)
    {
        foreach (var metric in request.Messages(1).SelectMany(r => r.Messages(2)).SelectMany(scope => scope.Messages(2)))
        {
            var name = metric.Text(1)!;
            foreach (var (kind, field) in new[] { ("gauge", 5), ("sum", 7) })
            {
                foreach (var point in metric.Message(field)?.Messages(1) ?? [])
                {
                    // NumberDataPoint: as_double = 4 (double), as_int = 6 (sfixed64).
                    var value = point.Has(4) ? point.Real(4)!.Value : (long)point.Fixed64(6)!.Value;
                    Points.Enqueue(new ReceivedPoint(name, kind, Attributes(point, 7), value, 0));
                }
            }

            foreach (var point in metric.Message(9)?.Messages(1) ?? [])
            {
                // HistogramDataPoint: count = 4 (fixed64), sum = 5 (double), attributes = 9.
                Points.Enqueue(new ReceivedPoint(name, "histogram", Attributes(point, 9), point.Real(5) ?? 0, point.Fixed64(4) ?? 0));
            }
        }
    }

    private static Dictionary<string, string> Attributes(ProtoMessage? owner, int field)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in owner?.Messages(field) ?? [])
        {
            var any = kv.Message(2);
            result[kv.Text(1)!] = any switch
            {
                null => string.Empty,
                _ when any.Has(1) => any.Text(1)!,
                _ when any.Has(2) => any.Varint(2) == 1 ? "true" : "false",
                _ when any.Has(3) => ((long)any.Varint(3)!.Value).ToString(CultureInfo.InvariantCulture),
                _ when any.Has(4) => any.Real(4)!.Value.ToString(CultureInfo.InvariantCulture),
                _ => "?",
            };
        }

        return result;
    }

    private static string Hex(byte[]? bytes) => bytes is null ? string.Empty : Convert.ToHexStringLower(bytes);
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace DifyUsageExporter.Web;

/// <summary>
/// The JSON the daemon's endpoints write with <c>Results.Json</c>, generated at compile time: the
/// exporter is published as Native AOT (docs/operations.md, "Start-up and CPU"), where reflection-based
/// serialization is off. Web defaults (camelCase), instants in UTC.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(UtcInstantJsonConverter)])]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class WebJson : JsonSerializerContext;

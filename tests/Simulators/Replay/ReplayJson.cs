using System.Text.Json.Serialization;

namespace Simulators.Replay;

/// <summary>Source-generated JSON for the replay's login body.</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ReplayJson : JsonSerializerContext;

namespace Simulators.Dify;

/// <summary>
/// A model as Dify reports it (raw provider and model strings) together with the names the
/// contract says they normalise to (usage-semantics.md §3). The truth uses the expected names
/// stored here, never a normaliser, so it stays independent of the exporter's code.
/// </summary>
public sealed record SimModelRef(
    string RawProvider,
    string RawModel,
    string Provider,
    string Model,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion)
{
    /// <summary>The provider/model pair used when nothing identifies the model.</summary>
    public const string Unknown = "unknown";
}

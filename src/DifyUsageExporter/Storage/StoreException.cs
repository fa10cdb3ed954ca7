namespace DifyUsageExporter.Storage;

/// <summary>The state store cannot be used (missing or unwritable DATA_DIR, corrupt file, newer schema).</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message) : base(message) { }
    public StoreException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The cause, when <see cref="StoreDiagnosis"/> could tell it.</summary>
    public StoreProblem Problem { get; init; } = StoreProblem.Other;
}

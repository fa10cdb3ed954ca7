namespace Simulators.Dify;

/// <summary>A knowledge base; with a pipeline (<c>runtime_mode = rag_pipeline</c>) its runs carry usage.</summary>
public sealed class SimDataset
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public string Name { get; init; } = "Knowledge";

    /// <summary><c>rag_pipeline</c> or <c>general</c> (classic upload: no pipeline, no runs).</summary>
    public string RuntimeMode { get; init; } = "rag_pipeline";

    /// <summary>The pipeline: <see cref="SimApp.Id"/> is the pipeline id, its runs are production and preview runs.</summary>
    public SimApp? Pipeline { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

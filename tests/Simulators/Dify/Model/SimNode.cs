namespace Simulators.Dify;

/// <summary>Where a node execution reports its usage (usage-semantics.md §1, node rules 1–4).</summary>
public enum SimNodeUsageShape
{
    /// <summary>No usage (<c>execution_metadata</c> is <c>{}</c>).</summary>
    None,

    /// <summary><c>process_data.usage</c> (+ <c>outputs.usage</c>, <c>execution_metadata</c> totals).</summary>
    ProcessData,

    /// <summary>Only <c>outputs.usage</c> (agent nodes); provider/model unknown.</summary>
    OutputsOnly,

    /// <summary>Only <c>execution_metadata.total_tokens/total_price</c>; input = total, output = 0, unknown model.</summary>
    MetadataOnly,

    /// <summary>Agent node of the Dify Agent runtime: usage only in <c>execution_metadata.agent_log.agent_backend.usage</c> (PR #39354).</summary>
    AgentNested,

    /// <summary>An iteration/loop container carrying its children's aggregated totals: never counted.</summary>
    Container,
}

/// <summary>One node execution of a workflow run.</summary>
public sealed class SimNode
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public int Index { get; set; }

    public string NodeId { get; init; } = "1731570000001";

    public string NodeType { get; init; } = "llm";

    public string Title { get; init; } = "Node";

    public string Status { get; init; } = "succeeded";

    public SimNodeUsageShape Shape { get; init; }

    /// <summary>The model in <c>process_data</c>; null = the fields are absent (older parameter-extractor).</summary>
    public SimModelRef? Model { get; init; }

    public SimUsage? Usage { get; set; }

    /// <summary>Set on the children of an iteration (<c>iteration_id</c>) or loop (<c>loop_id</c>).</summary>
    public string? ParentContainerNodeId { get; init; }

    /// <summary><c>iteration</c> or <c>loop</c> for children; the container's own type is its <see cref="NodeType"/>.</summary>
    public string? ParentContainerType { get; init; }

    /// <summary>Newer builds may offload big process_data; the usage stays.</summary>
    public bool ProcessDataTruncated { get; init; }

    /// <summary>Agent nodes bound to an agent app: their runs show up in that agent's monitoring log as workflow rows.</summary>
    public Guid? BoundAgentAppId { get; init; }

    /// <summary>Writes <c>execution_metadata</c> as <c>null</c> instead of <c>{}</c> for usage-less nodes.</summary>
    public bool NullMetadata { get; init; }
}

namespace Simulators.Dify;

/// <summary>Who a console request acts as, and in which workspace.</summary>
internal sealed record SimPrincipal(Guid AccountId, SimWorkspace Workspace, string Role, bool ViaAdminKey);

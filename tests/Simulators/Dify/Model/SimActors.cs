namespace Simulators.Dify;

/// <summary>A console account (workspace member).</summary>
public sealed record SimAccount(Guid Id, string Name, string Email);

/// <summary>An end user: <c>service_api</c> (session id = the API's <c>user</c> string) or <c>browser</c> (web app).</summary>
public sealed record SimEndUser(Guid Id, string Type, bool IsAnonymous, string SessionId);

/// <summary>Who invoked: exactly one of an end user or an account.</summary>
public sealed record SimActor(SimEndUser? EndUser, SimAccount? Account)
{
    public static SimActor Of(SimEndUser user) => new(user, null);

    public static SimActor Of(SimAccount account) => new(null, account);

    public string UserId => (EndUser?.Id ?? Account!.Id).ToString();

    /// <summary><c>end_user</c> or <c>account</c> (usage-semantics.md §1).</summary>
    public string UserType => EndUser is not null ? "end_user" : "account";
}

namespace DifyUsageExporter.Dify;

/// <summary>Why the exporter could not get or keep a Dify session.</summary>
public enum DifyAuthFailure
{
    /// <summary>Wrong e-mail or password (401 authentication_failed / 400 email_or_password_mismatch).</summary>
    WrongCredentials,
    /// <summary>The server could not decode the password: the encoding (plain/Base64) does not match this Dify version.</summary>
    PasswordEncoding,
    /// <summary>Too many failed attempts: Dify locks the account (default 24 h).</summary>
    AccountLocked,
    /// <summary>The account is banned/disabled.</summary>
    AccountDisabled,
    /// <summary>Login succeeded but the account belongs to no workspace.</summary>
    NoWorkspace,
    /// <summary>DIFY_WORKSPACE_ID is not one of the account's workspaces (or the admin key rejects it).</summary>
    WorkspaceNotFound,
    /// <summary>Password login is disabled on this Dify (SSO only).</summary>
    PasswordLoginDisabled,
    /// <summary>The Dify instance is not set up yet.</summary>
    NotSetUp,
    /// <summary>Login succeeded but the session is refused (cookies/CSRF not accepted).</summary>
    SessionRejected,
    /// <summary>The admin API key was refused.</summary>
    AdminKeyRejected,
    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>
/// A login or session failure that retrying cannot fix (wrong password, locked account, ...).
/// The message never contains a secret.
/// </summary>
public sealed class DifyAuthException : Exception
{
    public DifyAuthException(DifyAuthFailure failure, string message, int? statusCode = null, string? code = null, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        StatusCode = statusCode;
        Code = code;
    }

    public DifyAuthFailure Failure { get; }
    public int? StatusCode { get; }
    /// <summary>Dify's error code (e.g. <c>authentication_failed</c>).</summary>
    public string? Code { get; }
}

/// <summary>
/// A Dify request that failed after retries: HTTP status, Dify error code and a masked, shortened
/// body excerpt. Transport failures (DNS, refused, TLS, timeout) carry <see cref="StatusCode"/> null
/// and the cause in <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class DifyApiException : Exception
{
    public DifyApiException(string message, string path, int? statusCode, string? code, string? bodyExcerpt, Exception? inner = null)
        : base(message, inner)
    {
        Path = path;
        StatusCode = statusCode;
        Code = code;
        BodyExcerpt = bodyExcerpt;
    }

    /// <summary>Request path without the query string.</summary>
    public string Path { get; }
    public int? StatusCode { get; }
    public string? Code { get; }
    public string? BodyExcerpt { get; }
}

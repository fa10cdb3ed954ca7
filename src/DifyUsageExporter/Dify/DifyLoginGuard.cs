using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DifyUsageExporter.Usage;

namespace DifyUsageExporter.Dify;

/// <summary>
/// Keeps the exporter from locking its Dify account. Dify counts failed password logins per e-mail
/// and, past LOGIN_MAX_ERROR_LIMITS (5), answers every login 429 <c>email_code_login_limit</c> for
/// LOGIN_LOCKOUT_DURATION (default 86400 s, renewed by each failure): see langgenius/dify
/// api/services/account_service.py (<c>add_login_error_rate_limit</c>, <c>is_login_error_rate_limit</c>),
/// api/controllers/console/auth/login.py and api/configs/feature/__init__.py. So a rejected password
/// is remembered in the state store — as a salted PBKDF2 fingerprint of (base URL, e-mail, password),
/// never the password — and the same credentials are not sent again until they change or
/// <c>check --dify</c> succeeds; a lock is remembered until it must have expired, then one attempt.
/// </summary>
public sealed class DifyLoginGuard(IStateStore store, TimeProvider time)
{
    /// <summary>Dify's default LOGIN_LOCKOUT_DURATION.</summary>
    public static readonly TimeSpan LockDuration = TimeSpan.FromHours(24);

    /// <summary>The kv key of the remembered rejection (read by /health to report rejected credentials).</summary>
    public const string StateKey = "dify.login_block";
    private const int Iterations = 100_000;

    /// <summary>
    /// True for <c>check --dify</c>: the operator's deliberate single attempt is made despite a
    /// remembered rejection (and its success clears it).
    /// </summary>
    public bool Bypass { get; init; }

    /// <summary>Throws the remembered failure when these credentials must not be sent.</summary>
    /// <param name="credentials">What identifies the credentials: base URL, e-mail, password, password encoding.</param>
    public async Task CheckAsync(string credentials, string email, CancellationToken cancellationToken)
    {
        var block = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (block is null || Bypass || !Matches(block, credentials))
        {
            return;
        }

        var at = Iso.InstantSeconds(block.At);
        if (block.Kind == BlockKind.WrongCredentials)
        {
            throw new DifyAuthException(
                DifyAuthFailure.WrongCredentials,
                $"Not logging in to Dify: the same DIFY_EMAIL/DIFY_PASSWORD for {email} was rejected at {at} ({block.Reason}). Sending it again would count towards Dify's lock (5 failures lock the account for 24 h). Fix: correct DIFY_EMAIL or DIFY_PASSWORD (changed credentials are tried once automatically); if the password was corrected on the Dify side instead, run `dify-usage-exporter check --dify` once: its success lifts this block.");
        }

        if (block.Until is { } until && time.GetUtcNow() < until)
        {
            throw new DifyAuthException(
                DifyAuthFailure.AccountLocked,
                $"Not logging in to Dify: it reported the login of {email} locked at {at} after too many failed attempts; the lock expires by {Iso.InstantSeconds(until)} (LOGIN_LOCKOUT_DURATION, default 24 h), then one attempt is made. Fix DIFY_PASSWORD meanwhile if it is wrong, or have a Dify admin clear the lock and run `dify-usage-exporter check --dify`.");
        }
    }

    /// <summary>Remembers a rejection (wrong credentials or a lock) of these credentials.</summary>
    public async Task RememberAsync(DifyAuthFailure failure, string reason, string credentials, CancellationToken cancellationToken)
    {
        var kind = failure == DifyAuthFailure.AccountLocked ? BlockKind.Locked : BlockKind.WrongCredentials;
        var salt = RandomNumberGenerator.GetBytes(16);
        var now = time.GetUtcNow();
        var block = new LoginBlock(kind, Convert.ToHexString(salt), Fingerprint(salt, credentials), now, kind == BlockKind.Locked ? now + LockDuration : null, reason);
        await store.WriteStateAsync(StateKey, JsonSerializer.Serialize(block, LoginBlockJson.Default.LoginBlock), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A successful login: forget any remembered rejection.</summary>
    public async Task ClearAsync(CancellationToken cancellationToken)
    {
        if (await ReadAsync(cancellationToken).ConfigureAwait(false) is not null)
        {
            await store.DeleteStateAsync(StateKey, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The remembered rejection, if any (for health and `check`).</summary>
    public async Task<LoginBlock?> ReadAsync(CancellationToken cancellationToken)
    {
        var json = await store.ReadStateAsync(StateKey, cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(json, LoginBlockJson.Default.LoginBlock);
        }
        catch (JsonException)
        {
            // A damaged entry must not stop logins for ever: treat it as absent.
            return null;
        }
    }

    private static bool Matches(LoginBlock block, string credentials)
    {
        try
        {
            var salt = Convert.FromHexString(block.Salt);
            return CryptographicOperations.FixedTimeEquals(Convert.FromHexString(Fingerprint(salt, credentials)), Convert.FromHexString(block.Fingerprint));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The text the fingerprint is derived from (never stored itself).</summary>
    public static string Credentials(string baseUrl, string email, string password, string encoding) =>
        $"{baseUrl.TrimEnd('/')}\n{email.Trim()}\n{password}\n{encoding}";

    private static string Fingerprint(byte[] salt, string credentials)
    {
        var material = Encoding.UTF8.GetBytes(credentials);
        return Convert.ToHexString(Rfc2898DeriveBytes.Pbkdf2(material, salt, Iterations, HashAlgorithmName.SHA256, 32));
    }
}

public enum BlockKind
{
    WrongCredentials,
    Locked,
}

/// <summary>A remembered login rejection: fingerprint of the credentials, when, until when (a lock), and Dify's answer.</summary>
public sealed record LoginBlock(BlockKind Kind, string Salt, string Fingerprint, DateTimeOffset At, DateTimeOffset? Until, string Reason);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(UseStringEnumConverter = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(LoginBlock))]
internal sealed partial class LoginBlockJson : System.Text.Json.Serialization.JsonSerializerContext;

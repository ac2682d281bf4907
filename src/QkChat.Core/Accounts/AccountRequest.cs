using System.Text.Json;
using System.Text.Json.Serialization;

namespace QkChat.Core.Accounts;

/// <summary>The fields of every account action (each uses a subset); unknown fields are ignored (protocol.md §2).</summary>
public sealed class AccountRequest
{
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("email")] public string? Email { get; set; }
    [JsonPropertyName("password")] public string? Password { get; set; }
    [JsonPropertyName("verification_code")] public string? VerificationCode { get; set; }
    [JsonPropertyName("client_id")] public string? ClientId { get; set; }
    [JsonPropertyName("device")] public string? Device { get; set; }
    [JsonPropertyName("token")] public string? Token { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("old_password")] public string? OldPassword { get; set; }
    [JsonPropertyName("new_password")] public string? NewPassword { get; set; }

    /// <summary>Reads the body; on an ill-typed field returns null and the field's name.</summary>
    public static AccountRequest? Parse(ReadOnlySpan<byte> body, out string? badField)
    {
        badField = null;
        try
        {
            return JsonSerializer.Deserialize(body, AccountJsonContext.Default.AccountRequest) ?? new AccountRequest();
        }
        catch (JsonException e)
        {
            // Path is "$.field" for a wrong type; the envelope was already validated, so this is the only cause.
            badField = e.Path is { Length: > 2 } path ? path[2..] : "body";
            return null;
        }
    }
}

[JsonSerializable(typeof(AccountRequest))]
internal sealed partial class AccountJsonContext : JsonSerializerContext;

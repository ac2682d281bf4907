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

    /// <summary>The source-generated type information the dispatcher's request reader uses.</summary>
    public static System.Text.Json.Serialization.Metadata.JsonTypeInfo<AccountRequest> Json => AccountJsonContext.Default.AccountRequest;
}

[JsonSerializable(typeof(AccountRequest))]
internal sealed partial class AccountJsonContext : JsonSerializerContext;

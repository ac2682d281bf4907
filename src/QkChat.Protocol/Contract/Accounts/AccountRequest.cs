using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace QkChat.Protocol;

/// <summary>The fields of every account action (each uses a subset); unknown fields are ignored (protocol.md §2).</summary>
public sealed class AccountRequest : IRequestBody<AccountRequest>
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

    /// <summary>The source-generated type information the dispatcher's request reader and clients use.</summary>
    public static JsonTypeInfo<AccountRequest> Json => AccountJsonContext.Default.AccountRequest;
}

/// <summary>The values of send_verification_code's <c>type</c> (protocol.md §5): what the code will be good for.
/// They equal the names of the actions that use the code, but are field values, not action names.</summary>
public static class VerificationCodeTypes
{
    public const string Register = "register";
    public const string ResetPassword = "reset_password";
}

/// <summary>Unset (null) fields are left out when a client writes a request: a present null is INVALID_ARGUMENT.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AccountRequest))]
public sealed partial class AccountJsonContext : JsonSerializerContext;

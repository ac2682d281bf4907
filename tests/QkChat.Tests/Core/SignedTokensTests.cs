using QkChat.Core.Files;
using Xunit;

namespace QkChat.Tests.Core;

/// <summary>Upload tokens and download URL signatures (protocol.md §10): bound to what they name, expiring, unforgeable without the key.</summary>
public sealed class SignedTokensTests
{
    private const long Now = 1_800_000_000_000;

    [Fact]
    public void An_upload_token_round_trips_its_claims_until_it_expires()
    {
        var tokens = new SignedTokens("key");
        var claims = new UploadClaims(42, 123456789, 5_000_000, Now + 1000);
        string token = tokens.UploadToken(claims);
        Assert.Equal(claims, tokens.ReadUploadToken(token, Now));
        Assert.Null(tokens.ReadUploadToken(token, Now + 1000));
        Assert.Null(tokens.ReadUploadToken(token, Now + 5000));
    }

    [Fact]
    public void A_token_with_any_claim_changed_or_under_another_key_is_refused()
    {
        var tokens = new SignedTokens("key");
        string token = tokens.UploadToken(new UploadClaims(42, 123456789, 5_000_000, Now + 1000));
        string signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.Null(tokens.ReadUploadToken($"43.123456789.5000000.{Now + 1000}.{signature}", Now));
        Assert.Null(tokens.ReadUploadToken($"42.123456780.5000000.{Now + 1000}.{signature}", Now));
        Assert.Null(tokens.ReadUploadToken($"42.123456789.9000000.{Now + 1000}.{signature}", Now));
        Assert.Null(tokens.ReadUploadToken($"42.123456789.5000000.{Now + 99_000}.{signature}", Now));
        Assert.Null(new SignedTokens("other key").ReadUploadToken(token, Now));
        Assert.Null(tokens.ReadUploadToken(token + "A", Now));
        Assert.Null(tokens.ReadUploadToken("", Now));
        Assert.Null(tokens.ReadUploadToken(null, Now));
        Assert.Null(tokens.ReadUploadToken("....", Now));
    }

    [Fact]
    public void A_download_signature_is_bound_to_its_file_and_expiry()
    {
        var tokens = new SignedTokens("key");
        string signature = tokens.DownloadSignature(7, Now + 600_000);
        Assert.True(tokens.CheckDownload(7, Now + 600_000, signature, Now));
        Assert.False(tokens.CheckDownload(8, Now + 600_000, signature, Now));
        Assert.False(tokens.CheckDownload(7, Now + 600_001, signature, Now));
        Assert.False(tokens.CheckDownload(7, Now + 600_000, signature, Now + 600_000));
        Assert.False(tokens.CheckDownload(7, Now + 600_000, null, Now));
        Assert.False(tokens.CheckDownload(7, Now + 600_000, "AAAA", Now));
        Assert.False(new SignedTokens("other").CheckDownload(7, Now + 600_000, signature, Now));
    }

    [Fact]
    public void A_download_signature_never_passes_as_an_upload_token()
    {
        var tokens = new SignedTokens("key");
        string signature = tokens.DownloadSignature(7, Now + 600_000);
        Assert.Null(tokens.ReadUploadToken($"7.{Now + 600_000}.{signature}", Now));
    }

    [Fact]
    public void Without_a_configured_secret_each_instance_has_its_own_random_key()
    {
        var a = new SignedTokens("");
        var b = new SignedTokens("");
        Assert.False(b.CheckDownload(7, Now + 1, a.DownloadSignature(7, Now + 1), Now));
        Assert.True(a.CheckDownload(7, Now + 1, a.DownloadSignature(7, Now + 1), Now));
    }
}

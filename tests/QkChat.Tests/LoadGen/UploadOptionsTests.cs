using QkChat.LoadGen.Options;
using QkChat.LoadGen.Results;
using Xunit;

namespace QkChat.Tests.LoadGen;

/// <summary>qkchat-loadgen upload: its command line and its verdict (docs/loadgen.md "upload").</summary>
public sealed class UploadOptionsTests
{
    private static LoadGenOptions Parse(params string[] args) => OptionParser.Parse(args)!;

    [Fact]
    public void Upload_options_are_read_with_their_defaults_and_byte_suffixes()
    {
        LoadGenOptions o = Parse("upload", "--connections", "4", "--password", "pw");
        Assert.Equal((8L * 1024 * 1024, false), (o.FileBytes, o.VerifyDownload));
        Assert.Equal(100L * 1024 * 1024, Parse("upload", "--password", "pw", "--file-bytes", "100M").FileBytes);
        Assert.Equal(64L * 1024, Parse("upload", "--password", "pw", "--file-bytes", "64k").FileBytes);
        Assert.Equal(12345L, Parse("upload", "--password", "pw", "--file-bytes", "12345", "--verify-download").FileBytes);
        Assert.True(Parse("upload", "--password", "pw", "--verify-download").VerifyDownload);
    }

    [Theory]
    [InlineData("upload needs --password", "upload")]
    [InlineData("upload runs in one process", "upload", "--password", "p", "--workers", "2")]
    [InlineData("not a byte count", "upload", "--password", "p", "--file-bytes", "0")]
    [InlineData("not a byte count", "upload", "--password", "p", "--file-bytes", "2048M")]
    [InlineData("not a byte count", "upload", "--password", "p", "--file-bytes", "1G")]
    public void Bad_upload_command_lines_are_refused(string reason, params string[] args) =>
        Assert.Contains(reason, Assert.Throws<UsageException>(() => OptionParser.Parse(args)).Message);

    [Fact]
    public void An_upload_run_fails_unless_every_file_completed_and_matched()
    {
        var good = new UploadResult { Clients = 2, Completed = 2, Verify = true, Verified = 2 };
        Assert.Empty(good.Problems());
        Assert.Contains("1 of 2 uploads completed", new UploadResult { Clients = 2, Completed = 1 }.Problems());
        Assert.Contains("1 downloads did not match their upload's sha256",
            new UploadResult { Clients = 2, Completed = 2, Verify = true, Verified = 1, Mismatched = 1 }.Problems());
        var result = new RunResult { Scenario = "upload", Connections = 2, Opened = 2, Upload = new UploadResult { Clients = 2, Completed = 1 } };
        ResultBuilder.Finish(result);
        Assert.Equal(Verdicts.RunFailed, result.ExitCode);
        Assert.Contains("1 of 2 uploads completed", result.Verdict);
    }
}

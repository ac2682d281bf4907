using System.Collections.Concurrent;
using System.Text;
using Microsoft.Playwright;
using QkChat.IntegrationTests.Accounts;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// Files in the web client (protocol.md §10, docs/web.md): an image attached in one browser is uploaded over tus in
/// several chunks, survives a cut connection by resuming from the server's offset, and shows in the other browser
/// with its name, size and a preview; the other person downloads exactly the bytes sent. A file in a group chat, and
/// a file the page refuses, in words.
/// </summary>
/// <remarks>Timeouts: 120 s per test, as WebClientTests; the upload retry after the cut waits 1 s.</remarks>
public sealed class WebFileTests
{
    [Fact(Timeout = 120_000)]
    public async Task An_image_sent_in_a_chat_resumes_after_a_cut_shows_a_preview_and_downloads_whole_in_the_other_browser()
    {
        await using var h = await WebHarness.StartAsync();
        var alice = await h.RegisterOverTcpAsync();
        var bob = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(alice, bob);
        // 200 x 200 noise: ~120 KB, two 64 KiB chunks.
        byte[] image = TestPng.Noise(200, 200);
        Assert.True(image.Length > WebHarness.ChunkBytes, "the image needs more than one chunk");

        await using var browser = await WebBrowser.LaunchAsync();
        var alicePage = await browser.NewUserAsync("alice", h.BaseUrl);
        var bobPage = await browser.NewUserAsync("bob", h.BaseUrl);
        await WebScenario.RunAsync(h, [alicePage, bobPage], async () =>
        {
            await alicePage.OpenAsync();
            await alicePage.LoginAsync(alice);
            await bobPage.OpenAsync();
            await bobPage.LoginAsync(bob);

            // The second PATCH is cut before it reaches the server: the page must ask HEAD and go on from there.
            alicePage.ExpectConsoleError("net::ERR_CONNECTION_RESET");
            var offsets = new ConcurrentQueue<string>();
            int patches = 0;
            await alicePage.Page.RouteAsync("**/files/uploads/**", async route =>
            {
                if (route.Request.Method == "PATCH")
                {
                    offsets.Enqueue(route.Request.Headers.GetValueOrDefault("upload-offset", "?"));
                    if (Interlocked.Increment(ref patches) == 2)
                    {
                        await route.AbortAsync("connectionreset");
                        return;
                    }
                }
                await route.ContinueAsync();
            });

            await alicePage.OpenChatWithFriendAsync(bob.Name);
            await alicePage.ById("composer-input").FillAsync("the view from the top");
            await alicePage.ById("attach-input").SetInputFilesAsync(new FilePayload { Name = "summit.png", MimeType = "image/png", Buffer = image });
            // Progress shows while it uploads (the retry after the cut waits a second).
            await Expect(alicePage.ById("upload-progress")).ToBeVisibleAsync();
            var mine = alicePage.Messages.Filter(new() { Has = alicePage.Page.GetByTestId("file") });
            await Expect(mine).ToHaveAttributeAsync("data-status", new System.Text.RegularExpressions.Regex("^(sent|delivered|read)$"));
            Assert.Equal(["0", "65536", "65536"], offsets.ToArray()); // resumed at the server's offset, not from 0

            // bob: name, size, caption and a preview of the image.
            var theirs = bobPage.Messages.Filter(new() { Has = bobPage.Page.GetByTestId("file") });
            await bobPage.OpenConversationAsync(alice.Name);
            await Expect(theirs.GetByTestId("file-download")).ToHaveTextAsync("summit.png");
            await Expect(theirs.GetByTestId("file-size")).ToHaveTextAsync(SizeText($"{image.Length / 1024.0:0.0} KB"));
            await Expect(theirs.GetByTestId("message-text")).ToHaveTextAsync("the view from the top");
            await Expect(theirs.GetByTestId("file-preview")).ToHaveJSPropertyAsync("naturalWidth", 200);

            // bob downloads it: the same bytes.
            var download = await bobPage.Page.RunAndWaitForDownloadAsync(() => theirs.GetByTestId("file-download").ClickAsync());
            Assert.Equal("summit.png", download.SuggestedFilename);
            Assert.Equal(image, await File.ReadAllBytesAsync(await download.PathAsync()));

            // A file the page cannot send is refused in words, and nothing is sent.
            await alicePage.ById("attach-input").SetInputFilesAsync(new FilePayload { Name = "empty.txt", MimeType = "text/plain", Buffer = [] });
            await Expect(alicePage.ErrorToast).ToHaveTextAsync(BrowserUser.Words("That file is empty; there is nothing to send."));
            await Expect(alicePage.Messages.Filter(new() { Has = alicePage.Page.GetByTestId("file") })).ToHaveCountAsync(1);
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task A_file_sent_in_a_group_chat_is_listed_with_its_size_and_downloads_for_another_member()
    {
        await using var h = await WebHarness.StartAsync();
        var alice = await h.RegisterOverTcpAsync();
        var bob = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(alice, bob);
        long groupId;
        await using (var setup = await h.LoginOverTcpAsync(alice, "tcp-setup"))
            groupId = (await AccountsHarness.Ok(setup.CreateGroupAsync("hikers", [bob.UserId]))).Data!.Value.GetProperty("group_id").GetInt64();
        byte[] notes = Encoding.UTF8.GetBytes("route: north ridge\nstart: 7:00\n");

        await using var browser = await WebBrowser.LaunchAsync();
        var alicePage = await browser.NewUserAsync("alice", h.BaseUrl);
        var bobPage = await browser.NewUserAsync("bob", h.BaseUrl);
        await WebScenario.RunAsync(h, [alicePage, bobPage], async () =>
        {
            await alicePage.OpenAsync();
            await alicePage.LoginAsync(alice);
            await bobPage.OpenAsync();
            await bobPage.LoginAsync(bob);
            await alicePage.Page.GotoAsync($"/#/chat/g/{groupId}");
            await bobPage.Page.GotoAsync($"/#/chat/g/{groupId}");
            await Expect(alicePage.ById("chat-title")).ToHaveTextAsync("hikers");

            await alicePage.ById("attach-input").SetInputFilesAsync(new FilePayload { Name = "plan.txt", MimeType = "text/plain", Buffer = notes });
            var theirs = bobPage.Messages.Filter(new() { Has = bobPage.Page.GetByTestId("file") });
            await Expect(theirs.GetByTestId("file-download")).ToHaveTextAsync("plan.txt");
            await Expect(theirs.GetByTestId("file-size")).ToHaveTextAsync(SizeText($"{notes.Length} B"));
            await Expect(theirs.GetByTestId("message-sender")).ToHaveTextAsync(alice.Name);
            await Expect(theirs.GetByTestId("file-preview")).ToHaveCountAsync(0); // not an image
            var download = await bobPage.Page.RunAndWaitForDownloadAsync(() => theirs.GetByTestId("file-download").ClickAsync());
            Assert.Equal(notes, await File.ReadAllBytesAsync(await download.PathAsync()));
        });
    }

    private static System.Text.RegularExpressions.Regex SizeText(string size) =>
        new($@"^\s*{System.Text.RegularExpressions.Regex.Escape(size)}\s*$");
}

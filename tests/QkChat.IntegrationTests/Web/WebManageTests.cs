using Microsoft.Playwright;
using QkChat.Client;
using QkChat.IntegrationTests.Accounts;
using QkChat.Protocol;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// The web client's management screens in headless Chromium against the real server: group roles (promote, demote,
/// removal by an admin within §9's rules) and dissolving a group, blocking and unblocking, changing the password, and
/// a conversation list that is right for every group after a sign-in or reload.
/// </summary>
/// <remarks>Timeouts: 120 s per test, as WebClientTests (a browser, a server with migrations, 20-40 page steps).</remarks>
public sealed class WebManageTests
{
    private static readonly TimeSpan PushPatience = TimeSpan.FromSeconds(20);

    private static ILocator Member(BrowserUser user, string name) =>
        user.Page.Locator($"[data-testid=group-member][data-username=\"{name}\"]");

    /// <summary>The pages and accounts of <see cref="OnTheMembersScreenAsync"/>: other is signed in over TCP only.</summary>
    private sealed record GroupRig(WebAccount Owner, WebAccount Mate, WebAccount Other, ChatClient OtherTcp, BrowserUser OwnerPage, BrowserUser MatePage);

    /// <summary>
    /// The group-management tests' set-up: owner, mate and other registered over TCP and befriended by the owner, a
    /// group <paramref name="groupName"/> of the three made by the owner over TCP, other signed in over TCP (to see the
    /// group_event pushes), and the owner's and mate's pages signed in on the group's members screen (the owner's
    /// shows all three); then <paramref name="steps"/>, inside <see cref="WebScenario.RunAsync"/>.
    /// </summary>
    private static async Task OnTheMembersScreenAsync(string groupName, Func<GroupRig, Task> steps)
    {
        await using var h = await WebHarness.StartAsync();
        var owner = await h.RegisterOverTcpAsync();
        var mate = await h.RegisterOverTcpAsync();
        var other = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(owner, mate);
        await h.BefriendAsync(owner, other);
        long groupId;
        await using (var setup = await h.LoginOverTcpAsync(owner, "tcp-setup"))
            groupId = (await AccountsHarness.Ok(setup.CreateGroupAsync(groupName, [mate.UserId, other.UserId]))).Data!.Value.GetProperty("group_id").GetInt64();
        await using var otherTcp = await h.LoginOverTcpAsync(other);

        await using var browser = await WebBrowser.LaunchAsync();
        var ownerPage = await browser.NewUserAsync("owner", h.BaseUrl);
        var matePage = await browser.NewUserAsync("mate", h.BaseUrl);
        await WebScenario.RunAsync(h, [ownerPage, matePage], async () =>
        {
            await ownerPage.OpenAsync();
            await ownerPage.LoginAsync(owner);
            await matePage.OpenAsync();
            await matePage.LoginAsync(mate);
            await ownerPage.Page.GotoAsync($"/#/group/{groupId}/members");
            await matePage.Page.GotoAsync($"/#/group/{groupId}/members");
            await Expect(ownerPage.ById("group-member")).ToHaveCountAsync(3);
            await steps(new GroupRig(owner, mate, other, otherTcp, ownerPage, matePage));
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task The_owner_promotes_and_demotes_an_admin_who_removes_a_member_and_then_dissolves_the_group()
    {
        await OnTheMembersScreenAsync("crew", async rig =>
        {
            var (owner, mate, other, otherTcp, ownerPage, matePage) = rig;

            // A plain member is offered no management: no removal, no roles, no dissolving.
            await Expect(Member(matePage, mate.Name)).ToHaveAttributeAsync("data-role", "member");
            await Expect(matePage.ById("remove-member")).ToHaveCountAsync(0);
            await Expect(matePage.ById("make-admin")).ToHaveCountAsync(0);
            await Expect(matePage.ById("dissolve-group")).ToHaveCountAsync(0);

            // The owner makes mate an admin; mate's own page shows it at once (group_event role_changed).
            await Member(ownerPage, mate.Name).GetByTestId("make-admin").ClickAsync();
            await Expect(Member(ownerPage, mate.Name)).ToHaveAttributeAsync("data-role", "admin");
            await Expect(Member(matePage, mate.Name)).ToHaveAttributeAsync("data-role", "admin");
            // §9: an admin removes plain members, never the owner, and sets no roles.
            await Expect(Member(matePage, owner.Name).GetByTestId("remove-member")).ToHaveCountAsync(0);
            await Expect(matePage.ById("make-admin")).ToHaveCountAsync(0);
            await Member(matePage, other.Name).GetByTestId("remove-member").ClickAsync();
            await otherTcp.WaitForAsync(e => e.Push && e.Action == PushNames.GroupEvent &&
                e.Data!.Value.GetProperty("event").GetString() == "member_removed", PushPatience, "other's removal");
            await Expect(ownerPage.ById("group-member")).ToHaveCountAsync(2);

            // The owner takes the role back; mate's page offers no removal any more.
            await Member(ownerPage, mate.Name).GetByTestId("remove-admin").ClickAsync();
            await Expect(Member(matePage, mate.Name)).ToHaveAttributeAsync("data-role", "member");
            await Expect(matePage.ById("remove-member")).ToHaveCountAsync(0);

            // Dissolving asks once more, then the group is gone for both; mate is told in words.
            await ownerPage.ById("dissolve-group").ClickAsync();
            await Expect(ownerPage.ById("dissolve-confirm")).ToContainTextAsync("go away for everyone");
            await ownerPage.ById("dissolve-group-confirm").ClickAsync();
            await Expect(ownerPage.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/groups$"));
            await Expect(ownerPage.Page.Locator("[data-testid=group][data-name=crew]")).ToHaveCountAsync(0);
            await Expect(matePage.ById("notice").Filter(new() { HasText = "The group crew was dissolved." })).ToHaveCountAsync(1);
            await Expect(matePage.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/groups$"));
            await Expect(matePage.Page.Locator("[data-testid=group][data-name=crew]")).ToHaveCountAsync(0);
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Make_owner_hands_the_group_over_and_both_pages_show_the_new_roles_and_controls()
    {
        await OnTheMembersScreenAsync("handover", async rig =>
        {
            var (owner, mate, other, otherTcp, ownerPage, matePage) = rig;
            await Expect(matePage.ById("group-member")).ToHaveCountAsync(3);
            // Only the owner is offered the handover, on every other member's row.
            await Expect(ownerPage.ById("make-owner")).ToHaveCountAsync(2);
            await Expect(matePage.ById("make-owner")).ToHaveCountAsync(0);

            await Member(ownerPage, mate.Name).GetByTestId("make-owner").ClickAsync();
            await Expect(ownerPage.ById("notice").Filter(new() { HasText = $"{mate.Name} now owns the group; you are an admin." })).ToHaveCountAsync(1);

            // §9: mate owns the group, the old owner is an admin; both pages say so (mate's through group_event).
            foreach (var page in new[] { ownerPage, matePage })
            {
                await Expect(Member(page, mate.Name)).ToHaveAttributeAsync("data-role", "owner");
                await Expect(Member(page, owner.Name)).ToHaveAttributeAsync("data-role", "admin");
                await Expect(Member(page, other.Name)).ToHaveAttributeAsync("data-role", "member");
            }
            await otherTcp.WaitForAsync(e => e.Push && e.Action == PushNames.GroupEvent &&
                e.Data!.Value.GetProperty("event").GetString() == "owner_transferred", PushPatience, "the handover's group_event");

            // The controls follow the roles: the new owner hands over, sets roles and dissolves; the old one, an admin
            // now, removes plain members only and is offered none of the owner's buttons.
            await Expect(matePage.Page.GetByText("you are owner")).ToHaveCountAsync(1);
            await Expect(matePage.ById("make-owner")).ToHaveCountAsync(2);
            await Expect(Member(matePage, other.Name).GetByTestId("make-admin")).ToHaveCountAsync(1);
            await Expect(Member(matePage, owner.Name).GetByTestId("remove-admin")).ToHaveCountAsync(1);
            await Expect(matePage.ById("dissolve-group")).ToHaveCountAsync(1);
            await Expect(ownerPage.Page.GetByText("you are admin")).ToHaveCountAsync(1);
            await Expect(ownerPage.ById("make-owner")).ToHaveCountAsync(0);
            await Expect(ownerPage.ById("make-admin")).ToHaveCountAsync(0);
            await Expect(ownerPage.ById("dissolve-group")).ToHaveCountAsync(0);
            await Expect(Member(ownerPage, mate.Name).GetByTestId("remove-member")).ToHaveCountAsync(0);
            await Expect(Member(ownerPage, other.Name).GetByTestId("remove-member")).ToHaveCountAsync(1);

            // And the server agrees: the old owner may now leave (an owner may not while others remain). The page asks
            // with confirm(), which Playwright would dismiss unless told otherwise.
            ownerPage.Page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
            await ownerPage.ById("leave-group").ClickAsync();
            await Expect(ownerPage.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#/groups$"));
            await Expect(matePage.ById("group-member")).ToHaveCountAsync(2);
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task Blocking_a_friend_stops_messages_both_ways_and_unblocking_lets_them_through()
    {
        await using var h = await WebHarness.StartAsync();
        var alice = await h.RegisterOverTcpAsync();
        var bob = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(alice, bob);
        await using var bobTcp = await h.LoginOverTcpAsync(bob);
        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("alice", h.BaseUrl);
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.LoginAsync(alice);
            await page.ById("tab-friends").ClickAsync();
            await page.Friend(bob.Name).GetByTestId("block-user").ClickAsync();
            await Expect(page.Friend(bob.Name)).ToHaveAttributeAsync("data-blocked", "true");
            await Expect(page.Page.Locator($"[data-testid=blocked-user][data-username=\"{bob.Name}\"]")).ToBeVisibleAsync();

            // bob can no longer write to alice, and alice's own message is refused in words.
            var refused = await bobTcp.SendMessageAsync(alice.UserId, "can you hear me?");
            Assert.Equal(ErrorCodes.Forbidden, refused.Code);
            await page.OpenChatWithFriendAsync(bob.Name);
            await page.ById("composer-input").FillAsync("you are blocked");
            await page.ById("composer-send").ClickAsync();
            await Expect(page.ErrorToast).ToContainTextAsync("You are not allowed to do that.");
            await Expect(page.ById("composer-input")).ToHaveValueAsync("you are blocked");

            // Unblocked: bob's message arrives in the open chat.
            await page.ById("tab-friends").ClickAsync();
            await page.Page.Locator($"[data-testid=blocked-user][data-username=\"{bob.Name}\"]").GetByTestId("unblock-user").ClickAsync();
            await Expect(page.ById("blocked-user")).ToHaveCountAsync(0);
            await Expect(page.Friend(bob.Name)).ToHaveAttributeAsync("data-blocked", "false");
            await AccountsHarness.Ok(bobTcp.SendMessageAsync(alice.UserId, "unblocked at last"));
            await page.OpenChatWithFriendAsync(bob.Name);
            await Expect(page.Message("unblocked at last")).ToBeVisibleAsync();
        });
    }

    [Fact(Timeout = 120_000)]
    public async Task The_password_is_changed_in_the_browser_other_devices_are_signed_out_and_the_new_one_signs_in()
    {
        await using var h = await WebHarness.StartAsync();
        var account = await h.RegisterOverTcpAsync();
        await using var otherDevice = await h.LoginOverTcpAsync(account, "tcp-other-device");
        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("someone", h.BaseUrl);
        const string newPassword = "a brand new secret 42";
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.LoginAsync(account);
            await page.ById("account-link").ClickAsync();
            await Expect(page.ById("account-title")).ToHaveTextAsync("My account");

            // Wrong current password, then two new ones that differ: each refused in words.
            await page.ById("old-password").FillAsync("not my password");
            await page.ById("new-password").FillAsync(newPassword);
            await page.ById("new-password-again").FillAsync(newPassword);
            await page.ById("change-password").ClickAsync();
            await Expect(page.ErrorToast).ToHaveTextAsync(BrowserUser.Words("Wrong username or password."));
            await page.ById("old-password").FillAsync(account.Password);
            await page.ById("new-password-again").FillAsync(newPassword + "!");
            await page.ById("change-password").ClickAsync();
            await Expect(page.ErrorToast.Filter(new() { HasText = "the two new passwords differ" })).ToHaveCountAsync(1);

            await page.ById("new-password-again").FillAsync(newPassword);
            await page.ById("change-password").ClickAsync();
            await Expect(page.ById("notice").Filter(new() { HasText = "Password changed." })).ToHaveCountAsync(1);
            var kicked = await otherDevice.WaitForPushAsync(PushNames.Kicked, PushPatience);
            Assert.Equal("revoked", kicked.Data!.Value.GetProperty("reason").GetString());
            await Expect(page.ById("connection-state")).ToHaveAttributeAsync("data-state", "online");

            // Signed out and in again: only the new password works.
            await page.ById("logout").ClickAsync();
            await page.LoginAsync(account with { Password = newPassword });
        });
    }

    [Fact(Timeout = 180_000)] // 101 groups made over TCP before the browser starts
    public async Task After_a_reload_every_group_has_its_unread_count_even_beyond_the_100_newest_conversations()
    {
        // The writer makes 101 groups quickly: the per-connection request rate must not slow the set-up.
        await using var h = await WebHarness.StartAsync(new Dictionary<string, string>
        {
            ["QKCHAT_RATE_LIMIT_RPS"] = "10000",
            ["QKCHAT_RATE_LIMIT_BURST"] = "10000",
        });
        var reader = await h.RegisterOverTcpAsync();
        var writer = await h.RegisterOverTcpAsync();
        await h.BefriendAsync(reader, writer);
        await using (var tcp = await h.LoginOverTcpAsync(writer))
        {
            // The oldest conversation of 101: get_conversations (at most 100) leaves it out.
            long oldest = (await AccountsHarness.Ok(tcp.CreateGroupAsync("oldest news", [reader.UserId]))).Data!.Value.GetProperty("group_id").GetInt64();
            await AccountsHarness.Ok(tcp.SendGroupMessageAsync(oldest, "news nobody has read"));
            for (int i = 1; i <= 100; i++) await AccountsHarness.Ok(tcp.CreateGroupAsync($"newer {i:000}", [reader.UserId]));
        }

        await using var browser = await WebBrowser.LaunchAsync();
        var page = await browser.NewUserAsync("reader", h.BaseUrl);
        await WebScenario.RunAsync(h, [page], async () =>
        {
            await page.OpenAsync();
            await page.LoginAsync(reader);
            await Expect(page.Conversation("oldest news").GetByTestId("unread")).ToHaveTextAsync("1");
            await Expect(page.ById("unread-total")).ToHaveTextAsync("1");
            await Expect(page.ById("conversation")).ToHaveCountAsync(101);

            await page.Page.ReloadAsync();
            await page.ExpectSignedInAsync(reader.Name);
            await Expect(page.Conversation("oldest news").GetByTestId("unread")).ToHaveTextAsync("1");
            await Expect(page.ById("unread-total")).ToHaveTextAsync("1");

            // Opening it reads it: the count and the badge go.
            await page.OpenConversationAsync("oldest news");
            await Expect(page.Message("news nobody has read")).ToBeVisibleAsync();
            await Expect(page.ById("unread-total")).ToBeHiddenAsync();
        });
    }
}

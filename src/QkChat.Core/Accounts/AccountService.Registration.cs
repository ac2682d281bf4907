using QkChat.Core.Audit;
using QkChat.Core.Dispatch;
using QkChat.Protocol;

namespace QkChat.Core.Accounts;

public sealed partial class AccountService
{
    private void SendVerificationCode(RequestContext ctx)
    {
        var request = Parse(ctx, r => InputRules.Email(r.Email), r => InputRules.CodeType(r.Type));
        if (request is null) return;
        string email = request.Email!;
        var purpose = request.Type == VerificationCodeTypes.Register ? CodePurpose.Register : CodePurpose.ResetPassword;
        string ip = ctx.Session.RemoteAddress.ToString(), limitKey = ctx.Session.LimitKey;
        RunAsync(ctx, async pending =>
        {
            string normalized = InputRules.NormalizeEmail(email);
            var issue = await _codes.IssueAsync(normalized, purpose, limitKey, CancellationToken.None);
            string kind = purpose == CodePurpose.Register ? VerificationCodeTypes.Register : VerificationCodeTypes.ResetPassword;
            if (issue.Outcome == CodeIssueOutcome.RateLimited)
            {
                Audit(AuditEvent.RateLimited, null, null, null, ip, false, "code_" + kind);
                pending.Complete(ErrorCodes.RateLimited, "too many codes requested; wait before asking again",
                    issue.RetryAfterMs, static (w, ms) => w.WriteNumber("retry_after_ms"u8, ms));
                return;
            }
            // A reset code for an address with no account is not sent, but answered alike: the answer must not
            // tell who has an account (register tells only the holder of a valid code; docs/accounts.md).
            var owner = purpose == CodePurpose.Register ? null : await _users.FindByEmailAsync(normalized, CancellationToken.None);
            bool send = purpose == CodePurpose.Register || owner is not null;
            if (send && !_mailer.TryEnqueue(new VerificationMail(email, issue.Code!, purpose, _options.CodeValidity)))
            {
                pending.Complete(ErrorCodes.ServerBusy, "the mail queue is full; retry shortly");
                return;
            }
            LogCodeIssued(_logger, purpose, send);
            // The code itself never goes to the audit log; a reset asked for an address without an account is a failure.
            Audit(AuditEvent.CodeSent, owner?.UserId, null, null, ip, send, send ? kind : kind + "_no_account");
            pending.Complete(ErrorCodes.Ok, "code sent", issue, static (w, i) =>
            {
                w.WriteNumber("expires_in_s"u8, i.ExpiresInSeconds);
                w.WriteNumber("resend_after_s"u8, i.ResendAfterSeconds);
            });
        });
    }

    private void RegisterUser(RequestContext ctx)
    {
        var request = Parse(ctx,
            r => InputRules.Username(r.Username),
            r => InputRules.Email(r.Email),
            r => InputRules.Password(r.Password, "password"),
            r => InputRules.VerificationCode(r.VerificationCode));
        if (request is null) return;
        string ip = ctx.Session.RemoteAddress.ToString();
        RunAsync(ctx, async pending =>
        {
            string normalized = InputRules.NormalizeEmail(request.Email!);
            // The code first (issue 16): without a valid code register must not tell who exists; check_username and
            // check_email (rate-limited) are the only way to ask. The code is kept, not consumed, until the account
            // exists, so a taken name does not cost the user their code; the unique keys allow one account per
            // address whatever happens between the check and the insert.
            if (await CheckCodeAsync(pending, normalized, CodePurpose.Register, request.VerificationCode!, ip, consume: false) is false) return;
            if (await _users.FindByUsernameOrEmailAsync(request.Username!, CancellationToken.None) is { } byName
                && string.Equals(byName.Username, request.Username, StringComparison.OrdinalIgnoreCase))
            {
                pending.Complete(ErrorCodes.AlreadyExists, "username: already taken");
                return;
            }
            if (await _users.FindByEmailAsync(normalized, CancellationToken.None) is not null)
            {
                pending.Complete(ErrorCodes.AlreadyExists, "email: already registered");
                return;
            }
            if (!_passwords.TryHash(request.Password!, out var hashing))
            {
                pending.Complete(ErrorCodes.ServerBusy, "the server is busy; retry shortly");
                return;
            }
            var (outcome, user) = await _users.CreateAsync(request.Username!, request.Email!, await hashing, CancellationToken.None);
            switch (outcome)
            {
                case CreateUserOutcome.UsernameTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "username: already taken");
                    return;
                case CreateUserOutcome.EmailTaken:
                    pending.Complete(ErrorCodes.AlreadyExists, "email: already registered");
                    return;
            }
            try
            {
                await _codes.ConsumeAsync(normalized, CodePurpose.Register, CancellationToken.None);
            }
            catch (BackendUnavailableException)
            {
                // The account exists, so the answer is OK: a code left behind can only meet "email: already
                // registered" (the unique key) until it expires.
            }
            LogRegistered(_logger, user!.UserId);
            pending.Complete(ErrorCodes.Ok, "registered", user, static (w, u) =>
            {
                w.WriteNumber("user_id"u8, u.UserId);
                w.WriteString("username"u8, u.Username);
                w.WriteString("email"u8, u.Email);
            });
        });
    }

    /// <summary>Answers INVALID_CODE / CODE_EXPIRED and returns false unless the code is valid (and now consumed, if <paramref name="consume"/>).</summary>
    private async Task<bool> CheckCodeAsync(PendingResponse pending, string normalizedEmail, CodePurpose purpose, string code, string ip,
        bool consume = true)
    {
        switch (await _codes.CheckAsync(normalizedEmail, purpose, code, CancellationToken.None, consume))
        {
            case CodeCheckOutcome.VoidedNow:
                // A reset code belongs to an account: its owner sees the voiding among their security events.
                var owner = purpose == CodePurpose.ResetPassword ? await _users.FindByEmailAsync(normalizedEmail, CancellationToken.None) : null;
                Audit(AuditEvent.CodeVoided, owner?.UserId, null, null, ip, false, purpose == CodePurpose.Register ? VerificationCodeTypes.Register : VerificationCodeTypes.ResetPassword);
                pending.Complete(ErrorCodes.InvalidCode, "verification_code: wrong code");
                return false;
            case CodeCheckOutcome.Valid:
                return true;
            case CodeCheckOutcome.Expired:
                pending.Complete(ErrorCodes.CodeExpired, "verification_code: expired or never sent; request a new one");
                return false;
            case CodeCheckOutcome.Voided:
                pending.Complete(ErrorCodes.InvalidCode, "verification_code: too many wrong tries; request a new one");
                return false;
            default:
                pending.Complete(ErrorCodes.InvalidCode, "verification_code: wrong code");
                return false;
        }
    }
}

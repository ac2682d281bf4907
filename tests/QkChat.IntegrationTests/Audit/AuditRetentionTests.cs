using System.Text;
using Xunit;

namespace QkChat.IntegrationTests.Audit;

public sealed class AuditRetentionTests
{
    [Fact(Timeout = 60_000)]
    public async Task Rows_older_than_the_retention_are_deleted_in_batches_and_newer_ones_kept()
    {
        await using var h = await AuditHarness.StartAsync();
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), day = 86_400_000;
        // 2,500 rows 100 days old (three delete batches), 10 rows 89 days old.
        var sql = new StringBuilder("INSERT INTO audit_events (at, event, user_id, ip, outcome) VALUES ");
        for (int i = 0; i < 2510; i++)
            sql.Append(i > 0 ? "," : "").Append($"({now - (i < 2500 ? 100 : 89) * day + i}, 'login', 123456789, '10.0.0.1', 1)");
        await h.Db.ExecuteAsync(sql.ToString());

        Assert.Equal(2500, await h.Features.AuditRetention.PurgeAsync(now, TestContext.Current.CancellationToken));
        Assert.Equal(10, await h.Db.ScalarAsync("SELECT COUNT(*) FROM audit_events"));

        h.Features.AuditOptions.RetentionDays = 30; // a reload shortens it: the next pass applies it
        Assert.Equal(10, await h.Features.AuditRetention.PurgeAsync(now, TestContext.Current.CancellationToken));
        Assert.Equal(0, await h.Db.ScalarAsync("SELECT COUNT(*) FROM audit_events"));
    }
}

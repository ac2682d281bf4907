namespace QkChat.Server.Storage;

/// <summary>
/// MariaDB (db.*): the option registry binds these properties; their initializers are the defaults, which match
/// a local install made by packaging/ (database and user qkchat on loopback).
/// </summary>
public sealed class DatabaseOptions
{
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 3306;
    public string User { get; set; } = "qkchat";

    /// <summary>Empty by default: a secret is never given a default.</summary>
    public string Password { get; set; } = "";

    public string Name { get; set; } = "qkchat";

    /// <summary>32: with the 11 connections of the writers' pool (ChatServer.WriterPoolSize with the default 4 message and 2 group writers), 3 nodes (3 x 43 = 129) fit MariaDB's default max_connections of 151 with room for migrations, tools and monitoring; 4 nodes (172) need it raised (docs/tuning.md).</summary>
    public int PoolSize { get; set; } = 32;

    /// <summary>Off: a schema change is the operator's step (`qkchatd migrate`), not a side effect of a start.</summary>
    public bool AutoMigrate { get; set; }
}

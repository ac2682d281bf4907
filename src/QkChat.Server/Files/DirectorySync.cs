using System.Runtime.InteropServices;

namespace QkChat.Server.Files;

/// <summary>
/// fsync of a directory: a created or renamed file is durable only once its directory entry is (POSIX leaves that to
/// the directory's fsync). .NET opens no directory handles, so this asks libc.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0, Directory = 0x10000; // O_RDONLY, O_DIRECTORY (Linux)

    public static void Flush(string path)
    {
        int fd = Open(path, ReadOnly | Directory);
        if (fd < 0) throw new IOException($"cannot open directory {path} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (FSync(fd) != 0) throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

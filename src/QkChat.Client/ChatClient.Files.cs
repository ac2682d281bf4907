using QkChat.Protocol;

namespace QkChat.Client;

/// <summary>The file actions (protocol.md §10): the chat connection carries only control; bytes go over HTTP.</summary>
public sealed partial class ChatClient
{
    /// <summary>Starts or resumes an upload, or learns that the content is stored already (data.complete).</summary>
    public Task<Envelope> FileUploadInitAsync(string name, long size, string sha256Hex, string? mime = null, CancellationToken ct = default) =>
        RequestAsync(Actions.FileUploadInit, new FileRequest { Name = name, Size = size, Sha256 = sha256Hex, Mime = mime }, ct: ct);

    /// <summary>A signed download URL of a file one may see, valid 10 minutes.</summary>
    public Task<Envelope> GetFileUrlAsync(long fileId, CancellationToken ct = default) =>
        RequestAsync(Actions.GetFileUrl, new FileRequest { FileId = fileId }, ct: ct);

    /// <summary>A one-to-one message of type file (the caption may be empty).</summary>
    public Task<Envelope> SendFileMessageAsync(long receiverId, long fileId, string caption = "", string? clientMsgId = null, CancellationToken ct = default) =>
        RequestAsync(Actions.SendMessage, new MessageRequest
        {
            ReceiverId = receiverId, Content = caption, Type = "file", FileId = fileId, ClientMsgId = clientMsgId,
        }, ct: ct);

    /// <summary>A group entry of type file (the caption may be empty).</summary>
    public Task<Envelope> SendGroupFileMessageAsync(long groupId, long fileId, string caption = "", string? clientMsgId = null, CancellationToken ct = default) =>
        RequestAsync(Actions.SendGroupMessage, new GroupRequest
        {
            GroupId = groupId, Content = caption, Type = "file", FileId = fileId, ClientMsgId = clientMsgId,
        }, ct: ct);
}

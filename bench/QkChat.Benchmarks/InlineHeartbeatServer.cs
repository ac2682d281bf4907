using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using QkChat.Protocol;

namespace QkChat.Benchmarks;

/// <summary>
/// The design alternative to the reactors, for measurement only (docs/transport.md): frames are parsed and answered
/// directly on the runtime's socket completion threads (run with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 so
/// those are the epoll threads), with the same framing, validation and response writing as qkchatd but no hop to a
/// reactor. It answers `heartbeat` only and has none of the server's limits, timeouts or send queues: its numbers
/// are an upper bound for that design.
/// </summary>
internal static class InlineHeartbeatServer
{
    public static int Run(string[] args)
    {
        int port = args.Length > 0 ? int.Parse(args[0]) : 19090;
        int seconds = args.Length > 1 ? int.Parse(args[1]) : 300;
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        listener.Listen(4096);
        Console.WriteLine($"inline heartbeat server on 127.0.0.1:{port} for {seconds} s (pid {Environment.ProcessId})");
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var socket = await listener.AcceptAsync();
                socket.NoDelay = true;
                new InlineConnection(socket).Start();
            }
        });
        Thread.Sleep(TimeSpan.FromSeconds(seconds)); // bounded: it stops by itself
        return 0;
    }

    private sealed class InlineConnection
    {
        private readonly Socket _socket;
        private readonly SocketAsyncEventArgs _receive = new();
        private readonly SocketAsyncEventArgs _send = new();
        private readonly ArrayBufferWriter<byte> _out = new(4096);
        private readonly byte[] _sending = new byte[64 * 1024];
        private readonly Utf8JsonWriter _writer;
        private readonly object _gate = new();
        private byte[] _buffer = new byte[4096];
        private int _count;
        private bool _sendPending;

        public InlineConnection(Socket socket)
        {
            _socket = socket;
            _writer = new Utf8JsonWriter(_out, EnvelopeWriter.WriterOptions);
            _receive.Completed += (_, _) => OnReceived();
            _send.Completed += (_, _) => OnSent();
        }

        public void Start() => PostReceive();

        private void PostReceive()
        {
            while (true)
            {
                _receive.SetBuffer(_buffer, _count, _buffer.Length - _count);
                if (_socket.ReceiveAsync(_receive)) return;
                if (!Process()) return;
            }
        }

        private void OnReceived()
        {
            if (Process()) PostReceive();
        }

        private bool Process()
        {
            if (_receive.SocketError != SocketError.Success || _receive.BytesTransferred == 0)
            {
                _socket.Dispose();
                return false;
            }
            _count += _receive.BytesTransferred;
            int offset = 0;
            lock (_gate)
            {
                while (Framing.TryDecode(_buffer.AsSpan(offset, _count - offset), Framing.DefaultMaxFrameBytes, out int length) == FrameStatus.Complete)
                {
                    Answer(_buffer.AsSpan(offset + Framing.HeaderSize, length));
                    offset += Framing.HeaderSize + length;
                }
                _buffer.AsSpan(offset, _count - offset).CopyTo(_buffer);
                _count -= offset;
                if (_count == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                if (!_sendPending) StartSend();
            }
            return true;
        }

        private void Answer(ReadOnlySpan<byte> body)
        {
            Span<byte> action = stackalloc byte[RequestHead.MaxActionBytes];
            Span<byte> id = stackalloc byte[256];
            var error = RequestHead.Read(body, action, out int a, id, out int r);
            var header = _out.GetSpan(Framing.HeaderSize);
            int start = _out.WrittenCount;
            _out.Advance(Framing.HeaderSize);
            _writer.Reset(_out);
            EnvelopeWriter.BeginResponse(_writer, a > 0 ? action[..a] : default, r >= 0 ? id[..r] : default, r >= 0,
                error == RequestHeadError.None ? ErrorCodes.Ok : ErrorCodes.BadJson, "ok");
            _writer.WriteStartObject("data"u8);
            _writer.WriteNumber("server_time"u8, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            _writer.WriteEndObject();
            _writer.WriteEndObject();
            _writer.Flush();
            Framing.WriteHeader(header, _out.WrittenCount - start - Framing.HeaderSize);
        }

        private void StartSend()
        {
            if (_out.WrittenCount == 0) return;
            int n = Math.Min(_out.WrittenCount, _sending.Length);
            _out.WrittenSpan[..n].CopyTo(_sending);
            var rest = _out.WrittenSpan[n..].ToArray();
            _out.ResetWrittenCount();
            rest.CopyTo(_out.GetSpan(rest.Length));
            _out.Advance(rest.Length);
            _sendPending = true;
            _send.SetBuffer(_sending, 0, n);
            if (!_socket.SendAsync(_send)) OnSent();
        }

        private void OnSent()
        {
            lock (_gate)
            {
                _sendPending = false;
                if (_send.SocketError != SocketError.Success) return;
                StartSend();
            }
        }
    }
}

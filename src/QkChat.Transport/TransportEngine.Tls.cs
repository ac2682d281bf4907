using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace QkChat.Transport;

public sealed partial class TransportEngine
{
    private SslStreamCertificateContext? _certificate;

    /// <summary>Loads the PEM certificate (and any chain certificates after it in the same file) and its key.</summary>
    private void LoadCertificate(TlsListenerOptions tls)
    {
        var leaf = X509Certificate2.CreateFromPemFile(tls.CertificatePemFile, tls.KeyPemFile);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(tls.CertificatePemFile);
        var chain = new X509Certificate2Collection();
        foreach (var c in all)
            if (c.Thumbprint != leaf.Thumbprint) chain.Add(c);
        _certificate = SslStreamCertificateContext.Create(leaf, chain, offline: true);
    }

    /// <summary>
    /// Runs the handshake on the thread pool (never on a reactor) under the handshake timeout; a plaintext or
    /// stalled client is closed and its limiter slot released. Only a finished handshake becomes a connection.
    /// </summary>
    private async Task StartTlsAsync(Socket socket, IPAddress remote, Reactor reactor, IFrameCodec codec)
    {
        var tls = Options.Tls!;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            using var timeout = new CancellationTokenSource(tls.HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = _certificate,
                ClientCertificateRequired = false,
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            string reason = e is OperationCanceledException ? $"no handshake within {tls.HandshakeTimeout.TotalSeconds:0} s" : e.Message;
            _events.TlsHandshakeFailed(remote, reason);
            Limiter.Release(remote);
            reactor.Unassign();
            Interlocked.Increment(ref _tlsHandshakeFailures);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return;
        }
        reactor.Post(new ReactorWork(WorkKind.Open, new Connection(reactor, new TlsStream(ssl), remote, codec)));
    }

    private long _tlsHandshakeFailures;

    public long TlsHandshakeFailures => Interlocked.Read(ref _tlsHandshakeFailures);
}

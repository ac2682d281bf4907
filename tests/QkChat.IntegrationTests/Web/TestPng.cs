using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace QkChat.IntegrationTests.Web;

/// <summary>
/// Real PNG files for the browser tests (a browser must be able to show them as previews): RGB, 8 bits, zlib-compressed
/// scan lines. Noise does not compress, so the file's size is about width * height * 3 bytes: large enough to need
/// several upload chunks. A fixed seed keeps the bytes the same between runs.
/// </summary>
internal static class TestPng
{
    public static byte[] Noise(int width, int height, int seed = 20)
    {
        var random = new Random(seed);
        return Encode(width, height, row => random.NextBytes(row));
    }

    /// <summary>A sky-to-hill picture for the screenshots (compresses well, looks like a photo at a glance).</summary>
    public static byte[] Landscape(int width, int height) =>
        Encode(width, height, new LandscapeRows(width, height).Next);

    private sealed class LandscapeRows(int width, int height)
    {
        private int _y;

        public void Next(Span<byte> row)
        {
            int y = _y++;
            for (int x = 0; x < width; x++)
            {
                double ridge = height * (0.6 + 0.12 * Math.Sin(x * 6.0 / width) + 0.05 * Math.Sin(x * 23.0 / width));
                bool hill = y > ridge;
                row[3 * x] = (byte)(hill ? 40 + 30 * y / height : 120 + 100 * y / height);
                row[3 * x + 1] = (byte)(hill ? 110 + 60 * y / height : 170 + 60 * y / height);
                row[3 * x + 2] = (byte)(hill ? 50 : 235);
            }
        }
    }

    private static byte[] Encode(int width, int height, SpanAction fill)
    {
        var raw = new byte[height * (1 + width * 3)];
        for (int y = 0; y < height; y++)
        {
            int row = y * (1 + width * 3);
            raw[row] = 0; // filter: none
            fill(raw.AsSpan(row + 1, width * 3));
        }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        using (var deflated = new MemoryStream())
        {
            using (var z = new ZLibStream(deflated, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
            Chunk(png, "IDAT", deflated.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private delegate void SpanAction(Span<byte> row);

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32(typeAndData));
        png.Write(four);
    }

    /// <summary>PNG's CRC-32 (ISO 3309, the zlib polynomial), bit by bit: test files are small.</summary>
    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}

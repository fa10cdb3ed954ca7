using System.Text;

namespace DifyUsageExporter.Tests.Telemetry;

/// <summary>
/// A minimal protobuf wire-format reader for the test's OTLP receiver: a message is its fields by
/// number, each value a varint, a fixed64/fixed32 or a length-delimited byte string (nested
/// message, string or packed values). Written from the encoding spec, independent of the SDK.
/// </summary>
public sealed class ProtoMessage
{
    private readonly Dictionary<int, List<object>> fields = [];

    public static ProtoMessage Parse(ReadOnlySpan<byte> data)
    {
        var message = new ProtoMessage();
        var position = 0;
        while (position < data.Length)
        {
            var key = ReadVarint(data, ref position);
            var number = (int)(key >> 3);
            object value;
            switch (key & 7)
            {
                case 0:
                    value = ReadVarint(data, ref position);
                    break;
                case 1:
                    value = BitConverter.ToUInt64(data.Slice(position, 8));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(data, ref position);
                    value = data.Slice(position, length).ToArray();
                    position += length;
                    break;
                case 5:
                    value = (ulong)BitConverter.ToUInt32(data.Slice(position, 4));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"unsupported wire type {key & 7} for field {number}");
            }

            if (!message.fields.TryGetValue(number, out var list))
            {
                list = [];
                message.fields[number] = list;
            }

            list.Add(value);
        }

        return message;
    }

    public IEnumerable<ProtoMessage> Messages(int field) => All(field).Select(v => Parse((byte[])v));

    public ProtoMessage? Message(int field) => Messages(field).FirstOrDefault();

    public string? Text(int field) => All(field).Select(v => Encoding.UTF8.GetString((byte[])v)).FirstOrDefault();

    public byte[]? Bytes(int field) => All(field).Select(v => (byte[])v).FirstOrDefault();

    public ulong? Varint(int field) => All(field).Select(v => (ulong)v).Cast<ulong?>().FirstOrDefault();

    public ulong? Fixed64(int field) => Varint(field);

    public double? Real(int field) => All(field).Select(v => BitConverter.Int64BitsToDouble((long)(ulong)v)).Cast<double?>().FirstOrDefault();

    public bool Has(int field) => fields.ContainsKey(field);

    private IEnumerable<object> All(int field) => fields.TryGetValue(field, out var list) ? list : [];

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("varint longer than 10 bytes");
    }
}

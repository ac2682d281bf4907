using System.Numerics;
using System.Runtime.InteropServices;

namespace QkChat.Transport;

/// <summary>
/// A reactor's multi-producer, single-consumer inbox. Posting and taking never take a lock: producers claim a
/// position with one compare-and-swap on the tail of a ring (Vyukov's bounded queue: a sequence number per slot says
/// whose turn it is) and publish the slot with an interlocked write; a full ring is frozen and a bigger one linked
/// with compare-and-swap, so the inbox is unbounded without a lock. Items are structs copied into the ring, and a
/// ring is reused lap after lap, so the steady state allocates nothing (a new ring only when the backlog outgrows
/// the current one; the old one is left to the GC, which is what makes dropping it safe while a stalled producer
/// may still hold a reference).
/// The only blocking is the idle consumer parking on an event (<see cref="Wait"/>); a producer touches that event
/// only when it finds the consumer parked. docs/transport.md explains why no wake-up can be lost.
/// </summary>
internal sealed class ReactorInbox<T> where T : struct
{
    // 1024 slots of a ReactorWork are ~48 KB: below the large-object heap, and a reactor rarely holds more.
    internal const int DefaultInitialCapacity = 1024;
    // Growth stops doubling here (3 MB of ReactorWork); a longer backlog links more rings of this size.
    internal const int DefaultMaxSegmentCapacity = 64 * 1024;

    private readonly int _maxSegmentCapacity;
    // Touched only on the park/wake transition. spinCount 0: a parked reactor yields its core to the others.
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private Segment _head; // the consumer's ring
    private Segment _tail; // where producers start; only ever moves forward
    private int _parked;   // 1 from just before the consumer's last check until a producer (or the consumer) clears it
    private int _segmentsAdded;

    public ReactorInbox() : this(DefaultInitialCapacity, DefaultMaxSegmentCapacity)
    {
    }

    /// <summary>Small capacities let tests cross ring boundaries often.</summary>
    internal ReactorInbox(int initialCapacity, int maxSegmentCapacity)
    {
        if (initialCapacity < 2 || !BitOperations.IsPow2(initialCapacity))
            throw new ArgumentOutOfRangeException(nameof(initialCapacity), "a power of two, at least 2");
        if (maxSegmentCapacity < initialCapacity || !BitOperations.IsPow2(maxSegmentCapacity))
            throw new ArgumentOutOfRangeException(nameof(maxSegmentCapacity), "a power of two, at least the initial capacity");
        _maxSegmentCapacity = maxSegmentCapacity;
        _head = _tail = new Segment(initialCapacity);
    }

    /// <summary>
    /// Tests only: called at each step of parking, so a test can post at exactly the moments a wake-up could be lost
    /// (a null check per park, nothing per item).
    /// </summary>
    internal Action<ParkStage>? ParkingProbe { get; set; }

    /// <summary>Rings linked because the backlog outgrew the previous one (tests and diagnostics).</summary>
    internal int SegmentsAdded => Volatile.Read(ref _segmentsAdded);

    /// <summary>Thread-safe. Never blocks; wakes the consumer only if it is parked.</summary>
    public void Post(in T item)
    {
        var segment = Volatile.Read(ref _tail);
        while (!segment.TryEnqueue(item)) segment = Grow(segment);
        // TryEnqueue published the slot with a full fence, so this read happens after the publication: either the
        // consumer's re-check in Wait sees the item, or this sees _parked = 1 (the Dekker pattern).
        if (Volatile.Read(ref _parked) != 0 && Interlocked.Exchange(ref _parked, 0) != 0) _signal.Set();
    }

    /// <summary>Consumer only: the next item in position order (so each producer's items stay in its order).</summary>
    public bool TryTake(out T item)
    {
        var segment = _head;
        while (true)
        {
            if (segment.TryDequeue(out item)) return true;
            if (!TryMoveOn(ref segment)) return false;
        }
    }

    /// <summary>
    /// Consumer only: returns at once when an item is ready, otherwise parks until a producer posts. A return does
    /// not promise an item (a stale wake-up can end a park early); the caller drains with TryTake and calls again.
    /// </summary>
    public void Wait()
    {
        if (HasWork()) return;
        ParkingProbe?.Invoke(ParkStage.Checked);
        _signal.Reset(); // forget a wake-up meant for an earlier park, before announcing this one
        ParkingProbe?.Invoke(ParkStage.Reset);
        // Interlocked: a full fence, so the re-check below cannot be satisfied by a read from before the store.
        Interlocked.Exchange(ref _parked, 1);
        ParkingProbe?.Invoke(ParkStage.Announced);
        if (HasWork())
        {
            Volatile.Write(ref _parked, 0);
            return;
        }
        ParkingProbe?.Invoke(ParkStage.Rechecked);
        _signal.Wait();
        Volatile.Write(ref _parked, 0); // already 0 after a real wake-up; not after a stale one
    }

    /// <summary>Consumer only: whether TryTake would succeed now. Follows (and drops) drained rings like TryTake.</summary>
    private bool HasWork()
    {
        var segment = _head;
        while (true)
        {
            if (segment.HeadPublished) return true;
            if (!TryMoveOn(ref segment)) return false;
        }
    }

    /// <summary>
    /// Leaves a ring for the next one once nothing more can ever arrive in it: frozen (no producer can claim a slot)
    /// and every claimed slot taken. Until then the consumer stays, even when the next ring already has items: each
    /// producer freezes the old ring before it uses the new one, so the old ring's items are all older.
    /// </summary>
    private bool TryMoveOn(ref Segment segment)
    {
        var next = Volatile.Read(ref segment.Next);
        if (next is null || !segment.IsFrozenAndDrained) return false;
        _head = segment = next;
        return true;
    }

    /// <summary>A producer found <paramref name="full"/> full (or frozen): link a bigger ring, freeze the old, move the tail.</summary>
    private Segment Grow(Segment full)
    {
        var next = Volatile.Read(ref full.Next);
        if (next is null)
        {
            var fresh = new Segment(Math.Min(full.Capacity * 2, _maxSegmentCapacity));
            next = Interlocked.CompareExchange(ref full.Next, fresh, null) ?? fresh;
            if (next == fresh) Interlocked.Increment(ref _segmentsAdded);
        }
        // Frozen before this producer uses the next ring, so none of its later items can precede an earlier one.
        full.Freeze();
        Interlocked.CompareExchange(ref _tail, next, full);
        return next;
    }

    private struct Slot
    {
        public T Item;
        // Vyukov's turn counter: == position when free for the producer of that position, == position + 1 when
        // published, == position + capacity once the consumer has taken it (free for the next lap).
        public long Sequence;
    }

    private sealed class Segment
    {
        // Set in the tail once the ring is closed to producers; positions never come near 2^62.
        private const long Frozen = 1L << 62;

        private readonly Slot[] _slots;
        private readonly long _mask;
        private PaddedIndices _indices;
        public Segment? Next;

        public Segment(int capacity)
        {
            _slots = new Slot[capacity];
            for (int i = 0; i < capacity; i++) _slots[i].Sequence = i;
            _mask = capacity - 1;
        }

        public int Capacity => _slots.Length;

        public bool HeadPublished
        {
            get
            {
                long head = _indices.Head;
                return Volatile.Read(ref _slots[head & _mask].Sequence) == head + 1;
            }
        }

        public bool IsFrozenAndDrained
        {
            get
            {
                long tail = Volatile.Read(ref _indices.Tail);
                return (tail & Frozen) != 0 && (tail & ~Frozen) == _indices.Head;
            }
        }

        /// <summary>False when the ring is full or frozen; the caller then moves to the next ring.</summary>
        public bool TryEnqueue(in T item)
        {
            var slots = _slots;
            while (true)
            {
                long tail = Volatile.Read(ref _indices.Tail);
                if ((tail & Frozen) != 0) return false;
                ref Slot slot = ref slots[tail & _mask];
                long diff = Volatile.Read(ref slot.Sequence) - tail;
                if (diff == 0)
                {
                    // The frozen bit is part of the compared value: a ring frozen since the read cannot be claimed.
                    if (Interlocked.CompareExchange(ref _indices.Tail, tail + 1, tail) == tail)
                    {
                        slot.Item = item;
                        // Interlocked rather than Volatile.Write: the full fence orders the caller's _parked read after it.
                        Interlocked.Exchange(ref slot.Sequence, tail + 1);
                        return true;
                    }
                }
                else if (diff < 0)
                {
                    return false; // the item of this slot's previous lap is not taken yet: full
                }
                // Otherwise another producer claimed this position first: read the tail again.
            }
        }

        /// <summary>Consumer only.</summary>
        public bool TryDequeue(out T item)
        {
            long head = _indices.Head;
            ref Slot slot = ref _slots[head & _mask];
            if (Volatile.Read(ref slot.Sequence) != head + 1)
            {
                item = default;
                return false; // empty, or claimed by a producer that has not published yet
            }
            item = slot.Item;
            slot.Item = default; // a taken slot must not keep connections or frames alive
            Volatile.Write(ref slot.Sequence, head + _slots.Length);
            _indices.Head = head + 1;
            return true;
        }

        public void Freeze() => Interlocked.Or(ref _indices.Tail, Frozen);
    }
}

/// <summary>Where <see cref="ReactorInbox{T}.Wait"/> is on its way to parking (for its test probe).</summary>
internal enum ParkStage
{
    Checked,   // found the inbox empty
    Reset,     // cleared old wake-ups
    Announced, // told producers it is parking
    Rechecked, // found it still empty; about to sleep
}

/// <summary>
/// The producers' tail and the consumer's head on cache lines of their own, so the producers' compare-and-swap
/// traffic does not keep evicting the consumer's line. 128 bytes: x64 prefetches lines in pairs (the runtime's own
/// queues pad the same way). Outside the generic class because generic types cannot have explicit layout.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3 * 128)]
internal struct PaddedIndices
{
    [FieldOffset(128)] public long Tail;
    [FieldOffset(256)] public long Head;
}

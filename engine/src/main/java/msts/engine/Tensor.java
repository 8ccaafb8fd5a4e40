package msts.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dense row-major tensor over a {@link MemorySegment} (off-heap, mmap'd or heap-backed).
 * Storage is F32, BF16 or F16; reads widen to F32. Views and slices share the segment (no copy).
 */
public final class Tensor {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final MemorySegment data;
    private final DType dtype;
    private final long[] shape;
    private final long numel;

    private Tensor(MemorySegment data, DType dtype, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (Math.multiplyExact(n, dtype.bytes) != data.byteSize())
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " × " + dtype + " needs "
                    + n * dtype.bytes + " bytes, segment has " + data.byteSize());
        this.data = data;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = n;
    }

    /** Wraps an existing segment (mmap'd weights, off-heap buffers) without copying. */
    public static Tensor wrap(MemorySegment data, DType dtype, long... shape) {
        return new Tensor(data, dtype, shape);
    }

    /** Heap-backed F32 tensor sharing the array (writes are visible both ways). */
    public static Tensor of(float[] values, long... shape) {
        return new Tensor(MemorySegment.ofArray(values), DType.F32, shape);
    }

    /** Zero-filled tensor in an automatically managed off-heap segment. */
    public static Tensor allocate(DType dtype, long... shape) {
        return allocate(Arena.ofAuto(), dtype, shape);
    }

    public static Tensor allocate(Arena arena, DType dtype, long... shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return new Tensor(arena.allocate(n * dtype.bytes, 64), dtype, shape);
    }

    public MemorySegment segment() { return data; }
    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long numel() { return numel; }
    public long byteSize() { return data.byteSize(); }

    /** Element at a flat row-major index, widened to F32. */
    public float get(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case BF16 -> DType.bf16ToF32(data.getAtIndex(I16, i));
            case F16 -> DType.f16ToF32(data.getAtIndex(I16, i));
        };
    }

    /** Stores an F32 value at a flat index, rounding to the storage dtype. */
    public void set(long i, float v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, i, v);
            case BF16 -> data.setAtIndex(I16, i, DType.f32ToBf16(v));
            case F16 -> data.setAtIndex(I16, i, DType.f32ToF16(v));
        }
    }

    /** Rows [start, end) along dimension 0, as a view. */
    public Tensor slice(long start, long end) {
        if (rank() == 0 || start < 0 || end > shape[0] || start > end)
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") of shape " + Arrays.toString(shape));
        long rowBytes = shape[0] == 0 ? 0 : data.byteSize() / shape[0];
        long[] s = shape.clone();
        s[0] = end - start;
        return new Tensor(data.asSlice(start * rowBytes, (end - start) * rowBytes), dtype, s);
    }

    /** Row i along dimension 0 as a view of rank-1 lower. */
    public Tensor row(long i) {
        Tensor t = slice(i, i + 1);
        return t.reshape(Arrays.copyOfRange(shape, 1, shape.length));
    }

    /** Same data, another shape with the same element count. */
    public Tensor reshape(long... newShape) {
        return new Tensor(data, dtype, newShape);
    }

    /** Copies into a new F32 heap array. */
    public float[] toFloatArray() {
        if (numel > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor too large for a float[]: " + numel);
        float[] out = new float[(int) numel];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = get(i);
        }
        return out;
    }

    /** Copies rows [start, end) of dimension 0 into {@code out} (F32), starting at out[0]. */
    public void copyRowsTo(long start, long end, float[] out) {
        Tensor s = slice(start, end);
        if (dtype == DType.F32) MemorySegment.copy(s.data, F32, 0, out, 0, (int) s.numel);
        else for (int i = 0; i < s.numel; i++) out[i] = s.get(i);
    }

    /** A new off-heap copy in another dtype (values rounded to nearest even). */
    public Tensor to(DType target) {
        Tensor out = allocate(target, shape);
        for (long i = 0; i < numel; i++) out.set(i, get(i));
        return out;
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + ", " + Arrays.toString(shape) + ")";
    }
}

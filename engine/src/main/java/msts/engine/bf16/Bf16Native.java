package msts.engine.bf16;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * The native BF16 matmul kernel (engine/src/main/c/msts_bf16.c: AVX512_BF16 {@code vdpbf16ps}), compiled by
 * the build with gcc into the jar, extracted to a temporary file and loaded through Panama FFM
 * ({@link SymbolLookup#libraryLookup}). {@link #load()} gives it only on Linux x86-64 when the library is in
 * the jar and this CPU and OS run AVX-512F/BW and AVX512_BF16 (cpuid, asked inside the library); else
 * {@link #unavailableReason()} says why and {@link Bf16Ops} computes the same arithmetic with the Vector API.
 *
 * <p>Arrays are passed to the kernel without copies (critical downcalls with heap access).
 */
public final class Bf16Native {
    /** The library's path inside the jar. */
    static final String RESOURCE = "/msts/engine/bf16/linux-x86_64/libmsts_bf16.so";
    static final int ABI_VERSION = 1;

    private final MethodHandle matmul;

    private Bf16Native(MethodHandle matmul) { this.matmul = matmul; }

    private static final class Holder { // loaded once, on first use; immutable afterwards
        static final Object LOADED = tryLoad();
    }

    /** The kernel when this machine can run it. */
    public static Optional<Bf16Native> load() {
        return Holder.LOADED instanceof Bf16Native n ? Optional.of(n) : Optional.empty();
    }

    /** Why {@link #load()} is empty; null when it is not. */
    public static String unavailableReason() {
        return Holder.LOADED instanceof String s ? s : null;
    }

    private static Object tryLoad() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64")))
            return "the native kernel is built for Linux x86-64 only (this is " + os + " " + arch + ")";
        try (InputStream in = Bf16Native.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return "libmsts_bf16.so is not in the jar (built without gcc?)";
            Path tmp = Files.createTempFile("libmsts_bf16", ".so");
            tmp.toFile().deleteOnExit();
            Files.write(tmp, in.readAllBytes());
            Linker linker = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup(tmp, Arena.global());
            MethodHandle version = linker.downcallHandle(lib.findOrThrow("msts_bf16_version"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            MethodHandle supported = linker.downcallHandle(lib.findOrThrow("msts_bf16_supported"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
            int v = (int) version.invokeExact();
            if (v != ABI_VERSION) return "libmsts_bf16.so has ABI version " + v + ", expected " + ABI_VERSION;
            if ((int) supported.invokeExact() == 0) return "this CPU has no AVX512_BF16 (or AVX-512F/BW)";
            var I = ValueLayout.JAVA_INT;
            MethodHandle mm = linker.downcallHandle(lib.findOrThrow("msts_bf16_matmul"),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, I, I, I, I, I, I, I),
                    Linker.Option.critical(true));
            return new Bf16Native(mm);
        } catch (IOException | RuntimeException e) {
            return "loading libmsts_bf16.so failed: " + e;
        } catch (Throwable t) {
            return "libmsts_bf16.so failed: " + t;
        }
    }

    /**
     * out[r·ldo + o] = Σ_{k<in} x[r·in + k] · w[o·in + k] for r in [r0, r1), o in [o0, o1): x and w hold bf16
     * bits, F32 accumulation in k blocks of kc (a positive multiple of 32). Summation order: msts_bf16.c.
     */
    public void matmul(MemorySegment out, MemorySegment x, MemorySegment w, int in, int ldo,
                       int r0, int r1, int o0, int o1, int kc) {
        try {
            matmul.invokeExact(out, x, w, in, ldo, r0, r1, o0, o1, kc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

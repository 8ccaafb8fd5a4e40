package msts.cli;

import msts.bench.MatmulBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code msts bench matmul}: CpuOps matmul/gemm GFLOP/s next to numpy sgemm, with the ratio. */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = {"GFLOP/s of the CPU matmul (Gemma-2-2B shapes, 1 and 128 rows, F32 and BF16 weights) and gemm "
                + "(SAE training shapes), then numpy/OpenBLAS sgemm on the same cases, side by side."})
public final class BenchMatmulCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Shorter timing (0.3 s per case instead of 1 s).")
    boolean quick;

    @Option(names = "--no-peer", description = "Skip the numpy peer.")
    boolean noPeer;

    @Option(names = "--cases", paramLabel = "REGEX", description = "Only cases whose name matches, e.g. 'matmul_.*_r128'.")
    String cases;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the results as JSON.")
    Path out;

    @Option(names = "--python", defaultValue = "python3", description = "Python with numpy for the peer.")
    String python;

    @Option(names = "--numpy-script", paramLabel = "PY", description = "Peer script (default: bench/src/main/resources/msts/bench/numpy_sgemm.py, else the copy in the jar).")
    Path numpyScript;

    @picocli.CommandLine.Mixin RunOptions run; // --threads N (Java side; the numpy peer gets as many BLAS threads)
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Option(names = "--compute", defaultValue = "f32", paramLabel = "f32|bf16",
            description = {"f32 (default): the F32 cases next to numpy. bf16: per projection shape, interleaved: F32 compute",
                    "(F32 and BF16 weights), --compute bf16 (native AVX512_BF16 kernel and Vector API fallback); then the",
                    "PyTorch-CPU BF16 peer bench/src/main/resources/msts/bench/torch_bf16_matmul.py (torch.matmul on bfloat16, same thread count)."})
    String compute;

    @Option(names = "--torch-python", defaultValue = "/usr/bin/python3", description = "Python with torch for the bf16 peer.")
    String torchPython;

    @Override
    public Integer call() throws Exception {
        run.apply();
        if (msts.engine.Compute.parse(compute) == msts.engine.Compute.BF16) {
            var rep = msts.bench.Bf16MatmulBench.run(quick, !noPeer, cases, torchPython, System.err);
            if (rep.rows().isEmpty()) throw new IllegalArgumentException("no benchmark case matches --cases " + cases);
            System.out.print(msts.bench.Bf16MatmulBench.table(rep));
            return 0;
        }
        MatmulBench.Report rep = MatmulBench.run(
                new MatmulBench.Options(quick, !noPeer, cases, python, numpyScript), System.err);
        if (rep.java().isEmpty()) throw new IllegalArgumentException("no benchmark case matches --cases " + cases);
        System.out.print(MatmulBench.table(rep));
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, ".bench", ".json");
            Files.writeString(tmp, MatmulBench.json(rep));
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            System.out.println("wrote " + out);
        }
        return 0;
    }
}

package msts.bench;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's plumbing (peer output parsing, table, JSON); no timing is asserted. */
class MatmulBenchTest {
    static final String PEER = """
            {"peer": "numpy", "numpy": "2.4.6", "python": "3.11.7", "threads_env": {"OMP_NUM_THREADS": "2"},
             "blas": "scipy-openblas", "blas_version": "0.3.31", "results": [
             {"runs": 7, "ms_median": 2.5, "ms_best": 2.0, "gflops_median": 40.0, "gflops_best": 50.0,
              "name": "matmul_2304x2048_r128_F32", "kind": "matmul", "rows": 128, "input": 2304, "output": 2048, "dtype": "F32"}]}
            """;

    @Test
    void parsesPeerAndPairsRowsWithRatio() {
        List<MatmulBench.Result> peer = MatmulBench.parsePeer(PEER);
        assertEquals(1, peer.size());
        assertEquals("matmul_2304x2048_r128_F32", peer.get(0).name());
        assertEquals(40.0, peer.get(0).gflopsMedian());
        assertEquals("numpy 2.4.6, blas scipy-openblas, blas_version 0.3.31", MatmulBench.peerInfo(PEER));

        MatmulBench.Result j = new MatmulBench.Result("matmul_2304x2048_r128_F32", "matmul", "F32", 1L, 5, 1, 1, 30.0, 35.0);
        MatmulBench.Result jb = new MatmulBench.Result("matmul_2304x2048_r128_BF16", "matmul", "BF16", 1L, 5, 1, 1, 60.0, 70.0);
        List<MatmulBench.Result> peers = new ArrayList<>();
        peers.add(peer.get(0));
        peers.add(null); // a row without peer
        MatmulBench.Report rep = new MatmulBench.Report(List.of(j, jb), peers, "numpy 2.4.6", "1.0", "1.1", null);
        String table = MatmulBench.table(rep);
        assertTrue(table.contains("0.75"), table); // 30 / 40
        assertTrue(table.contains("matmul_2304x2048_r128_BF16"), table);
        String json = MatmulBench.json(rep);
        assertTrue(json.contains("\"ratio_median\": 0.7500"), json);
        assertTrue(json.contains("\"numpy_gflops_median\": null"), json);
    }

    @Test
    void rejectsPeerOutputWithoutResults() {
        assertThrows(IllegalStateException.class, () -> MatmulBench.parsePeer("{\"results\": []}"));
    }

    @Test
    void peerScriptShipsInTheJar() throws Exception {
        try (InputStream in = MatmulBench.class.getResourceAsStream("/msts/bench/numpy_sgemm.py")) {
            assertNotNull(in, "numpy_sgemm.py on the classpath");
            assertTrue(new String(in.readAllBytes()).contains("def main"));
        }
    }
}

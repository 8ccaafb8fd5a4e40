package msts.spark;

/** Prints a free TCP port on 127.0.0.1 (scripts/spark-standalone.sh starts a master and a worker on such ports). */
public final class FreePort {
    private FreePort() {}

    public static void main(String[] args) throws Exception {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            System.out.println(s.getLocalPort());
        }
    }
}

package msts.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.data.StoreException;
import msts.data.StoreManifest;
import msts.io.SafeTensors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An activation store directory reached through Hadoop's FileSystem API (file:, NFS mounts, hdfs:, s3a:), with
 * the same files and atomicity rules as {@link msts.data.ActivationStoreWriter}: a file appears under its final
 * name only when complete (written under a temp name, then renamed; on object stores a file appears only when
 * its upload is complete). Local stores use the raw local file system, so no .crc side files are written.
 */
final class StoreFs {
    private static final ObjectMapper JSON = new ObjectMapper();

    final FileSystem fs;
    final Path dir;
    private final Configuration conf;

    private StoreFs(FileSystem fs, Path dir, Configuration conf) {
        this.fs = fs;
        this.dir = dir;
        this.conf = conf;
    }

    /** A store location: a URI (hdfs://nn/x, s3a://bucket/x, file:///x) or a local path. */
    static Path location(String out) {
        java.net.URI u;
        try {
            u = new java.net.URI(out);
        } catch (java.net.URISyntaxException e) {
            u = null;
        }
        if (u == null || u.getScheme() == null || u.getScheme().length() == 1)
            return new Path(java.nio.file.Path.of(out).toAbsolutePath().normalize().toUri());
        return new Path(u);
    }

    static StoreFs open(String out, Configuration conf) {
        Path p = location(out);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (fs instanceof LocalFileSystem local) fs = local.getRaw();
            return new StoreFs(fs, fs.makeQualified(p), conf);
        } catch (IOException e) {
            throw new StoreException(out + ": cannot open the file system: " + e.getMessage(), e);
        }
    }

    /** The store directory as a local path when it is on the local file system (file:), else null. */
    java.nio.file.Path localDir() {
        return "file".equals(dir.toUri().getScheme()) ? java.nio.file.Path.of(dir.toUri()) : null;
    }

    Path file(String name) { return new Path(dir, name); }

    boolean exists(String name) throws IOException { return fs.exists(file(name)); }

    /** Names of the files in the store directory (none when it does not exist). */
    List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        if (!fs.exists(dir)) return names;
        for (FileStatus s : fs.listStatus(dir)) names.add(s.getPath().getName());
        return names;
    }

    boolean isDirectoryOrAbsent() throws IOException {
        return !fs.exists(dir) || fs.getFileStatus(dir).isDirectory();
    }

    void mkdirs() throws IOException { fs.mkdirs(dir); }

    void delete(String name) throws IOException { fs.delete(file(name), false); }

    /** The manifest, or null when the directory holds none. */
    StoreManifest readManifest() throws IOException {
        Path f = file(StoreManifest.FILE);
        if (!fs.exists(f)) return null;
        byte[] b;
        try (FSDataInputStream in = fs.open(f)) {
            b = in.readAllBytes();
        }
        return StoreManifest.parse(b, java.nio.file.Path.of(f.toString()));
    }

    /** Writes manifest.json as {@link StoreManifest#write} does (same bytes): a temp file renamed over the old one. */
    void writeManifest(StoreManifest m) throws IOException {
        Path tmp = file("." + StoreManifest.FILE + ".tmp");
        try (var out = fs.create(tmp, true)) {
            out.write(m.toBytes());
            out.hsync();
        }
        replace(tmp, file(StoreManifest.FILE));
    }

    /**
     * Writes a shard file (the bytes {@link SafeTensors#writeRaw(java.nio.file.Path, Map, Map)} writes) under a temp
     * name unique to {@code attempt}, then renames it into place. Two attempts of one task write the same bytes,
     * so whichever rename lands last is as good as the first.
     */
    void writeShard(String name, Map<String, SafeTensors.Raw> tensors, Map<String, String> meta, String attempt) throws IOException {
        Path tmp = file("." + name + "." + attempt + ".tmp");
        try {
            try (OutputStream out = fs.create(tmp, true)) {
                SafeTensors.writeRaw(out, java.nio.file.Path.of(name), tensors, meta);
            }
            replace(tmp, file(name));
        } finally {
            if (fs.exists(tmp)) fs.delete(tmp, false);
        }
    }

    /** Renames src over dst: atomically where the file system can (POSIX rename; HDFS rename with OVERWRITE). */
    private void replace(Path src, Path dst) throws IOException {
        if ("file".equals(dir.toUri().getScheme())) {
            java.nio.file.Files.move(java.nio.file.Path.of(src.toUri()), java.nio.file.Path.of(dst.toUri()),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        try {
            FileContext.getFileContext(fs.getUri(), conf).rename(src, dst, Options.Rename.OVERWRITE);
        } catch (org.apache.hadoop.fs.UnsupportedFileSystemException e) {
            // a file system without an AbstractFileSystem binding: delete, then rename (not atomic)
            fs.delete(dst, false);
            if (!fs.rename(src, dst)) throw new IOException("cannot rename " + src + " to " + dst);
        }
    }

    /**
     * True when {@code name} is a complete shard of the store {@code m} starting at sequence {@code first} and
     * holding exactly {@code rows}: its header names the shard, the shapes and dtype match, the file length is
     * what the header says, and its tokens (I32) are the rows' (activations are not read).
     */
    boolean shardMatches(String name, StoreManifest m, long first, int[][] rows) throws IOException {
        Path f = file(name);
        if (!fs.exists(f)) return false;
        long size = fs.getFileStatus(f).getLen();
        if (size < 8) return false;
        try (FSDataInputStream in = fs.open(f)) {
            byte[] lenBytes = new byte[8];
            in.readFully(0, lenBytes);
            long n = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n <= 0 || n > SafeTensors.MAX_HEADER || 8 + n > size) return false;
            byte[] head = new byte[(int) n];
            in.readFully(8, head);
            JsonNode h = JSON.readTree(head);
            JsonNode meta = h.path("__metadata__");
            if (!Long.toString(first).equals(meta.path("first_sequence").asText())
                    || !m.hookName().equals(meta.path("hook_name").asText())
                    || !m.model().equals(meta.path("model").asText())) return false;
            int ctx = m.contextSize();
            JsonNode acts = h.path("activations"), tok = h.path("tokens");
            if (!shape(acts, m.dtype().name(), rows.length, ctx, m.dIn()) || !shape(tok, "I32", rows.length, ctx)) return false;
            long tokBegin = tok.path("data_offsets").path(0).asLong(), tokEnd = tok.path("data_offsets").path(1).asLong();
            long actEnd = acts.path("data_offsets").path(1).asLong();
            if (8 + n + Math.max(tokEnd, actEnd) != size || tokEnd - tokBegin != (long) rows.length * ctx * 4) return false;
            byte[] t = new byte[(int) (tokEnd - tokBegin)];
            in.readFully(8 + n + tokBegin, t);
            ByteBuffer bb = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] row : rows)
                for (int id : row)
                    if (bb.getInt() != id) return false;
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // unreadable: redo it
        }
    }

    private static boolean shape(JsonNode t, String dtype, long... dims) {
        if (!dtype.equals(t.path("dtype").asText())) return false;
        JsonNode s = t.path("shape");
        if (!s.isArray() || s.size() != dims.length) return false;
        for (int i = 0; i < dims.length; i++) if (s.get(i).asLong() != dims[i]) return false;
        return true;
    }
}

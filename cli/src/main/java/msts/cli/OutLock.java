package msts.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An OS file lock on DIR/.lock held while a command writes DIR (as harvest locks its store): a second run
 * into the same output refuses with one line instead of both corrupting it.
 */
final class OutLock implements AutoCloseable {
    static final String FILE = ".lock";
    private final FileChannel ch;

    private OutLock(FileChannel ch) { this.ch = ch; }

    static OutLock acquire(Path dir, String what) throws IOException {
        Files.createDirectories(dir);
        FileChannel ch = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        } catch (IOException e) {
            ch.close();
            throw new IOException(dir.resolve(FILE) + ": cannot lock: " + e.getMessage(), e);
        }
        if (l == null) {
            ch.close();
            throw new IllegalStateException(dir + " is in use by another " + what + " (" + FILE
                    + " is locked); wait for it to finish or choose another --out");
        }
        return new OutLock(ch);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}

package msts.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Output safety shared by the commands: nothing existing is overwritten without --force. */
final class Outputs {
    private Outputs() {}

    /** Refuses when any of files exists in dir (unless force), naming it and saying what to do. */
    static void refuseOverwrite(Path dir, boolean force, String... files) {
        if (force) return;
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new IllegalArgumentException("--out " + dir + " is a file, not a directory; choose another --out");
        for (String f : files) {
            Path p = dir.resolve(f);
            if (Files.exists(p))
                throw new IllegalArgumentException(p + " already exists; pass --force to overwrite it or choose another --out");
        }
    }
}

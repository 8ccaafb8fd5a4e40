package msts.data;

import msts.model.tokenizer.Tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

/**
 * A text corpus turned into token rows for the model, streaming with bounded memory.
 *
 * <p>Documents: a file ending in {@code .jsonl} or {@code .ndjson} (optionally {@code .gz}) holds one JSON
 * object per line with a string field {@code text} (blank lines are skipped; any other bad line is an error
 * naming file:line). Any other file is plain UTF-8 text split by {@link TextSplit}: the whole file, blocks
 * separated by blank lines (default), or single lines. A document is kept only when its length in chars is
 * greater than {@link Options#minChars} (SAEBench keeps lines with {@code len > 50} for its unlearning corpora;
 * the default 0 only drops empty documents).
 *
 * <p>Rows: the kept documents, each tokenized without BOS, are joined into one token stream with an EOS
 * token between consecutive documents: {@code stream = d0 ++ [EOS] ++ d1 ++ [EOS] ++ d2 ...}. In the default
 * {@link BosMode#PREPEND} each row is {@code [BOS] ++ stream[r(ctx−1), (r+1)(ctx−1))}, so no stream token is
 * lost; {@link BosMode#OVERWRITE} cuts rows of ctx stream tokens and overwrites position 0 with BOS, as
 * SAEBench's {@code tokenize_and_concat_dataset} does. A last partial row is dropped (as SAEBench does).
 * See docs/activation-store.md.
 */
public final class Corpus {
    private Corpus() {}

    /** How a plain-text file (not JSONL) is split into documents. */
    public enum TextSplit { FILE, BLOCKS, LINES }

    /** How BOS gets to position 0 of a row. */
    public enum BosMode { PREPEND, OVERWRITE }

    public record Options(int minChars, TextSplit textSplit, BosMode bosMode, String textField) {
        public static final Options DEFAULT = new Options(0, TextSplit.BLOCKS, BosMode.PREPEND, "text");

        public Options {
            if (minChars < 0) throw new IllegalArgumentException("minChars must be >= 0, got " + minChars);
            if (textSplit == null || bosMode == null || textField == null) throw new NullPointerException();
        }

        public Options withMinChars(int m) { return new Options(m, textSplit, bosMode, textField); }
        public Options withTextSplit(TextSplit s) { return new Options(minChars, s, bosMode, textField); }
        public Options withBosMode(BosMode b) { return new Options(minChars, textSplit, b, textField); }
        public Options withTextField(String f) { return new Options(minChars, textSplit, bosMode, f); }
    }

    /**
     * Where the token stream continues: {@code document} is the index (among kept documents) of the document
     * whose segment holds the next unread token, {@code offset} the index of that token within the segment
     * ({@code [EOS] ++ tokens} for documents after the first), {@code rows} the number of rows cut so far.
     */
    public record Position(long document, int offset, long rows) {
        public static final Position START = new Position(0, 0, 0);
    }

    /** One kept document: its index among kept documents, text, and where it came from (1-based line). */
    public record Document(long index, String text, Path file, long line) {}

    public static boolean isJsonl(Path file) {
        String n = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".gz")) n = n.substring(0, n.length() - 3);
        return n.endsWith(".jsonl") || n.endsWith(".ndjson");
    }

    /** Rows of ctx tokens with default options, at most maxRows (≤ 0: until the corpus ends). */
    public static Rows rows(List<Path> files, Tokenizer tok, int ctx, long maxRows) {
        return rows(files, tok, ctx, maxRows, Options.DEFAULT, Position.START);
    }

    public static Rows rows(List<Path> files, Tokenizer tok, int ctx, long maxRows, Options opts) {
        return rows(files, tok, ctx, maxRows, opts, Position.START);
    }

    /**
     * Rows continuing at {@code start} (from {@link Rows#position()} of an earlier pass over the same files and
     * options). {@code maxRows} counts all rows including the {@code start.rows()} already cut.
     */
    public static Rows rows(List<Path> files, Tokenizer tok, int ctx, long maxRows, Options opts, Position start) {
        return new Rows(files, tok, ctx, maxRows, opts, start);
    }

    /** All rows (at most maxRows) in memory — for small eval corpora (e.g. 1024 rows). */
    public static int[][] readRows(List<Path> files, Tokenizer tok, int ctx, long maxRows, Options opts) {
        List<int[]> out = new ArrayList<>();
        try (Rows r = rows(files, tok, ctx, maxRows, opts)) {
            while (r.hasNext()) out.add(r.next());
        }
        return out.toArray(new int[0][]);
    }

    public static Documents documents(List<Path> files, Options opts) {
        return new Documents(files, opts);
    }

    /** Streams the kept documents of a list of files, one file open at a time. */
    public static final class Documents implements Iterator<Document>, AutoCloseable {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final List<Path> files;
        private final Options opts;
        private int fileIdx = -1;
        private InputStream reader;
        private byte[] line = new byte[1024];
        private java.nio.charset.CharsetDecoder decoder;
        private boolean jsonl;
        private long lineNo;
        private long kept;
        private Document pending;

        Documents(List<Path> files, Options opts) {
            if (files.isEmpty()) throw new CorpusException("no corpus files given");
            for (Path f : files) {
                if (!Files.isRegularFile(f)) throw new CorpusException("corpus file not found: " + f);
            }
            this.files = List.copyOf(files);
            this.opts = opts;
        }

        @Override
        public boolean hasNext() {
            while (pending == null) {
                if (reader == null && !openNext()) return false;
                Document d = readOne();
                if (d == null) {
                    closeReader();
                    continue;
                }
                if (d.text().length() > opts.minChars()) {
                    pending = new Document(kept++, d.text(), d.file(), d.line());
                }
            }
            return true;
        }

        @Override
        public Document next() {
            if (!hasNext()) throw new NoSuchElementException();
            Document d = pending;
            pending = null;
            return d;
        }

        private Path file() { return files.get(fileIdx); }

        private boolean openNext() {
            if (fileIdx + 1 >= files.size()) return false;
            fileIdx++;
            Path f = file();
            try {
                InputStream in = Files.newInputStream(f);
                if (f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gz")) in = new GZIPInputStream(in, 1 << 16);
                decoder = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
                reader = new java.io.BufferedInputStream(in, 1 << 16);
                reader.mark(3);
                if (reader.read() != 0xEF || reader.read() != 0xBB || reader.read() != 0xBF) reader.reset(); // UTF-8 BOM
            } catch (IOException e) {
                throw new CorpusException(f + ": cannot open: " + e.getMessage(), e);
            }
            jsonl = isJsonl(f);
            lineNo = 0;
            return true;
        }

        /** The next line without its terminator (\n or \r\n), decoded strictly as UTF-8; null at the end. */
        private String readLine() {
            try {
                int n = 0, b;
                while ((b = reader.read()) >= 0 && b != '\n') {
                    if (n == line.length) line = java.util.Arrays.copyOf(line, 2 * n);
                    line[n++] = (byte) b;
                }
                if (b < 0 && n == 0) return null;
                lineNo++;
                if (n > 0 && line[n - 1] == '\r') n--;
                return decoder.decode(java.nio.ByteBuffer.wrap(line, 0, n)).toString();
            } catch (CharacterCodingException e) {
                throw new CorpusException(file() + ":" + lineNo + ": not valid UTF-8", e);
            } catch (IOException e) {
                throw new CorpusException(file() + ":" + (lineNo + 1) + ": read error: " + e.getMessage(), e);
            }
        }

        /** The next raw document of the open file (before the length filter), or null at its end. */
        private Document readOne() {
            if (jsonl) {
                String line;
                while ((line = readLine()) != null && line.isBlank()) { /* skip blank lines */ }
                if (line == null) return null;
                return new Document(-1, jsonText(line), file(), lineNo);
            }
            switch (opts.textSplit()) {
                case LINES -> {
                    String line = readLine();
                    return line == null ? null : new Document(-1, line, file(), lineNo);
                }
                case BLOCKS -> {
                    String line;
                    while ((line = readLine()) != null && line.isBlank()) { /* skip separators */ }
                    if (line == null) return null;
                    long first = lineNo;
                    StringBuilder sb = new StringBuilder(line);
                    while ((line = readLine()) != null && !line.isBlank()) sb.append('\n').append(line);
                    return new Document(-1, sb.toString(), file(), first);
                }
                case FILE -> {
                    if (lineNo < 0) return null; // already read
                    String text;
                    try {
                        text = decoder.decode(java.nio.ByteBuffer.wrap(reader.readAllBytes())).toString();
                    } catch (CharacterCodingException e) {
                        throw new CorpusException(file() + ": not valid UTF-8", e);
                    } catch (IOException e) {
                        throw new CorpusException(file() + ": read error: " + e.getMessage(), e);
                    }
                    lineNo = -1;
                    return new Document(-1, text, file(), 1);
                }
                default -> throw new IllegalStateException();
            }
        }

        private String jsonText(String line) {
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                String m = e.getOriginalMessage();
                int nl = m.indexOf('\n');
                throw new CorpusException(file() + ":" + lineNo + ": invalid JSON: " + (nl >= 0 ? m.substring(0, nl) : m));
            }
            if (node == null || !node.isObject())
                throw new CorpusException(file() + ":" + lineNo + ": expected a JSON object with a string field \""
                        + opts.textField() + "\"");
            JsonNode t = node.get(opts.textField());
            if (t == null || !t.isTextual())
                throw new CorpusException(file() + ":" + lineNo + ": " + (t == null ? "missing" : "non-string")
                        + " field \"" + opts.textField() + "\"");
            return t.textValue();
        }

        private void closeReader() {
            if (reader != null) {
                try {
                    reader.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                reader = null;
            }
        }

        @Override
        public void close() {
            closeReader();
            fileIdx = files.size();
            pending = null;
        }
    }

    /** Iterator of token rows [ctx] with BOS at position 0; see the class comment for the cutting rule. */
    public static final class Rows implements Iterator<int[]>, AutoCloseable {
        private final Documents docs;
        private final Tokenizer tok;
        private final int ctx;
        private final long maxRows;
        private final int take; // stream tokens per row
        private final int first; // first row position filled from the stream
        private int[] seg = new int[0]; // segment of document segDoc
        private long segDoc = -1;
        private int segOff;
        private int[] pending;
        private Position pendingPos;
        private Position pos;
        private boolean ended;

        Rows(List<Path> files, Tokenizer tok, int ctx, long maxRows, Options opts, Position start) {
            if (ctx < 2) throw new IllegalArgumentException("context size must be >= 2, got " + ctx);
            this.docs = new Documents(files, opts);
            this.tok = tok;
            this.ctx = ctx;
            this.maxRows = maxRows <= 0 ? Long.MAX_VALUE : maxRows;
            this.first = opts.bosMode() == BosMode.PREPEND ? 1 : 0;
            this.take = ctx - first;
            this.pos = start;
            seek(start);
        }

        private void seek(Position start) {
            while (segDoc + 1 < start.document()) {
                if (!docs.hasNext())
                    throw new CorpusException("cannot continue the corpus at document " + start.document()
                            + ": the files hold only " + (segDoc + 1) + " documents (were they changed?)");
                docs.next();
                segDoc++;
            }
            if (start.offset() == 0) return; // the document is loaded when needed (or the corpus has ended)
            if (!loadNext())
                throw new CorpusException("cannot continue the corpus at document " + start.document()
                        + ": the files hold only " + start.document() + " documents (were they changed?)");
            if (start.offset() > seg.length)
                throw new CorpusException("cannot continue the corpus at document " + start.document() + " token "
                        + start.offset() + ": the document has only " + seg.length + " (were the files changed?)");
            segOff = start.offset();
        }

        /** Loads the next document's segment; false at the end of the corpus. */
        private boolean loadNext() {
            if (!docs.hasNext()) return false;
            Document d = docs.next();
            segDoc = d.index();
            int[] t = tok.encode(d.text(), false);
            if (segDoc == 0) {
                seg = t;
            } else {
                seg = new int[t.length + 1];
                seg[0] = tok.eosId();
                System.arraycopy(t, 0, seg, 1, t.length);
            }
            segOff = 0;
            return true;
        }

        @Override
        public boolean hasNext() {
            if (pending != null) return true;
            if (ended || pos.rows() >= maxRows) return false;
            int[] row = new int[ctx];
            int filled = first;
            while (filled < ctx) {
                if (segOff >= seg.length && !loadNext()) {
                    ended = true;
                    return false;
                }
                int n = Math.min(ctx - filled, seg.length - segOff);
                System.arraycopy(seg, segOff, row, filled, n);
                segOff += n;
                filled += n;
            }
            row[0] = tok.bosId();
            pending = row;
            // normalize: a fully consumed segment is position (next doc, 0)
            pendingPos = segOff >= seg.length ? new Position(segDoc + 1, 0, pos.rows() + 1)
                    : new Position(segDoc, segOff, pos.rows() + 1);
            return true;
        }

        @Override
        public int[] next() {
            if (!hasNext()) throw new NoSuchElementException();
            int[] r = pending;
            pending = null;
            pos = pendingPos;
            return r;
        }

        /** Where the stream continues after the last row returned by {@link #next()}. */
        public Position position() { return pos; }

        /** Stream tokens per row (ctx − 1 with PREPEND, ctx with OVERWRITE). */
        public int streamTokensPerRow() { return take; }

        @Override
        public void close() { docs.close(); }
    }
}

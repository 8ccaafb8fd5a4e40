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
    /**
     * One document, or one piece of a long one: plain text is read in pieces of at most {@link #PIECE} chars
     * (cut before a space where there is one), so memory stays bounded whatever the line length; a piece with
     * {@code continued} set continues the previous document (no EOS between them).
     */
    public record Document(long index, String text, Path file, long line, boolean continued) {
        public Document(long index, String text, Path file, long line) { this(index, text, file, line, false); }
    }

    /** Longest piece of plain text read at once (bytes, and so at most as many chars). */
    public static final int PIECE = 1 << 16;

    /** Longest JSONL line accepted (a JSON document must be read whole). */
    public static final int MAX_JSONL_LINE = 1 << 28;

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
        return readRows(files, tok, ctx, maxRows, opts, Position.START);
    }

    /** As {@link #readRows(List, Tokenizer, int, long, Options)}, continuing at {@code start}; at most maxRows rows are returned. */
    public static int[][] readRows(List<Path> files, Tokenizer tok, int ctx, long maxRows, Options opts, Position start) {
        List<int[]> out = new ArrayList<>();
        try (Rows r = rows(files, tok, ctx, maxRows <= 0 ? maxRows : start.rows() + maxRows, opts, start)) {
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
        private boolean headKept;
        // plain-text piece reader state
        private int carry; // bytes of the next piece already in line[0, carry)
        private boolean atLineStart = true, eol, inDoc, nextContinued;
        private long docLine;
        private final StringBuilder acc = new StringBuilder();

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
                if (d.continued() ? headKept : d.text().length() > opts.minChars()) {
                    pending = new Document(kept++, d.text(), d.file(), d.line(), d.continued());
                    headKept = true;
                } else if (!d.continued()) {
                    headKept = false;
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
            carry = 0;
            atLineStart = true;
            inDoc = nextContinued = false;
            acc.setLength(0);
            return true;
        }

        /** The next line without its terminator (\n or \r\n), decoded strictly as UTF-8; null at the end. */
        private String readLine() {
            try {
                int n = 0, b;
                while ((b = reader.read()) >= 0 && b != '\n') {
                    if (n == MAX_JSONL_LINE)
                        throw new CorpusException(file() + ":" + (lineNo + 1) + ": line longer than " + MAX_JSONL_LINE
                                + " bytes (a JSONL line holds one document; split it)");
                    if (n == line.length) line = java.util.Arrays.copyOf(line, (int) Math.min(2L * n, MAX_JSONL_LINE));
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
            while (true) {
                boolean startsLine = atLineStart;
                String piece = readPiece(opts.textSplit() != TextSplit.FILE);
                if (piece == null) return inDoc ? emit(true) : null; // end of the file
                switch (opts.textSplit()) {
                    case LINES -> {
                        if (!inDoc) { inDoc = true; docLine = lineNo; }
                        acc.append(piece);
                        if (eol) return emit(true);
                    }
                    case BLOCKS -> {
                        if (startsLine && eol && piece.isBlank()) { // a blank line ends the block
                            if (inDoc) return emit(true);
                            continue;
                        }
                        if (!inDoc) { inDoc = true; docLine = lineNo; }
                        else if (startsLine) acc.append('\n');
                        acc.append(piece);
                    }
                    case FILE -> {
                        if (!inDoc) { inDoc = true; docLine = 1; }
                        acc.append(piece);
                    }
                }
                if (acc.length() >= PIECE) return emit(false);
            }
        }

        /** The accumulated text as a document (or a piece of one); last: the document ends here. */
        private Document emit(boolean last) {
            Document d = new Document(-1, acc.toString(), file(), docLine, nextContinued);
            acc.setLength(0);
            nextContinued = !last;
            if (last) inDoc = false;
            return d;
        }

        /**
         * The next piece of text, at most {@link #PIECE} bytes, decoded strictly as UTF-8; null at the end of the
         * file. byLine: stop at a newline (dropped, with a \r before it) and set {@link #eol}. A longer line comes
         * in pieces, cut before a space in the piece's last quarter where there is one, else at a character boundary.
         */
        private String readPiece(boolean byLine) {
            try {
                if (line.length < PIECE) line = java.util.Arrays.copyOf(line, PIECE);
                int n = carry, b;
                carry = 0;
                eol = false;
                boolean newline = false, eof = false;
                while (true) {
                    if (n == PIECE) break;
                    b = reader.read();
                    if (b < 0) { eof = true; break; }
                    if (byLine && b == '\n') { newline = true; break; }
                    line[n++] = (byte) b;
                }
                if (n == 0 && eof) return null;
                if (atLineStart) lineNo++;
                int end = n;
                if (newline || eof) {
                    eol = byLine;
                    if (byLine && end > 0 && line[end - 1] == '\r') end--;
                } else {
                    end = cutPoint(line, n);
                    carry = n - end;
                }
                atLineStart = eol;
                String text = decoder.decode(java.nio.ByteBuffer.wrap(line, 0, end)).toString();
                if (carry > 0) System.arraycopy(line, n - carry, line, 0, carry);
                return text;
            } catch (CharacterCodingException e) {
                throw new CorpusException(file() + ":" + lineNo + ": not valid UTF-8", e);
            } catch (IOException e) {
                throw new CorpusException(file() + ":" + (lineNo + 1) + ": read error: " + e.getMessage(), e);
            }
        }

        /** Where to cut a full buffer of n bytes: before a space in the last quarter, else before an incomplete UTF-8 sequence. */
        static int cutPoint(byte[] buf, int n) {
            for (int i = n - 1; i > n - n / 4; i--) if (buf[i] == ' ') return i;
            int i = n - 1;
            while (i > n - 4 && i > 0 && (buf[i] & 0xC0) == 0x80) i--;
            int lead = buf[i] & 0xFF;
            int len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            return len > n - i ? i : n;
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
            if (segDoc == 0 || d.continued()) {
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
